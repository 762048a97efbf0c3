from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoacheesConfig(AppConfig):
    name = "coachregister.coachees"
    label = "coachees"
    verbose_name = _("Coachees")
