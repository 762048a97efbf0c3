from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "coachregister.audit"
    label = "audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        from coachregister.audit import triggers

        # The triggers are created by migration 0002; this puts them back if anything (a
        # restore, a flush in a test harness) removed them. Installing is idempotent.
        post_migrate.connect(triggers.reinstall_after_migrate, sender=self)
