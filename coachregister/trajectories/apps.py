from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrajectoriesConfig(AppConfig):
    name = "coachregister.trajectories"
    label = "trajectories"
    verbose_name = _("Trajectories")
