"""`coachregister audit verify` finds every kind of tampering (art. 6).

Each case first drops the triggers, as an attacker with database rights could, then changes
the table behind the application's back.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils.translation import override

from coachregister.audit import chain, triggers
from coachregister.audit.models import Event
from coachregister.audit.services import event_record

pytestmark = [pytest.mark.django_db, pytest.mark.article("6")]


@pytest.fixture
def trail() -> list[Event]:
    return [event_record(action=f"test.step.{name}", object_id=f"T-{i}")
            for i, name in enumerate(["one", "two", "three", "four", "five", "six"], 1)]


def sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def verify() -> str:
    out = io.StringIO()
    with override("en"):
        call_command("audit", "verify", stdout=out)
    return out.getvalue()


def test_intact_chain_is_ok(trail: list[Event]) -> None:
    assert verify().startswith("OK: 6 events, chain intact.\n")


def change_field(trail: list[Event]) -> None:
    sql("UPDATE audit_event SET outcome = 'denied' WHERE seq = 3")


def change_detail(trail: list[Event]) -> None:
    sql("UPDATE audit_event SET detail = %s WHERE seq = 3", ['{"reason": "harmless"}'])


def delete_event(trail: list[Event]) -> None:
    sql("DELETE FROM audit_event WHERE seq = 3")


def delete_and_renumber(trail: list[Event]) -> None:
    sql("DELETE FROM audit_event WHERE seq = 3")
    for seq in range(4, 7):
        sql("UPDATE audit_event SET seq = %s WHERE seq = %s", [seq - 1, seq])


def swap_events(trail: list[Event]) -> None:
    """Events 3 and 4 trade places: their seq numbers are exchanged."""
    sql("UPDATE audit_event SET seq = -1 WHERE seq = 3")
    sql("UPDATE audit_event SET seq = 3 WHERE seq = 4")
    sql("UPDATE audit_event SET seq = 4 WHERE seq = -1")


def insert_event(trail: list[Event]) -> None:
    """A forged event at position 3, hashed correctly for its own content and its
    predecessor; the later events are renumbered to make room."""
    for seq in range(6, 2, -1):
        sql("UPDATE audit_event SET seq = %s WHERE seq = %s", [seq + 1, seq])
    before = Event.objects.get(seq=2)
    values = {
        "seq": 3, "created_at": before.created_at, "actor_id": None, "actor_role": "",
        "client_ip": None, "action": "test.forged.event", "object_type": "", "object_id": "",
        "outcome": "allowed", "detail": {},
    }
    digest = chain.link(before.hash, values)
    Event.objects.bulk_create([Event(prev_hash=before.hash, hash=digest, **values)])


@pytest.mark.parametrize(("tamper", "broken_at"), [
    (change_field, 3),
    (change_detail, 3),
    (delete_event, 3),
    (delete_and_renumber, 3),
    (swap_events, 3),
    (insert_event, 3),  # a forged event has no valid keyed link
])
def test_tampering_is_found_at_the_right_event(
    trail: list[Event], tamper: Callable[[list[Event]], None], broken_at: int
) -> None:
    triggers.drop(connection)
    tamper(trail)
    with pytest.raises(CommandError) as info:
        verify()
    assert f"BROKEN at event {broken_at}:" in str(info.value)
    assert info.value.returncode == 1


def test_triggers_are_back_after_migrate(trail: list[Event]) -> None:
    from django.db import DatabaseError, transaction

    triggers.drop(connection)
    triggers.reinstall_after_migrate(using="default")
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.all().delete()
