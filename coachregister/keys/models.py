"""Register-wide keys kept in the database, each wrapped by the master key (art. 6).

The per-coachee data keys are not here: they sit beside the data they open, wrapped by an
epoch key that lives outside the database (see `keyring`).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class RegisterKey(models.Model):
    """One key of the register as a whole: the audit chain key, the evidence signing key.
    `key_id` is the key's own id, recorded wherever the key was used (each keyed audit event),
    so a key can be replaced later without breaking what the old one signed."""

    purpose = models.CharField(max_length=30, unique=True)
    key_id = models.CharField(max_length=32, unique=True)
    wrapped_key = models.BinaryField()
    master_kid = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"{self.purpose} ({self.key_id})"
