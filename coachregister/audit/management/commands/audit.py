"""`coachregister audit verify|anchor` (art. 6).

`verify` checks the append-only triggers' definitions, every link of the chain (keyed after
the switch-over), and that every signed anchor in the evidence directory is still in the
chain with the same hash; it exits non-zero on any finding. `anchor` writes a checkpoint now.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils.translation import gettext as _

from coachregister.audit import anchors, chain, triggers


class Command(BaseCommand):
    help = "Audit trail: 'verify' checks triggers, chain and anchors; 'anchor' signs the head."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("verify", help="Verify triggers, chain and anchors; non-zero when broken.")
        sub.add_parser("anchor", help="Append a signed checkpoint of the head to the evidence.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "anchor":
            record = anchors.anchor()
            if record is None:
                self.stdout.write(_("Nothing new to anchor."))
            else:
                self.stdout.write(
                    _("Anchored sequence %(seq)d, fingerprint %(fingerprint)s.")
                    % {"seq": record["seq"], "fingerprint": anchors.fingerprint(record)}
                )
            return
        self._verify()

    def _verify(self) -> None:
        findings = triggers.problems(connection)
        try:
            found = anchors.anchors(anchors.read_records())
        except anchors.EvidenceError as exc:
            raise CommandError(_("BROKEN: the evidence file: %(problem)s.") % {
                "problem": exc}) from None
        verdict = chain.verify(
            chain.iter_rows(),
            anchored={record["seq"]: record["hash"] for record in found},
            keyed_from=found[0].get("keyed_from") if found else None,
        )
        broken = []
        if not verdict.ok:
            broken.append(
                _("BROKEN at event %(seq)d: %(reason)s (%(count)d events before it verified).")
                % {"seq": verdict.broken_at, "reason": verdict.reason, "count": verdict.count}
            )
        if findings:
            broken.append(_("BROKEN: the append-only protection: %(problems)s.") % {
                "problems": "; ".join(findings)})
        if broken:
            raise CommandError("\n".join(broken))
        self.stdout.write(_("OK: %(count)d events, chain intact.") % {"count": verdict.count})
        if found:
            self.stdout.write(
                _("%(anchors)d anchors match; the latest is sequence %(seq)d, fingerprint "
                  "%(fingerprint)s.")
                % {"anchors": len(found), "seq": found[-1]["seq"],
                   "fingerprint": anchors.fingerprint(found[-1])}
            )
        else:
            self.stdout.write(_("No anchor yet: a cut tail could not be seen until the worker "
                                "anchors the trail."))
