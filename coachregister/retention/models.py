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

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"paper dossier of {self.trajectory_id}"

    @property
    def is_open(self) -> bool:
        return self.confirmed_at is None
