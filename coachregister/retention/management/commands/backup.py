"""`coachregister backup DIR` (art. 6, 10.2): an encrypted, consistent backup into DIR, then the
backups older than COACHREGISTER_BACKUP_AGE_DAYS are removed from DIR (retention/backup.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from coachregister.retention import backup


class Command(BaseCommand):
    help = (
        "Write an encrypted backup of the register (database and key epochs) into DIR and "
        "remove the backups in DIR older than the backup age. Copy DIR and the evidence "
        "directory off the host."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", metavar="DIR", help="Where the backups are kept.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = backup.backup_create(Path(options["directory"]))
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            _("Backup written: %(name)s (%(size)d bytes, audit head %(seq)d, %(epochs)d key "
              "epochs).")
            % {"name": result.path.name, "size": result.path.stat().st_size,
               "seq": result.manifest["audit_head"]["seq"],
               "epochs": len(result.manifest["epochs"])}
        )
        for name in result.pruned:
            self.stdout.write(_("Removed the expired backup %(name)s.") % {"name": name})
