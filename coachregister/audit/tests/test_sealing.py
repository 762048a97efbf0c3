"""Sealing (art. 6): events written unsealed with a MAC, sealed in one order by the sequencer,
never a forged row; the triggers allow the sealing update and nothing else; `verify`
reports what waits and catches an event slipped in after sealing."""

from __future__ import annotations

import io
import multiprocessing
import os
import signal
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone
from django.utils.translation import override

from coachregister.audit import chain, services
from coachregister.audit.models import Event
from coachregister.audit.services import event_record
from coachregister.keys import keyring

pytestmark = pytest.mark.article("6")


def verify_output() -> str:
    """The command's output, in English (the message texts are the code's)."""
    out = io.StringIO()
    with override("en"):
        call_command("audit", "verify", stdout=out)
    return out.getvalue()


def pending_event(*, mac: str | None = None, age: timedelta = timedelta(0),
                  object_id: str = "C-AAAA-BBBB") -> Event:
    """An unsealed event as a writer without the sequencer's lock leaves it (`mac` None: the
    writer's own MAC), or a forged one (`mac` given: "" or wrong)."""
    key_id, key = keyring.register_key(services.CHAIN_KEY)
    (event_id,) = services._lock_and_ids(1)[1]
    values: dict[str, Any] = {
        "created_at": timezone.now() - age, "actor_id": None, "actor_role": "",
        "client_ip": None, "action": "notes.dossier.viewed", "object_type": "coachee",
        "object_id": object_id, "outcome": "allowed", "detail": {"n": 1}, "key_id": key_id,
    }
    made = chain.mac(event_id, values, key) if mac is None else mac
    event = Event(id=event_id, mac=made, **values)
    event.save(force_insert=True)
    return event


def raw(statement: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.mark.django_db
def test_a_pending_event_is_sealed_after_the_head_and_verifies() -> None:
    for i in range(3):
        event_record(action="test.step.done", object_id=f"S{i}")
    waiting = pending_event()
    assert waiting.seq is None and waiting.hash == ""
    assert services.pending().count == 1
    assert services.seal() == 1
    waiting.refresh_from_db()
    assert waiting.seq == 4
    assert waiting.prev_hash == Event.objects.get(seq=3).hash
    assert services.pending().count == 0
    assert "OK: 4 events" in verify_output()


@pytest.mark.django_db
def test_a_forged_unsealed_row_is_never_sealed_and_is_reported() -> None:
    genuine = event_record(action="test.step.done", object_id="S1")
    forged = [
        pending_event(mac="0" * 64, object_id="C-FORG-ED01"),  # a wrong MAC
        pending_event(mac="", object_id="C-FORG-ED02"),  # no MAC
        pending_event(mac=genuine.mac, object_id="S1"),  # a real MAC copied to a new row
    ]
    valid = pending_event(object_id="C-REAL-0001")
    for _ in range(2):  # every pass leaves them
        services.seal()
    assert Event.objects.filter(pk__in=[e.pk for e in forged], seq__isnull=True).count() == 3
    valid.refresh_from_db()
    assert valid.seq == 2  # the genuine one behind them was sealed, right after the head
    report = services.pending()
    assert (report.count, report.forged) == (3, 3)
    with pytest.raises(CommandError) as broken:
        verify_output()
    assert "3 unsealed events have no valid MAC" in str(broken.value)


@pytest.mark.django_db
def test_an_event_waiting_longer_than_ten_minutes_is_a_finding() -> None:
    event_record(action="test.step.done")
    pending_event(age=timedelta(minutes=5))
    assert not services.pending().overdue(timezone.now())
    out = verify_output()  # reported, not a finding yet
    assert "OK: 1 events" in out and "1 event waits to be sealed" in out
    pending_event(age=timedelta(minutes=11))
    assert services.pending().overdue(timezone.now())
    with pytest.raises(CommandError):
        verify_output()
    services.seal()
    assert "OK: 3 events" in verify_output()


@pytest.mark.django_db
def test_the_triggers_allow_the_sealing_update_and_nothing_else() -> None:
    event_record(action="test.step.done")
    head = Event.objects.get(seq=1)
    waiting = pending_event()
    sealing = "UPDATE audit_event SET seq = %s, prev_hash = %s, hash = %s"
    with pytest.raises(DatabaseError), transaction.atomic():  # sealing and a changed field
        raw(sealing + ", object_id = 'C-OTHE-R001' WHERE id = %s",
            [2, head.hash, "a" * 64, waiting.pk])
    with pytest.raises(DatabaseError), transaction.atomic():  # a pending row's field alone
        raw("UPDATE audit_event SET detail = '{}' WHERE id = %s", [waiting.pk])
    with pytest.raises(DatabaseError), transaction.atomic():  # sealing without links
        raw(sealing + " WHERE id = %s", [2, "", "", waiting.pk])
    raw(sealing + " WHERE id = %s", [2, head.hash, "a" * 64, waiting.pk])  # sealing itself
    with pytest.raises(DatabaseError), transaction.atomic():  # once sealed, for good
        raw(sealing + " WHERE id = %s", [3, head.hash, "b" * 64, waiting.pk])
    with pytest.raises(DatabaseError), transaction.atomic():  # a row without a MAC
        unmacked = pending_event(mac="")
        raw(sealing + " WHERE id = %s", [3, "a" * 64, "c" * 64, unmacked.pk])


@pytest.mark.django_db
@pytest.mark.parametrize("place", ["replay at the head", "past the head"])
def test_an_event_inserted_out_of_order_after_sealing_is_caught(place: str) -> None:
    """INSERT is the one thing the triggers allow: an event slipped in with a number of its
    own, as a copy of a sealed one (valid link, wrong predecessor) or past the head (a gap)."""
    events = [event_record(action="test.step.done", object_id=f"S{i}") for i in range(5)]
    assert "OK: 5 events" in verify_output()
    copy = Event.objects.filter(seq=3).values(*chain.COLUMNS).get()
    if place == "replay at the head":
        Event.objects.create(**{**copy, "seq": 6})
    else:
        Event.objects.create(**{**copy, "seq": 7, "prev_hash": events[-1].hash})
    with pytest.raises(CommandError) as broken:
        verify_output()
    assert "BROKEN at event 6" in str(broken.value)


def _hold_the_lock_and_die(ready: Any) -> None:
    """A writer process that gets the sequencer's lock, writes (and so seals what waits) and
    then hangs before its commit, until it is killed."""
    with transaction.atomic():
        event_record(action="test.crash.writer", object_id="KILLED")
        ready.set()
        time.sleep(120)


WRITERS = 8
EACH = 2_550  # 8 x 2,550 = 20,400 committed events


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_writers_with_crashes_leave_one_verifiable_chain() -> None:
    """Eight writer threads commit 20,400 events while a sealer thread seals every few
    milliseconds. Injected crashes: each writer rolls back a transaction after its insert
    every 50th time; the sealer rolls back every 5th pass after sealing; a writer process
    that holds the sequencer's lock (having sealed what waited) is killed before its
    commit, and the writers are not held up meanwhile."""

    class Crash(Exception):
        pass

    event_record(action="test.concurrent.start")
    connections.close_all()  # the child opens its own connection
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    child = context.Process(target=_hold_the_lock_and_die, args=(ready,))
    child.start()
    assert ready.wait(30)

    start = threading.Barrier(WRITERS + 1)
    stop = threading.Event()
    errors: list[BaseException] = []
    crashes: dict[str, list[int]] = {"writer": [], "sealer": []}  # appends are thread-safe

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(EACH):
                with transaction.atomic():
                    event_record(action="test.concurrent.write", object_id=f"W{n}-{i}")
                if i % 50 == 0:
                    try:
                        with transaction.atomic():
                            event_record(action="test.concurrent.write", object_id="CRASHED")
                            raise Crash
                    except Crash:
                        crashes["writer"].append(n)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def seal_often() -> None:
        try:
            start.wait()
            passes = 0
            while not stop.is_set():
                passes += 1
                if passes % 5 == 0:
                    try:
                        with transaction.atomic():
                            services.seal()
                            raise Crash
                    except Crash:
                        crashes["sealer"].append(passes)
                else:
                    services.seal()
                time.sleep(0.005)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    sealer = threading.Thread(target=seal_often)
    for thread in [*threads, sealer]:
        thread.start()
    # While the killed-to-be writer holds the lock, nothing is sealed but writers commit.
    for _ in range(300):
        if Event.objects.filter(seq__isnull=True).exists():
            break
        time.sleep(0.1)
    else:
        pytest.fail("no writer committed while the lock was held")
    os.kill(child.pid, signal.SIGKILL)
    child.join(30)
    for thread in threads:
        thread.join()
    stop.set()
    sealer.join()
    assert errors == []
    assert len(crashes["writer"]) == WRITERS * len(range(0, EACH, 50))
    assert crashes["sealer"]

    for _ in range(10):  # the worker's passes
        if not services.seal():
            break
    assert services.pending().count == 0
    assert not Event.objects.filter(object_id__in=["KILLED", "CRASHED"]).exists()
    total = 1 + WRITERS * EACH
    assert Event.objects.count() == total
    verdict = chain.verify(chain.iter_rows())
    assert verdict.ok, verdict
    assert verdict.count == total and verdict.head_seq == total
    connection.close()


@pytest.mark.django_db
def test_the_audit_browser_shows_a_pending_event_as_pending(
    owner: Any, client_for: Any
) -> None:
    from django.urls import reverse
    from django.utils.translation import gettext

    event_record(action="test.step.done")
    pending_event(object_id="C-WAIT-0001")
    with override("nl"):
        page = client_for(owner).get(reverse("audit:event_list")).content.decode()
        assert "C-WAIT-0001" in page
        assert f">{gettext('pending')}</span>" in page and "<td>None</td>" not in page


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_prune_while_another_sealer_holds_the_lock_waits_and_leaves_a_verifiable_trail(
) -> None:
    """Every event has expired: the prune removes up to the sealed head. Its own event must
    be sealed after that head, not left pending while the head is deleted (the chain would
    restart at 1). So the prune waits for the sequencer's lock, seals what waits, then plans."""
    import time_machine

    from coachregister.audit import anchors, prune
    from coachregister.lib.deadlines import PRACTICE_TZ

    with time_machine.travel(timezone.datetime(2019, 9, 15, 10, tzinfo=PRACTICE_TZ),
                             tick=False):
        for i in range(3):
            event_record(action="test.step.done", object_id=f"S{i}")
        pending_event(object_id="C-LATE-0001")  # committed, not yet sealed
    held, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)",
                               [services._ADVISORY_LOCK_KEY])
                held.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    assert held.wait(30)
    threading.Timer(1.0, release.set).start()  # the other sealer finishes a second later
    with time_machine.travel(timezone.datetime(2026, 11, 27, 12, tzinfo=PRACTICE_TZ),
                             tick=False):
        result = prune.events_prune(before=prune.cutoff())
        holder.join()
        assert result is not None and result.upto_seq == 4 and result.count == 4
        survivor = Event.objects.get()
        assert survivor.action == prune.ACTION and survivor.seq == 5
        assert services.pending().count == 0
        out = verify_output()
        assert "OK: 1 events" in out
        assert anchors.fingerprint(result.record) in out
