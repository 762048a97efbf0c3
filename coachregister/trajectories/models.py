"""Clients (opdrachtgevers), trajectories and their single-use invitations."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ClientOrganisation(models.Model):
    """The opdrachtgever (art. 1.9). It never gives or sees coachee personal data; its own
    business contact is recorded for the quote."""

    name = models.CharField(_("organisation"), max_length=200)
    contact_name = models.CharField(_("business contact"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_phone = models.CharField(_("contact telephone"), max_length=40, blank=True)
    quote_reference = models.CharField(_("quote reference"), max_length=50)
    quote_date = models.DateField(_("quote date"))
    regulation_version = models.ForeignKey(
        "practice.RegulationVersion",
        on_delete=models.PROTECT,
        verbose_name=_("privacy regulation sent with the quote"),
    )
    # When the regulation (as PDF) was sent to the client with the quote.
    regulation_sent_on = models.DateField(_("regulation sent on"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")

    def __str__(self) -> str:
        return self.name


class Status(models.TextChoices):
    INVITED = "invited", _("invited")
    ACTIVE = "active", _("active")
    ENDED = "ended", _("ended")
    BROKEN_OFF = "broken_off", _("broken off")


class TrajectoryQuerySet(models.QuerySet["Trajectory"]):
    def visible_to(self, user: object) -> TrajectoryQuerySet:
        from coachregister.trajectories.access import visible_trajectories

        return visible_trajectories(self, user)  # type: ignore[return-value]


class Trajectory(models.Model):
    """A coaching trajectory. Known everywhere by its random pseudonym, never by a name."""

    pseudonym = models.CharField(max_length=20, unique=True, editable=False)
    client = models.ForeignKey(
        ClientOrganisation,
        on_delete=models.PROTECT,
        related_name="trajectories",
        verbose_name=_("client"),
    )
    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="trajectories",
        verbose_name=_("coach"),
    )
    coachee = models.ForeignKey(
        "coachees.Coachee",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="trajectories",
    )
    # Kept after an erasure sets `coachee` to NULL, so the purge of the tombstone (art. 10.2)
    # still finds the pseudonymous rows that belong to it.
    coachee_pseudonym = models.CharField(max_length=20, blank=True, db_index=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.INVITED)
    started_on = models.DateField(_("start date"), null=True, blank=True)
    ended_on = models.DateField(_("end date"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = TrajectoryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("trajectory")
        verbose_name_plural = _("trajectories")
        indexes = [
            models.Index(fields=["coach", "status"]),
            # The open trajectories: the dashboards' count (accounts/views.dashboard) and the
            # purge's "nothing keeps them" (retention/services._candidates), without a scan
            # of every trajectory ever opened.
            models.Index(fields=["coachee"], name="trajectory_open_idx",
                         condition=models.Q(status__in=["invited", "active"])),
        ]

    def __str__(self) -> str:
        return self.pseudonym

    @property
    def is_open(self) -> bool:
        return self.status in (Status.INVITED, Status.ACTIVE)


class Invitation(models.Model):
    """Single use, with an expiry. Only hashes are stored (lib/tokens.py)."""

    trajectory = models.ForeignKey(Trajectory, on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    code_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invitation {self.pk} for {self.trajectory_id}"

    def usable(self, now: object = None) -> bool:
        now = now or timezone.now()
        return self.used_at is None and self.revoked_at is None and self.expires_at > now
