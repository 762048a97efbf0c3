"""`coachregister keys new|rotate`: master keys for the identity vault (art. 6).

Rotation: put a new key first in COACHREGISTER_MASTER_KEY, keep the old one after it, restart,
run `coachregister keys rotate`, then remove the old key. The register stays in use the
whole time; only the data keys are re-wrapped, contact details are not decrypted.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coachregister.audit.services import event_record
from coachregister.coachees import vault
from coachregister.lib.crypto import MasterKeyError, new_master_key


class Command(BaseCommand):
    help = "Master keys: 'new KID' prints a fresh key; 'rotate' re-wraps every data key."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        new = sub.add_parser("new", help="Print a new master key for the setting.")
        new.add_argument("kid", help="A key id, e.g. 2026-11")
        sub.add_parser("rotate", help="Re-wrap all data keys under the first master key.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "new":
            try:
                self.stdout.write(new_master_key(options["kid"]))
            except MasterKeyError as exc:
                raise CommandError(str(exc)) from None
            return
        count = vault.rotate()
        event_record(
            action="coachees.keys.rotated", object_type="master_key",
            object_id=vault.current_master().kid, detail={"rewrapped": count},
        )
        self.stdout.write(f"re-wrapped {count} keys under {vault.current_master().kid}")
