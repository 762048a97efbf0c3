"""Incident pages (art. 4.1c, 13.6; GDPR art. 33). Owners and the administrator; an owner
records the notification to the authority. Every reading of an incident is audited."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from coachregister.accounts.access import REGISTER_ROLES, deny, roles_required
from coachregister.accounts.models import Role
from coachregister.audit.services import event_record
from coachregister.incidents import services
from coachregister.incidents.forms import AssessForm, IncidentForm, NotificationForm
from coachregister.incidents.models import AuthorityNotification, Incident
from coachregister.lib.feedback import carry_out

TEXTS = ("summary", "containment", "consequences")


@roles_required(*REGISTER_ROLES)
def incident_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    incidents = Incident.objects.annotate(notified=Exists(
        AuthorityNotification.objects.filter(incident=OuterRef("pk"), follow_up=False)))
    rows = [
        {"incident": incident,
         "running": services.clock_running(incident, notified=incident.notified),
         "hours_left": services.hours_left(incident, now)}
        for incident in incidents
    ]
    return render(request, "incidents/list.html", {"rows": rows})


@roles_required(*REGISTER_ROLES)
def incident_new(request: HttpRequest) -> HttpResponse:
    """Register an incident (GDPR 33(5): every one, also those not notified)."""
    form = IncidentForm(request.POST or None, initial={"aware_at": timezone.localtime()})
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.incident_register(actor=request.user, request=request,
                                                  **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The incident has been registered."))
            return redirect("incidents:detail", pk=incident.pk)
    return render(request, "incidents/form.html", {"form": form, "incident": None})


@roles_required(*REGISTER_ROLES)
def incident_edit(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=pk)
    initial = {field: services.text(incident, field) for field in TEXTS}
    initial.update(
        started_at=incident.started_at and timezone.localtime(incident.started_at),
        aware_at=timezone.localtime(incident.aware_at), reported_by=incident.reported_by,
        processor=incident.processor_id, processor_name=incident.processor_name,
        data_categories=incident.data_categories,
        records_estimate=incident.records_estimate,
    )
    form = IncidentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        # The form shows whole minutes: an unchanged minute keeps the stored moment, so
        # saving the form as it is does not move the clock.
        if values["aware_at"] == incident.aware_at.replace(second=0, microsecond=0):
            values["aware_at"] = incident.aware_at
        try:
            services.incident_update(actor=request.user, request=request, incident=incident,
                                     **values)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The incident has been changed."))
            return redirect("incidents:detail", pk=incident.pk)
    return render(request, "incidents/form.html", {"form": form, "incident": incident})


@roles_required(*REGISTER_ROLES)
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=pk)
    event_record(action="incidents.incident.viewed", request=request,
                 object_type=services.OBJECT, object_id=str(incident.pk))
    notifications = [
        {"notification": n, "delay_reasons": services.text(n, "delay_reasons")}
        for n in incident.authority_notifications.select_related("recorded_by")
    ]
    texts = {field: services.text(incident, field) for field in (*TEXTS, "risk_reasons")}
    hours_left = services.hours_left(incident)
    return render(request, "incidents/detail.html", {
        "incident": incident,
        "texts": texts,
        "notifications": notifications,
        "running": services.clock_running(incident),
        "hours_left": hours_left,
        "hours_overdue": -hours_left,
        "may_manage": request.user.role in REGISTER_ROLES,
        "is_owner": request.user.role == Role.OWNER,
        "assess_form": AssessForm(initial={"risk": incident.risk,
                                           "reasons": texts["risk_reasons"]},
                                  prefix="assess"),
        "notify_form": NotificationForm(
            initial={"follow_up": incident.initial_notification() is not None},
            prefix="notify"),
    })


@roles_required(*REGISTER_ROLES)
@require_POST
def incident_assess(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=pk)
    form = AssessForm(request.POST, prefix="assess")
    if form.is_valid():
        carry_out(request, lambda: services.incident_assess(
            actor=request.user, request=request, incident=incident, **form.cleaned_data,
        ), _("The risk assessment has been recorded."))
    else:
        messages.error(request, _("Choose the risk and give the reasons."))
    return redirect("incidents:detail", pk=incident.pk)


@roles_required(Role.OWNER)
@require_POST
def authority_notify(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=pk)
    form = NotificationForm(request.POST, prefix="notify")
    if form.is_valid():
        try:
            carry_out(request, lambda: services.authority_notification_record(
                actor=request.user, request=request, incident=incident, **form.cleaned_data,
            ), _("The notification to the authority has been recorded."))
        except PermissionDenied:
            return deny(request, object_type=services.OBJECT, object_id=str(pk))
    else:
        messages.error(request, _("Fill in the moment of submission and the reference number."))
    return redirect("incidents:detail", pk=incident.pk)


@roles_required(*REGISTER_ROLES)
@require_POST
def incident_close(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=pk)
    carry_out(request, lambda: services.incident_close(
        actor=request.user, request=request, incident=incident,
    ), _("The incident has been closed."))
    return redirect("incidents:detail", pk=incident.pk)
