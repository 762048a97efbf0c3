from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KeysConfig(AppConfig):
    name = "coachregister.keys"
    label = "keys"
    verbose_name = _("Keys")
