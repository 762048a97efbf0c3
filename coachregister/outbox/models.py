"""Outgoing email, stored before it is sent, so nothing is lost when SMTP is down.

Recipient and body may be personal data: they are encrypted under a per-message data key
wrapped by the master key, and the body is wiped once the message has been sent.
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
    recipient_enc = models.BinaryField()
    body_enc = models.BinaryField(null=True)
    wrapped_key = models.BinaryField()
    key_id = models.CharField(max_length=32)
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
