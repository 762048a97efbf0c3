"""The retention pages (art. 10, 12.1): the policy and its versions, the overview with the
number that must be zero, coming expiries, legal holds, idle open trajectories, the
destruction records and the mailbox tasks; and the coach's confirmation of a paper dossier's
or a mailbox copy's destruction.

These pages show pseudonyms only. The one place that shows a name is a mailbox task on its
assignee's dashboard (`mailbox_tasks_for`), and each name shown is an audit event."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from coachregister.accounts import reauth
from coachregister.accounts.access import REGISTER_ROLES, deny, roles_required
from coachregister.accounts.models import Role
from coachregister.audit.services import event_record, events_record
from coachregister.lib import deadlines
from coachregister.retention import mailbox, services
from coachregister.retention.forms import HoldForm, PolicyForm, RecordFilterForm
from coachregister.retention.models import (
    DestructionRecord,
    LegalHold,
    MailboxTask,
    PaperDossierTask,
    RetentionPolicy,
    Tombstone,
)

EXPIRY_HORIZON = timedelta(days=90)
OVERVIEW_RECORDS = 10
RECORDS_PER_PAGE = 50
TASKS_SHOWN = 50  # per state on the retention page; the newest first
KEEPER_LABELS = {
    "open_trajectory": gettext_lazy("an open trajectory"),
    "undecided_request": gettext_lazy("an undecided request"),
    "hold": gettext_lazy("a legal hold"),
}


@require_POST
def paper_task_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(PaperDossierTask.objects.select_related("trajectory"), pk=pk)
    try:
        services.paper_task_confirm(
            actor=request.user, request=request, task=task, method=request.POST.get("method", "")
        )
    except PermissionDenied:
        return deny(request, object_type="trajectory", object_id=task.trajectory.pseudonym)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The destruction of the paper dossier has been recorded."))
    return redirect("trajectories:detail", pseudonym=task.trajectory.pseudonym)


def _field_errors(form: Form, exc: ValidationError) -> None:
    """Put a service's errors on the form's fields (a dict of field errors), or on the form."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# --- the policy (art. 10.1) -------------------------------------------------------------------


@roles_required(*REGISTER_ROLES)
def policy(request: HttpRequest) -> HttpResponse:
    """The owner sets the periods; the administrator reads them (art. 1.4: the owners set the
    policy). Every change is a new version, and asks for a fresh confirmation (art. 12.2):
    a shorter period destroys data at the next purge."""
    current = RetentionPolicy.current()
    may_edit = request.user.role == Role.OWNER
    if request.method == "POST" and not may_edit:
        return deny(request)
    form = PolicyForm.for_policy(current, request.POST or None)
    if not may_edit:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and form.is_valid():
        if (confirm := reauth.required(request, next_url=request.path)) is not None:
            return confirm
        try:
            new = services.policy_set(actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as exc:
            _field_errors(form, exc)
        else:
            if new.version != current.version:
                messages.success(request, _("The retention policy has been saved as version "
                                            "%(version)d.") % {"version": new.version})
            from coachregister.practice.services import pending_open

            if pending_open("retention") is not None:  # art. 2: a longer period waits
                messages.warning(request, _(
                    "A longer period is a weaker promise: it takes effect only when you "
                    "publish the privacy regulation that states it."))
            if new.years < current.years:
                count = len(services.due_for_purge(policy=new))
                messages.warning(request, ngettext(
                    "With the shorter period, %(count)d coachee will be destroyed at the "
                    "next purge.",
                    "With the shorter period, %(count)d coachees will be destroyed at the "
                    "next purge.", count) % {"count": count})
            return redirect("retention:policy")
    versions = RetentionPolicy.objects.select_related("created_by").order_by("-version")
    return render(request, "retention/policy.html", {
        "form": form, "may_edit": may_edit, "current": current, "versions": versions,
    })


# --- the overview (art. 10.1, 10.2, 12.1) -----------------------------------------------------


@dataclass
class Expiry:
    pseudonym: str
    expiry: date
    trajectory: str | None  # the pseudonym of the latest trajectory, for the link
    keepers: list[str]
    erased: bool = False  # a tombstone: the rows kept after an erasure


def coming_expiries(today: date, policy: RetentionPolicy) -> list[Expiry]:
    """Coachees whose expiry date lies within the horizon, and those past it whom something
    keeps (with what keeps them); and tombstones whose day is near. Two queries, whatever the
    number of coachees: the last contact and the keepers are annotated, as in
    `services._candidates`; the exact date is computed per row by `lib/deadlines`."""
    from coachregister.coachees.models import Coachee
    from coachregister.rights.models import DataRequest
    from coachregister.trajectories.models import Status, Trajectory

    horizon = today + EXPIRY_HORIZON
    earliest = deadlines.add_years(today, -policy.years) - timedelta(days=1)
    latest = deadlines.add_years(horizon, -policy.years) + timedelta(days=1)
    open_trajectory = Exists(Trajectory.objects.filter(
        coachee=OuterRef("pk"), status__in=[Status.INVITED, Status.ACTIVE]))
    undecided = Exists(DataRequest.objects.filter(coachee=OuterRef("pk"),
                                                  decided_at__isnull=True))
    hold = Exists(LegalHold.objects.filter(coachee=OuterRef("pk"), lifted_at__isnull=True,
                                           until__gte=today))
    kept = Q(open_trajectory=True) | Q(undecided_request=True) | Q(hold=True)
    rows = (
        Coachee.objects.annotate(
            last=Max("trajectories__contact_moments__occurred_on"),
            open_trajectory=open_trajectory, undecided_request=undecided, hold=hold,
            trajectory=Subquery(Trajectory.objects.filter(coachee=OuterRef("pk"))
                                .order_by("-created_at", "-pk").values("pseudonym")[:1]),
        )
        .filter(Q(last__lte=latest) | Q(last__isnull=True, created_at__date__lte=latest))
        .filter(kept | Q(last__gte=earliest)
                | Q(last__isnull=True, created_at__date__gte=earliest))
        .only("pk", "pseudonym", "created_at")
    )
    found = []
    for row in rows:
        expiry = deadlines.retention_expiry(
            row.last or timezone.localtime(row.created_at).date(), policy.years)
        keepers = [name for name in KEEPER_LABELS if getattr(row, name)]
        if expiry <= horizon and (expiry >= today or keepers):
            found.append(Expiry(row.pseudonym, expiry, row.trajectory, keepers))
    found += [
        Expiry(pseudonym, expires_on, None, [], erased=True)
        for pseudonym, expires_on in Tombstone.objects.filter(
            expires_on__gte=today, expires_on__lte=horizon
        ).values_list("pseudonym", "expires_on")
    ]
    return sorted(found, key=lambda e: (e.expiry, e.pseudonym))


def _tasks(state: Q) -> QuerySet[MailboxTask]:
    return (MailboxTask.objects.filter(state).select_related("assigned_to")
            .defer("name_enc", "wrapped_key").order_by("-created_at", "-pk")[:TASKS_SHOWN])


@roles_required(*REGISTER_ROLES)
def overview(request: HttpRequest) -> HttpResponse:
    """One page for the register's runners: what must be zero, what comes, what keeps whom,
    what was destroyed. Pseudonyms only: nothing here decrypts a name."""
    today = timezone.localdate()
    current = RetentionPolicy.current()
    due = services.due_for_purge(today, current)
    context: dict[str, Any] = {
        "today": today,
        "policy": current,
        "past_purge_day": len(due),
        "due": due,
        "expiries": coming_expiries(today, current),
        "horizon_days": EXPIRY_HORIZON.days,
        "holds": LegalHold.objects.filter(lifted_at__isnull=True, until__gte=today)
        .select_related("coachee", "set_by").order_by("until", "pk"),
        "idle": services.idle_open_trajectories(today, current),
        "records": DestructionRecord.objects.all()[:OVERVIEW_RECORDS],
        "open_tasks": _tasks(Q(confirmed_at__isnull=True, key_destroyed_at__isnull=True)),
        "confirmed_tasks": _tasks(Q(confirmed_at__isnull=False)),
        "expired_tasks": _tasks(Q(confirmed_at__isnull=True, key_destroyed_at__isnull=False)),
        "hold_form": HoldForm(),
        "keeper_labels": KEEPER_LABELS,
    }
    return render(request, "retention/overview.html", context)


# --- legal holds (art. 10.1) ------------------------------------------------------------------


@roles_required(*REGISTER_ROLES)
def hold_new(request: HttpRequest) -> HttpResponse:
    """Set a hold on a coachee chosen by pseudonym. The service refuses a reason that names
    the coachee (the name guard) and an end date in the past; the page shows why."""
    from coachregister.coachees.models import Coachee

    form = HoldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        coachee = Coachee.objects.visible_to(request.user).filter(
            pseudonym=data["pseudonym"]).first()
        if coachee is None:
            form.add_error("pseudonym", _("No coachee has this pseudonym."))
        else:
            try:
                services.hold_set(actor=request.user, request=request, coachee=coachee,
                                  reason=data["reason"], until=data["until"])
            except ValidationError as exc:
                _field_errors(form, exc)
            else:
                messages.success(request, _("The legal hold on %(pseudonym)s has been set.")
                                 % {"pseudonym": coachee.pseudonym})
                return redirect("retention:overview")
    return render(request, "retention/hold_new.html", {"form": form})


@roles_required(*REGISTER_ROLES)
def hold_lift(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm; POST lifts (no script: the confirmation is a page of its own)."""
    hold = get_object_or_404(LegalHold.objects.select_related("coachee", "set_by"), pk=pk)
    if request.method == "POST":
        try:
            services.hold_lift(actor=request.user, request=request, hold=hold)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("The legal hold on %(pseudonym)s has been lifted.")
                             % {"pseudonym": hold.coachee.pseudonym})
        return redirect("retention:overview")
    return render(request, "retention/hold_lift.html", {"hold": hold})


# --- destruction records (art. 10.2) ----------------------------------------------------------


def _filtered_records(form: RecordFilterForm) -> QuerySet[DestructionRecord]:
    records = DestructionRecord.objects.all()
    if form.is_valid():
        data = form.cleaned_data
        if data["scope"]:
            records = records.filter(scope=data["scope"])
        if data["reason"]:
            records = records.filter(reason=data["reason"])
        records = records.filter(**form.day_range("destroyed_at"))
    return records


@roles_required(*REGISTER_ROLES)
def records(request: HttpRequest) -> HttpResponse:
    form = RecordFilterForm(request.GET or None)
    page = Paginator(_filtered_records(form), RECORDS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "retention/records.html", {
        "form": form, "page": page, "query": query.urlencode(),
    })


def _categories(destroyed: dict[str, Any]) -> str:
    return "; ".join(f"{name}={count}" for name, count in sorted(destroyed.items()))


@roles_required(*REGISTER_ROLES)
def records_csv(request: HttpRequest) -> HttpResponse:
    """The proof of deletion as a spreadsheet (art. 10.2): pseudonyms, scopes, reasons,
    categories with counts, policy versions and dates; nothing personal. The export is
    audited (a copy that leaves the register)."""
    form = RecordFilterForm(request.GET or None)
    rows = list(_filtered_records(form))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="destruction-records.csv"'
    writer = csv.writer(response)
    writer.writerow(["destroyed_at", "pseudonym", "scope", "reason", "destroyed",
                     "policy_version", "expiry_date"])
    for record in rows:
        writer.writerow([
            timezone.localtime(record.destroyed_at).isoformat(timespec="seconds"),
            record.pseudonym, record.scope, record.reason, _categories(record.destroyed),
            record.policy_version or "", record.expiry_date.isoformat() if record.expiry_date
            else "",
        ])
    with transaction.atomic():
        event_record(action="retention.records.exported", request=request,
                     object_type="destruction_record", detail={"rows": len(rows)})
    return response


# --- mailbox tasks (art. 12.1) ----------------------------------------------------------------


@dataclass
class TaskRow:
    task: MailboxTask
    name: str | None  # only while the task is open and its key exists


def mailbox_tasks_for(request: HttpRequest) -> list[TaskRow]:
    """The signed-in user's mailbox tasks of the last 30 days for the dashboard: open ones
    with the name (each name shown is an audit event with the pseudonym, written in one
    statement), confirmed and expired ones with the pseudonym only."""
    since = timezone.now() - mailbox.KEEP_NAME
    tasks = list(MailboxTask.objects.filter(
        Q(confirmed_at__isnull=True, key_destroyed_at__isnull=True)
        | Q(created_at__gte=since) | Q(confirmed_at__gte=since),
        assigned_to=request.user,
    ).order_by("confirmed_at", "-created_at", "-pk"))
    rows = []
    for task in tasks:
        name = None
        if task.confirmed_at is None and task.key_destroyed_at is None:
            name = mailbox.task_name(task)
        rows.append(TaskRow(task, name))
    shown = [row.task for row in rows if row.name]
    if shown:
        with transaction.atomic():
            events_record([
                {"action": "retention.mailbox_task.viewed", "object_type": "coachee",
                 "object_id": task.pseudonym, "detail": {"task": task.pk}}
                for task in shown
            ], request=request)
    return rows


@require_POST
def mailbox_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Only the task's assignee confirms that the mails and the contact are gone."""
    task = get_object_or_404(MailboxTask, pk=pk)
    try:
        mailbox.mailbox_task_confirm(actor=request.user, request=request, task=task)
    except PermissionDenied:
        return deny(request, object_type="coachee", object_id=task.pseudonym)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Thank you: the removal from your mailbox has been "
                                    "recorded."))
    return redirect("accounts:dashboard")
