"""`audit verify` streams: its memory does not grow with the number of events (art. 6)."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest

from coachregister.audit import chain
from coachregister.audit.models import Event

pytestmark = [pytest.mark.django_db, pytest.mark.article("6")]


def fill(count: int) -> None:
    """Append `count` valid events quickly (hashes computed here, bulk inserts)."""
    last = Event.objects.order_by("-seq").first()
    seq, prev = (last.seq, last.hash) if last else (0, chain.GENESIS)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    batch: list[Event] = []
    for _ in range(count):
        seq += 1
        values = {
            "seq": seq, "created_at": start + timedelta(seconds=seq), "actor_id": None,
            "actor_role": "", "client_ip": "192.0.2.1", "action": "test.bulk.event",
            "object_type": "coachee", "object_id": f"C-{seq:08d}", "outcome": "allowed",
            "detail": {"n": seq},
        }
        digest = chain.link(prev, values)
        batch.append(Event(prev_hash=prev, hash=digest, **values))
        prev = digest
        if len(batch) == 5000:
            Event.objects.bulk_create(batch)
            batch = []
    Event.objects.bulk_create(batch)


def peak_while_verifying() -> tuple[int, chain.Verdict]:
    tracemalloc.start()
    verdict = chain.verify(chain.iter_rows())
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, verdict


def test_memory_stays_flat_from_3k_to_30k_events() -> None:
    fill(3_000)
    small_peak, small = peak_while_verifying()
    fill(27_000)
    large_peak, large = peak_while_verifying()
    assert small.ok and small.count == 3_000
    assert large.ok and large.count == 30_000
    assert large_peak < 2 * small_peak, (small_peak, large_peak)
