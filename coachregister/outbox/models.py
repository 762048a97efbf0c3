"""Outgoing email, stored before it is sent, so nothing is lost when SMTP is down.

Recipient and body may be personal data: they are encrypted under a per-message data key
wrapped by the current epoch key (keys/keyring.py). Once sent, a message keeps only its kind,
the pseudonym it concerns and its sent time: the proof that someone was told (an extension, a
restriction lifted, a breach notice), without recipient, body or key. A failed message keeps
its content for a few days for a retry by hand, then the same is wiped.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("waiting")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")


class OutboxMessage(models.Model):
    kind = models.CharField(max_length=50)
    subject = models.CharField(max_length=200)  # never personal data, by construction
    # The coachee the message is about (sent to them, or to a recipient about them), so an
    # erasure finds it; empty for staff mail.
    coachee_pseudonym = models.CharField(max_length=20, blank=True, db_index=True)
    recipient_enc = models.BinaryField(null=True)
    body_enc = models.BinaryField(null=True)
    wrapped_key = models.BinaryField(null=True)
    key_id = models.CharField(max_length=32, blank=True)  # the epoch of `wrapped_key`
    wiped_at = models.DateTimeField(null=True, blank=True)
    # Sent because the coachee was erased (the confirmation, the notices to recipients): if it
    # finally fails, its content is wiped at once instead of after the failure period.
    about_erased = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=100, blank=True)  # exception class only
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"
