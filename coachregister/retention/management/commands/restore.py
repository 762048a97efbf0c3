"""`coachregister restore FILE` (art. 10.2): a backup back into an empty database, then the
rights journal re-applied before anything is served (retention/backup.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from coachregister.retention import backup


class Command(BaseCommand):
    help = (
        "Restore a backup into the configured database, which must be empty; stop the web "
        "server and the worker first (an SQLite database must not be open anywhere else). "
        "Every erasure, correction, restriction and withdrawal made since the backup is "
        "carried out again before the register serves (check E005 refuses until then)."
    )
    # The restore itself clears check E005 (restore.pending), so it must run while it fails.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", help="The backup file.")
        parser.add_argument(
            "--journal-lost", action="store_true",
            help="Restore although the rights journal in the evidence directory is missing or "
            "shorter than when the backup was made. Rights exercised since the backup may then "
            "be undone; the owners are told so.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("There is no backup file %(name)s.") % {"name": path.name})
        try:
            result = backup.restore(
                path, journal_lost=options["journal_lost"], out=self.stdout.write
            )
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            _("Restored %(name)s (made %(time)s, audit head %(seq)d); %(count)d effects of the "
              "rights journal re-applied, %(epochs)d key epochs put back.")
            % {"name": result.name, "time": result.manifest["time"],
               "seq": result.manifest["audit_head"]["seq"], "count": result.reapplied,
               "epochs": result.epochs_restored}
        )
        if result.journal_short:
            self.stdout.write(self.style.WARNING(
                _("The rights journal was missing or short: rights exercised since the backup "
                  "may have been undone. The owners have been mailed.")
            ))
        if result.pending:
            self.stdout.write(
                _("%(count)d journalled actions never finished; check each of them:")
                % {"count": len(result.pending)}
            )
            for entry in result.pending:
                self.stdout.write(f"  {entry.time.isoformat(timespec='seconds')}  "
                                  f"{entry.effect}  {entry.pseudonym}  ({entry.id})")
