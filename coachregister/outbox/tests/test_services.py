"""The outbox (art. 3.1): durable, encrypted at rest, retried, and never sent twice."""

from __future__ import annotations

import threading
from datetime import timedelta
from email import message_from_bytes

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.db import connection
from django.utils import timezone

from coachregister.outbox import services
from coachregister.outbox.models import MessageStatus, OutboxMessage
from coachregister.outbox.tests.conftest import Inbox

pytestmark = [pytest.mark.django_db, pytest.mark.article("3.1")]

TO = "anna.coach@staff.example"
BODY = "Er is een nieuwe coachee voor traject T-AAAA-BBBB."


def enqueue(n: int = 0) -> OutboxMessage:
    return services.message_enqueue(kind="test", to=f"{n}.{TO}" if n else TO,
                                    subject="Nieuwe coachee", body=BODY)


def raw_row(message: OutboxMessage) -> bytes:
    row = OutboxMessage.objects.filter(pk=message.pk).values().get()
    return b"".join(bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode()
                    for v in row.values())


def test_stored_encrypted_then_sent_once_and_wiped(inbox: Inbox) -> None:
    message = enqueue()
    stored = raw_row(message)
    assert TO.encode() not in stored and b"nieuwe coachee voor" not in stored
    assert services.open_message(message) == (TO, BODY)
    assert services.send_due() == 1
    assert services.send_due() == 0
    assert len(inbox.messages) == 1
    recipients, raw = inbox.messages[0]
    mail = message_from_bytes(raw)
    assert recipients == [TO] and mail["Subject"] == "Nieuwe coachee"
    assert mail.get_payload(decode=True).decode().strip() == BODY
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.sent_at and message.body_enc is None


def test_smtp_down_then_back_sends_exactly_once(smtp_port: int) -> None:
    message = enqueue()
    assert services.send_due() == 0  # nothing listens on the port
    message.refresh_from_db()
    assert message.status == MessageStatus.PENDING and message.attempts == 1
    assert message.last_error and " " not in message.last_error  # a class name, no details
    assert message.next_attempt_at > timezone.now()
    assert services.send_due() == 0  # not due yet: no new attempt
    message.refresh_from_db()
    assert message.attempts == 1
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        with time_machine.travel(message.next_attempt_at + timedelta(seconds=1)):
            assert services.send_due() == 1
            assert services.send_due() == 0
    finally:
        controller.stop()
    assert [recipients for recipients, _raw in box.messages] == [[TO]]


def test_backoff_grows_and_gives_up(smtp_port: int) -> None:
    message = enqueue()
    waits = []
    now = timezone.now()
    for _ in range(services.MAX_ATTEMPTS):
        with time_machine.travel(now):
            services.send_due()
        message.refresh_from_db()
        waits.append(message.next_attempt_at - now)
        now = message.next_attempt_at + timedelta(seconds=1)
    assert message.status == MessageStatus.FAILED and message.attempts == services.MAX_ATTEMPTS
    assert waits[1] > waits[0] and waits[-1] <= services.BACKOFF_CAP + timedelta(seconds=1)
    with time_machine.travel(now + timedelta(days=1)):
        assert services.send_due() == 0  # a failed message is not retried by itself


def test_a_claimed_message_is_not_claimed_again_until_the_claim_expires() -> None:
    message = enqueue()
    assert services.claim_next("w1").pk == message.pk
    assert services.claim_next("w2") is None
    with time_machine.travel(timezone.now() + timedelta(seconds=services.CLAIM_SECONDS + 5)):
        assert services.claim_next("w2").pk == message.pk  # the first worker died


def test_rotation_rewraps_pending_messages(settings: object) -> None:
    from coachregister.lib.crypto import new_master_key

    message = enqueue()
    old = settings.COACHREGISTER_MASTER_KEY  # type: ignore[attr-defined]
    new = new_master_key("k2")
    settings.COACHREGISTER_MASTER_KEY = f"{new},{old}"  # type: ignore[attr-defined]
    assert services.rotate() == 1
    message.refresh_from_db()
    assert message.key_id == "k2"
    settings.COACHREGISTER_MASTER_KEY = new  # type: ignore[attr-defined]
    assert services.open_message(message) == (TO, BODY)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_workers_send_each_message_once(inbox: Inbox) -> None:
    for n in range(1, 31):
        enqueue(n)
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            start.wait()
            services.send_due(worker=name)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    recipients = sorted(r[0] for r, _raw in inbox.messages)
    assert recipients == sorted(f"{n}.{TO}" for n in range(1, 31))
    assert OutboxMessage.objects.filter(status=MessageStatus.SENT).count() == 30
