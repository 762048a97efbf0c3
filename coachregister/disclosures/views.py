"""Recipients, consents and the disclosure register of one coachee (owner, administrator)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from coachregister.accounts.access import REGISTER_ROLES, roles_required
from coachregister.audit import display
from coachregister.audit.queries import accesses_of
from coachregister.coachees import access
from coachregister.coachees.models import Coachee
from coachregister.disclosures import services
from coachregister.disclosures.consents import consent_line
from coachregister.disclosures.forms import ProposalForm, RecipientForm
from coachregister.disclosures.models import (
    Consent,
    Disclosure,
    Proposal,
    ProposalStatus,
    Recipient,
)
from coachregister.lib import confirm
from coachregister.lib.feedback import carry_out


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


def _export(proposal: Proposal, content: dict[str, object]) -> HttpResponse:
    """The file the recipient receives: the content built by `services.proposal_content`,
    the same the coachee saw in the portal (art. 9.2)."""
    response = HttpResponse(
        json.dumps(content, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="disclosure-{proposal.disclosure_id}.json"'
    )
    return response


@roles_required(*REGISTER_ROLES)
def coachee_disclosures(request: HttpRequest, pseudonym: str) -> HttpResponse:
    """Consents, prepared disclosures and the register of one coachee. Staff prepare a
    disclosure here; the coachee answers in the portal (art. 9.1, 9.2)."""
    coachee = get_object_or_404(Coachee.objects.visible_to(request.user), pseudonym=pseudonym)
    form = ProposalForm(request.POST or None, prefix="proposal")
    if request.method == "POST" and form.is_valid():
        try:
            proposal = services.proposal_prepare(
                actor=request.user, request=request, coachee=coachee, **form.cleaned_data
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(
                request,
                _("The disclosure is ready to send.")
                if proposal.status == ProposalStatus.READY
                else _("The coachee has been asked in the portal."),
            )
            return redirect("disclosures:coachee", pseudonym=pseudonym)
    return render(
        request,
        "disclosures/coachee.html",
        {
            "coachee": coachee,
            # With the coachee: the sealed purposes decrypt under their key (no query per row).
            "consents": Consent.objects.filter(coachee=coachee).select_related(
                "recipient", "coachee", "processing_purpose"
            ),
            "disclosures": Disclosure.objects.filter(coachee=coachee).select_related(
                "recipient", "disclosed_by", "consent", "coachee", "processing_purpose"
            ),
            "proposals": Proposal.objects.filter(coachee=coachee).select_related(
                "recipient", "processing_purpose", "prepared_by", "consent"
            ),
            "form": form,
        },
    )


PROPOSAL_ACTIONS = ("send", "paper", "confirm")


@roles_required(*REGISTER_ROLES)
@require_POST
def proposal_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Send a disclosure (the file is the answer), record a signed paper consent, or confirm
    one as an owner (art. 9.1)."""
    proposal = get_object_or_404(
        Proposal.objects.filter(coachee__in=Coachee.objects.visible_to(request.user)), pk=pk
    )
    if action not in PROPOSAL_ACTIONS:
        raise Http404
    pseudonym = proposal.coachee.pseudonym
    try:
        if action == "send":
            proposal.refresh_from_db()
            _disclosure, content = services.proposal_send(
                actor=request.user, request=request, proposal=proposal
            )
            proposal.refresh_from_db()
            return _export(proposal, content)
        if action == "paper":
            services.proposal_paper_record(actor=request.user, request=request, proposal=proposal)
            messages.success(
                request, _("The paper consent has been recorded; an owner confirms it.")
            )
        else:
            services.proposal_paper_confirm(
                actor=request.user, request=request, proposal=proposal
            )
            messages.success(request, _("The paper consent has been confirmed."))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("disclosures:coachee", pseudonym=pseudonym)


@roles_required(*REGISTER_ROLES)
@require_POST
def consent_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    consent = get_object_or_404(Consent.objects.select_related("coachee"), pk=pk)
    if not consent.in_force:  # a second click, or the back button: nothing left to do
        messages.info(request, _("This consent was already withdrawn."))
        return redirect("disclosures:coachee", pseudonym=consent.coachee.pseudonym)
    if not confirm.confirmed(request):  # issue 14: withdrawing cannot be undone
        return confirm.ask(
            request,
            title=_("Withdraw this consent?"),
            consequences=[
                consent_line(consent),
                _("From now on the data are no longer used or provided for this purpose; "
                  "a new consent must come from the coachee."),
            ],
            action=_("Withdraw consent"),
            back=reverse("disclosures:coachee", args=[consent.coachee.pseudonym]),
        )
    carry_out(request, lambda: services.consent_withdraw(
        actor=request.user, request=request, consent=consent,
    ), _("The consent has been withdrawn."))
    return redirect("disclosures:coachee", pseudonym=consent.coachee.pseudonym)


@roles_required(*REGISTER_ROLES)
def who_saw(request: HttpRequest, pseudonym: str) -> HttpResponse:
    """Who saw this coachee's data: staff member, role, when, what (for the access answer)."""
    coachee = get_object_or_404(Coachee.objects.visible_to(request.user), pseudonym=pseudonym)
    events = list(accesses_of(coachee, limit=500))
    reasons = access.reasons_of(coachee, events)
    return render(
        request,
        "disclosures/who_saw.html",
        {"coachee": coachee,
         "rows": [(row, reasons.get(row.event.pk)) for row in display.rows(events, request.user)]},
    )
