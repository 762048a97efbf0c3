"""Signed anchors of the audit trail, kept outside the database (art. 6).

A hash chain shows a changed or removed event in its middle, but a cut tail leaves a shorter
chain that is perfectly valid. So the head is written down elsewhere: `anchor()` appends a
checkpoint (sequence, head hash, time) signed with the evidence key (an HMAC under a register
key, keys/keyring.py) to `anchors.jsonl` in the evidence directory. `audit verify` then
requires every anchored checkpoint to still be in the chain with the same hash; a missing
tail shows as "truncated after sequence N".

The evidence directory belongs on other storage than the database, or is copied off the host
with the backups (README): someone who can rewrite the database must not also be able to
rewrite this file. One process writes it at a time (a file lock): the worker, at least hourly
and right after every erasure, or `coachregister audit anchor`. Once a day the worker mails
the owners the latest anchor's fingerprint, so a cut cannot stay unseen for more than a day
even if the file is lost with the host.

The same file, lock and key carry the signed prune records (retention, prune.py): a trail
may start after sequence 1 only right after one of them.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

EVIDENCE_KEY = "evidence"
ANCHOR_FILE = "anchors.jsonl"
EVERY = timedelta(hours=1)
ERASURE_ACTIONS = ("rights.erasure.carried_out",)


class EvidenceError(ValueError):
    """The evidence file is malformed or a record's signature does not match."""


def evidence_dir() -> Path:
    path = Path(settings.COACHREGISTER_EVIDENCE_DIR)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def _writer() -> Iterator[None]:
    with open(evidence_dir() / "anchors.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _canonical(record: dict[str, Any]) -> bytes:
    body = {k: v for k, v in record.items() if k != "mac"}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("ascii")


def _mac(record: dict[str, Any], key: bytes) -> str:
    return hmac.new(key, _canonical(record), hashlib.sha256).hexdigest()


def _sign(record: dict[str, Any]) -> dict[str, Any]:
    return sign_all([record])[0]


def read_records() -> list[dict[str, Any]]:
    """Every record of the evidence file, each signature checked."""
    from coachregister.keys import keyring
    from coachregister.lib.crypto import DecryptionError

    path = evidence_dir() / ANCHOR_FILE
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(path.read_text(encoding="ascii").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            key = keyring.register_key_by_id(record["key_id"])
        except (ValueError, KeyError, TypeError, DecryptionError):
            raise EvidenceError(f"line {number} of the anchors cannot be read") from None
        if not hmac.compare_digest(str(record.get("mac", "")), _mac(record, key)):
            raise EvidenceError(f"line {number} of the anchors is not signed by this register")
        records.append(record)
    return records


def _append(record: dict[str, Any]) -> dict[str, Any]:
    signed = _sign(record)
    line = json.dumps(signed, sort_keys=True, separators=(",", ":")) + "\n"
    fd = os.open(evidence_dir() / ANCHOR_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, line.encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return signed


def anchors(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r.get("type") == "anchor"]


# --- prune records (retention of the audit trail, art. 10; prune.py) --------------------------


def prunes(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The signed prune records: each says the trail was cut up to `seq`, whose link was
    `hash`; `audit verify` accepts a trail that starts after sequence 1 only after one."""
    return [r for r in records if r.get("type") == "prune"]


def writer() -> contextlib.AbstractContextManager[None]:
    """The evidence file's lock, for a caller that decides and appends as one step."""
    return _writer()


def prune_append(
    *, seq: int, link_hash: str, count: int, before: date, now: datetime
) -> dict[str, Any]:
    """Sign and append a prune record, before the deletion it announces commits: a prune
    that then fails leaves a record whose event is still in the chain, which verifies like
    an anchor. The caller holds `writer()`."""
    return _append({
        "type": "prune", "seq": seq, "hash": link_hash, "count": count,
        "before": before.isoformat(), "time": now.isoformat(),
    })


def fingerprint(record: dict[str, Any]) -> str:
    """A short, readable form of an anchor for the owners' daily mail."""
    digest = hashlib.sha256(f"{record['seq']}:{record['hash']}".encode("ascii")).hexdigest()
    return "-".join(digest[i : i + 4] for i in range(0, 16, 4))


def _head() -> tuple[int, str] | None:
    from coachregister.audit.models import Event

    last = (Event.objects.filter(seq__isnull=False).order_by("-seq")
            .values_list("seq", "hash").first())  # sealed events only (services.py)
    return (last[0] or 0, last[1]) if last else None


def anchor(now: datetime | None = None) -> dict[str, Any] | None:
    """Append a checkpoint of the current head unless the last one already covers it."""
    from coachregister.audit.models import Event

    now = now or timezone.now()
    with _writer():
        head = _head()
        # After a restore to an older head, the anchors of the replaced chain no longer
        # count: the restored chain is anchored again from its own head on.
        existing = anchors(in_force(read_records())[0])
        if head is None or (existing and existing[-1]["seq"] >= head[0]):
            return None
        record: dict[str, Any] = {
            "type": "anchor", "seq": head[0], "hash": head[1], "time": now.isoformat(),
        }
        if not existing:  # the switch-over to keyed links, recorded once
            first = (
                Event.objects.exclude(key_id="").order_by("seq").values_list("seq", flat=True)
            ).first()
            record["keyed_from"] = first if first is not None else head[0] + 1
        return _append(record)


def worker_tick(
    now: datetime | None = None, *, send: Callable[..., object] | None = None
) -> dict[str, Any] | None:
    """The worker's pass: anchor when an hour has gone by or an erasure happened since the
    last anchor; then, with `send` (the outbox's enqueue, passed in so the audit app does not
    import the outbox), the daily digest to the owners. Returns the anchor written, if any."""
    from coachregister.audit.models import Event

    now = now or timezone.now()
    records = in_force(read_records())[0]
    last = anchors(records)[-1] if anchors(records) else None
    head = _head()
    written = None
    if head is not None and (last is None or head[0] > last["seq"]):
        erased_since = Event.objects.filter(
            seq__gt=last["seq"] if last else 0, action__in=ERASURE_ACTIONS
        ).exists()
        if last is None or erased_since or now - datetime.fromisoformat(last["time"]) >= EVERY:
            written = anchor(now)
    if send is not None:
        _digest(now, send)
    return written


def _digest(now: datetime, send: Callable[..., object]) -> None:
    """Once a Dutch day: the owners get the latest anchor's fingerprint (no personal data)."""
    from django.contrib.auth import get_user_model
    from django.utils.translation import gettext as _
    from django.utils.translation import override

    today = timezone.localdate(now).isoformat()
    with _writer():
        records = read_records()
        if any(r.get("type") == "digest" and r.get("date") == today for r in records):
            return
        found = anchors(in_force(records)[0])
        if not found:
            return
        latest = found[-1]
        owners = get_user_model().objects.filter(role="owner", is_active=True)
        with override("nl"):
            subject = _("Audit trail: today's checkpoint")
            body = _(
                "The audit trail's latest signed checkpoint is sequence %(seq)d, fingerprint "
                "%(fingerprint)s.\n\nKeep this mail. If `coachregister audit verify` ever "
                "reports fewer events than this, the trail has been cut."
            ) % {"seq": latest["seq"], "fingerprint": fingerprint(latest)}
        for owner in owners:
            if owner.email:
                send(kind="audit_digest", to=owner.email, subject=subject, body=body)
        _append({"type": "digest", "date": today, "seq": latest["seq"]})


# --- signing for the other evidence files (the rights journal) --------------------------------


def sign(record: dict[str, Any]) -> dict[str, Any]:
    """The record with the evidence key's id and MAC, as every evidence line carries them."""
    return _sign(record)


def sign_all(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`sign` for several records, the key read once."""
    from coachregister.keys import keyring

    key_id, key = keyring.register_key(EVIDENCE_KEY)
    keyed = [{**record, "key_id": key_id} for record in records]
    return [{**record, "mac": _mac(record, key)} for record in keyed]


def verify_signature(record: dict[str, Any]) -> None:
    """Raise `EvidenceError` unless the record was signed by this register's evidence key."""
    from coachregister.keys import keyring
    from coachregister.lib.crypto import DecryptionError

    try:
        key = keyring.register_key_by_id(str(record["key_id"]))
    except (KeyError, DecryptionError):
        raise EvidenceError("not signed by a key of this register") from None
    if not hmac.compare_digest(str(record.get("mac", "")), _mac(record, key)):
        raise EvidenceError("the signature does not match")


# --- restore records (backup and restore, art. 10.2; retention/backup.py) ---------------------


def restores(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The signed restore records: each says the database was put back to a backup whose
    head was `backup_head_seq` (link `backup_head_hash`) at `time`; anchors above that
    sequence written before the record belong to the chain the restore replaced."""
    return [r for r in records if r.get("type") == "restore"]


def restore_append(
    *, backup: str, head_seq: int, head_hash: str, now: datetime
) -> dict[str, Any]:
    """Sign and append a restore record under the evidence file's lock, right after the
    restored database is in place (before anything new is written to its trail)."""
    with _writer():
        return _append({
            "type": "restore", "backup": backup, "backup_head_seq": head_seq,
            "backup_head_hash": head_hash, "time": now.isoformat(),
        })


def in_force(records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The records that still speak for the chain in the database, and how many anchors a
    restore superseded. A restore record R puts the chain back to the backup's head: every
    anchor or prune record *before* R in the file with a sequence above R's head belongs to
    the chain the restore replaced. A cut without a restore record after it stays a cut."""
    kept: list[dict[str, Any]] = []
    superseded = 0
    for record in records:
        if record.get("type") == "restore":
            head = int(record["backup_head_seq"])
            before = len(kept)
            kept = [
                r for r in kept
                if r.get("type") not in ("anchor", "prune") or r["seq"] <= head
            ]
            superseded += before - len(kept)
        kept.append(record)
    return kept, superseded


def checkpoints(records: list[dict[str, Any]]) -> dict[int, str]:
    """Sequence -> hash of every signed checkpoint in force: anchors, prune records, and the
    restored heads of restore records."""
    points = {r["seq"]: r["hash"] for r in records if r.get("type") in ("anchor", "prune")}
    points.update({
        int(r["backup_head_seq"]): r["backup_head_hash"]
        for r in records if r.get("type") == "restore" and int(r["backup_head_seq"]) > 0
    })
    return points
