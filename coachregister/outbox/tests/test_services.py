"""The outbox (art. 3.1, 6): mail is stored encrypted, sent over real SMTP exactly once, kept
and retried with backoff while SMTP is down, and claimed by one worker at a time."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from coachregister.keys import keyring
from coachregister.lib import crypto
from coachregister.outbox import services
from coachregister.outbox.models import MessageStatus, OutboxMessage
from coachregister.outbox.tests.conftest import FROM, Inbox, body_of

if TYPE_CHECKING:
    from pytest_django.fixtures import Settings

pytestmark = [pytest.mark.django_db]

TO = "coach.jansen@praktijk.example"
SUBJECT = "Een nieuwe coachee in het register"
BODY = "Beste coach,\n\nAnne de Vries (06-12345678) heeft de intake afgerond. Één link volgt."
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def enqueue(to: str = TO, body: str = BODY) -> OutboxMessage:
    return services.message_enqueue(kind="test", to=to, subject=SUBJECT, body=body)


def raw_row(message: OutboxMessage) -> bytes:
    """Every column of the stored row, as the database holds it."""
    table = connection.ops.quote_name(OutboxMessage._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [message.pk])
        row = cursor.fetchone()
    assert row is not None
    parts = [
        bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
        for value in row
    ]
    return b"\x00".join(parts)


@pytest.mark.article("6")
def test_enqueue_stores_neither_recipient_nor_body_in_plaintext() -> None:
    message = enqueue()

    stored = raw_row(message)
    assert SUBJECT.encode() in stored  # the reading works: the plain subject is found
    for secret in (TO, "coach.jansen", BODY, "Anne de Vries", "06-12345678", "Één link"):
        assert secret.encode() not in stored
    assert message.status == MessageStatus.PENDING
    assert services.open_message(OutboxMessage.objects.get(pk=message.pk)) == (TO, BODY)


@pytest.mark.article("3.1")
def test_the_worker_sends_over_smtp_and_wipes_the_body(inbox: Inbox) -> None:
    message = enqueue()

    assert services.send_due() == 1

    [(recipients, received)] = inbox.parsed()
    assert recipients == [TO]
    assert received["To"] == TO
    assert received["From"] == FROM
    assert received["Subject"] == SUBJECT
    assert body_of(received) == BODY
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.sent_at is not None
    assert message.body_enc is None
    assert message.attempts == 1
    assert message.claimed_by == ""
    assert message.claimed_until is None
    assert services.send_due() == 0
    assert len(inbox.messages) == 1


@pytest.mark.article("3.1")
def test_nothing_is_lost_while_smtp_is_down(
    smtp_port: int, start_inbox: Callable[[], Inbox]
) -> None:
    message = enqueue()

    assert services.send_due() == 0  # nothing listens on smtp_port; no exception escapes

    message.refresh_from_db()
    assert message.status == MessageStatus.PENDING
    assert message.attempts == 1
    assert message.last_error == "ConnectionRefusedError"  # the class name, nothing else
    assert message.next_attempt_at > timezone.now()
    assert message.claimed_by == ""
    assert message.claimed_until is None
    assert services.open_message(message) == (TO, BODY)
    assert services.send_due() == 0  # not due yet: no second attempt right away
    message.refresh_from_db()
    assert message.attempts == 1

    server = start_inbox()
    with time_machine.travel(message.next_attempt_at + timedelta(seconds=1)):
        assert services.send_due() == 1
        assert services.send_due() == 0

    [(recipients, received)] = server.parsed()
    assert recipients == [TO]
    assert body_of(received) == BODY
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.attempts == 2
    assert message.last_error == ""


@pytest.mark.article("3.1")
def test_backoff_grows_until_the_message_is_marked_failed(smtp_port: int) -> None:
    assert services.MAX_ATTEMPTS > 3
    with time_machine.travel(START, tick=False) as traveller:
        message = enqueue()
        delays: list[timedelta] = []
        for attempt in range(1, services.MAX_ATTEMPTS + 1):
            assert services.send_due() == 0
            message.refresh_from_db()
            assert message.attempts == attempt
            last = attempt == services.MAX_ATTEMPTS
            assert message.status == (MessageStatus.FAILED if last else MessageStatus.PENDING)
            delays.append(message.next_attempt_at - timezone.now())
            traveller.move_to(message.next_attempt_at + timedelta(seconds=1))

        # 30 s, doubling each time, never more than six hours between attempts.
        assert delays == [
            min(timedelta(seconds=30 * 2 ** (n - 1)), timedelta(hours=6))
            for n in range(1, services.MAX_ATTEMPTS + 1)
        ]
        assert delays[0] < delays[1] < delays[2]
        assert delays[-1] == timedelta(hours=6)

        traveller.move_to(START + timedelta(days=30))
        assert services.send_due() == 0  # a failed message is not tried again
        message.refresh_from_db()
        assert message.attempts == services.MAX_ATTEMPTS
        assert message.status == MessageStatus.FAILED


@pytest.mark.article("3.1")
def test_a_claimed_message_is_not_claimed_by_a_second_worker() -> None:
    message = enqueue()

    first = services.claim_next("w1")
    assert first is not None and first.pk == message.pk
    assert first.claimed_by == "w1"
    assert services.claim_next("w2") is None
    message.refresh_from_db()
    assert message.claimed_by == "w1"


@pytest.mark.article("3.1")
def test_an_expired_claim_can_be_claimed_again() -> None:
    with time_machine.travel(START, tick=False) as traveller:
        message = enqueue()
        assert services.claim_next("w1") is not None
        message.refresh_from_db()
        assert message.claimed_until is not None

        traveller.move_to(message.claimed_until - timedelta(seconds=1))
        assert services.claim_next("w2") is None

        traveller.move_to(message.claimed_until + timedelta(seconds=1))
        again = services.claim_next("w2")
        assert again is not None and again.pk == message.pk
        assert again.claimed_by == "w2"


def interleaved(other_worker: Callable[[], object]) -> AbstractContextManager[None]:
    """Lets `other_worker` run just before the first claiming UPDATE: this worker has read its
    candidates, and another worker gets to the same message first."""
    done = False

    def wrapper(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> Any:
        nonlocal done
        if not done and sql.lstrip().upper().startswith("UPDATE") and "claimed_by" in sql:
            done = True
            other_worker()
        return execute(sql, params, many, context)

    return connection.execute_wrapper(wrapper)


@pytest.mark.article("3.1")
def test_a_candidate_claimed_meanwhile_is_not_claimed_again() -> None:
    """w2 has read its candidates; before its UPDATE, w1 claims the same message."""
    message = enqueue()

    with interleaved(lambda: services.claim_next("w1")):
        assert services.claim_next("w2") is None

    message.refresh_from_db()
    assert message.claimed_by == "w1"


@pytest.mark.article("3.1")
@pytest.mark.parametrize("smtp_up", [True, False], ids=["sent-meanwhile", "failed-meanwhile"])
def test_a_candidate_handled_meanwhile_is_not_claimed(
    smtp_up: bool, start_inbox: Callable[[], Inbox]
) -> None:
    """Between reading its candidates and claiming, w2 is overtaken by w1, which claims the
    message and sends it (or fails and schedules a retry). w2 must not have it: not sent twice,
    and not retried before its backoff is over."""
    server = start_inbox() if smtp_up else None
    message = enqueue()

    def w1() -> None:
        claimed = services.claim_next("w1")
        assert claimed is not None
        assert services.send_claimed(claimed, "w1") is smtp_up

    with interleaved(w1):
        assert services.claim_next("w2") is None

    message.refresh_from_db()
    assert message.attempts == 1
    assert message.claimed_by == ""
    if server is not None:
        assert message.status == MessageStatus.SENT
        assert len(server.messages) == 1
    else:
        assert message.status == MessageStatus.PENDING
        assert message.next_attempt_at > timezone.now()


@pytest.mark.article("6")
def test_a_message_that_cannot_be_opened_does_not_block_the_outbox(inbox: Inbox) -> None:
    """A message whose key is gone (its epoch destroyed) is retried and finally marked failed
    like any other failure; the worker does not crash on it and the mail behind it still goes
    out."""
    stuck = enqueue(to="stuck@praktijk.example")
    OutboxMessage.objects.filter(pk=stuck.pk).update(key_id="e-destroyed")
    enqueue()

    assert services.send_due() == 1

    assert [recipients for recipients, _raw in inbox.messages] == [[TO]]
    stuck.refresh_from_db()
    assert stuck.status == MessageStatus.PENDING
    assert stuck.attempts == 1
    assert stuck.last_error == "DecryptionError"
    assert stuck.claimed_by == ""
    assert stuck.next_attempt_at > timezone.now()


@pytest.mark.article("3.1")
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_send_each_message_exactly_once(inbox: Inbox) -> None:
    workers = 4
    recipients = [f"coach{n}@praktijk.example" for n in range(30)]
    for to in recipients:
        enqueue(to=to, body=f"Bericht voor {to}")
    start = threading.Barrier(workers)
    sent = [0] * workers
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            start.wait()
            sent[n] = services.send_due(worker=f"w{n}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(sent) == len(recipients)
    received = inbox.parsed()
    assert len(received) == len(recipients)
    assert Counter(to for envelope, _message in received for to in envelope) == Counter(recipients)
    assert all(body_of(message) == f"Bericht voor {envelope[0]}" for envelope, message in received)
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {MessageStatus.SENT}


@pytest.mark.article("6")
def test_unsent_messages_move_to_a_new_epoch_and_survive_a_master_rotation(
    settings: Settings, inbox: Inbox, own_keys: object
) -> None:
    old = settings.COACHREGISTER_MASTER_KEY
    new = crypto.new_master_key("k2")
    pending = enqueue(to="pending@praktijk.example", body="wacht")
    failed = enqueue(to="failed@praktijk.example", body="mislukt")
    OutboxMessage.objects.filter(pk=failed.pk).update(status=MessageStatus.FAILED)
    first_epoch = pending.key_id

    later = timezone.now() + timedelta(days=settings.COACHREGISTER_EPOCH_DAYS)
    assert keyring.epoch_start_if_due(later) is not None
    assert services.rekey() == 2
    assert services.rekey() == 0
    assert services.epochs_in_use() == {keyring.current_epoch().id} != {first_epoch}

    settings.COACHREGISTER_MASTER_KEY = new  # without rotation the new key alone cannot open
    with pytest.raises(crypto.DecryptionError):
        services.open_message(OutboxMessage.objects.get(pk=pending.pk))

    settings.COACHREGISTER_MASTER_KEY = f"{new},{old}"
    keyring.rotate_master()  # the epoch keys are re-wrapped; no message key is touched
    assert {epoch.master_kid for epoch in keyring.living_epochs()} == {"k2"}
    settings.COACHREGISTER_MASTER_KEY = new  # the old key retired
    for message, to, body in (
        (pending, "pending@praktijk.example", "wacht"),
        (failed, "failed@praktijk.example", "mislukt"),
    ):
        message.refresh_from_db()
        assert services.open_message(message) == (to, body)
    assert services.send_due() == 1  # and the pending one is still sent
    [(recipients, received)] = inbox.parsed()
    assert recipients == ["pending@praktijk.example"]
    assert body_of(received) == "wacht"
