"""`coachregister retention purge [--dry-run] [--batch-size N]`: the purge of art. 10.2 by hand.

The worker runs the same purge once per Dutch day; this command is for the first run after an
installation or a restore, and for seeing what is due. A dry run lists the pseudonyms due and
destroys nothing; names are never printed. On a terminal a progress bar follows the batches;
otherwise (cron, a log) one summary line.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Retention: 'purge' destroys every coachee past their day (--dry-run lists them)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        purge = sub.add_parser("purge", help="Destroy every coachee whose period has ended.")
        purge.add_argument("--dry-run", action="store_true",
                           help="List the pseudonyms due; destroy nothing.")
        purge.add_argument("--batch-size", type=int, default=50,
                           help="Coachees per transaction (default 50).")

    def handle(self, *args: Any, **options: Any) -> None:
        from coachregister.retention.services import purge_run

        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        if options["dry_run"]:
            result = purge_run(dry_run=True)
            for pseudonym in result.pseudonyms:
                self.stdout.write(pseudonym)
            self.stdout.write(f"{result.due} coachees due; nothing destroyed (dry run)")
            return
        terminal = self.stdout.isatty()
        progress = self._bar if terminal else None
        result = purge_run(batch_size=options["batch_size"], progress=progress)
        if terminal and result.batches:
            self.stdout.write("")  # end the bar's line
        self.stdout.write(
            f"purged {result.purged} of {result.due} coachees in {result.batches} batches"
        )

    def _bar(self, done: int, total: int) -> None:
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        self.stdout.write(
            f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}", ending=""
        )
        self.stdout.flush()
