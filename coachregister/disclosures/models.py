"""Consent records (GDPR art. 7, 9(2)(a)): what was agreed to, in which text, when and how."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Purpose(models.TextChoices):
    SESSION_KEYWORDS = "session_keywords", _("session keywords (health data)")
    REGULATION = "regulation", _("privacy regulation read and confirmed")


class Method(models.TextChoices):
    INTAKE_FORM = "intake_form", _("online intake form")
    PORTAL = "portal", _("coachee portal")
    PAPER = "paper", _("on paper")
    RECORDED_BY_STAFF = "staff", _("recorded by staff")


class Consent(models.Model):
    coachee = models.ForeignKey(
        "coachees.Coachee", on_delete=models.CASCADE, related_name="consents"
    )
    trajectory = models.ForeignKey(
        "trajectories.Trajectory",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    purpose = models.CharField(_("purpose"), max_length=30, choices=Purpose.choices)
    recipient = models.CharField(_("recipient"), max_length=200, blank=True)
    given = models.BooleanField(_("given"))
    text_version = models.CharField(_("text version"), max_length=20)
    text = models.TextField(_("text shown"))
    method = models.CharField(_("how"), max_length=20, choices=Method.choices)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return f"{self.purpose} ({'given' if self.given else 'refused'})"

    @property
    def in_force(self) -> bool:
        return self.given and self.withdrawn_at is None
