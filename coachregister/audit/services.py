"""Writing audit events. Call `event_record` inside the transaction of the action it records.

Appends are serialised so the chain never forks: on PostgreSQL with a transaction-scoped
advisory lock, on SQLite by the write lock that every transaction takes at BEGIN (settings:
transaction_mode IMMEDIATE). The unique `seq` column is the last line of defence (the link
covers `seq`, so two events with one link would need one `seq`; models.Event).
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.utils import timezone

from coachregister.audit import chain
from coachregister.audit.models import Event, Outcome
from coachregister.keys import keyring

if TYPE_CHECKING:
    from django.http import HttpRequest

    from coachregister.accounts.models import User

_ADVISORY_LOCK_KEY = 0x636F616368  # "coach"
CHAIN_KEY = "audit_chain"
_ACTION = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
# A cheap guard against personal data slipping into an event: no email addresses, no digit
# runs of phone-number length (nine digits or more: a pseudonym has at most eight), only short
# scalar values.
_EMAIL_LIKE = re.compile(r"@")
_PHONE_LIKE = re.compile(r"\d[\d\s().-]{6,}\d")


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
        phone_like = any(
            sum(ch.isdigit() for ch in run) >= 9 for run in _PHONE_LIKE.findall(value)
        )
        if _EMAIL_LIKE.search(value) or phone_like:
            raise AuditDetailError(f"detail {key!r} looks like personal data")


def _recorded_address(request: HttpRequest | None, actor: User | None, outcome: str) -> object:
    """Staff addresses are kept (who signed in from where, art. 12.2). A coachee's address is
    kept only on refusals (guessing, throttling); a completed intake does not tie the
    coachee's address to their pseudonym."""
    if request is None or (actor is None and outcome == Outcome.ALLOWED):
        return None
    return getattr(request, "client_ip", None)


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
    if not _ACTION.match(action):
        raise ValueError("an action is namespaced, like 'accounts.login.failed'")
    if outcome not in Outcome.values:
        raise ValueError("outcome is 'allowed' or 'denied'")
    detail = dict(detail or {})
    _check_detail(detail)
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    client_ip = _recorded_address(request, actor, outcome)
    values: dict[str, Any] = {
        "actor_id": actor.pk if actor is not None else None,
        "actor_role": getattr(actor, "role", "") if actor is not None else "",
        "client_ip": str(client_ip) if client_ip is not None else None,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "outcome": str(outcome),
        "detail": detail,
    }
    buffer = getattr(_deferred, "rows", None)
    if buffer is not None:  # inside `deferred()`: appended with the others at its end
        buffer.append(values)
        return Event(**values)
    return _append([values])[0]


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
    """Append several events of one request in one INSERT (a list page that shows many
    coachees records one event per coachee without a query per row)."""
    if not events:
        return []
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    rows = []
    for event in events:
        detail = dict(event.get("detail") or {})
        _check_detail(detail)
        if not _ACTION.match(event["action"]):
            raise ValueError("an action is namespaced, like 'accounts.login.failed'")
        outcome = str(event.get("outcome", Outcome.ALLOWED))
        if outcome not in Outcome.values:
            raise ValueError("outcome is 'allowed' or 'denied'")
        client_ip = _recorded_address(request, actor, outcome)
        rows.append({
            "actor_id": actor.pk if actor is not None else None,
            "actor_role": getattr(actor, "role", "") if actor is not None else "",
            "client_ip": str(client_ip) if client_ip is not None else None,
            "action": event["action"],
            "object_type": event.get("object_type", ""),
            "object_id": str(event.get("object_id", "")),
            "outcome": outcome,
            "detail": detail,
        })
    return _append(rows)


def _append(rows: list[dict[str, Any]]) -> list[Event]:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
        last = Event.objects.order_by("-seq").values("seq", "hash").first()
        seq = last["seq"] if last else 0
        prev_hash = last["hash"] if last else chain.GENESIS
        key_id, key = keyring.register_key(CHAIN_KEY)
        now = timezone.now()
        events = []
        for values in rows:
            seq += 1
            values = {**values, "seq": seq, "created_at": now, "key_id": key_id}
            digest = chain.link(prev_hash, values, key)
            events.append(Event(prev_hash=prev_hash, hash=digest, **values))
            prev_hash = digest
        if len(events) == 1:
            events[0].save(force_insert=True)
            return events
        return Event.objects.bulk_create(events)
