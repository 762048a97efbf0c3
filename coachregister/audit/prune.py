"""Retention of the audit trail (art. 10; its evidence, art. 6).

Audit events hold staff addresses (who signed in from where, art. 12.2) and would otherwise
grow for ever. They are kept `audit_years()` years (the owner's retention policy, never
shorter than the coachees' data; 7 by default) and then removed in whole calendar months of
Europe/Amsterdam: everything up to the last event of the last whole month that ended before
the cut-off. A month is never cut in two, so what a prune removed can be named ("up to the
end of October 2019") and nothing younger than the period goes.

A prune must not look like tampering, and tampering must not be able to look like a prune:

1. Under the evidence lock, a signed prune record (up-to sequence N, the link of event N, the
   time, the number of events removed; key id and MAC as for anchors) is appended to
   `anchors.jsonl` before anything is deleted.
2. In one transaction: the audit event that records the prune (written first, so it is the
   head even when every older event had expired and the chain never restarts from zero), a
   permit row that the DELETE trigger accepts (triggers.py), the DELETE of `seq <= N`, and
   the permit removed again. The pseudonyms of the listing events removed (models.Listed)
   are deleted with them, under the same permit.

`audit verify` then checks the chain from N+1 onwards against the recorded link of N; a trail
whose first event does not follow a signed prune record is reported as broken.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.utils import timezone

from coachregister.audit import anchors
from coachregister.audit.models import Event, PrunePermit
from coachregister.audit.services import event_record, hold_sequencer
from coachregister.lib.deadlines import PRACTICE_TZ, add_months

if TYPE_CHECKING:
    from coachregister.accounts.models import User

DEFAULT_YEARS = 7
ACTION = "audit.trail.pruned"


class PruneError(RuntimeError):
    """A prune would remove events that are still inside the retention period, or removed
    another number of events than it announced (the transaction is rolled back)."""


@dataclass(frozen=True)
class PruneResult:
    upto_seq: int
    upto_hash: str
    count: int
    before: date
    record: dict[str, Any] | None = None  # the signed prune record; None for a dry run


def audit_years() -> int:
    """How many years audit events are kept: the retention policy's `audit_years`, never
    less than its coachee period `years` (art. 10.1: the trail outlives the data it is
    about); 7 while no policy model exists."""
    try:
        from coachregister.retention.models import RetentionPolicy
    except ImportError:
        return DEFAULT_YEARS
    current = getattr(RetentionPolicy, "current", None)
    if current is None:
        return DEFAULT_YEARS
    policy = current()
    years = getattr(policy, "audit_years", None) or DEFAULT_YEARS
    return max(years, getattr(policy, "years", 0) or 0)


def cutoff(today: date | None = None) -> date:
    """The day before which events have expired: `audit_years()` before today (a Dutch day;
    29 February falls back to the 28th)."""
    return add_months(today or timezone.localdate(), -12 * audit_years())


def _month_start(day: date) -> datetime:
    return datetime(day.year, day.month, 1, tzinfo=PRACTICE_TZ)


def prune_plan(*, before: date) -> PruneResult | None:
    """What a prune with this cut-off would remove, or None. N is one before the first event
    of the month that holds `before`, so every event up to N lies in a month that ended before
    the cut-off, even if clocks once went backwards."""
    boundary = _month_start(before)
    sealed = Event.objects.filter(seq__isnull=False)  # a prune names sealed events only
    first = sealed.order_by("seq").values_list("seq", "created_at").first()
    if first is None or first[1] >= boundary:
        return None
    young = (
        sealed.filter(created_at__gte=boundary)
        .order_by("seq").values_list("seq", flat=True).first()
    )
    if young is None:
        upto = sealed.order_by("-seq").values_list("seq", flat=True).first()
    else:
        upto = young - 1
    assert upto is not None
    upto_hash = Event.objects.filter(seq=upto).values_list("hash", flat=True).get()
    count = Event.objects.filter(seq__lte=upto).count()
    return PruneResult(upto_seq=upto, upto_hash=upto_hash, count=count, before=before)


def events_prune(
    *, before: date, actor: User | None = None, today: date | None = None
) -> PruneResult | None:
    """Remove the events of every whole month that ended before `before` (art. 10), after a
    signed prune record is in the evidence directory (art. 6). Refuses a cut-off later than
    the retention period allows. Returns None when nothing has expired."""
    if before > cutoff(today):
        raise PruneError("the cut-off lies inside the audit retention period")
    with anchors.writer(), transaction.atomic():
        # The head stays sealed through the prune: with the sequencer's lock held, the
        # prune's own event is sealed after it (services.py) and survives the DELETE.
        hold_sequencer()
        plan = prune_plan(before=before)
        if plan is None:
            return None
        record = anchors.prune_append(
            seq=plan.upto_seq, link_hash=plan.upto_hash, count=plan.count, before=before,
            now=timezone.now(),
        )
        event_record(
            action=ACTION, actor=actor, object_type="audit_event",
            detail={"count": plan.count, "upto_seq": plan.upto_seq},
        )
        PrunePermit.objects.create(upto=plan.upto_seq)
        with connection.cursor() as cursor:
            # A listing's pseudonyms go with their event (models.Listed), just before it.
            cursor.execute("DELETE FROM audit_listed WHERE event_id IN (SELECT id FROM "
                           "audit_event WHERE seq <= %s)", [plan.upto_seq])
            cursor.execute("DELETE FROM audit_event WHERE seq <= %s", [plan.upto_seq])
            deleted = cursor.rowcount
        PrunePermit.objects.all().delete()
        if deleted != plan.count:
            raise PruneError("the prune removed another number of events than it recorded")
    return replace(plan, record=record)


def prune_tick(today: date | None = None) -> PruneResult | None:
    """The worker's pass (housekeeping): prune what has expired. Cheap when nothing has (one
    indexed look-up of the oldest event), so a month is pruned on the first pass after it
    expired."""
    before = cutoff(today)
    if prune_plan(before=before) is None:
        return None
    return events_prune(before=before, today=today)
