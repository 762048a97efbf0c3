from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotesConfig(AppConfig):
    name = "coachregister.notes"
    label = "notes"
    verbose_name = _("Session keywords")
