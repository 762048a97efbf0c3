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

Two encodings. Events written before sealing (services.py) have no MAC and keep the JSON
encoding (`canonical`). Events with a MAC use a cheaper one (`body`): the fields' text joined
by the unit separator 0x1F in a fixed order, the time as whole microseconds since 1970 and
`detail` as sorted compact JSON (empty when empty); no field may hold 0x1F (services.py
refuses it; JSON escapes it), so the bytes name one event only. Their link is
HMAC(key, link(n-1) || "\n" || seq || "\n" || body) and their MAC, written at insert before
any `seq` exists, HMAC(key, "mac\n" || id || "\n" || body). An event's encoding follows from
whether it has a MAC, and both are bound by the keyed link: blanking a MAC changes the
encoding and breaks the link.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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


def _timestamp(value: datetime | str) -> str:
    if isinstance(value, str):  # already in this form (verify's cursor, `_STAMP_SQL`)
        return value
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(values: Mapping[str, Any]) -> bytes:
    payload = {name: values[name] for name in FIELDS}
    if values.get("key_id"):  # keyed events bind their key id; older ones have none
        payload["key_id"] = values["key_id"]
    payload["created_at"] = _timestamp(values["created_at"])
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
SEPARATOR = "\x1f"
# The fields of `body`, in order (`seq` is not one: a MAC is made before the event has one).
BODY_FIELDS = ("created_at", "actor_id", "actor_role", "client_ip", "action", "object_type",
               "object_id", "outcome", "detail", "key_id")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _detail(detail: Any) -> str:
    if isinstance(detail, str):  # the raw column (verify's cursor on PostgreSQL)
        if detail == "{}":
            return ""
        detail = json.loads(detail)
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False) if detail else ""


def body(values: Mapping[str, Any]) -> bytes:
    """The cheap canonical bytes of an event with a MAC (see the module's docstring). With
    `head`, the first eight fields as the database joined them from its columns (verify's
    cursor on PostgreSQL, `_HEAD_SQL`)."""
    head = values.get("head")
    if head is None:
        head = SEPARATOR.join((
            str((values["created_at"] - _EPOCH) // _MICROSECOND),
            _text(values["actor_id"]), values["actor_role"], _text(values["client_ip"]),
            values["action"], values["object_type"], values["object_id"], values["outcome"],
        ))
    return SEPARATOR.join((head, _detail(values["detail"]), values["key_id"])).encode("utf-8")


def mac(event_id: int, values: Mapping[str, Any], key: bytes,
        event_body: bytes | None = None) -> str:
    """The MAC an event gets at insert, before it is sealed: its row id and its body (given
    when the caller has it already)."""
    if event_body is None:
        event_body = body(values)
    return hmac.digest(key, b"mac\n%d\n" % event_id + event_body, "sha256").hex()


def sealed_link(prev_hash: str, seq: int, event_body: bytes, key: bytes) -> str:
    """The link of an event with a MAC, given its body."""
    message = prev_hash.encode("ascii") + b"\n%d\n" % seq + event_body
    return hmac.digest(key, message, "sha256").hex()


def link(prev_hash: str, values: Mapping[str, Any], key: bytes | None = None) -> str:
    """The link of one event: keyed when the event names a chain key (`key` its bytes)."""
    if values.get("mac"):
        if key is None:
            key = chain_key(values["key_id"])
        return sealed_link(prev_hash, values["seq"], body(values), key)
    message = prev_hash.encode("ascii") + b"\n" + canonical(values)
    if values.get("key_id"):
        if key is None:
            key = chain_key(values["key_id"])
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


def listing_digest(pseudonyms: Iterable[str]) -> str:
    """The digest a listing event carries of the pseudonyms it names (services.
    listing_record): SHA-256 over them sorted, joined by the unit separator. The event's
    MAC and link cover it, so the side table's rows are proven by the chain."""
    return hashlib.sha256(SEPARATOR.join(sorted(pseudonyms)).encode()).hexdigest()


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
        head = row.get("head")  # PostgreSQL's cursor joined it (iter_rows): `body`, inline
        if head is not None and row["mac"] and key_id:
            detail = row["detail"]
            message = b"%s\n%d\n%s" % (prev.encode("ascii"), seq, SEPARATOR.join((
                head, "" if detail == "{}" else _detail(detail), key_id)).encode("utf-8"))
            valid = hmac.digest(key_cache[key_id], message, "sha256").hex() == row["hash"]
        else:
            valid = link(prev, row, key_cache.get(key_id)) == row["hash"]
        if not valid:
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


COLUMNS = (*FIELDS, "key_id", "mac", "prev_hash", "hash")

# On PostgreSQL, verify's cursor has the database format what Python would: the time both
# ways (whole microseconds since 1970 for `body`, the JSON encoding's text for `canonical`)
# and the first eight fields of `body` joined, so that no row becomes Python objects first.
# They are still the columns that the pages read: a changed column changes these bytes.
_STAMP_SQL = """to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
_HEAD_SQL = (
    "concat_ws(E'\\x1f', (extract(epoch FROM created_at) * 1000000)::bigint, "
    "coalesce(actor_id::text, ''), actor_role, coalesce(host(client_ip), ''), action, "
    "object_type, object_id, outcome)"
)
_PG_COLUMNS = {**{name: name for name in COLUMNS}, "created_at": _STAMP_SQL,
               "client_ip": "host(client_ip)", "detail": "detail::text", "head": _HEAD_SQL}
# An event with a MAC needs only its head, detail, key id and links: its other columns are in
# the head already, so they cross the wire (and become Python values) only for the older,
# JSON-encoded events.
_PG_COLUMNS = {
    name: sql if name in ("seq", "detail", "key_id", "mac", "prev_hash", "hash") else (
        f"CASE WHEN mac = '' THEN {sql} END" if name != "head" else (
            f"CASE WHEN mac <> '' THEN {sql} END"))
    for name, sql in _PG_COLUMNS.items()
}


def iter_rows(chunk_size: int = 2000) -> Generator[dict[str, Any], None, None]:
    """The sealed events in `seq` order, streamed: close the generator when stopping early,
    before the transaction ends. On PostgreSQL a server-side cursor of plain tuples (no model
    layer, see `_PG_COLUMNS`); elsewhere the ORM's values."""
    from django.db import connection

    from coachregister.audit.models import Event

    if connection.vendor != "postgresql":
        yield from (
            Event.objects.filter(seq__isnull=False).order_by("seq")
            .values(*COLUMNS).iterator(chunk_size=chunk_size)
        )
        return
    names = tuple(_PG_COLUMNS)
    with connection.chunked_cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(_PG_COLUMNS.values())} FROM {Event._meta.db_table} "  # noqa: S608
            "WHERE seq IS NOT NULL ORDER BY seq"  # (fixed names, no input)
        )
        while batch := cursor.fetchmany(chunk_size):
            for row in batch:
                values = dict(zip(names, row, strict=True))
                if not values["mac"]:  # the JSON encoding's detail is the parsed value
                    values["detail"] = json.loads(values["detail"])
                yield values
