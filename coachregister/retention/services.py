"""Retention (art. 10): the policy and its versions, when a coachee's data must go, legal
holds, the purge, paper dossiers, and the key epochs that bound what copies can still open."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from coachregister.accounts.models import User
from coachregister.audit.services import deferred, event_record
from coachregister.lib import deadlines, fault
from coachregister.retention.models import (
    DestructionMethod,
    DestructionReason,
    HoldSource,
    LegalHold,
    PaperDossierTask,
    RetentionPolicy,
    Scope,
    Tombstone,
)
from coachregister.trajectories.access import may_work_on, require_manager

if TYPE_CHECKING:
    from coachregister.coachees.models import Coachee
    from coachregister.trajectories.models import Trajectory


def paper_task_confirm(
    *, actor: User, request: HttpRequest | None, task: PaperDossierTask, method: str
) -> PaperDossierTask:
    if not may_work_on(actor, task.trajectory):
        raise PermissionDenied(_("This is not your trajectory."))
    if method not in DestructionMethod.values:
        raise ValidationError(_("Choose how the paper dossier was destroyed."))
    with transaction.atomic():
        task = PaperDossierTask.objects.select_for_update().get(pk=task.pk)
        if not task.is_open:
            raise ValidationError(_("This destruction has already been confirmed."))
        task.confirmed_at, task.confirmed_by, task.method = timezone.now(), actor, method
        task.save(update_fields=["confirmed_at", "confirmed_by", "method"])
        event_record(
            action="retention.paper_dossier.destroyed",
            request=request,
            actor=actor,
            object_type="trajectory",
            object_id=task.trajectory.pseudonym,
            detail={"method": method},
        )
    return task


# --- key epochs (art. 6, 10): what an erasure leaves in copies opens nothing after the bound --


def epochs_maintain(now: datetime | None = None) -> dict[str, int]:
    """The worker's key-epoch pass: start a new epoch when the interval has passed, move every
    row wrapped by an older epoch to the current one (coachees, unsent mail, portal look-ups,
    mailbox tasks, keyword versions, requesters' details, letters), and destroy epochs that nothing
    has used for the backup age (keys/keyring.py). Each start and destruction is audited."""
    from types import SimpleNamespace

    from coachregister.coachees import vault
    from coachregister.complaints import services as complaints
    from coachregister.keys import keyring
    from coachregister.notes import services as keywords
    from coachregister.outbox import services as outbox
    from coachregister.retention import mailbox
    from coachregister.rights import inquiries, portal
    from coachregister.rights import services as rights

    letters = SimpleNamespace(rekey=rights.letters_rekey,
                              epochs_in_use=rights.letters_epochs_in_use)
    # Each has rekey() and epochs_in_use(); `inquiries`: the keys of requesters' details.
    # `complaints`: complaint letters and the files kept apart after an erasure.
    holders = (vault, outbox, portal, mailbox, keywords, inquiries, letters, complaints)
    started = keyring.epoch_start_if_due(now)
    if started is not None:
        event_record(action="keys.epoch.started", object_type="epoch", object_id=started.id)
    moved = sum(holder.rekey() for holder in holders)
    in_use: set[str] = set().union(*(holder.epochs_in_use() for holder in holders))
    destroyed = keyring.epochs_retire(in_use, now)
    for epoch_id in destroyed:
        event_record(action="keys.epoch.destroyed", object_type="epoch", object_id=epoch_id)
    return {"started": int(started is not None), "moved": moved, "destroyed": len(destroyed)}


# --- the retention policy (art. 10.1) ---------------------------------------------------------


def policy_set(
    *,
    actor: User,
    request: HttpRequest | None,
    years: int,
    statute: str = "",
    client_contact_years: int = RetentionPolicy.DEFAULT_CLIENT_CONTACT_YEARS,
    staff_years: int = RetentionPolicy.DEFAULT_STAFF_YEARS,
    audit_years: int | None = None,
    idle_months: int = 12,
) -> RetentionPolicy:
    """A new version of the policy; the owner only. Longer than a default needs the statute
    that requires it; the audit trail is never kept shorter than the coachees' data.

    Art. 2, 10.1: once a regulation is published, a longer period (coachees, business
    contacts, staff accounts, audit trail) waits as a PendingChange until the regulation
    stating it is published; the rest acts at once. Returns the policy in force."""
    from coachregister.accounts.models import Role

    if actor.role != Role.OWNER:
        raise PermissionDenied(_("Only an owner sets the retention policy."))
    audit_years = years if audit_years is None else audit_years
    statute = statute.strip()
    errors: dict[str, str] = {}
    for name, value in (("years", years), ("client_contact_years", client_contact_years),
                        ("staff_years", staff_years), ("audit_years", audit_years),
                        ("idle_months", idle_months)):
        if not 1 <= int(value) <= 100:
            errors[name] = _("Give a whole number from 1 to 100.")
    longer = (
        years > RetentionPolicy.DEFAULT_YEARS
        or client_contact_years > RetentionPolicy.DEFAULT_CLIENT_CONTACT_YEARS
        or staff_years > RetentionPolicy.DEFAULT_STAFF_YEARS
    )
    if longer and not statute:
        errors["statute"] = _(
            "A period longer than the regulation's needs the statute that requires it "
            "(name and article)."
        )
    if audit_years < years:
        errors["audit_years"] = _(
            "Audit events are kept at least as long as the coachees' data."
        )
    if errors:
        raise ValidationError(errors)
    from coachregister.practice import promises
    from coachregister.practice.models import RegulationVersion
    from coachregister.practice.services import pending_merge

    wanted = {"years": years, "statute": statute,
              "client_contact_years": client_contact_years, "staff_years": staff_years,
              "audit_years": audit_years, "idle_months": idle_months}
    with transaction.atomic():
        last = RetentionPolicy.objects.select_for_update().order_by("-version").first()
        current = last or RetentionPolicy(version=0)
        # Art. 2, 10.1: once a regulation is published, a longer period is a weaker promise;
        # it waits for the regulation that states it. A shorter one acts at once.
        waiting: dict[str, object] = {}
        if RegulationVersion.objects.exists():
            waiting = {name: value for name, value in wanted.items()
                       if promises.weakening("retention", name, getattr(current, name), value)}
            if waiting.keys() & {"years", "client_contact_years", "staff_years"}:
                waiting["statute"] = statute  # the statute goes with the longer period
        acting = {name: (getattr(current, name) if name in waiting else value)
                  for name, value in wanted.items()}
        changed = {name for name in wanted if acting[name] != getattr(current, name)}
        policy = current
        if changed or not waiting:
            policy = RetentionPolicy.objects.create(
                version=(last.version if last else 0) + 1, created_by=actor, **acting,
            )
            event_record(
                action="retention.policy.changed", request=request, actor=actor,
                object_type="retention_policy", object_id=str(policy.version),
                detail={"years": policy.years, "audit_years": policy.audit_years,
                        "client_contact_years": policy.client_contact_years,
                        "staff_years": policy.staff_years,
                        "with_statute": bool(policy.statute)},
            )
        if RegulationVersion.objects.exists():
            pending_merge(actor=actor, request=request, target="retention", waiting=waiting,
                          acting=changed - set(waiting))
    return policy


# --- when a coachee's data must go (art. 10.1) ------------------------------------------------


def last_contact_on(coachee: Coachee) -> date:
    """The coachee's last coaching contact (coachees.services.last_contact, the one place that
    decides it); a coachee without any contact moment counts from their registration."""
    from coachregister.coachees.services import last_contact

    return last_contact(coachee) or timezone.localtime(coachee.created_at).date()


def expiry_date(coachee: Coachee, policy: RetentionPolicy | None = None) -> date:
    policy = policy or RetentionPolicy.current()
    return deadlines.retention_expiry(last_contact_on(coachee), policy.years)


def keepers(coachee: Coachee, today: date | None = None) -> list[str]:
    """What keeps the coachee beyond the period: an open trajectory, an undecided request, a
    legal hold that stands. Empty when nothing does."""
    from coachregister.rights.models import DataRequest
    from coachregister.trajectories.models import Status, Trajectory

    today = today or timezone.localdate()
    reasons = []
    if Trajectory.objects.filter(
        coachee=coachee, status__in=[Status.INVITED, Status.ACTIVE]
    ).exists():
        reasons.append("open_trajectory")
    if DataRequest.objects.filter(coachee=coachee, decided_at__isnull=True).exists():
        reasons.append("undecided_request")
    if LegalHold.objects.filter(coachee=coachee, lifted_at__isnull=True, until__gte=today).exists():
        reasons.append("hold")
    return reasons


def erasure_held(coachee: Coachee, today: date | None = None) -> bool:
    """A hold that stops a granted erasure: one set by hand. A complaint's automatic hold does
    not: the complaint file is kept apart under its own key until the complaint is closed and
    the period for legal claims has passed (art. 11; GDPR art. 17(3)(e))."""
    return LegalHold.objects.filter(
        coachee=coachee, lifted_at__isnull=True, until__gte=today or timezone.localdate()
    ).exclude(source=HoldSource.COMPLAINT).exists()


def _candidates(today: date, policy: RetentionPolicy) -> QuerySet[Coachee]:
    """Coachees whose expiry date has passed and whom nothing keeps, in one query: the last
    contact is compared with today minus the period (a day of margin for 29 February; the
    exact date is checked per coachee)."""
    from coachregister.coachees.models import Coachee
    from coachregister.rights.models import DataRequest
    from coachregister.trajectories.models import Status, Trajectory

    latest = deadlines.add_years(today, -policy.years)
    return (
        Coachee.objects.annotate(last=Max("trajectories__contact_moments__occurred_on"))
        .filter(Q(last__lt=latest + timedelta(days=1))
                | Q(last__isnull=True, created_at__date__lt=latest + timedelta(days=1)))
        .exclude(pk__in=Trajectory.objects.filter(
            status__in=[Status.INVITED, Status.ACTIVE], coachee__isnull=False
        ).values("coachee"))
        .exclude(pk__in=DataRequest.objects.filter(
            decided_at__isnull=True, coachee__isnull=False).values("coachee"))
        .exclude(pk__in=LegalHold.objects.filter(
            lifted_at__isnull=True, until__gte=today).values("coachee"))
        .order_by("pk")
    )


def due_for_purge(today: date | None = None, policy: RetentionPolicy | None = None) -> list[
    tuple[str, date]
]:
    """(pseudonym, expiry date) of every coachee the purge must destroy today: living
    coachees past their expiry day, and tombstones whose day has come. Purged on the day
    after the expiry date (Europe/Amsterdam)."""
    today = today or timezone.localdate()
    policy = policy or RetentionPolicy.current()
    return _due_living(today, policy) + list(
        Tombstone.objects.filter(expires_on__lt=today).values_list("pseudonym", "expires_on")
    )


def _due_living(today: date, policy: RetentionPolicy,
                among: list[str] | None = None) -> list[tuple[str, date]]:
    """The living coachees past their expiry day whom nothing keeps (of `among`, if given):
    one query."""
    candidates = _candidates(today, policy)
    if among is not None:
        candidates = candidates.filter(pseudonym__in=among)
    due = []
    # Only the columns the dates need: not the encrypted contact details of every candidate.
    # (`last` is the annotation _candidates adds; the plugin loses it across the return type.)
    rows = candidates.values_list("pseudonym", "last", "created_at")  # type: ignore[misc]
    for pseudonym, last, created_at in rows:
        expiry = deadlines.retention_expiry(
            last or timezone.localtime(created_at).date(), policy.years
        )
        if expiry < today:
            due.append((pseudonym, expiry))
    return due


def idle_open_trajectories(
    today: date | None = None, policy: RetentionPolicy | None = None
) -> QuerySet[Trajectory]:
    """Open trajectories without contact for `idle_months`: flagged on the retention page, so
    neglect cannot keep someone for ever."""
    from coachregister.trajectories.models import Status, Trajectory

    today = today or timezone.localdate()
    policy = policy or RetentionPolicy.current()
    cutoff = deadlines.add_months(today, -policy.idle_months)
    return (
        Trajectory.objects.filter(status__in=[Status.INVITED, Status.ACTIVE])
        .annotate(last=Max("contact_moments__occurred_on"))
        .filter(Q(last__lt=cutoff) | Q(last__isnull=True, created_at__date__lt=cutoff))
        .select_related("coach")
        .order_by("last")
    )


# --- legal holds (art. 10.1) ------------------------------------------------------------------


def hold_set(
    *, actor: User | None, request: HttpRequest | None, coachee: Coachee, reason: str,
    until: date, source: str = HoldSource.MANUAL,
) -> LegalHold:
    """Keep a coachee despite the period (a dispute, the supervisory authority). The reason
    passes the name guard: it must not name the coachee."""
    from coachregister.notes.services import guard

    if actor is not None:
        require_manager(actor)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the hold.")})
    if until < timezone.localdate():
        raise ValidationError({"until": _("The end date of a hold cannot lie in the past.")})
    try:
        guard(coachee, reason)
    except ValidationError as exc:
        raise ValidationError({"reason": exc.messages}) from None
    with transaction.atomic():
        hold = LegalHold.objects.create(
            coachee=coachee, reason=reason, until=until, source=source, set_by=actor
        )
        event_record(
            action="retention.hold.set", request=request, actor=actor, object_type="coachee",
            object_id=coachee.pseudonym,
            detail={"hold": hold.pk, "until": until.isoformat(), "source": source},
        )
    return hold


def _complaint_open(hold: LegalHold) -> bool:
    from coachregister.complaints.models import Complaint

    return Complaint.objects.filter(hold=hold, decided_at__isnull=True).exists()


def hold_lift(*, actor: User | None, request: HttpRequest | None, hold: LegalHold) -> None:
    if actor is not None:
        require_manager(actor)
    with transaction.atomic():
        hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
        if hold.lifted_at is not None:
            raise ValidationError(_("This hold has already been lifted."))
        if hold.source == HoldSource.COMPLAINT and _complaint_open(hold):
            raise ValidationError(_("This hold belongs to an open complaint: it ends when the "
                                    "complaint is decided."))
        hold.lifted_at, hold.lifted_by = timezone.now(), actor
        hold.save(update_fields=["lifted_at", "lifted_by"])
        event_record(
            action="retention.hold.lifted", request=request, actor=actor,
            object_type="coachee", object_id=hold.coachee.pseudonym, detail={"hold": hold.pk},
        )


# --- the purge (art. 10.2) --------------------------------------------------------------------


@dataclass
class PurgeResult:
    due: int = 0
    purged: int = 0
    batches: int = 0
    pseudonyms: list[str] = field(default_factory=list)


def purge_run(
    *,
    today: date | None = None,
    batch_size: int = 50,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> PurgeResult:
    """Destroy every coachee due today, in batches. A batch is one transaction over whole
    coachees, each journalled (intent before, done after the commit): a crash leaves every
    coachee whole or gone, and the next run carries on with what is left."""
    from coachregister.retention import journal
    from coachregister.retention.shredder import Item, shred_batch

    today = today or timezone.localdate()
    policy = RetentionPolicy.current()
    journal.reconcile()  # a crash of the last run: settle its marks first
    due = due_for_purge(today, policy)
    result = PurgeResult(due=len(due))
    if dry_run:
        result.pseudonyms = [pseudonym for pseudonym, _expiry in due]
        return result
    for start in range(0, len(due), batch_size):
        batch = due[start : start + batch_size]
        fault.step("batch.start")
        # The batch's audit events are appended at its end: the sequencer's lock is tried
        # only then, not held through the whole batch (audit.services.deferred).
        with transaction.atomic(), deferred():
            still, tombstones = _still_due(batch, today, policy)
            items = [Item(pseudonym, DestructionReason.TOMBSTONE if pseudonym in tombstones
                          else DestructionReason.RETENTION, expiry)
                     for pseudonym, expiry in still]
            purged = [item.pseudonym for item in items]
            # One journal write, one statement per table, one audit INSERT for the batch.
            with journal.effects(journal.Effect.PURGE, purged):
                fault.step("batch.journalled")
                if items:
                    shred_batch(items, scope=Scope.PURGE,
                                policy_version=policy.version or None)
                fault.step("batch.shredded")
            fault.step("batch.before_commit")
        fault.step("batch.committed")
        result.batches += 1
        result.purged += len(purged)
        result.pseudonyms += purged
        if progress is not None:
            progress(result.purged, result.due)
    return result


def _still_due(batch: list[tuple[str, date]], today: date,
               policy: RetentionPolicy) -> tuple[list[tuple[str, date]], set[str]]:
    """Inside the batch, with its coachees' rows locked: the list of due coachees was made
    before the batch began, and a hold, a request, a reopened trajectory or a new contact
    may have come in since (art. 10.1). Tombstones are due on their day. Three queries for
    the whole batch. Returns what is still due, and which of the batch are tombstones."""
    from coachregister.coachees.models import Coachee

    pseudonyms = [pseudonym for pseudonym, _expiry in batch]
    tombstones = set(Tombstone.objects.filter(pseudonym__in=pseudonyms, expires_on__lt=today)
                     .values_list("pseudonym", flat=True))
    living = [pseudonym for pseudonym in pseudonyms if pseudonym not in tombstones]
    still: set[str] = set()
    if living:
        list(Coachee.objects.select_for_update().filter(pseudonym__in=living)
             .values_list("pk", flat=True))  # locked until the batch commits
        still = {pseudonym for pseudonym, _expiry in _due_living(today, policy, among=living)}
    return [(pseudonym, expiry) for pseudonym, expiry in batch
            if pseudonym in tombstones or pseudonym in still], tombstones


def past_purge_day(today: date | None = None) -> int:
    """The number that must be zero: coachees past their purge day and not yet destroyed."""
    return len(due_for_purge(today))
