"""System checks that keep production from starting without its secrets (art. 6).

E001: no SECRET_KEY; E002: no master key; E003: a malformed master key. They run before every
management command and, through wsgi.py, before gunicorn serves a request.
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from coachregister.lib.crypto import MasterKeyError, parse_master_keys


@checks.register(checks.Tags.security)
def secrets_present(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    if settings.PRODUCTION and settings.SECRET_KEY_MISSING:
        errors.append(
            checks.Error(
                "SECRET_KEY is not set.",
                hint="Set SECRET_KEY or SECRET_KEY_FILE; production does not start without it.",
                id="coachregister.E001",
            )
        )
    if not settings.COACHREGISTER_MASTER_KEY:
        errors.append(
            checks.Error(
                "COACHREGISTER_MASTER_KEY is not set.",
                hint="Set COACHREGISTER_MASTER_KEY or COACHREGISTER_MASTER_KEY_FILE "
                "('coachregister keys new' prints one).",
                id="coachregister.E002",
            )
        )
    else:
        try:
            parse_master_keys(settings.COACHREGISTER_MASTER_KEY)
        except MasterKeyError as exc:
            errors.append(
                checks.Error(
                    f"COACHREGISTER_MASTER_KEY is malformed: {exc}.",
                    id="coachregister.E003",
                )
            )
    return errors


def refuse_to_start_on_errors() -> None:
    serious = [message for message in checks.run_checks() if message.is_serious()]
    if serious:
        lines = "\n".join(f"{m.id}: {m.msg} {m.hint or ''}".strip() for m in serious)
        raise ImproperlyConfigured(f"coachregister refuses to start:\n{lines}")
