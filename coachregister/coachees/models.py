"""The identity vault: contact details encrypted per coachee (art. 6, 12.1), contact moments.

Nothing here holds a name, email address or phone number in plain text. Read them through
`coachees.vault` (which decrypts) and `coachees.access` (which decides who may, and audits).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CoacheeQuerySet(models.QuerySet["Coachee"]):
    def visible_to(self, user: object) -> CoacheeQuerySet:
        from coachregister.coachees.access import visible_coachees

        return visible_coachees(self, user)


class Coachee(models.Model):
    pseudonym = models.CharField(max_length=20, unique=True, editable=False)
    # The blind index of the email under the epoch `key_id` (keys/keyring.py): it changes
    # when the worker moves the coachee to a new epoch.
    email_index = models.CharField(max_length=64, unique=True)
    wrapped_key = models.BinaryField()
    key_id = models.CharField(max_length=32)  # the epoch whose key wraps `wrapped_key`
    first_name_enc = models.BinaryField()
    last_name_enc = models.BinaryField()
    email_enc = models.BinaryField()
    phone_enc = models.BinaryField()
    # Art. 8 (afscherming): a restricted coachee's data is only stored, not processed further.
    restricted = models.BooleanField(_("restricted"), default=False)
    # The language the coachee used at intake: letters to them are written in it.
    language = models.CharField(_("language"), max_length=8, default="nl")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = CoacheeQuerySet.as_manager()

    class Meta:
        ordering = ["pseudonym"]
        verbose_name = _("coachee")
        verbose_name_plural = _("coachees")

    def __str__(self) -> str:
        return self.pseudonym


class ContactKind(models.TextChoices):
    CALL = "call", _("telephone call")
    EMAIL = "email", _("email")
    MEETING = "meeting", _("meeting")
    SESSION = "session", _("coaching session")
    INTAKE = "intake", _("intake")


class ContactMoment(models.Model):
    """A contact with the coachee. The last one starts the retention period (art. 10.1).
    Holds no free text: what was said belongs in session keywords, under the name guard."""

    trajectory = models.ForeignKey(
        "trajectories.Trajectory", on_delete=models.CASCADE, related_name="contact_moments"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ContactKind.choices)
    occurred_on = models.DateField(_("date"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-occurred_on", "-id"]
        indexes = [models.Index(fields=["trajectory", "occurred_on"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.occurred_on}"
