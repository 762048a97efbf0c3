"""Paper dossiers are destroyed at the end of the trajectory (art. 10.1)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DestructionMethod(models.TextChoices):
    SHREDDED = "shredded", _("shredded at the practice")
    SERVICE = "service", _("destroyed by a certified destruction service")
    RETURNED = "returned", _("returned to the coachee")
    NONE = "none", _("there was no paper dossier")


class PaperDossierTask(models.Model):
    trajectory = models.OneToOneField(
        "trajectories.Trajectory", on_delete=models.CASCADE, related_name="paper_task"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    method = models.CharField(
        _("how"), max_length=10, choices=DestructionMethod.choices, blank=True
    )
    # The worker's weekly reminders (retention/others.py), each claimed by a conditional UPDATE.
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    escalated_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["created_at"]
        # The open tasks, oldest first (the dashboard, the retention page, the reminders).
        indexes = [models.Index(fields=["created_at"], name="paper_task_open_idx",
                                condition=models.Q(confirmed_at__isnull=True))]

    def __str__(self) -> str:
        return f"paper dossier of {self.trajectory_id}"

    @property
    def is_open(self) -> bool:
        return self.confirmed_at is None


# --- retention policy (art. 10.1), holds, tombstones, destruction records ---------------------


class RetentionPolicy(models.Model):
    """One version of the retention policy. Every change is a new row (art. 10.1): kept,
    audited, shown with its date. A period longer than the default needs the statute that
    requires it; the audit trail is never kept shorter than the coachees' data."""

    DEFAULT_YEARS = 7
    DEFAULT_CLIENT_CONTACT_YEARS = 2
    DEFAULT_STAFF_YEARS = 2

    version = models.PositiveIntegerField(unique=True, editable=False)
    years = models.PositiveSmallIntegerField(
        _("years after the last contact"), default=DEFAULT_YEARS
    )
    statute = models.CharField(
        _("statute that requires a longer period (name and article)"), max_length=300,
        blank=True,
    )
    client_contact_years = models.PositiveSmallIntegerField(
        _("years a client's business contact is kept after its last trajectory ends"),
        default=DEFAULT_CLIENT_CONTACT_YEARS,
    )
    staff_years = models.PositiveSmallIntegerField(
        _("years a deactivated staff account keeps its name and address"),
        default=DEFAULT_STAFF_YEARS,
    )
    audit_years = models.PositiveSmallIntegerField(
        _("years audit events are kept"), default=DEFAULT_YEARS
    )
    idle_months = models.PositiveSmallIntegerField(
        _("months without contact after which an open trajectory is flagged"), default=12
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-version"]
        verbose_name = _("retention policy")

    def __str__(self) -> str:
        return f"retention policy {self.version}"

    @classmethod
    def current(cls) -> RetentionPolicy:
        """The policy in force; the defaults (version 0, unsaved) before the owner sets one."""
        return cls.objects.order_by("-version").first() or cls(version=0)


class HoldSource(models.TextChoices):
    MANUAL = "manual", _("set by hand")
    COMPLAINT = "complaint", _("an open complaint")


class LegalHold(models.Model):
    """A coachee's data must stay despite the retention period (a dispute, a question from the
    supervisory authority). The reason passes the name guard; no personal data in it."""

    coachee = models.ForeignKey(
        "coachees.Coachee", on_delete=models.CASCADE, related_name="holds"
    )
    reason = models.CharField(_("reason"), max_length=300)
    until = models.DateField(_("until"))
    source = models.CharField(max_length=20, choices=HoldSource.choices, default=HoldSource.MANUAL)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    set_at = models.DateTimeField(default=timezone.now, editable=False)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["until"]

    def __str__(self) -> str:
        return f"hold {self.pk}"

    def stands(self, today: object = None) -> bool:
        return self.lifted_at is None and self.until >= (today or timezone.localdate())


class Tombstone(models.Model):
    """What an erasure leaves of a coachee: the pseudonym, when, and the day on which the
    pseudonymous rows still kept (trajectory dates, request records…) are purged too."""

    pseudonym = models.CharField(max_length=20, unique=True)
    erased_at = models.DateTimeField(default=timezone.now)
    expires_on = models.DateField()

    class Meta:
        ordering = ["expires_on"]
        # The tombstones whose day has come (services.due_for_purge, the dashboard's number).
        indexes = [models.Index(fields=["expires_on"], name="tombstone_expires_idx")]

    def __str__(self) -> str:
        return self.pseudonym


class Scope(models.TextChoices):
    ERASURE = "erasure", _("erasure")
    PURGE = "purge", _("purge")


class DestructionReason(models.TextChoices):
    REQUEST = "request", _("a granted request for erasure")
    RETENTION = "retention", _("the retention period ended")
    TOMBSTONE = "tombstone", _("the rows kept after an erasure expired")
    CONSENT = "consent", _("consent withdrawn")


class DestructionRecord(models.Model):
    """Proof of deletion (art. 10.2): which coachee (pseudonym), what was destroyed by category
    with counts, why, under which policy version and expiry date, and when. No personal data."""

    pseudonym = models.CharField(max_length=20, db_index=True)
    scope = models.CharField(max_length=10, choices=Scope.choices)
    reason = models.CharField(max_length=20, choices=DestructionReason.choices)
    destroyed = models.JSONField(default=dict)
    policy_version = models.PositiveIntegerField(null=True, blank=True)
    expiry_date = models.DateField(null=True, blank=True)
    destroyed_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-destroyed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.scope} {self.pseudonym}"


class MailboxTask(models.Model):
    """Art. 12.1: a copy outside the register (the coach's mailbox) to remove after an erasure
    or purge. The name is kept under a key of the task's own (wrapped by the current epoch)
    so the task can say whom it concerns after the vault is gone; the key is destroyed when
    the task is confirmed or after 30 days."""

    pseudonym = models.CharField(max_length=20, db_index=True)
    # No index of its own: the three below start with it.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="mailbox_tasks",
        db_index=False,
    )
    name_enc = models.BinaryField(null=True)
    wrapped_key = models.BinaryField(null=True)
    key_id = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    key_destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        # A user's tasks for the dashboard (views.mailbox_tasks_for): the open ones, and those
        # created or confirmed in the last 30 days, each from an index and not from the
        # user's whole history.
        indexes = [
            models.Index(fields=["assigned_to"], name="mailbox_task_open_idx",
                         condition=models.Q(confirmed_at__isnull=True,
                                            key_destroyed_at__isnull=True)),
            models.Index(fields=["assigned_to", "created_at"], name="mailbox_task_created_idx"),
            models.Index(fields=["assigned_to", "confirmed_at"],
                         name="mailbox_task_confirmed_idx"),
        ]

    def __str__(self) -> str:
        return f"mailbox task {self.pseudonym}"
