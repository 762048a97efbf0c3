"""`coachregister audit verify`: check the whole hash chain, streaming (art. 6)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from coachregister.audit import chain


class Command(BaseCommand):
    help = "Audit trail tools. 'verify' checks the hash chain of every event."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("verify", help="Verify the hash chain; exits non-zero when broken.")

    def handle(self, *args: Any, **options: Any) -> None:
        verdict = chain.verify(chain.iter_rows())
        if verdict.ok:
            self.stdout.write(_("OK: %(count)d events, chain intact.") % {"count": verdict.count})
            return
        raise CommandError(
            _("BROKEN at event %(seq)d: %(reason)s (%(count)d events before it verified).")
            % {"seq": verdict.broken_at, "reason": verdict.reason, "count": verdict.count}
        )
