"""`coachregister audit verify|anchor|prune` (art. 6, art. 10).

`verify` checks the append-only triggers' definitions, every link of the chain (keyed after
the switch-over), and that every signed anchor in the evidence directory is still in the
chain with the same hash; it reports the events waiting to be sealed (services.py), with
their number and age, and counts as findings one without a valid MAC or one waiting longer
than ten minutes; it exits non-zero on any finding. A trail that starts after
sequence 1 is accepted only right after a signed prune record (its sequence and hash), which
it names. `anchor` writes a checkpoint now. `prune [--dry-run]` removes, by hand, the whole
months that have passed the retention period (the worker does so by itself; prune.py).
"""

from __future__ import annotations

import itertools
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from coachregister.audit import anchors, chain, listings, prune, services, triggers


class Command(BaseCommand):
    help = "Audit trail: 'verify' checks triggers, chain and anchors; 'anchor' signs the head."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("verify", help="Verify triggers, chain and anchors; non-zero when broken.")
        sub.add_parser("anchor", help="Append a signed checkpoint of the head to the evidence.")
        pruning = sub.add_parser(
            "prune", help="Remove the whole months older than the retention period."
        )
        pruning.add_argument(
            "--dry-run", action="store_true", help="Only say what would be removed."
        )

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
        if options["subcommand"] == "prune":
            self._prune(dry_run=options["dry_run"])
            return
        self._verify()

    def _prune(self, *, dry_run: bool) -> None:
        before = prune.cutoff()
        plan = prune.prune_plan(before=before)
        if plan is not None and not dry_run:
            plan = prune.events_prune(before=before)
        if plan is None:
            self.stdout.write(
                _("Nothing has expired: audit events are kept %(years)d years.")
                % {"years": prune.audit_years()}
            )
        elif dry_run:
            self.stdout.write(
                _("Would remove %(count)d events, up to sequence %(seq)d (the months before "
                  "%(month)s).")
                % {"count": plan.count, "seq": plan.upto_seq,
                   "month": before.strftime("%Y-%m")}
            )
        else:
            assert plan.record is not None
            self.stdout.write(
                _("Removed %(count)d events, up to sequence %(seq)d; signed prune record, "
                  "fingerprint %(fingerprint)s.")
                % {"count": plan.count, "seq": plan.upto_seq,
                   "fingerprint": anchors.fingerprint(plan.record)}
            )

    def _verify(self) -> None:
        findings = triggers.problems(connection)
        try:
            records = anchors.read_records()
        except anchors.EvidenceError as exc:
            raise CommandError(_("BROKEN: the evidence file: %(problem)s.") % {
                "problem": exc}) from None
        records, superseded = anchors.in_force(records)
        restored = anchors.restores(records)
        found = anchors.anchors(records)
        pruned = anchors.prunes(records)
        rows = chain.iter_rows()
        try:  # close the server-side cursor now, not whenever the generator is collected
            first = next(rows, None)
            start = _start(pruned, first["seq"] if first is not None else None)
            # Prune records check like anchors: one whose deletion never committed still
            # names an event of the chain.
            anchored = anchors.checkpoints(records)
            verdict = chain.verify(
                itertools.chain([first] if first is not None else [], rows),
                anchored=anchored,
                keyed_from=found[0].get("keyed_from") if found else None,
                start_seq=start["seq"] + 1 if start else 1,
                start_hash=start["hash"] if start else chain.GENESIS,
            )
        finally:
            rows.close()
        if verdict.ok and first is None and start:  # a prune always leaves its own event
            verdict = chain.Verdict(
                False, 0, start["seq"] + 1,
                f"truncated after sequence {start['seq']}: the prune's own event is missing",
            )
        found = [record for record in found if not start or record["seq"] > start["seq"]]
        broken = []
        if not verdict.ok:
            broken.append(
                _("BROKEN at event %(seq)d: %(reason)s (%(count)d events before it verified).")
                % {"seq": verdict.broken_at, "reason": verdict.reason, "count": verdict.count}
            )
        if findings:
            broken.append(_("BROKEN: the append-only protection: %(problems)s.") % {
                "problems": "; ".join(findings)})
        listed = listings.problems()
        if listed:
            broken.append(_("BROKEN: the listed pseudonyms: %(problems)s.") % {
                "problems": "; ".join(listed)})
        waiting = services.pending()
        if waiting.forged:
            broken.append(ngettext(
                "BROKEN: %(count)d unsealed event has no valid MAC: it was not written by "
                "this register and is never sealed.",
                "BROKEN: %(count)d unsealed events have no valid MAC: they were not written by "
                "this register and are never sealed.", waiting.forged) % {
                    "count": waiting.forged})
        if waiting.overdue(timezone.now()):
            broken.append(_(
                "BROKEN: an event has waited more than %(minutes)d minutes to be sealed: is "
                "the worker running?") % {"minutes": services.SEAL_LIMIT.seconds // 60})
        if broken:
            raise CommandError("\n".join(broken))
        self.stdout.write(_("OK: %(count)d events, chain intact.") % {"count": verdict.count})
        if waiting.count:
            assert waiting.oldest is not None
            self.stdout.write(ngettext(
                "%(count)d event waits to be sealed, the oldest since %(time)s.",
                "%(count)d events wait to be sealed, the oldest since %(time)s.",
                waiting.count) % {"count": waiting.count,
                                  "time": waiting.oldest.isoformat(timespec="seconds")})
        if start:
            self.stdout.write(
                _("The trail starts after the signed prune record of %(time)s: %(count)d "
                  "events up to sequence %(seq)d removed, fingerprint %(fingerprint)s.")
                % {"time": start["time"], "count": start["count"], "seq": start["seq"],
                   "fingerprint": anchors.fingerprint(start)}
            )
        for record in restored:
            self.stdout.write(
                _("Restored from %(backup)s (head %(seq)d) at %(time)s; anchors of the "
                  "replaced chain superseded: %(superseded)d.")
                % {"backup": record["backup"], "seq": record["backup_head_seq"],
                   "time": record["time"], "superseded": superseded}
            )
        if found:
            self.stdout.write(
                _("%(anchors)d anchors match; the latest is sequence %(seq)d, fingerprint "
                  "%(fingerprint)s.")
                % {"anchors": len(found), "seq": found[-1]["seq"],
                   "fingerprint": anchors.fingerprint(found[-1])}
            )
        elif not restored:
            self.stdout.write(_("No anchor yet: a cut tail could not be seen until the worker "
                                "anchors the trail."))


def _start(pruned: list[dict[str, Any]], first_seq: int | None) -> dict[str, Any] | None:
    """The prune record the remaining trail starts after: the one that ends right before its
    first event. With none, the trail must start at 1, or, when it is empty, after the latest
    prune (so deleting the rest shows as a cut). Otherwise the latest record is the start and
    `chain.verify` reports the gap: events were deleted without a signed record."""
    if first_seq == 1:
        return None
    for record in reversed(pruned):
        if first_seq is not None and record["seq"] == first_seq - 1:
            return record
    return pruned[-1] if pruned else None
