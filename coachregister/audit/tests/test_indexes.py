"""The audit table carries only indexes that a query uses (art. 6: the trail stays readable
and cheap to keep however long it grows). Each index is listed with the query it serves; an
index that is not listed, or a listed one that is gone, fails the test. On PostgreSQL the
planner is asked whether the main reads use them."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from coachregister.accounts.models import User
from coachregister.audit import views
from coachregister.audit.forms import EventFilterForm
from coachregister.audit.models import Event, Listed, Outcome
from coachregister.audit.queries import accesses_of, newest_reads
from coachregister.audit.services import LISTING
from coachregister.testing import factories

pytestmark = pytest.mark.article("6")

# Named indexes by name; the primary key and the unique `seq` (named by the engine) by their
# columns. models.Event says the same beside each index.
EXPECTED: dict[str | tuple[str, ...], str] = {
    ("id",): "the primary key (Django's; no query reads events by id)",
    ("seq",): "unique chain order: the head, keyset pages, verify's walk, prune's seq <= N",
    "audit_object_idx": "who saw my data (queries.accesses_of), the browser's object filter, "
    "an incident's actions, a user's role and scope changes",
    "audit_actor_idx": "the browser's staff filter, what an auditor opened, what a user read",
    "audit_action_idx": "the browser's action and area filter, the last daily verify, "
    "erasures since the last anchor, rotations, reassignments, denied accesses",
    "audit_created_idx": "the browser's day filter, the prune boundary, today's daily verify",
    "audit_denied_idx": "the browser's denied filter, newest first",
    "audit_unsealed_idx": "the events waiting to be sealed: the sequencer, verify's and the "
    "compliance overview's report of them",
}


def _indexes() -> dict[str | tuple[str, ...], dict[str, Any]]:
    """The indexes and unique constraints of the audit table (not checks, not foreign keys)."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Event._meta.db_table)
    found: dict[str | tuple[str, ...], dict[str, Any]] = {}
    for name, info in constraints.items():
        if not (info["index"] or info["unique"] or info["primary_key"]):
            continue
        key: str | tuple[str, ...] = name if name in EXPECTED else tuple(info["columns"])
        assert key not in found, f"two indexes on {key}"
        found[key] = info
    return found


@pytest.mark.django_db
def test_every_index_of_the_audit_table_serves_a_named_query() -> None:
    found = _indexes()
    assert set(found) - set(EXPECTED) == set(), "an index that no listed query uses"
    assert set(EXPECTED) - set(found) == set(), "a listed index is missing"
    assert found[("seq",)]["unique"]
    assert found[("id",)]["primary_key"]
    assert found["audit_object_idx"]["columns"] == ["object_id", "object_type", "seq"]
    assert found["audit_actor_idx"]["columns"] == ["actor_id", "seq"]
    assert found["audit_action_idx"]["columns"] == ["action", "seq"]
    assert found["audit_created_idx"]["columns"] == ["created_at"]
    assert found["audit_denied_idx"]["columns"] == ["seq"]
    assert found["audit_unsealed_idx"]["columns"] == ["id"]
    # Only `seq` is unique besides the key: the link (`hash`) covers `seq`, so it needs none.
    assert [k for k, info in found.items() if info["unique"] and not info["primary_key"]] == [
        ("seq",)
    ]


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_definitions_have_no_pattern_twins() -> None:
    """Django adds a `_like` index beside every indexed or unique text column on PostgreSQL;
    the one prefix search (the browser's area filter) has its operator class in
    audit_action_idx instead, and the denied index is partial."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s",
            [Event._meta.db_table],
        )
        definitions = dict(cursor.fetchall())
    assert not [name for name in definitions if name.endswith("_like")]
    assert "(action varchar_pattern_ops, seq)" in definitions["audit_action_idx"]
    assert "WHERE" in definitions["audit_denied_idx"]
    assert "'denied'" in definitions["audit_denied_idx"]


def _fill(actors: list[User], rare: User, trajectory_pseudonym: str,
          coachee_pseudonym: str) -> None:
    """A few thousand events of many objects; a handful about the one coachee, a handful by
    the `rare` actor, a handful denied, a handful in another area; and a thousand list pages
    that showed the coachee's name among others (listing events and their side table)."""
    now = timezone.now()
    start = Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    events = []
    for i in range(1, 6001):
        if i % 1000 == 0:
            object_type, object_id = "trajectory", trajectory_pseudonym
        elif i % 1500 == 0:
            object_type, object_id = "coachee", coachee_pseudonym
        elif i % 6 == 0:
            object_type, object_id = LISTING, ""
        else:
            object_type, object_id = "trajectory", f"T-{i:06d}"
        events.append(Event(
            seq=start + i, created_at=now - timedelta(minutes=6001 - i),
            actor=rare if i % 499 == 0 else actors[i % len(actors)], actor_role="coach",
            action="coachees.names.listed" if object_type == LISTING else (
                "incidents.incident.viewed" if i % 997 == 0 else "notes.dossier.viewed"),
            object_type=object_type, object_id=object_id,
            outcome=Outcome.DENIED if i % 700 == 0 else Outcome.ALLOWED,
            prev_hash="0" * 64, hash=f"{start + i:064d}",
        ))
    Event.objects.bulk_create(events, batch_size=1000)
    Listed.objects.bulk_create([
        Listed(event=event, pseudonym=pseudonym)
        for event in events if event.object_type == LISTING
        for pseudonym in (coachee_pseudonym, f"C-{event.seq:06d}")
    ], batch_size=1000)
    with connection.cursor() as cursor:
        for model in (Event, Listed):
            cursor.execute(f"ANALYZE {model._meta.db_table}")  # the model's own table


def _browser(**data: str) -> str:
    form = EventFilterForm(data)
    assert form.is_valid(), form.errors
    return views._filtered(form)[: views.PAGE_SIZE + 1].explain()


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_plans_use_the_indexes(owner: User, coach: User, make_user: Any) -> None:
    trajectory = factories.trajectory(owner, coach)
    coachee = trajectory.coachee
    rare = make_user(role="auditor")
    before = accesses_of(coachee).count()
    _fill([coach, owner], rare, trajectory.pseudonym, coachee.pseudonym)

    who_saw = accesses_of(coachee)
    # 6 on the trajectory, 2 on the coachee, 996 lists that showed the name
    assert who_saw.count() - before == 8 + 996
    # The page's query: one ordered index scan per object, each cut at the limit, then
    # merged (Merge Append, or an Append whose few hundred rows are sorted): nothing sorts
    # the trail. The lists are read newest row first on the side table's index.
    merged = newest_reads(coachee.pseudonym, [trajectory.pseudonym], 500).explain()
    assert "audit_object_idx" in merged and "Scan Backward using audit_listed_idx" in merged
    nodes = [line.strip().removeprefix("->  ") for line in merged.splitlines()
             if "(cost=" in line]
    branches = sum(1 for line in merged.splitlines() if line.strip().startswith("->  Limit"))
    assert branches >= 3, merged  # the coachee, the trajectory, the lists: each limited
    for above, below in itertools.pairwise(nodes):
        if above.startswith("Sort  ("):
            assert below.startswith(("Limit", "Append", "Merge Append")), merged
    assert list(accesses_of(coachee, limit=5)) == list(who_saw[:5])
    # A pseudonym names its kind: the object index in `seq` order, cut at the page.
    by_object = _browser(object_id=trajectory.pseudonym)
    assert "Index Scan Backward using audit_object_idx" in by_object, by_object
    assert "(object_type)::text = 'trajectory'" in by_object, by_object
    assert "audit_actor_idx" in _browser(actor=str(rare.pk))
    assert "audit_action_idx" in _browser(action="incidents.")
    assert "audit_denied_idx" in _browser(outcome=Outcome.DENIED)
