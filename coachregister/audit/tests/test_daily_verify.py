"""The daily `audit verify` (art. 6): run by the worker once per Dutch day, recorded as an
event with its outcome only, and shown red on the compliance overview when it failed or did
not run for two days."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, connections

from coachregister.audit import daily, triggers
from coachregister.audit.models import Event
from coachregister.audit.services import event_record
from coachregister.lib.deadlines import PRACTICE_TZ
from coachregister.practice import compliance

pytestmark = [pytest.mark.django_db, pytest.mark.article("6")]


def at(day: date, hour: int = 12) -> time_machine.travel:
    return time_machine.travel(datetime.combine(day, time(hour), tzinfo=PRACTICE_TZ),
                               tick=False)


def trail() -> None:
    for i, name in enumerate(["one", "two", "three", "four"], 1):
        event_record(action=f"test.step.{name}", object_id=f"T-{i}")


def outcomes() -> list[dict[str, object]]:
    return list(Event.objects.filter(action=daily.ACTION).order_by("seq")
                .values_list("detail", flat=True))


def verify_row() -> compliance.Row:
    return next(r for r in compliance.rows() if r.key == "verify")


def sql(statement: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement)


def test_once_per_dutch_day_with_the_outcome_only() -> None:
    day = date(2026, 6, 1)
    with at(day, 1):
        trail()
        assert daily.verify_daily() == {"ok": True, "findings": 0}
    with at(day, 23):  # 23:00 in Amsterdam: still the same Dutch day
        assert daily.verify_daily() is None
    with at(day + timedelta(days=1), 0):  # 00:00 the next day (22:00 UTC the day before)
        assert daily.verify_daily() == {"ok": True, "findings": 0}
    assert outcomes() == [{"ok": True, "findings": 0}] * 2


def test_the_worker_runs_it() -> None:
    trail()
    call_command("worker", "--once", stdout=io.StringIO())
    call_command("worker", "--once", stdout=io.StringIO())
    assert outcomes() == [{"ok": True, "findings": 0}]


def test_a_second_worker_does_not_run_it_while_the_first_holds_it(settings: object) -> None:
    """The claim: another worker holds the run (a PostgreSQL advisory lock on its own
    connection, or the evidence directory's lock file on SQLite)."""
    import fcntl

    from coachregister.audit.anchors import evidence_dir

    trail()
    if connection.vendor == "postgresql":
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s)", [daily._LOCK_KEY])
            assert daily.verify_daily() is None
            with other.cursor() as cursor:  # released now, not whenever the server notices
                cursor.execute("SELECT pg_advisory_unlock(%s)", [daily._LOCK_KEY])
        finally:
            other.close()
    else:
        with open(evidence_dir() / "verify.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            assert daily.verify_daily() is None
    assert outcomes() == []
    assert daily.verify_daily() == {"ok": True, "findings": 0}  # the lock is free again


def test_a_broken_trail_is_red_until_restored_and_verified_again() -> None:
    day = date(2026, 6, 1)
    with at(day):
        trail()
        daily.verify_daily()
        assert verify_row().status == "green"
    with at(day + timedelta(days=1)):
        # What an attacker with database rights does: the triggers away, an event changed.
        triggers.drop(connection)
        sql("UPDATE audit_event SET outcome = 'denied' WHERE seq = 3")
        assert daily.verify_daily() == {"ok": False, "findings": 2}  # chain and triggers
        broken = verify_row()
        assert broken.status == "red" and broken.counts["findings"] == 2
        assert "2" in broken.value
        # Restored: the event as it was, the triggers back. Red until verified again.
        sql("UPDATE audit_event SET outcome = 'allowed' WHERE seq = 3")
        triggers.install(connection)
        assert daily.verify_daily() is None  # once a day
        assert verify_row().status == "red"
    with at(day + timedelta(days=2)):
        assert daily.verify_daily() == {"ok": True, "findings": 0}
        assert verify_row().status == "green"
    assert [detail["ok"] for detail in outcomes()] == [True, False, True]


def test_red_when_no_verify_ran_for_two_days() -> None:
    day = date(2026, 6, 1)
    with at(day):
        trail()
        assert verify_row().status == "red"  # never ran
        daily.verify_daily()
    with at(day + timedelta(days=2), 11):
        assert verify_row().status == "green"
    with at(day + timedelta(days=2), 13):
        assert verify_row().status == "red"


def test_the_latest_anchor_is_shown() -> None:
    from coachregister.audit import anchors

    trail()
    record = anchors.anchor()
    daily.verify_daily()
    row = verify_row()
    assert row.counts["anchor_seq"] == record["seq"]
    assert str(record["seq"]) in row.value


def test_a_failing_daily_verify_does_not_stop_the_worker(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The worker also sends the mail: a verify that cannot run (an unreadable evidence
    directory, say) is logged by its type only and the pass goes on to the outbox."""
    from coachregister.outbox.management.commands import worker
    from coachregister.outbox.models import OutboxMessage
    from coachregister.outbox.services import message_enqueue

    def broken() -> None:
        raise OSError("evidence directory unreadable")

    monkeypatch.setattr(worker, "verify_daily", broken)
    message_enqueue(kind="test", to="someone@example.org", subject="s", body="b")
    out = io.StringIO()
    with caplog.at_level("ERROR"):
        call_command("worker", "--once", stdout=out)
    assert "worker: broken failed (OSError)" in caplog.text
    assert "unreadable" not in caplog.text  # the type only, never the message
    assert out.getvalue().strip() == "sent 1"
    assert OutboxMessage.objects.get(kind="test").status == "sent"
