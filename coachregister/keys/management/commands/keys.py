"""`coachregister keys new|status|rotate|epochs`: the register's keys (art. 6).

`new` and `status` run without any key configured (the first step of an installation is to
make one). Rotation: put a new master key first in COACHREGISTER_MASTER_KEY, keep the old one
after it, restart, run `coachregister keys rotate`, then remove the old key once the backups
made before the rotation have aged out (README). Only the epoch keys and the register keys are
re-wrapped; data keys and contact details are not touched.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from coachregister.lib.crypto import MasterKeyError, new_master_key, parse_master_keys


class Command(BaseCommand):
    help = (
        "Keys: 'new KID' prints a fresh master key; 'status' lists the keys without showing "
        "them; 'rotate' re-wraps under the first master key; 'epochs' runs the epoch pass."
    )
    # `new` and `status` must work before any key exists; the others check for themselves.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        new = sub.add_parser("new", help="Print a new master key for the setting.")
        new.add_argument("kid", help="A key id, e.g. 2026-11")
        sub.add_parser("status", help="Master key ids, epochs and the erasure bound.")
        sub.add_parser("rotate", help="Re-wrap the epoch and register keys under the first key.")
        sub.add_parser("epochs", help="Start a due epoch, re-key, destroy expired epochs.")

    def handle(self, *args: Any, **options: Any) -> None:
        command = options["subcommand"]
        if command == "new":
            try:
                self.stdout.write(new_master_key(options["kid"]))
            except MasterKeyError as exc:
                raise CommandError(str(exc)) from None
            return
        if command == "status":
            self._status()
            return
        self.check(display_num_errors=False)  # the keys must be there from here on
        from coachregister.audit.services import event_record
        from coachregister.keys import keyring

        if command == "rotate":
            count = keyring.rotate_master()
            kid = keyring.current_master().kid
            event_record(
                action="keys.master.rotated", object_type="master_key", object_id=kid,
                detail={"rewrapped": count},
            )
            self.stdout.write(f"re-wrapped {count} keys under {kid}")
            return
        from coachregister.retention.services import epochs_maintain

        self.stdout.write(" ".join(f"{k}={v}" for k, v in epochs_maintain().items()))

    def _status(self) -> None:
        from coachregister.keys import keyring

        try:
            kids = [key.kid for key in parse_master_keys(settings.COACHREGISTER_MASTER_KEY)]
        except MasterKeyError as exc:
            kids = []
            self.stdout.write(f"master keys: none usable ({exc})")
        if kids:
            self.stdout.write(f"master keys: {', '.join(kids)} (current: {kids[0]})")
        self.stdout.write(f"key directory: {settings.COACHREGISTER_KEY_DIR}")
        for epoch in keyring.living_epochs():
            vacated = f", unused since {epoch.vacated_at:%Y-%m-%d}" if epoch.vacated_at else ""
            self.stdout.write(
                f"epoch {epoch.id}: since {epoch.created_at:%Y-%m-%d}, "
                f"wrapped by {epoch.master_kid}{vacated}"
            )
        self.stdout.write(
            f"an erased person's data opens from no copy after {keyring.erasure_bound_days()} "
            f"days (epoch {keyring.epoch_days()} + backup age {keyring.backup_age_days()} + 1)"
        )
