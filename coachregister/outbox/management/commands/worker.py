"""`coachregister worker`: answers queued portal-link look-ups, sends the outbox and the
deadline reminders of requests, anchors the audit trail in the evidence directory (hourly,
and right after an erasure) with a daily digest to the owners, and every few minutes keeps
the keys (new epoch, re-keying, destroying expired epochs) and wipes failed mail after its
period.

Several workers may run at once, on one or more machines: each message is claimed by one; the
key directory is locked for each epoch change.
"""

from __future__ import annotations

import logging
import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from coachregister.audit.anchors import worker_tick as anchor_tick
from coachregister.audit.daily import verify_daily
from coachregister.audit.prune import prune_tick
from coachregister.audit.services import seal as audit_seal
from coachregister.complaints.services import files_shred_due
from coachregister.complaints.services import remind_deadlines as remind_complaints
from coachregister.incidents.services import warn_deadlines as warn_incidents
from coachregister.lib import physical
from coachregister.middleware import restore_pending
from coachregister.outbox import services
from coachregister.practice.record import snapshot_if_changed as record_snapshot_if_changed
from coachregister.retention.others import daily_run
from coachregister.retention.services import epochs_maintain
from coachregister.rights.inquiries import inquiries_process
from coachregister.rights.portal import lookups_process
from coachregister.rights.services import remind_deadlines

HOUSEKEEPING_SECONDS = 600
logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Send queued email with retries; --once to run a single pass."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="One pass, then stop.")
        parser.add_argument("--interval", type=float, default=5.0, help="Seconds between passes.")

    def handle(self, *args: Any, **options: Any) -> None:
        worker = services.worker_name()
        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        # Put the previous handlers back when done: run in-process (call_command), the
        # caller would otherwise no longer stop on SIGINT/SIGTERM.
        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        housekept = 0.0
        retention_day = None  # the Dutch day of this worker's last retention pass
        try:
            while True:
                if restore_pending():  # a restore began after this worker started
                    if options["once"] or stopping:
                        return
                    time.sleep(options["interval"])
                    continue
                if time.monotonic() - housekept >= HOUSEKEEPING_SECONDS or options["once"]:
                    physical.checkpoint_quietly()  # a WAL truncation owed by a busy moment
                    epochs_maintain()
                    services.failed_wipe()
                    prune_tick()  # audit events past their retention, whole months (art. 10)
                    # GDPR 30: a dated record when it changes. Art. 6: `audit verify` once
                    # per Dutch day, as an event. Neither may stop the mail: a failure is
                    # logged (its type only) and shows on the compliance overview, which
                    # turns red when no verify was recorded for two days.
                    for job in (record_snapshot_if_changed, verify_daily):
                        try:
                            job()
                        except Exception as exc:
                            logger.error("worker: %s failed (%s)", job.__name__,
                                         type(exc).__name__)
                    # Once per Dutch day (art. 10): the purge, mailbox tasks, business
                    # contacts, staff accounts, paper-dossier reminders. Idempotent, under a
                    # lock; None while another worker runs it (tried again next time).
                    # GDPR art. 17(3)(e): complaint files kept after an erasure, past
                    # their legal-claims period (idempotent, each claimed under a lock).
                    files_shred_due()
                    if retention_day != timezone.localdate() and daily_run() is not None:
                        retention_day = timezone.localdate()
                    housekept = time.monotonic()
                remind_deadlines()  # idempotent: each reminder is claimed once
                remind_complaints()  # art. 4.1d: complaints' dates, each claimed once
                warn_incidents()  # GDPR 33(1): 24 h, 48 h, overdue; each claimed once
                lookups_process()  # portal links: queued look-ups, each claimed once
                inquiries_process()  # art. 7.1: anyone's questions, matched and expired
                audit_seal()  # events their writers left pending (audit/services.py)
                # Under a file lock: one writer of the evidence at a time.
                anchor_tick(send=services.message_enqueue)
                sent = services.send_due(worker)
                if options["once"]:
                    self.stdout.write(f"sent {sent}")
                    return
                if stopping:
                    return
                time.sleep(options["interval"])
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
