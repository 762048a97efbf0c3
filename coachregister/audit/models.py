"""One table: the audit event. Never contains names, emails, phone numbers or passwords."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    ALLOWED = "allowed", _("allowed")
    DENIED = "denied", _("denied")


class Event(models.Model):
    """An audit event. `seq` is the position in the chain; `hash` is the keyed link over this
    event and the one before it (see chain.py). The database refuses UPDATE and DELETE."""

    seq = models.BigIntegerField(unique=True, editable=False)
    created_at = models.DateTimeField(editable=False, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    actor_role = models.CharField(max_length=32, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.ALLOWED)
    detail = models.JSONField(default=dict, blank=True)
    # The id of the chain key that links this event (chain.py); empty before the switch-over.
    key_id = models.CharField(max_length=32, blank=True, default="")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "seq"], name="audit_object_idx"),
            models.Index(fields=["actor", "seq"], name="audit_actor_idx"),
        ]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} ({self.outcome})"


class PrunePermit(models.Model):
    """The one way past the DELETE trigger (triggers.py): the prune service (prune.py) inserts
    a permit, deletes events up to `upto` and removes the permit in one transaction, after the
    signed prune record is in the evidence directory (art. 6, art. 10). Empty at all other
    times; `audit verify` reports a permit left behind."""

    upto = models.BigIntegerField(primary_key=True)

    class Meta:
        db_table = "audit_prune_permit"

    def __str__(self) -> str:
        return f"prune permit up to {self.upto}"


class Engagement(models.Model):
    """A certification audit (art. 5.4): one auditor, a window, and a random sample of dossiers
    drawn with a recorded seed from a recorded population, so anyone can redraw it."""

    auditor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="engagements"
    )
    window_from = models.DateTimeField(_("from"))
    window_until = models.DateTimeField(_("until"))
    sample_size = models.PositiveIntegerField(_("sample size"))
    seed = models.CharField(max_length=64)
    population = models.JSONField(default=list)
    sample = models.JSONField(default=list)
    # Art. 5.4: the auditor reads keywords and trajectory records of the sample; contact
    # details only when the engagement says so (recorded here, shown to the coachee after).
    include_contact_details = models.BooleanField(
        _("the auditor may also open contact details"), default=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-window_from"]

    def __str__(self) -> str:
        return f"engagement {self.pk}"
