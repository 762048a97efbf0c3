"""Queue and send email through the outbox (art. 3.1).

Sending is at-least-once towards the SMTP server and never twice in parallel: a worker claims
a message with a conditional UPDATE (only one claimant's UPDATE matches), sends it, and marks
it sent. A failure schedules a retry with exponential backoff; after MAX_ATTEMPTS the
message is marked failed and the administrator sees it on the dashboard.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from coachregister.lib import crypto
from coachregister.outbox.models import MessageStatus, OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
CLAIM_SECONDS = 120
BACKOFF_CAP = timedelta(hours=6)


def _keys() -> list[crypto.MasterKey]:
    from coachregister.coachees.vault import master_keys

    return master_keys()


def _purpose(message: OutboxMessage) -> str:
    return f"outbox:{message.kind}"


def message_enqueue(*, kind: str, to: str, subject: str, body: str) -> OutboxMessage:
    """Store a mail for sending. Call inside the transaction of the action that causes it:
    if the action rolls back, no mail goes out."""
    master = _keys()[0]
    key = crypto.new_data_key()
    message = OutboxMessage(kind=kind, subject=subject, key_id=master.kid)
    purpose = _purpose(message)
    message.wrapped_key = crypto.wrap_key(key, master, purpose)
    message.recipient_enc = crypto.encrypt_text(key, to, f"{purpose}:to")
    message.body_enc = crypto.encrypt_text(key, body, f"{purpose}:body")
    message.save()
    return message


def open_message(message: OutboxMessage) -> tuple[str, str]:
    purpose = _purpose(message)
    key = crypto.unwrap_key(message.wrapped_key, message.key_id, _keys(), purpose)
    to = crypto.decrypt_text(key, message.recipient_enc, f"{purpose}:to")
    body = crypto.decrypt_text(key, message.body_enc or b"", f"{purpose}:body")
    return to, body


def worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


def claim_next(worker: str) -> OutboxMessage | None:
    """Claim one due message. Two workers may pick the same candidate; the conditional UPDATE
    lets exactly one of them have it."""
    now = timezone.now()
    due = (
        OutboxMessage.objects.filter(status=MessageStatus.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("next_attempt_at", "id")
    )
    for candidate in due.values_list("pk", flat=True)[:10]:
        # Re-check everything that made it a candidate: meanwhile another worker may have
        # sent it, or tried, failed and scheduled a retry (next_attempt_at in the future).
        won = (
            OutboxMessage.objects.filter(
                pk=candidate, status=MessageStatus.PENDING, next_attempt_at__lte=now
            )
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .update(claimed_by=worker, claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
        )
        if won:
            return OutboxMessage.objects.get(pk=candidate)
    return None


def _backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=30 * 2 ** (attempts - 1)), BACKOFF_CAP)


def send_claimed(message: OutboxMessage, worker: str) -> bool:
    try:
        # Inside the try: a message that cannot be opened (its master key removed before
        # `rotate`) is retried and finally marked failed, instead of crashing the worker.
        to, body = open_message(message)
        with get_connection(timeout=20) as connection:
            EmailMessage(
                subject=message.subject,
                body=body,
                to=[to],
                connection=connection,
                from_email=settings.DEFAULT_FROM_EMAIL,
            ).send()
    except Exception as exc:
        attempts = message.attempts + 1
        failed = attempts >= MAX_ATTEMPTS
        OutboxMessage.objects.filter(pk=message.pk, claimed_by=worker).update(
            attempts=attempts,
            status=MessageStatus.FAILED if failed else MessageStatus.PENDING,
            next_attempt_at=timezone.now() + _backoff(attempts),
            claimed_by="",
            claimed_until=None,
            last_error=type(exc).__name__[:100],
        )
        log.warning(
            "outbox message %s not sent (attempt %s): %s", message.pk, attempts, type(exc).__name__
        )
        return False
    OutboxMessage.objects.filter(pk=message.pk, claimed_by=worker).update(
        status=MessageStatus.SENT,
        sent_at=timezone.now(),
        attempts=message.attempts + 1,
        claimed_by="",
        claimed_until=None,
        body_enc=None,
        last_error="",
    )
    log.info("outbox message %s sent", message.pk)
    return True


def send_due(worker: str | None = None, limit: int = 100) -> int:
    """Send what is due now; returns how many were sent."""
    worker = worker or worker_name()
    sent = 0
    for _ in range(limit):
        message = claim_next(worker)
        if message is None:
            break
        sent += send_claimed(message, worker)
    return sent


def rotate() -> int:
    """Re-wrap unsent messages' keys under the current master key (keys rotate)."""
    current = _keys()[0]
    done = 0
    for message in OutboxMessage.objects.exclude(key_id=current.kid).exclude(
        status=MessageStatus.SENT
    ):
        purpose = _purpose(message)
        with transaction.atomic():
            plain = crypto.unwrap_key(message.wrapped_key, message.key_id, _keys(), purpose)
            message.wrapped_key = crypto.wrap_key(plain, current, purpose)
            message.key_id = current.kid
            message.save(update_fields=["wrapped_key", "key_id"])
        done += 1
    return done
