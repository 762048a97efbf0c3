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
    event and the one before it (see chain.py). An event is written with a MAC and, when its
    writer could not seal it at once, without `seq` and links: the sequencer (services.py)
    seals it. The database refuses every UPDATE but that sealing, and every DELETE."""

    # The one unique index: the chain order; NULL until sealed. The head (sealed, highest),
    # the browser's keyset pages (`seq < before`), verify's walk in order, and prune's
    # `seq <= N` all read it; a second sealer with the same number fails on it.
    seq = models.BigIntegerField(unique=True, null=True, editable=False)
    created_at = models.DateTimeField(editable=False)
    # No index of its own: audit_actor_idx (actor, seq) starts with this column.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    actor_role = models.CharField(max_length=32, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.ALLOWED)
    detail = models.JSONField(default=dict, blank=True)
    # The id of the chain key that links this event (chain.py); empty before the switch-over.
    key_id = models.CharField(max_length=32, blank=True, default="")
    # HMAC under the chain key over the row id and the event's body (chain.mac), made by the
    # writer: the sequencer seals only events whose MAC holds, so a row inserted by someone
    # with only database access is never sealed. Empty on events written before sealing.
    mac = models.CharField(max_length=64, blank=True, default="")
    prev_hash = models.CharField(max_length=64, blank=True, default="")
    # Not indexed, not unique: nothing looks an event up by its link (verify walks by `seq` and
    # compares each `prev_hash` with the link before it; anchors and prune records name a
    # `seq` and read its hash). Two equal links would need two events with the same `seq`
    # (the link covers `seq`, chain.FIELDS), which the unique `seq` already refuses.
    hash = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-seq"]
        # Every index here serves a query named beside it; tests/test_indexes.py lists the
        # table's indexes (these, the primary key and the unique `seq`) and fails on any other.
        indexes = [
            # The events about one object: "who saw my data" (queries.accesses_of, coachee
            # and trajectory pseudonyms), the browser's object filter (`object_id` alone,
            # views._filtered), an incident's containment actions and decisions
            # (incidents/notices, containment), a user's role and scope changes
            # (incidents/affected). `object_id` first, so the browser's filter uses it too.
            models.Index(fields=["object_id", "object_type", "seq"], name="audit_object_idx"),
            # One staff member's events: the browser's actor filter (newest first), what an
            # auditor opened in a window (engagements.opened_by_auditor), what a user read
            # (incidents/affected.viewed_by), a recent second factor (incidents/notices).
            models.Index(fields=["actor", "seq"], name="audit_actor_idx"),
            # One action or one area of actions: the browser's action filter (`=`) and area
            # filter (`startswith`, a prefix: hence varchar_pattern_ops on PostgreSQL, which
            # serves `=` and `IN` as well; SQLite ignores the operator class), the last daily
            # verify (daily.py), erasures since the last anchor (anchors.worker_tick),
            # rotations (incidents/containment), reassignments (incidents/affected), denied
            # accesses of the last 30 days (practice/compliance).
            models.Index(
                fields=["action", "seq"], name="audit_action_idx",
                opclasses=["varchar_pattern_ops", ""],
            ),
            # A time window: the browser's day filter, the first event of the prune
            # boundary's month (prune.prune_plan), today's daily verify (daily.verify_daily).
            models.Index(fields=["created_at"], name="audit_created_idx"),
            # The browser's "denied" filter, newest first: denied events are few, so
            # without this the page scans the trail from its head.
            models.Index(
                fields=["seq"], name="audit_denied_idx", condition=models.Q(outcome="denied")
            ),
            # The events waiting to be sealed, oldest first: the sequencer's batch
            # (services.seal_pending), verify's and the compliance overview's report of them.
            models.Index(
                fields=["id"], name="audit_unsealed_idx", condition=models.Q(seq__isnull=True)
            ),
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


class Listed(models.Model):
    """One coachee named by a listing event (art. 6; "who saw my data", GDPR art. 15). A list
    page that shows names records one event (`services.listing_record`) whose detail holds
    the number of names and a digest of their pseudonyms (chain.listing_digest), and one row
    here per pseudonym, in the same transaction. The event's MAC and link cover the digest,
    so `audit verify` proves these rows (listings.py). The triggers refuse every UPDATE and
    every DELETE outside a prune, which removes the rows with their events (prune.py)."""

    pk = models.CompositePrimaryKey("event_id", "pseudonym")
    # The primary key starts with the event: a listing's rows (verify, the engagement
    # report), the prune's DELETE by event.
    event = models.ForeignKey(
        Event, on_delete=models.DO_NOTHING, related_name="listed", db_index=False
    )
    pseudonym = models.CharField(max_length=64)

    class Meta:
        db_table = "audit_listed"
        indexes = [
            # The listings that named one coachee, newest first: "who saw my data" and the
            # access copy (queries.accesses_of).
            models.Index(fields=["pseudonym", "event"], name="audit_listed_idx"),
        ]
        verbose_name = _("listed coachee")
        verbose_name_plural = _("listed coachees")

    def __str__(self) -> str:
        return f"{self.pseudonym} in event {self.event_id}"
