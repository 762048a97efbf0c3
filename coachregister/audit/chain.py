"""The hash chain: canonical encoding, hashing, and a streaming verifier (art. 6).

hash(n) = SHA-256( hash(n-1) || "\\n" || canonical(event n) ), with 64 zeros before event 1.
`seq` runs 1, 2, 3… without gaps, so a deleted, inserted or swapped event, or any changed
field, breaks the chain at a sequence number that `verify` reports.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64

# The fields that the hash covers, in the order of the canonical encoding.
FIELDS = (
    "seq",
    "created_at",
    "actor_id",
    "actor_role",
    "client_ip",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "detail",
)


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(values: dict[str, Any]) -> bytes:
    payload = {name: values[name] for name in FIELDS}
    payload["created_at"] = _timestamp(values["created_at"])
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def link(prev_hash: str, values: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical(values)).hexdigest()


@dataclass(frozen=True)
class Verdict:
    ok: bool
    count: int
    broken_at: int | None = None
    reason: str = ""


def verify(rows: Iterable[dict[str, Any]]) -> Verdict:
    """Check rows in `seq` order; reads one row at a time, so memory stays flat."""
    expected_seq = 1
    prev = GENESIS
    count = 0
    for row in rows:
        seq = row["seq"]
        if seq != expected_seq:
            return Verdict(False, count, expected_seq, "missing or inserted event")
        if row["prev_hash"] != prev:
            return Verdict(False, count, seq, "link to the previous event does not match")
        if link(prev, row) != row["hash"]:
            return Verdict(False, count, seq, "event content does not match its hash")
        prev = row["hash"]
        expected_seq += 1
        count += 1
    return Verdict(True, count)


def iter_rows(chunk_size: int = 2000) -> Iterator[dict[str, Any]]:
    from coachregister.audit.models import Event

    return (
        Event.objects.order_by("seq")
        .values(*FIELDS, "prev_hash", "hash")
        .iterator(chunk_size=chunk_size)
    )
