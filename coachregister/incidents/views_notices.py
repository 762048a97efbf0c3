"""Incident pages for the affected coachees, the authority's form, the coachee notices and
containment (art. 4.1c, 13.6; GDPR art. 33-34). The register's runners only; the services
refuse what only an owner may do."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from coachregister.accounts.access import REGISTER_ROLES, roles_required
from coachregister.incidents import affected as selection
from coachregister.incidents import containment, notices
from coachregister.incidents.models import Incident
from coachregister.incidents.notice_forms import (
    ClientForm,
    ConfirmForm,
    ContainmentUserForm,
    NoticeExceptionForm,
    NoticeTemplateForm,
    PickedForm,
    TrajectoryForm,
    UserWindowForm,
)
from coachregister.lib.feedback import carry_out
from coachregister.trajectories.models import Trajectory


def _incident(pk: int) -> Incident:
    return get_object_or_404(Incident, pk=pk)


def _refused(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# --- affected coachees -----------------------------------------------------------------


def _select(scope: str, bound: dict[str, Any]) -> selection.Selection | None:
    """The selection the posted form asks for, or None (the form shows its errors)."""
    form = bound[scope]
    if not form.is_valid():
        return None
    data = form.cleaned_data
    if scope in (selection.Scope.VIEWED, selection.Scope.COULD_SEE):
        find = selection.viewed_by if scope == selection.Scope.VIEWED else selection.could_see
        return find(data["user"], data["since"], data["until"])
    if scope == selection.Scope.CLIENT:
        return selection.of_client(data["client"])
    if scope == selection.Scope.TRAJECTORY:
        trajectory = Trajectory.objects.filter(pseudonym=data["trajectory"].strip().upper()).first()
        if trajectory is None:
            form.add_error("trajectory", _("No trajectory has this pseudonym."))
            return None
        return selection.of_trajectory(trajectory)
    return selection.picked(data["pseudonyms"])


@roles_required(*REGISTER_ROLES)
def affected(request: HttpRequest, pk: int) -> HttpResponse:
    """Choose a scope; the register lists the pseudonyms and the count from the audit trail."""
    incident = _incident(pk)
    scope = request.POST.get("scope", "") if request.method == "POST" else ""
    post = request.POST if request.method == "POST" else None

    def bind(name: str, form_class: type, **kwargs: Any) -> Any:
        return form_class(post if scope == name else None, prefix=name, **kwargs)

    bound = {
        selection.Scope.VIEWED: bind(selection.Scope.VIEWED, UserWindowForm),
        selection.Scope.COULD_SEE: bind(selection.Scope.COULD_SEE, UserWindowForm),
        selection.Scope.CLIENT: bind(selection.Scope.CLIENT, ClientForm),
        selection.Scope.TRAJECTORY: bind(selection.Scope.TRAJECTORY, TrajectoryForm),
        selection.Scope.PICKED: bind(selection.Scope.PICKED, PickedForm),
    }
    if scope == "remove":
        carry_out(request, lambda: selection.affected_remove(
            actor=request.user, request=request, incident=incident,
            pseudonym=request.POST.get("pseudonym", "")), _("Taken off the list."))
        return redirect("incidents:affected", pk=pk)
    if scope in bound:
        try:
            found = _select(scope, bound)
            if found is not None:
                added = selection.affected_add(actor=request.user, request=request,
                                               incident=incident, selection=found)
        except ValidationError as exc:
            _refused(request, exc)
        else:
            if found is not None:
                messages.success(request, _(
                    "Found %(found)d coachees; %(added)d added to the incident."
                ) % {"found": found.count, "added": added})
                for note in found.notes:
                    messages.warning(request, note)
                return redirect("incidents:affected", pk=pk)
    rows = list(incident.affected.all())
    return render(request, "incidents/affected.html", {
        "incident": incident, "forms": bound, "rows": rows, "count": len(rows),
        "approximate": selection.approximate(incident),
    })


# --- the authority's form ------------------------------------------------------------------


@roles_required(*REGISTER_ROLES)
@require_safe
def authority_form(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident(pk)
    return render(request, "incidents/authority_form.html", notices.authority_content(incident))


@roles_required(*REGISTER_ROLES)
@require_safe
def authority_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident(pk)
    pdf = notices.authority_pdf(actor=request.user, request=request, incident=incident)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="melding-{incident.code}.pdf"'
    return response


# --- the coachee notice --------------------------------------------------------------------


def _notice_page(request: HttpRequest, incident: Incident, **forms: Any) -> HttpResponse:
    exception = getattr(incident, "notice_exception", None)
    sending = getattr(incident, "notice_sending", None)
    templates = list(incident.notice_templates.all())
    return render(request, "incidents/notice.html", {
        "incident": incident,
        "template_form": forms.get("template_form") or NoticeTemplateForm(),
        "exception_form": forms.get("exception_form") or NoticeExceptionForm(),
        "confirm_form": ConfirmForm(),
        "templates": templates,
        "exception": exception,
        "exception_reasons": notices.exception_reasons(exception) if exception else "",
        "sending": sending,
        "refusals": notices.refusals(incident),
        "recipients": len(notices.recipients(incident)),
        "unreachable": incident.affected.filter(coachee__isnull=True).count(),
        "sent": list(incident.notices.all()),
        "own_preparation": sending is not None and sending.prepared_by_id == request.user.pk,
        "second_factor": notices.second_factor_fresh(request),
    })


@roles_required(*REGISTER_ROLES)
def notice(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the notice's state; POST: the owner saves the template of one language."""
    incident = _incident(pk)
    form = NoticeTemplateForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                notices.template_save(actor=request.user, request=request, incident=incident,
                                      **form.cleaned_data)
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, _("The notice has been saved."))
                return redirect("incidents:notice", pk=pk)
    elif request.GET.get("language") in dict(settings.LANGUAGES):
        existing = incident.notice_templates.filter(language=request.GET["language"]).first()
        if existing:
            form = NoticeTemplateForm(initial={
                part: getattr(existing, part) for part in ("language", *notices.PARTS)})
    return _notice_page(request, incident, template_form=form)


@roles_required(*REGISTER_ROLES)
@require_POST
def notice_exception(request: HttpRequest, pk: int) -> HttpResponse:
    """GDPR 34(3): the owner records why the coachees are not told one by one."""
    incident = _incident(pk)
    form = NoticeExceptionForm(request.POST)
    if form.is_valid():
        try:
            notices.exception_record(actor=request.user, request=request, incident=incident,
                                     **form.cleaned_data)
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("The exception has been recorded; no notices are sent."))
            return redirect("incidents:notice", pk=pk)
    return _notice_page(request, incident, exception_form=form)


@roles_required(*REGISTER_ROLES)
@require_POST
def notice_prepare(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident(pk)
    carry_out(request, lambda: notices.sending_prepare(
        actor=request.user, request=request, incident=incident),
        _("Prepared. A second person confirms the number of recipients, or you again after "
          "confirming with your second factor."))
    return redirect("incidents:notice", pk=pk)


@roles_required(*REGISTER_ROLES)
@require_POST
def notice_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """The four-eyes step: the number of recipients repeated; then the mails are queued."""
    incident = _incident(pk)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the number of recipients."))
        return redirect("incidents:notice", pk=pk)
    carry_out(request, lambda: notices.sending_confirm(
        actor=request.user, request=request, incident=incident,
        count=form.cleaned_data["count"], second_factor=notices.second_factor_fresh(request)),
        _("The notices are on their way: one mail per coachee, in their language."))
    return redirect("incidents:notice", pk=pk)


# --- containment -----------------------------------------------------------------------------


@roles_required(*REGISTER_ROLES)
@require_POST
def containment_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Sign a user out everywhere, block a user, or record the decision to rotate the master
    key; each is audited with the incident."""
    incident = _incident(pk)
    if action == "rotate":
        carry_out(request, lambda: containment.master_rotation_decide(
            actor=request.user, request=request, incident=incident),
            _("The decision to rotate the master key has been recorded."))
        return redirect("incidents:detail", pk=pk)
    form = ContainmentUserForm(request.POST)
    services = {"sign_out": (containment.user_sign_out, _("The user has been signed out "
                                                          "everywhere.")),
                "block": (containment.user_block, _("The user has been blocked."))}
    if action not in services:
        return redirect("incidents:detail", pk=pk)
    if not form.is_valid():
        messages.error(request, _("Choose a user."))
        return redirect("incidents:detail", pk=pk)
    service, success = services[action]
    carry_out(request, lambda: service(actor=request.user, request=request, incident=incident,
                                       user=form.cleaned_data["user"]), success)
    return redirect("incidents:detail", pk=pk)
