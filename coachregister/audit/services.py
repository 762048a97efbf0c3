"""Writing audit events. Call `event_record` inside the transaction of the action it records.

The append path (art. 6) keeps two promises: an event commits with its action or not at
all, and the trail is one keyed, hash-chained order that `audit verify` proves against its
anchors. It does so without making every audited request wait for one lock:

- A writer inserts its events with a MAC under the chain key over the row id and the
  event's body (chain.mac; the ids come from the table's own sequence first). It then tries
  the sequencer's lock without waiting (a transaction-scoped advisory lock on PostgreSQL;
  SQLite's write lock, taken at BEGIN, is always held). With the lock it seals at once: it
  links the pending events that others committed, then its own, from the sealed head.
  Without the lock it leaves its events unsealed (`seq`, `prev_hash`, `hash` empty) and
  commits: nobody waits on a flush but the sealer.
- Sealing (`seal_pending`, by the next writer that gets the lock and by the worker's
  `seal()` every pass) reads the committed unsealed events oldest row first, checks each
  MAC, and gives the valid ones the next `seq` and their links in one UPDATE per event. The
  order is commit order as the sealer sees it: everything committed before a sealing pass
  comes before everything committed after it (a serial id is not commit order on
  PostgreSQL, so the id orders only events that one pass finds together). A later commit
  never gets a place before a sealed event.
- The triggers (triggers.py) allow exactly this update: an unsealed event with a MAC gets
  its `seq` and links and nothing else changes. Every other UPDATE and every DELETE outside
  a prune is refused.

A page that shows several coachees' names is one event (`listing_record`): the number of
names and a digest of their pseudonyms in its detail, the pseudonyms themselves one row each
in the side table `Listed`, which the readers of the trail join (who saw my data, the access
copy, an incident's scope, the engagement report) and `audit verify` proves against the
digest (listings.py).

Failure cases:
- A writer that crashes or rolls back between insert and commit: its events vanish with its
  action; nothing was sealed, so no number is lost. If it held the lock and had sealed
  others' events, that sealing rolls back too and they stay pending for the next sealer.
- A sequencer that crashes mid-pass: its transaction rolls back; the events stay pending.
- Two sequencers: the lock admits one; the other skips (a writer) or waits for the next
  pass (the worker). The unique `seq` refuses a fork even without the lock.
- A forged unsealed row (someone with database access only: no chain key, so no valid MAC,
  and a copied MAC fails on another row id): never sealed. `audit verify` reports it, with
  the count and age of all pending events; the compliance overview turns red when a
  pending event is older than ten minutes (SEAL_LIMIT).
- A worker that is down: events stay pending, and are shown in the pages that read them,
  until a writer or the worker seals them; anchors and prune records name sealed events
  only.
- Someone with full database rights who drops the triggers can turn sealed events back into
  pending ones (their MACs still hold) and delete one of them; the sequencer then links the
  rest again. Like a cut tail, this reaches only past the latest signed anchor: an anchored
  sequence number whose link changed fails `audit verify`. The anchors (hourly and after
  every erasure, anchors.py) bound that window.
"""

from __future__ import annotations

import contextlib
import hmac
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.utils import timezone

from coachregister.audit import chain
from coachregister.audit.models import Event, Outcome
from coachregister.keys import keyring
from coachregister.lib import request_memo

if TYPE_CHECKING:
    from django.http import HttpRequest

    from coachregister.accounts.models import User

_ADVISORY_LOCK_KEY = 0x636F616368  # "coach": the sequencer's lock
CHAIN_KEY = "audit_chain"
_KEY_MEMO = "audit.chain_key"
LISTING = "listing"  # the object type of a listing event (`listing_record`)
SEAL_LIMIT = timedelta(minutes=10)  # an event pending longer: the compliance overview is red
_ACTION = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
# A cheap guard against personal data slipping into an event: no email addresses, no digit
# runs of phone-number length (nine digits or more: a pseudonym has at most eight), only short
# scalar values.
_EMAIL_LIKE = re.compile(r"@")
_PHONE_LIKE = re.compile(r"\d[\d\s().-]{6,}\d")
_DIGEST = re.compile(r"[0-9a-f]{64}")


class AuditDetailError(ValueError):
    """An event's detail would carry something that looks like personal data."""


def _check_detail(detail: dict[str, Any]) -> None:
    for key, value in detail.items():
        if not isinstance(key, str) or not re.match(r"^[a-z_]{1,40}$", key):
            raise AuditDetailError("detail keys are short snake_case words")
        if value is None or isinstance(value, bool | int):
            continue
        if not isinstance(value, str) or len(value) > 200:
            raise AuditDetailError(f"detail {key!r} must be a short text, number or boolean")
        if key == "digest" and _DIGEST.fullmatch(value):
            continue  # a SHA-256 in hex (listings): its digit runs are no phone number
        phone_like = any(
            sum(ch.isdigit() for ch in run) >= 9 for run in _PHONE_LIKE.findall(value)
        )
        if _EMAIL_LIKE.search(value) or phone_like:
            raise AuditDetailError(f"detail {key!r} looks like personal data")


def _check_names(*names: str) -> None:
    """The unit separator divides the fields of an event's canonical bytes (chain.body)."""
    if any(chain.SEPARATOR in name for name in names):
        raise ValueError("an object type or id holds no control characters")


def _recorded_address(request: HttpRequest | None, actor: User | None, outcome: str) -> object:
    """Staff addresses are kept (who signed in from where, art. 12.2). A coachee's address is
    kept only on refusals (guessing, throttling); a completed intake does not tie the
    coachee's address to their pseudonym."""
    if request is None or (actor is None and outcome == Outcome.ALLOWED):
        return None
    return getattr(request, "client_ip", None)


def _row(
    *, action: str, actor: User | None, request: HttpRequest | None, outcome: str,
    object_type: str, object_id: str, detail: dict[str, Any] | None,
) -> dict[str, Any]:
    """An event's columns, checked: a namespaced action, a known outcome, no separator in
    the object's names, nothing in the detail that looks like personal data."""
    if not _ACTION.match(action):
        raise ValueError("an action is namespaced, like 'accounts.login.failed'")
    outcome = str(outcome)
    if outcome not in Outcome.values:
        raise ValueError("outcome is 'allowed' or 'denied'")
    _check_names(object_type, str(object_id))
    detail = dict(detail or {})
    _check_detail(detail)
    client_ip = _recorded_address(request, actor, outcome)
    return {
        "actor_id": actor.pk if actor is not None else None,
        "actor_role": getattr(actor, "role", "") if actor is not None else "",
        "client_ip": str(client_ip) if client_ip is not None else None,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "outcome": outcome,
        "detail": detail,
    }


def _actor(request: HttpRequest | None, actor: User | None) -> User | None:
    if actor is None and request is not None and request.user.is_authenticated:
        return request.user
    return actor


def event_record(
    *,
    action: str,
    request: HttpRequest | None = None,
    actor: User | None = None,
    outcome: str = Outcome.ALLOWED,
    object_type: str = "",
    object_id: str = "",
    detail: dict[str, Any] | None = None,
) -> Event:
    """Append one event. `object_id` is a pseudonym or a database id, never a name."""
    values = _row(action=action, actor=_actor(request, actor), request=request,
                  outcome=outcome, object_type=object_type, object_id=object_id,
                  detail=detail)
    buffer = getattr(_deferred, "rows", None)
    if buffer is not None:  # inside `deferred()`: appended with the others at its end
        buffer.append(values)
        return Event(**values)
    return _append([values])[0]


def listing_record(
    *, action: str, pseudonyms: Iterable[str], request: HttpRequest | None = None,
    actor: User | None = None,
) -> Event | None:
    """One event for a page that shows several coachees' names (art. 6; who saw my data):
    the number of names and the digest of their pseudonyms in its detail (covered by its MAC
    and link), the pseudonyms in the indexed side table `Listed`, all in one transaction and
    in two INSERTs whatever the page's length. None when the page names nobody."""
    from coachregister.audit.models import Listed

    names = sorted(set(pseudonyms))
    if not names:
        return None
    if getattr(_deferred, "rows", None) is not None:
        raise RuntimeError("a listing is recorded at once: its rows name the event's id")
    _check_names(*names)
    values = _row(action=action, actor=_actor(request, actor), request=request,
                  outcome=Outcome.ALLOWED, object_type=LISTING, object_id="",
                  detail={"names": len(names), "digest": chain.listing_digest(names)})
    with transaction.atomic(savepoint=False):
        event = _append([values])[0]
        Listed.objects.bulk_create([Listed(event=event, pseudonym=name) for name in names])
    return event


_deferred = threading.local()


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Collect the events of a long transaction and append them in one INSERT at the end of
    the block, still inside that transaction. The chain's append lock is then held for the
    last moment of the transaction instead of all of it, so a purge batch does not make every
    audited page wait (benchmarks/purge.py). An event is still never without its action:
    both commit or neither."""
    if getattr(_deferred, "rows", None) is not None:  # nested: the outer block appends
        yield
        return
    _deferred.rows = []
    try:
        yield
        rows = _deferred.rows
    finally:
        _deferred.rows = None
    if rows:
        _append(rows)


def events_record(
    events: list[dict[str, Any]], *, request: HttpRequest | None = None,
    actor: User | None = None,
) -> list[Event]:
    """Append several events of one request in one INSERT (a purge batch records one event
    per coachee without a query per row)."""
    if not events:
        return []
    actor = _actor(request, actor)
    rows = [
        _row(action=event["action"], actor=actor, request=request,
             outcome=event.get("outcome", Outcome.ALLOWED),
             object_type=event.get("object_type", ""),
             object_id=event.get("object_id", ""), detail=event.get("detail"))
        for event in events
    ]
    buffer = getattr(_deferred, "rows", None)
    if buffer is not None:  # inside `deferred()`: appended with the others at its end
        buffer.extend(rows)
        return [Event(**values) for values in rows]
    return _append(rows)


def _chain_key(key_id: str | None, *, read: bool) -> tuple[str, bytes]:
    """The chain key's id and bytes. `read`: the caller has read the key's id already
    (`_lock_and_ids` on PostgreSQL; `key_id` None: no key yet); the bytes are kept per process
    by id (keyring). Inside a request a key that already existed is read once
    (lib/request_memo.py): a page that records several events does not read its row for
    each. A key made now is not remembered: the transaction that made it may still roll
    back."""
    from coachregister.keys.models import RegisterKey

    memo = request_memo.current()
    if memo is not None and _KEY_MEMO in memo and (
            not read or key_id == memo[_KEY_MEMO][0]):
        return memo[_KEY_MEMO]
    if not read:
        key_id = (RegisterKey.objects.filter(purpose=CHAIN_KEY)
                  .values_list("key_id", flat=True).first())
    if key_id is None:
        return keyring.register_key(CHAIN_KEY)
    found = (key_id, keyring.register_key_by_id(key_id))
    if memo is not None:
        memo[_KEY_MEMO] = found
    return found


def _append(rows: list[dict[str, Any]]) -> list[Event]:
    # No savepoint: an event never stays without its action, so a failure here fails the
    # caller's whole transaction (and a savepoint would cost two statements per event).
    with transaction.atomic(savepoint=False):
        sealing, ids, known = _lock_and_ids(len(rows))
        key_id, key = _chain_key(known, read=connection.vendor == "postgresql")
        now = timezone.now()
        events, bodies = [], []
        for event_id, values in zip(ids, rows, strict=True):
            values = {**values, "created_at": now, "key_id": key_id}
            bodies.append(chain.body(values))
            events.append(Event(id=event_id, mac=chain.mac(event_id, values, key, bodies[-1]),
                                **values))
        if sealing:  # on SQLite nothing valid waits: every writer seals (the worker checks)
            seq, prev_hash = seal_pending() if connection.vendor == "postgresql" else (
                _sealed_head()[:2])
            for event, event_body in zip(events, bodies, strict=True):
                seq += 1
                event.seq, event.prev_hash = seq, prev_hash
                event.hash = prev_hash = chain.sealed_link(prev_hash, seq, event_body, key)
        if len(events) == 1:
            events[0].save(force_insert=True)
            return events
        return Event.objects.bulk_create(events)


def _lock_and_ids(count: int) -> tuple[bool, list[int], str | None]:
    """Whether this transaction holds the sequencer's lock, `count` new row ids, and on
    PostgreSQL the chain key's id (None before the key exists). There one query: the lock
    tried without waiting, the ids from the table's sequence, the key's id. On SQLite the
    transaction's write lock is the sequencer's, and the next ids follow the highest (no
    other writer can take one meanwhile)."""
    from coachregister.keys.models import RegisterKey

    table = Event._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            keys = RegisterKey._meta.db_table  # the model's own table name, not input
            cursor.execute(
                "SELECT pg_try_advisory_xact_lock(%s), ARRAY(SELECT nextval("  # noqa: S608
                "pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)), "
                f"(SELECT key_id FROM {keys} WHERE purpose = %s)",
                [_ADVISORY_LOCK_KEY, table, count, CHAIN_KEY],
            )
            locked, ids, key_id = cursor.fetchone()
            return bool(locked), list(ids), key_id
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 (model's)
        last = cursor.fetchone()[0]
    return True, list(range(last + 1, last + 1 + count)), None


def _sealed_head() -> tuple[int, str, bool]:
    """The sealed head (its number and link, or 0 and the genesis) and whether any event
    waits to be sealed, in one query."""
    table = Event._meta.db_table
    head = f"FROM {table} WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT seq {head}), (SELECT hash {head}), "  # noqa: S608 (model's)
            f"EXISTS (SELECT 1 FROM {table} WHERE seq IS NULL)"
        )
        seq, link, waiting = cursor.fetchone()
    if seq is None:
        return 0, chain.GENESIS, bool(waiting)
    return seq, link, bool(waiting)


_PENDING = ("id", *chain.BODY_FIELDS, "mac")


def _mac_holds(row: dict[str, Any], keys: dict[str, bytes | None]) -> bool:
    """Whether a pending event's MAC was made with a chain key of this register. `keys`
    remembers the keys looked up, and the ids that name none (a forged row's), so a pass
    reads each at most once."""
    from coachregister.lib.crypto import DecryptionError

    key_id = row["key_id"]
    if not row["mac"] or not key_id:
        return False
    if key_id not in keys:
        try:
            keys[key_id] = keyring.register_key_by_id(key_id)
        except DecryptionError:
            keys[key_id] = None
    key = keys[key_id]
    return key is not None and hmac.compare_digest(row["mac"], chain.mac(row["id"], row, key))


def seal_pending(chunk: int = 5_000) -> tuple[int, str]:
    """Seal every committed pending event whose MAC holds, oldest row first, after the sealed
    head, `chunk` rows at a time (past any that fail); return the new head. The caller holds
    the sequencer's lock (`_lock_and_ids`, `hold_sequencer`) in its transaction. An event
    whose MAC fails stays pending (and is reported by verify)."""
    seq, prev_hash, any_waiting = _sealed_head()
    if not any_waiting:
        return seq, prev_hash
    keys: dict[str, bytes | None] = {}
    after = None
    while True:
        waiting = Event.objects.filter(seq__isnull=True).order_by("id")
        if after is not None:
            waiting = waiting.filter(id__gt=after)
        rows = list(waiting.values(*_PENDING)[:chunk])
        if not rows:
            return seq, prev_hash
        after = rows[-1]["id"]
        sealed = []
        for row in rows:
            if not _mac_holds(row, keys):
                continue
            seq += 1
            key = keys[row["key_id"]]
            assert key is not None  # the MAC held under it
            prev_hash, previous = chain.sealed_link(
                prev_hash, seq, chain.body(row), key), prev_hash
            sealed.append((seq, previous, prev_hash, row["id"]))
        if sealed:
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {Event._meta.db_table} SET seq = %s, prev_hash = %s, "  # noqa: S608
                    "hash = %s WHERE id = %s AND seq IS NULL", sealed,
                )


def hold_sequencer() -> None:
    """Take the sequencer's lock for the rest of the transaction, waiting if need be, and
    seal what waits: the prune plans on a sealed head and its own event is sealed after it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
    seal_pending()


def seal() -> int:
    """The worker's sealing pass: seal what is pending, unless another sealer holds the lock
    (then it seals them). Returns the number of events sealed."""
    with transaction.atomic():
        before = Event.objects.filter(seq__isnull=True).count()
        if not before:
            return 0
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
                if not cursor.fetchone()[0]:
                    return 0
        seal_pending()
        return before - Event.objects.filter(seq__isnull=True).count()


@dataclass(frozen=True)
class Pending:
    """The events waiting to be sealed: how many, the oldest one's time, and how many of
    them carry no valid MAC (forged: never sealed)."""

    count: int
    oldest: datetime | None
    forged: int

    def overdue(self, now: datetime) -> bool:
        return self.oldest is not None and now - self.oldest > SEAL_LIMIT


def pending() -> Pending:
    keys: dict[str, bytes | None] = {}
    count = forged = 0
    oldest: datetime | None = None
    for row in Event.objects.filter(seq__isnull=True).order_by("id").values(
            *_PENDING).iterator():
        count += 1
        forged += not _mac_holds(row, keys)
        oldest = row["created_at"] if oldest is None else min(oldest, row["created_at"])
    return Pending(count, oldest, forged)
