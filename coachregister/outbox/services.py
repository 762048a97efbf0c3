"""Queue and send email through the outbox (art. 3.1).

Sending is at-least-once towards the SMTP server and never twice in parallel: a worker claims
a message with a conditional UPDATE (only one claimant's UPDATE matches), sends it, and marks
it sent. A failure schedules a retry with exponential backoff; after MAX_ATTEMPTS the
message is marked failed and the administrator sees it on the dashboard.

What stays (art. 6, 10): a sent message keeps its kind, the pseudonym it concerns and its sent
time, and nothing that opens to a recipient; a failed one is wiped the same way after
COACHREGISTER_OUTBOX_FAILED_DAYS (the failure stays visible). The keys are epoch keys
(keys/keyring.py), so what a wipe leaves in database pages opens nothing after the epoch bound.

Erasure (`messages_forget`): every unsent or failed message about the erased coachee is
destroyed at once, except those the erasure itself sends (the confirmation to the coachee, the
notices to the recipients of art. 8.4). Those go out and are wiped when sent, like any other
message; if one cannot be delivered, its content is wiped at its final failure instead of
after the failure period, because it holds the address of someone who is no longer in the
register. The dashboard shows the failure, without the address.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import Q
from django.utils import timezone

from coachregister.keys import keyring
from coachregister.lib import crypto, physical
from coachregister.outbox.models import MessageStatus, OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
CLAIM_SECONDS = 120
BACKOFF_CAP = timedelta(hours=6)


def _purpose(message: OutboxMessage) -> str:
    return f"outbox:{message.kind}"


def message_enqueue(
    *, kind: str, to: str, subject: str, body: str, coachee_pseudonym: str = ""
) -> OutboxMessage:
    """Store a mail for sending. Call inside the transaction of the action that causes it:
    if the action rolls back, no mail goes out. `coachee_pseudonym` names the coachee the
    mail is about, so an erasure can find it."""
    key = crypto.new_data_key()
    message = OutboxMessage(kind=kind, subject=subject, coachee_pseudonym=coachee_pseudonym)
    purpose = _purpose(message)
    message.wrapped_key, message.key_id = keyring.wrap(key, purpose)
    message.recipient_enc = crypto.encrypt_text(key, to, f"{purpose}:to")
    message.body_enc = crypto.encrypt_text(key, body, f"{purpose}:body")
    message.save()
    return message


def open_message(message: OutboxMessage) -> tuple[str, str]:
    if message.wrapped_key is None or message.recipient_enc is None:
        raise crypto.DecryptionError("this message has been wiped")
    purpose = _purpose(message)
    key = keyring.unwrap(message.wrapped_key, message.key_id, purpose)
    to = crypto.decrypt_text(key, message.recipient_enc, f"{purpose}:to")
    body = crypto.decrypt_text(key, message.body_enc or b"", f"{purpose}:body")
    return to, body


_WIPED = {"recipient_enc": None, "body_enc": None, "wrapped_key": None, "key_id": ""}


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
        wipe = failed and message.about_erased
        OutboxMessage.objects.filter(pk=message.pk, claimed_by=worker).update(
            attempts=attempts,
            status=MessageStatus.FAILED if failed else MessageStatus.PENDING,
            next_attempt_at=timezone.now() + _backoff(attempts),
            claimed_by="",
            claimed_until=None,
            last_error=type(exc).__name__[:100],
            **({**_WIPED, "wiped_at": timezone.now()} if wipe else {}),
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
        last_error="",
        wiped_at=timezone.now(),
        **_WIPED,
    )
    log.info("outbox message %s sent", message.pk)
    return True


def send_due(worker: str | None = None, limit: int = 100) -> int:
    """Send what is due now; returns how many were sent."""
    worker = worker or worker_name()
    sent = tried = 0
    for _ in range(limit):
        message = claim_next(worker)
        if message is None:
            break
        tried += 1
        sent += send_claimed(message, worker)
    if tried:
        physical.checkpoint_quietly()  # the wiped recipients and bodies leave the SQLite WAL too
    return sent


def failed_wipe() -> int:
    """Wipe failed messages older than the failure period; the failure itself stays."""
    cutoff = timezone.now() - timedelta(days=settings.COACHREGISTER_OUTBOX_FAILED_DAYS)
    count = OutboxMessage.objects.filter(
        status=MessageStatus.FAILED, wiped_at__isnull=True, next_attempt_at__lt=cutoff
    ).update(wiped_at=timezone.now(), **_WIPED)
    if count:
        physical.checkpoint_quietly()
    return count


def messages_forget(coachee_pseudonym: str, keep: list[int]) -> int:
    """Erasure (see the module docstring): destroy every unsent or failed message about the
    coachee except `keep` (the erasure's own), and mark those as about an erased coachee.
    Call inside the erasure's transaction."""
    return messages_forget_many([coachee_pseudonym], keep).get(coachee_pseudonym, 0)


def messages_forget_many(pseudonyms: list[str], keep: list[int]) -> dict[str, int]:
    """`messages_forget` for a batch of coachees in four statements: how many messages each
    lost."""
    from django.db.models import Count

    about = OutboxMessage.objects.filter(coachee_pseudonym__in=pseudonyms)
    about.filter(pk__in=keep).update(about_erased=True)
    doomed = about.exclude(pk__in=keep).exclude(status=MessageStatus.SENT)
    destroyed = dict(doomed.order_by().values_list("coachee_pseudonym")
                     .annotate(n=Count("pk")))
    doomed.delete()
    about.exclude(pk__in=keep).update(**_WIPED)  # sent ones hold nothing; make sure
    return destroyed


def rekey(batch_size: int = 200) -> int:
    """Move the keys of messages not yet wiped to the current epoch (the worker)."""
    return keyring.rekey_rows(OutboxMessage.objects.all(), _purpose, batch_size=batch_size)


def epochs_in_use() -> set[str]:
    return keyring.epochs_of(OutboxMessage.objects.all())
