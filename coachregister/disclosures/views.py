"""Recipients, consents and the disclosure register of one coachee (owner, administrator)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from coachregister.accounts.access import REGISTER_ROLES, roles_required
from coachregister.audit.queries import accesses_of
from coachregister.coachees import access
from coachregister.coachees.models import Coachee
from coachregister.disclosures import services
from coachregister.disclosures.forms import ConsentForm, DisclosureForm, RecipientForm
from coachregister.disclosures.models import Consent, Disclosure, Recipient


@roles_required(*REGISTER_ROLES)
def recipient_list(request: HttpRequest) -> HttpResponse:
    form = RecipientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.recipient_save(actor=request.user, request=request, **form.cleaned_data)
        messages.success(request, _("The recipient has been saved."))
        return redirect("disclosures:recipients")
    return render(
        request,
        "disclosures/recipients.html",
        {"recipients": Recipient.objects.all(), "form": form},
    )


def _export(request: HttpRequest, coachee: Coachee, disclosure: Disclosure) -> HttpResponse:
    """What the recipient receives: only the categories in the register entry."""
    data: dict[str, object] = {
        "coachee": coachee.pseudonym,
        "categories": disclosure.category_list(),
    }
    if "contact" in data["categories"]:  # type: ignore[operator]
        contact = access.contact_details(request=request, coachee=coachee)
        data["contact"] = {
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "email": contact.email,
            "phone": contact.phone,
        }
    if "trajectory" in data["categories"]:  # type: ignore[operator]
        data["trajectories"] = [
            {
                "pseudonym": t.pseudonym,
                "status": t.status,
                "start": str(t.started_on or ""),
                "end": str(t.ended_on or ""),
            }
            for t in coachee.trajectories.all()
        ]
    if "keywords" in data["categories"]:  # type: ignore[operator]
        from coachregister.notes.models import CoachingSession
        from coachregister.notes.services import read_version

        data["sessions"] = [
            {"date": str(s.held_on), "keywords": read_version(coachee, s.versions.last())[0]}
            for s in CoachingSession.objects.filter(trajectory__coachee=coachee).prefetch_related(
                "versions"
            )
        ]
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="disclosure-{disclosure.pk}.json"'
    return response


@roles_required(*REGISTER_ROLES)
def coachee_disclosures(request: HttpRequest, pseudonym: str) -> HttpResponse:
    coachee = get_object_or_404(Coachee.objects.visible_to(request.user), pseudonym=pseudonym)
    consent_form = ConsentForm(prefix="consent")
    disclosure_form = DisclosureForm(prefix="disclosure", coachee=coachee)
    if request.method == "POST":
        try:
            if "consent-recipient" in request.POST:
                consent_form = ConsentForm(request.POST, prefix="consent")
                if consent_form.is_valid():
                    services.consent_record(
                        actor=request.user,
                        request=request,
                        coachee=coachee,
                        **consent_form.cleaned_data,
                    )
                    messages.success(request, _("The consent has been recorded."))
                    return redirect("disclosures:coachee", pseudonym=pseudonym)
            else:
                disclosure_form = DisclosureForm(request.POST, prefix="disclosure", coachee=coachee)
                if disclosure_form.is_valid():
                    data = dict(disclosure_form.cleaned_data)
                    export = data.pop("export")
                    disclosure = services.disclosure_record(
                        actor=request.user, request=request, coachee=coachee, **data
                    )
                    if export:
                        return _export(request, coachee, disclosure)
                    messages.success(request, _("The disclosure has been recorded."))
                    return redirect("disclosures:coachee", pseudonym=pseudonym)
        except ValidationError as exc:
            target = consent_form if "consent-recipient" in request.POST else disclosure_form
            for message in exc.messages:
                target.add_error(None, message)
    return render(
        request,
        "disclosures/coachee.html",
        {
            "coachee": coachee,
            # With the coachee: the sealed purposes decrypt under their key (no query per row).
            "consents": Consent.objects.filter(coachee=coachee).select_related(
                "recipient", "coachee"
            ),
            "disclosures": Disclosure.objects.filter(coachee=coachee).select_related(
                "recipient", "disclosed_by", "consent", "coachee"
            ),
            "consent_form": consent_form,
            "disclosure_form": disclosure_form,
        },
    )


@roles_required(*REGISTER_ROLES)
@require_POST
def consent_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    consent = get_object_or_404(Consent.objects.select_related("coachee"), pk=pk)
    services.consent_withdraw(actor=request.user, request=request, consent=consent)
    messages.success(request, _("The consent has been withdrawn."))
    return redirect("disclosures:coachee", pseudonym=consent.coachee.pseudonym)


@roles_required(*REGISTER_ROLES)
def who_saw(request: HttpRequest, pseudonym: str) -> HttpResponse:
    """Who saw this coachee's data: staff member, role, when, what (for the access answer)."""
    coachee = get_object_or_404(Coachee.objects.visible_to(request.user), pseudonym=pseudonym)
    return render(
        request,
        "disclosures/who_saw.html",
        {"coachee": coachee, "events": accesses_of(coachee)[:500]},
    )
