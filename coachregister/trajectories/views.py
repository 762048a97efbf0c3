"""Pages for clients, trajectories, invitations, contact moments and the audit report."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from coachregister.accounts.access import REGISTER_ROLES, deny, roles_required
from coachregister.accounts.models import Role
from coachregister.retention.models import DestructionMethod
from coachregister.trajectories import reports, services
from coachregister.trajectories.access import may_manage, may_work_on
from coachregister.trajectories.forms import (
    ClientForm,
    ContactMomentForm,
    EndForm,
    PeriodForm,
    ReassignForm,
    RegulationSentForm,
    TrajectoryOpenForm,
)
from coachregister.trajectories.models import ClientOrganisation, Status, Trajectory


def _invitation_page(
    request: HttpRequest, trajectory: Trajectory, token: str, code: str
) -> HttpResponse:
    link = request.build_absolute_uri(reverse("coachees:intake_link", args=[token]))
    return render(
        request,
        "trajectories/invitation.html",
        {"trajectory": trajectory, "link": link, "code": code},
    )


@roles_required(*REGISTER_ROLES)
def client_list(request: HttpRequest) -> HttpResponse:
    clients = ClientOrganisation.objects.select_related("regulation_version").order_by("name")
    return render(request, "trajectories/client_list.html", {"clients": clients})


@roles_required(*REGISTER_ROLES)
def client_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    client = get_object_or_404(ClientOrganisation, pk=pk) if pk else None
    form = ClientForm(request.POST or None, instance=client)
    if request.method == "POST" and form.is_valid():
        try:
            services.client_save(
                actor=request.user, request=request, client=client, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The client has been saved."))
            return redirect("trajectories:client_list")
    return _client_page(request, client, form)


def _client_page(
    request: HttpRequest,
    client: ClientOrganisation | None,
    form: ClientForm,
    sent_form: RegulationSentForm | None = None,
) -> HttpResponse:
    if client is not None and sent_form is None:
        sent_form = RegulationSentForm(
            initial={"sent_on": client.regulation_sent_on or timezone.localdate()}
        )
    return render(
        request,
        "trajectories/client_form.html",
        {"form": form, "client": client, "sent_form": sent_form},
    )


@roles_required(*REGISTER_ROLES)
@require_safe
def client_regulation_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The regulation version of this client's quote as a PDF, to send with the quote
    (Werkwijze, art. 1.9)."""
    client = get_object_or_404(
        ClientOrganisation.objects.select_related("regulation_version"), pk=pk
    )
    pdf = services.client_regulation_pdf(actor=request.user, request=request, client=client)
    response = HttpResponse(pdf, content_type="application/pdf")
    version = (slugify(client.regulation_version.version.replace(".", "-"))
               or str(client.regulation_version.pk))
    response["Content-Disposition"] = f'attachment; filename="privacyreglement-{version}.pdf"'
    return response


@roles_required(*REGISTER_ROLES)
@require_POST
def client_regulation_sent(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the day the regulation was sent with the quote; a refusal shows on the client's
    page with the form, as a form error."""
    client = get_object_or_404(
        ClientOrganisation.objects.select_related("regulation_version"), pk=pk
    )
    sent_form = RegulationSentForm(request.POST)
    if sent_form.is_valid():
        try:
            services.client_regulation_sent(
                actor=request.user, request=request, client=client,
                sent_on=sent_form.cleaned_data["sent_on"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                sent_form.add_error("sent_on", message)
        else:
            messages.success(request, _("The date the regulation was sent has been recorded."))
            return redirect("trajectories:client_edit", pk=client.pk)
    return _client_page(request, client, ClientForm(instance=client), sent_form)


def trajectory_list(request: HttpRequest) -> HttpResponse:
    """Every role sees the trajectories it may see (trajectories/access.py), nothing more."""
    trajectories = (
        Trajectory.objects.visible_to(request.user)
        .select_related("client", "coach", "coachee")
        .order_by("-created_at")
    )
    status = request.GET.get("status")
    if status in Status.values:
        trajectories = trajectories.filter(status=status)
    return render(
        request,
        "trajectories/trajectory_list.html",
        {
            "trajectories": trajectories,
            "statuses": Status.choices,
            "status": status,
            "may_manage": may_manage(request.user),
        },
    )


@roles_required(*REGISTER_ROLES)
def trajectory_new(request: HttpRequest) -> HttpResponse:
    form = TrajectoryOpenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            trajectory, token, code = services.trajectory_open(
                actor=request.user,
                request=request,
                client=form.cleaned_data["client"],
                coach=form.cleaned_data["coach"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _invitation_page(request, trajectory, token, code)
    return render(request, "trajectories/trajectory_new.html", {"form": form})


def visible_or_deny(request: HttpRequest, pseudonym: str) -> Trajectory | HttpResponse:
    """The trajectory if the user may see it; else a refusal (audited), or 404 if unknown."""
    trajectory = (
        Trajectory.objects.visible_to(request.user)
        .select_related("client", "coach", "coachee")
        .filter(pseudonym=pseudonym)
        .first()
    )
    if trajectory is None:
        get_object_or_404(Trajectory, pseudonym=pseudonym)
        return deny(request, object_type=services.TRAJECTORY, object_id=pseudonym)
    return trajectory


def trajectory_detail(request: HttpRequest, pseudonym: str) -> HttpResponse:
    trajectory = visible_or_deny(request, pseudonym)
    if isinstance(trajectory, HttpResponse):
        return trajectory
    moments = trajectory.contact_moments.select_related("recorded_by").order_by(
        "-occurred_on", "-id"
    )
    task = getattr(trajectory, "paper_task", None)
    return render(
        request,
        "trajectories/trajectory_detail.html",
        {
            "trajectory": trajectory,
            "moments": moments,
            "paper_task": task,
            "destruction_methods": DestructionMethod.choices,
            "may_manage": may_manage(request.user),
            "may_work": may_work_on(request.user, trajectory),
            "moment_form": ContactMomentForm(),
            "end_form": EndForm(),
            "reassign_form": ReassignForm(initial={"coach": trajectory.coach_id}),
            "today": timezone.localdate(),
        },
    )


@require_POST
def trajectory_action(request: HttpRequest, pseudonym: str, action: str) -> HttpResponse:
    trajectory = visible_or_deny(request, pseudonym)
    if isinstance(trajectory, HttpResponse):
        return trajectory
    try:
        if action == "renew-invitation":
            token, code = services.invitation_renew(
                actor=request.user, request=request, trajectory=trajectory
            )
            return _invitation_page(request, trajectory, token, code)
        if action == "reassign":
            form = ReassignForm(request.POST)
            if form.is_valid():
                services.trajectory_reassign(
                    actor=request.user,
                    request=request,
                    trajectory=trajectory,
                    coach=form.cleaned_data["coach"],
                )
                messages.success(request, _("The trajectory has a new coach."))
            else:
                messages.error(request, _("Choose an active coach."))
        elif action == "end":
            form = EndForm(request.POST)
            if form.is_valid():
                services.trajectory_end(
                    actor=request.user,
                    request=request,
                    trajectory=trajectory,
                    broken_off=form.cleaned_data["outcome"] == "broken_off",
                )
                messages.success(
                    request,
                    _("The trajectory has ended. Destroy the paper dossier and confirm it below."),
                )
            else:
                messages.error(request, _("Choose how the trajectory ended."))
        elif action == "contact-moment":
            form = ContactMomentForm(request.POST)
            if form.is_valid():
                services.contact_moment_record(
                    actor=request.user, request=request, trajectory=trajectory, **form.cleaned_data
                )
                messages.success(request, _("The contact moment has been recorded."))
            else:
                for errors in form.errors.values():
                    for error in errors:
                        messages.error(request, error)
        else:
            return deny(request, object_type=services.TRAJECTORY, object_id=pseudonym)
    except PermissionDenied:
        return deny(request, object_type=services.TRAJECTORY, object_id=pseudonym)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("trajectories:detail", pseudonym=trajectory.pseudonym)


@roles_required(Role.OWNER, Role.ADMINISTRATOR, Role.AUDITOR)
def report(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    initial = {"date_from": date(today.year, 1, 1), "date_until": today}
    form = PeriodForm(request.GET or None, initial=initial)
    result = None
    if form.is_valid():
        result = reports.period_report(
            form.cleaned_data["date_from"], form.cleaned_data["date_until"]
        )
    elif not request.GET:
        result = reports.period_report(initial["date_from"], initial["date_until"])
    return render(request, "trajectories/report.html", {"form": form, "report": result})
