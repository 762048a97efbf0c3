"""System checks that keep production from starting without its secrets (art. 6).

E001: no SECRET_KEY; E002: no master key; E003: a malformed master key; E004: mail sent as
plain SMTP to another host; E005: a restore that has not finished (retention/backup.py);
E006: the demo's mail folder (COACHREGISTER_MAIL_DIR) set outside development.
They run before every management command and, through wsgi.py, before gunicorn serves a
request.
"""

from __future__ import annotations

import ipaddress

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
                "('coachregister keys new KID' prints one, e.g. KID 2026-11).",
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


SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def is_loopback(host: str) -> bool:
    """A mail relay on this machine (localhost, 127.0.0.0/8, ::1): the mail leaves the host
    through that relay, which is then the one that must use TLS."""
    host = host.strip().strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@checks.register(checks.Tags.security)
def mail_encrypted(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """Art. 6: the outbox sends coachees' and coaches' mail (portal links, answers) over the
    internet; in production it goes over STARTTLS or implicit TLS, or to a local relay."""
    if not settings.PRODUCTION or settings.EMAIL_BACKEND != SMTP_BACKEND:
        return []
    if settings.EMAIL_USE_TLS or settings.EMAIL_USE_SSL or is_loopback(settings.EMAIL_HOST):
        return []
    return [
        checks.Error(
            "Mail to EMAIL_HOST would be sent as plain SMTP, unencrypted.",
            hint="Set EMAIL_USE_SSL=true (implicit TLS, port 465) or EMAIL_USE_TLS=true "
            "(STARTTLS, port 587), or relay through a mail server on this machine.",
            id="coachregister.E004",
        )
    ]


@checks.register(checks.Tags.security)
def no_mail_folder(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """Art. 6: the demo writes mail into files (settings.COACHREGISTER_MAIL_DIR); those files
    hold single-use portal links and answers to coachees. Outside development a mistaken
    setting would leave them on disk instead of sending them, so it refuses to start."""
    if not settings.COACHREGISTER_MAIL_DIR or settings.ENV == "development":
        return []
    return [
        checks.Error(
            "COACHREGISTER_MAIL_DIR is set outside development.",
            hint="Mail saved as files is for the demo only (COACHREGISTER_ENV=development); "
            "remove COACHREGISTER_MAIL_DIR and send mail over SMTP.",
            id="coachregister.E006",
        )
    ]


RESTORE_MARKER = "restore.pending"


@checks.register(checks.Tags.security)
def no_restore_pending(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """Art. 10.2: while `coachregister restore` puts a backup back, and until it has re-applied
    the rights journal, the database may still hold people who were erased after the backup;
    the restore leaves a marker in the evidence directory until it is done, and nothing serves
    while it is there."""
    from pathlib import Path

    if not (Path(settings.COACHREGISTER_EVIDENCE_DIR) / RESTORE_MARKER).exists():
        return []
    return [
        checks.Error(
            "A restore is in progress or did not finish (restore.pending in the evidence "
            "directory).",
            hint="Wait for 'coachregister restore' to finish. If it failed, empty the database "
            "and run it again; the marker goes once the rights journal has been re-applied.",
            id="coachregister.E005",
        )
    ]


def refuse_to_start_on_errors() -> None:
    serious = [message for message in checks.run_checks() if message.is_serious()]
    if serious:
        lines = "\n".join(f"{m.id}: {m.msg} {m.hint or ''}".strip() for m in serious)
        raise ImproperlyConfigured(f"coachregister refuses to start:\n{lines}")
