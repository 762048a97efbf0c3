from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

# Register keys that sign what lives outside the database must exist before any transaction
# uses them: made lazily inside a transaction that then rolls back (a crash), a key would be
# gone while a line it signed stays in the evidence directory.
DURABLE_KEYS = ("audit_chain", "evidence")


def ensure_register_keys(using: str = "default", **kwargs: Any) -> None:
    from django.conf import settings
    from django.db import connections

    from coachregister.keys import keyring

    if not settings.COACHREGISTER_MASTER_KEY or "keys_registerkey" not in (
        connections[using].introspection.table_names()
    ):
        return
    for purpose in DURABLE_KEYS:
        keyring.register_key(purpose)


class KeysConfig(AppConfig):
    name = "coachregister.keys"
    label = "keys"
    verbose_name = _("Keys")

    def ready(self) -> None:
        post_migrate.connect(ensure_register_keys, sender=self)
