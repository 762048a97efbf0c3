"""The database itself refuses to change or remove audit events (art. 6)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from coachregister.audit.models import Event
from coachregister.audit.services import event_record

pytestmark = [pytest.mark.django_db, pytest.mark.article("6")]


def attempt(fn: object) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        fn()  # type: ignore[operator]


def test_orm_update_and_delete_are_refused() -> None:
    event = event_record(action="test.kept.safe")
    attempt(lambda: Event.objects.filter(pk=event.pk).update(action="test.rewritten.now"))
    attempt(lambda: Event.objects.all().delete())
    attempt(event.delete)
    event.outcome = "denied"
    attempt(lambda: event.save(update_fields=["outcome"]))
    stored = Event.objects.get(pk=event.pk)
    assert (stored.action, stored.outcome) == ("test.kept.safe", "allowed")


def test_raw_sql_update_and_delete_are_refused() -> None:
    event = event_record(action="test.kept.safe")
    with connection.cursor() as cursor:
        for sql in (
            "UPDATE audit_event SET action = 'x.y' WHERE id = %s",
            "DELETE FROM audit_event WHERE id = %s",
        ):
            with pytest.raises(DatabaseError), transaction.atomic():
                cursor.execute(sql, [event.pk])
    assert Event.objects.get(pk=event.pk).action == "test.kept.safe"


@pytest.mark.postgres
def test_truncate_is_refused_on_postgresql() -> None:
    event_record(action="test.kept.safe")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_event")
    assert Event.objects.count() == 1
