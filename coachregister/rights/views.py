"""Staff pages for requests (art. 7, 8): register, follow the dates, extend."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from coachregister.accounts.access import REGISTER_ROLES, roles_required
from coachregister.coachees import access
from coachregister.coachees.models import Coachee
from coachregister.lib import confirm
from coachregister.lib.feedback import carry_out
from coachregister.practice import promises
from coachregister.practice.models import PracticeSettings
from coachregister.rights import inquiries, services
from coachregister.rights.forms import (
    NEW_KINDS,
    DecideForm,
    ExtendForm,
    RequestForm,
    add_keyword_fields,
    chosen_kind,
    fit_to_kind,
)
from coachregister.rights.models import DataRequest, Decision, Kind, Letter, RefusalGround


@roles_required(*REGISTER_ROLES)
def request_list(request: HttpRequest) -> HttpResponse:
    return render(request, "rights/request_list.html", {
        "requests": services.open_requests(),
        "promises": promises.current(),  # art. 7: the answer term, from the one source
    })


@roles_required(*REGISTER_ROLES)
def request_new(request: HttpRequest, pseudonym: str) -> HttpResponse:
    coachee = get_object_or_404(Coachee.objects.visible_to(request.user), pseudonym=pseudonym)
    kind = chosen_kind(request)
    context = {"coachee": coachee, "practice": PracticeSettings.load(), "kind": kind,
               "kinds": NEW_KINDS}
    if not kind:  # first the kind, then only the fields it has (issue 14)
        return render(request, "rights/request_new.html", context)
    # Most requests are recorded the day they come in: "received on" starts at now.
    form = RequestForm(request.POST or None,
                       initial={"received_at": timezone.localtime().replace(second=0,
                                                                           microsecond=0)})
    add_keyword_fields(form, coachee)  # art. 8.1: one session's keywords
    fit_to_kind(form, kind)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = {k: data.pop(k) for k in services.CORRECTABLE if k in data}
        try:
            data_request = services.request_register(
                actor=request.user, request=request, coachee=coachee, changes=changes, **data
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("The request has been registered."))
            return redirect("rights:detail", pk=data_request.pk)
    return render(request, "rights/request_new.html", {**context, "form": form,
                                                        "kind_label": dict(NEW_KINDS)[kind]})


def decision_consequences(data_request: DataRequest, data: dict, *, grounds: list[str],
                          granted: dict[str, str]) -> list[str]:
    """What deciding will do, in words, for the confirmation page: the decision, the grounds
    and the changes as the service will apply them."""
    kind = data_request.get_kind_display()
    lines = [_("Request: %(kind)s, decision: %(decision)s.") % {
        "kind": kind, "decision": dict(Decision.choices)[data["decision"]]}]
    if grounds:
        labels = dict(RefusalGround.choices)
        lines.append(_("Refusal grounds: %(grounds)s.") % {
            "grounds": "; ".join(str(labels[g]) for g in grounds)})
    if data["decision"] == Decision.PARTLY and granted:
        lines.append(_("Changes granted: %(fields)s.") % {"fields": ", ".join(
            str(services.FIELD_LABELS.get(field, _("session keywords"))) for field in granted)})
    carried = data["decision"] != Decision.REFUSED
    if carried and data_request.kind == Kind.ERASURE:
        lines.append(_("All data of this coachee are erased from the register now; no one "
                       "can bring them back. The coachee receives the letter by email."))
    elif carried and data_request.kind == Kind.RECTIFICATION:
        lines.append(_("The changes granted are made now; every recipient of the data is "
                       "told (art. 8.4)."))
    elif carried and data_request.kind == Kind.RESTRICTION:
        lines.append(_("From now on the coachee's data are only stored: no one opens them "
                       "until the restriction is lifted."))
    elif not carried:
        lines.append(_("The letter gives the reasons and every remedy: our complaints "
                       "procedure, the supervisory authority and the court."))
    if carried and data_request.kind == Kind.ERASURE:
        return lines  # the confirmation mail is the letter: no portal remains
    if data.get("other_form", "").strip():
        lines.append(_("No notice is mailed: hand over the letter in the form the coachee "
                       "asked for."))
    else:
        lines.append(_("The coachee is mailed a notice with a link to the letter."))
    return lines


@roles_required(*REGISTER_ROLES)
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    data_request = get_object_or_404(DataRequest, pk=pk)
    decide = DecideForm(
        request.POST if "decision" in request.POST else None,
        needs_ground=data_request.kind == Kind.RESTRICTION
        and not data_request.restriction_ground,
        access=data_request.kind in (Kind.ACCESS, Kind.PORTABILITY),
    )
    if decide.is_bound and decide.is_valid() and not confirm.editing(request):
        data = decide.cleaned_data
        asked = {
            "decision": data["decision"],
            "grounds": data.get("grounds", []),
            "justification": data["justification"],
            "restriction_ground": data.get("restriction_ground", ""),
            "granted_changes": {
                field: value
                for field, value in services.requested_changes(data_request).items()
                if field in request.POST.getlist("granted_fields")
            },
        }
        try:
            # Every check first, so the confirmation is asked only for what can be done.
            grounds, granted = services.decision_checked(
                actor=request.user, data_request=data_request, **asked)
            if not confirm.confirmed(request):  # a decision is carried out at once (issue 14)
                return confirm.ask(
                    request,
                    title=_("Decide: %(decision)s") % {
                        "decision": dict(Decision.choices)[data["decision"]]},
                    consequences=decision_consequences(
                        data_request, data, grounds=grounds, granted=granted),
                    action=_("Decide, carry out and write the letter"),
                )
            services.request_decide(actor=request.user, request=request,
                                    data_request=data_request, other_form=data["other_form"],
                                    **asked)
        except ValidationError as exc:
            for message in exc.messages:
                decide.add_error(None, message)
        else:
            messages.success(request, _("The decision has been recorded and carried out."))
            return redirect("rights:detail", pk=pk)
    form = ExtendForm(request.POST if "months" in request.POST else None)
    if form.is_bound and form.is_valid():
        try:
            services.request_extend(
                actor=request.user, request=request, data_request=data_request, **form.cleaned_data
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(
                request, _("The deadline has been extended and the requester told why.")
            )
            return redirect("rights:detail", pk=pk)
    changes = services.requested_changes(data_request)
    if changes:  # the corrections asked for are the coachee's data: a read for this request
        access.task_read(request=request, coachee=data_request.coachee,
                         task=f"request:{data_request.pk}", action="rights.request.viewed")
    return render(
        request,
        "rights/request_detail.html",
        {
            "data_request": data_request,
            "form": form,
            "decide": decide,
            "changes": changes,
            "letters": data_request.letters.all(),
            # Art. 7, 8: the answer term and whether it may be extended, as the settings
            # make them (practice.promises), so the page says what the service does.
            "promises": promises.current(),
            "inquiry": inquiries.for_detail(request, data_request),
        },
    )


@roles_required(*REGISTER_ROLES)
@require_POST
def fee_paid(request: HttpRequest, pk: int) -> HttpResponse:
    """Art. 7.3, GDPR art. 15(3): staff record that the fee for a further copy was paid."""
    data_request = get_object_or_404(DataRequest, pk=pk)
    carry_out(request, lambda: services.request_fee_paid(
        actor=request.user, request=request, data_request=data_request,
    ), _("The fee has been recorded as paid."))
    return redirect("rights:detail", pk=pk)


@roles_required(*REGISTER_ROLES)
def letter_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The letter as sent; reading it is reading personal data, so it is audited."""
    letter = get_object_or_404(Letter.objects.select_related("request__coachee"), pk=pk)
    pdf = services.letter_pdf(letter)
    access.task_read(request=request, coachee=letter.request.coachee,
                     task=f"request:{letter.request_id}", action="rights.letter.downloaded",
                     letter=letter.pk)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="brief-R-{letter.request_id}.pdf"'
    return response


@roles_required(*REGISTER_ROLES)
@require_POST
def restriction_lift(request: HttpRequest, pseudonym: str) -> HttpResponse:
    coachee = get_object_or_404(Coachee.objects.visible_to(request.user), pseudonym=pseudonym)
    try:
        services.restriction_lift(actor=request.user, request=request, coachee=coachee)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The restriction has been lifted; the coachee was told."))
    return redirect("coachees:contact", pseudonym=pseudonym)
