"""The daily `audit verify`, run by the worker and recorded in the trail itself (art. 6).

Verifying by hand is a promise nobody keeps; the compliance overview (practice/compliance.py)
shows the last outcome instead, and turns red when it failed or when no verify ran for two
days. The checks are the command's own (`coachregister audit verify`): it is called, not
copied, so the daily run can never check less than the operator's.

The outcome is an audit event `audit.verify.daily` with only `ok` and the number of
findings: the findings' texts (sequence numbers, reasons) stay in the operator's command
output. At most one run per Dutch day, claimed under a lock so two workers do not both run
it: a PostgreSQL session advisory lock (workers on several machines), else a file lock in the
evidence directory (one host).
"""

from __future__ import annotations

import contextlib
import io
from datetime import date, datetime, time
from typing import Any

from django.core.management import CommandError, call_command
from django.utils import timezone

from coachregister.lib import claims

ACTION = "audit.verify.daily"
_LOCK_KEY = 0x0A0D_1FE1  # pg advisory lock of the daily verify; not the chain's or retention's


def day_start(day: date) -> datetime:
    """Midnight of a Dutch day, as an aware moment."""
    return timezone.make_aware(datetime.combine(day, time()))


def _claim() -> contextlib.AbstractContextManager[bool]:
    """One run at a time over all workers (lib/claims.py)."""
    return claims.claimed(_LOCK_KEY, "verify")


def _verify() -> tuple[bool, int]:
    """The command's checks (triggers, chain, anchors, prune records). Each line of its
    refusal is one finding; the texts are not kept."""
    try:
        call_command("audit", "verify", stdout=io.StringIO(), stderr=io.StringIO())
    except CommandError as exc:
        return False, max(1, len(str(exc).strip().splitlines()))
    return True, 0


def last_outcome() -> dict[str, Any] | None:
    """The latest daily verify: when, ok, findings (None: it never ran)."""
    from coachregister.audit.models import Event

    event = (Event.objects.filter(action=ACTION, seq__isnull=False).order_by("-seq")
             .values("created_at", "detail").first())  # sealed: a forged row never is
    if event is None:
        return None
    detail = event["detail"] or {}
    return {"at": event["created_at"], "ok": bool(detail.get("ok")),
            "findings": int(detail.get("findings") or 0)}


def verify_daily() -> dict[str, Any] | None:
    """Run `audit verify` once this Dutch day and record its outcome. Returns the outcome,
    or None when it already ran today or another worker holds the run (tried again at the
    next housekeeping)."""
    from coachregister.audit.models import Event
    from coachregister.audit.services import event_record

    start = day_start(timezone.localdate())
    with _claim() as got:
        if not got:
            return None
        if Event.objects.filter(action=ACTION, created_at__gte=start).exists():
            return None
        ok, findings = _verify()
        event_record(action=ACTION, object_type="audit_trail",
                     detail={"ok": ok, "findings": findings})
    return {"ok": ok, "findings": findings}
