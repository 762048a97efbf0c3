"""The purge works in batches (art. 10.2): the queries of a batch do not grow with the number
of coachees in it, and each coachee still gets its own destruction record, counts, journal
entry and audit event."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coachregister.accounts.models import User
from coachregister.audit import chain
from coachregister.audit.models import Event
from coachregister.coachees.models import Coachee
from coachregister.notes.services import session_record
from coachregister.retention import journal, services
from coachregister.retention.models import DestructionRecord
from coachregister.retention.tests.test_purge import at, ended

pytestmark = [pytest.mark.django_db, pytest.mark.article("10.2")]

LAST = date(2015, 2, 2)


def expired(owner: User, coach: User, count: int, first: int) -> list[str]:
    """`count` coachees whose last contact (an intake and a session with keywords) expired."""
    pseudonyms = []
    for n in range(first, first + count):
        trajectory = ended(owner, coach, n, LAST)
        with at(LAST):
            session_record(actor=coach, request=None, trajectory=trajectory, held_on=LAST,
                           kind="in_person", duration_minutes=60, keywords="rust, ritme")
        pseudonyms.append(trajectory.coachee_pseudonym)
    return pseudonyms


def purge_queries(pseudonyms: list[str]) -> int:
    with CaptureQueriesContext(connection) as captured:
        result = services.purge_run(batch_size=50)
    assert sorted(result.pseudonyms) == sorted(pseudonyms)
    return len(captured.captured_queries)


def test_a_batch_costs_the_same_queries_for_two_coachees_as_for_twelve(
    owner: User, coach: User
) -> None:
    small = purge_queries(expired(owner, coach, 2, first=1))
    large_set = expired(owner, coach, 12, first=10)
    large = purge_queries(large_set)
    print(f"\npurge batch: {small} queries for 2 coachees, {large} for 12")
    assert large == small
    # Each coachee still has its own record with its own counts, its journal entry and event.
    records = DestructionRecord.objects.filter(pseudonym__in=large_set)
    assert records.count() == 12
    assert all(r.destroyed["sessions"] == 1 and r.destroyed["keyword_versions"] == 1
               and r.destroyed["trajectories"] == 1 and r.destroyed["contact_details"] == 1
               for r in records)
    # (the done marks follow the commit, which this test's transaction never makes)
    journalled = [e.pseudonym for e in journal.entries() if e.effect == journal.Effect.PURGE]
    assert sorted(journalled[-12:]) == sorted(large_set)
    assert set(Event.objects.filter(action="retention.purge.carried_out")
               .values_list("object_id", flat=True)) >= set(large_set)
    assert not Coachee.objects.filter(pseudonym__in=large_set).exists()
    assert chain.verify(chain.iter_rows()).ok


def test_a_coachee_erased_after_the_list_was_made_keeps_its_rows_until_its_day(
    owner: User, coach: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The due list is made before the batch; an erasure in between leaves a tombstone whose
    day has not come, so the batch leaves the erasure's pseudonymous rows alone."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from coachregister.retention.models import Scope
    from coachregister.retention.shredder import shred
    from coachregister.trajectories.models import Trajectory

    (pseudonym,) = expired(owner, coach, 1, first=40)
    made = services.due_for_purge

    def and_then_an_erasure(*args: object, **kwargs: object) -> list[tuple[str, date]]:
        due = made(*args, **kwargs)  # type: ignore[arg-type]
        with transaction.atomic():
            shred(pseudonym=pseudonym, scope=Scope.ERASURE, reason="request",
                  expiry=timezone.localdate() + timedelta(days=365))
        return due

    monkeypatch.setattr(services, "due_for_purge", and_then_an_erasure)
    result = services.purge_run()
    assert result.pseudonyms == []
    assert Trajectory.objects.filter(coachee_pseudonym=pseudonym).exists()
