"""The chain: canonical encoding, keyed links, and a streaming verifier (art. 6).

link(n) = HMAC-SHA-256( chain key, link(n-1) || "\\n" || canonical(event n) ), with 64 zeros
before event 1. The chain key is a register key (keys/keyring.py): random, wrapped by the
master key, its id recorded in every keyed event (`key_id`, part of the canonical bytes). An
attacker with only the database cannot compute a link, so cannot re-chain what they cut.

Events written before the switch-over to keyed links keep their plain SHA-256 links (re-
chaining them would be the attack itself). The switch-over is the first keyed event; once
seen, every later event must be keyed, and the first anchor (anchors.py) records where it
happened, so a trail re-chained with the old unkeyed function is caught either way.

`seq` runs 1, 2, 3… without gaps, so a deleted, inserted or swapped event, or any changed
field, breaks the chain at a sequence number that `verify` reports. A cut tail leaves a
valid chain behind; the anchors outside the database show it ("truncated after sequence N").

Retention (art. 10, prune.py) removes the oldest whole months. The trail then starts after
sequence N of a signed prune record, and `verify` starts there (`start_seq` N+1,
`start_hash` the recorded link of N) instead of at 1 and the 64 zeros; anchors below the
start can no longer be checked and are skipped.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Generator, Iterable, Mapping
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


def canonical(values: Mapping[str, Any]) -> bytes:
    payload = {name: values[name] for name in FIELDS}
    if values.get("key_id"):  # keyed events bind their key id; older ones have none
        payload["key_id"] = values["key_id"]
    payload["created_at"] = _timestamp(values["created_at"])
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def link(prev_hash: str, values: Mapping[str, Any], key: bytes | None = None) -> str:
    """The link of one event: keyed when the event names a chain key (`key` its bytes)."""
    message = prev_hash.encode("ascii") + b"\n" + canonical(values)
    if values.get("key_id"):
        if key is None:
            key = chain_key(values["key_id"])
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


def chain_key(key_id: str) -> bytes:
    from coachregister.keys import keyring

    return keyring.register_key_by_id(key_id)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    count: int
    broken_at: int | None = None
    reason: str = ""
    head_seq: int = 0
    head_hash: str = GENESIS


def verify(
    rows: Iterable[Mapping[str, Any]],
    *,
    anchored: Mapping[int, str] | None = None,
    keyed_from: int | None = None,
    keys: Callable[[str], bytes] = chain_key,
    start_seq: int = 1,
    start_hash: str = GENESIS,
) -> Verdict:
    """Check rows in `seq` order; reads one row at a time, so memory stays flat.

    `anchored` maps sequence numbers to the hashes that signed checkpoints outside the
    database recorded; `keyed_from` is the switch-over sequence from the first anchor.
    `start_seq` and `start_hash` are where a pruned trail starts: the first row must carry
    that number and link to that hash (a signed prune record says so); anchors below the
    start are skipped."""
    from coachregister.lib.crypto import DecryptionError

    anchored = {seq: h for seq, h in (anchored or {}).items() if seq >= start_seq}
    expected_seq = start_seq
    prev = start_hash
    count = 0
    keyed_seen = False
    key_cache: dict[str, bytes] = {}
    for row in rows:
        seq = row["seq"]
        if seq != expected_seq:
            return Verdict(False, count, expected_seq, "missing or inserted event")
        if row["prev_hash"] != prev:
            return Verdict(False, count, seq, "link to the previous event does not match")
        key_id = row.get("key_id") or ""
        if key_id:
            keyed_seen = True
            if key_id not in key_cache:
                try:
                    key_cache[key_id] = keys(key_id)
                except DecryptionError:
                    return Verdict(False, count, seq, "the event's chain key does not exist")
        elif keyed_seen or (keyed_from is not None and seq >= keyed_from):
            return Verdict(False, count, seq, "an unkeyed event after the switch-over")
        if link(prev, row, key_cache.get(key_id)) != row["hash"]:
            return Verdict(False, count, seq, "event content does not match its hash")
        if seq in anchored and anchored[seq] != row["hash"]:
            return Verdict(False, count, seq, "the event differs from its signed anchor")
        prev = row["hash"]
        expected_seq += 1
        count += 1
    head = expected_seq - 1
    beyond = [seq for seq in anchored if seq > head]
    if beyond:
        return Verdict(
            False, count, head, f"truncated after sequence {head}: anchored sequence "
            f"{max(beyond)} is missing", head, prev,
        )
    return Verdict(True, count, head_seq=head, head_hash=prev)


def iter_rows(chunk_size: int = 2000) -> Generator[dict[str, Any], None, None]:
    """The events in `seq` order, streamed (a server-side cursor on PostgreSQL): close the
    generator when stopping early, before the transaction ends."""
    from coachregister.audit.models import Event

    return (
        Event.objects.order_by("seq")
        .values(*FIELDS, "key_id", "prev_hash", "hash")
        .iterator(chunk_size=chunk_size)
    )
