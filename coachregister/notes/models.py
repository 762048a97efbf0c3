"""Coaching sessions and their keywords, each version encrypted under a data key of its own.

Keywords are stored against the trajectory's pseudonym only. Each version's key is wrapped by
a key epoch (keys/keyring.py), so a deleted version, and every version of an erased coachee,
opens from no copy once that epoch is destroyed (art. 3.1, 6, 8.1, 10). Versions written
before per-version keys are under the coachee's data key.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coachregister.lib.deadlines import keywords_lock_at


class SessionKind(models.TextChoices):
    IN_PERSON = "in_person", _("in person")
    VIDEO = "video", _("video call")
    PHONE = "phone", _("by phone")


class CoachingSession(models.Model):
    trajectory = models.ForeignKey(
        "trajectories.Trajectory", on_delete=models.CASCADE, related_name="sessions"
    )
    held_on = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=SessionKind.choices)
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), validators=[MinValueValidator(5), MaxValueValidator(480)]
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    contact_moment = models.OneToOneField(
        "coachees.ContactMoment", on_delete=models.PROTECT, related_name="session"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["held_on", "id"]

    def __str__(self) -> str:
        return f"session {self.pk} of {self.trajectory_id}"

    @property
    def locks_at(self) -> object:
        return keywords_lock_at(self.created_at)

    def is_locked(self, now: object = None) -> bool:
        return (now or timezone.now()) >= self.locks_at


class KeywordVersion(models.Model):
    """Version 1 is what the coach wrote (editable until the lock); later versions are
    amendments with a reason. Earlier versions stay readable to author and register."""

    session = models.ForeignKey(CoachingSession, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField()
    keywords_enc = models.BinaryField()
    reason_enc = models.BinaryField(null=True, blank=True)
    # Art. 8.1, GDPR 7(3): each version's own data key, wrapped by the current key epoch
    # (keys/keyring.py) and re-wrapped by the worker. A deleted version then opens from no
    # copy (dead tuples, WAL, backups) once its epoch is destroyed, although the coachee's
    # own data key lives on. Versions written before this have none: they are under the
    # coachee's data key.
    wrapped_key = models.BinaryField(null=True, blank=True)
    key_id = models.CharField(max_length=32, blank=True)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    written_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["session", "number"]
        constraints = [
            models.UniqueConstraint(fields=["session", "number"], name="one_number_per_version")
        ]

    def __str__(self) -> str:
        return f"v{self.number} of session {self.session_id}"
