"""The rights journal (art. 8.3, 10): every effect that a restored backup must not undo.

A backup taken on Monday still holds the coachee who was erased on Tuesday and the phone
number that was corrected on Wednesday. So each such effect is written down outside the
database, in `journal.jsonl` in the evidence directory: an *intent* before its transaction
commits, a *done* mark after, an *abort* mark when it fails. `coachregister restore`
re-applies every done effect before anything is served and lists intents without a mark for
the owner to decide. Effects: erasure, purge, correction, consent withdrawal, restriction and
its lifting, keywords destroyed (after a withdrawn consent or on request). A correction's
new values are encrypted under the coachee's own key, so the journal holds no personal data
in plain text and an erasure makes them unreadable too.

Append-only, fsynced, one writer at a time (a file lock), each record signed with the
evidence key like the audit anchors; never part of a database backup.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

FILE = "journal.jsonl"


class Effect:
    ERASURE = "erasure"
    PURGE = "purge"
    CORRECTION = "correction"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    RESTRICTED = "restricted"
    RESTRICTION_LIFTED = "restriction_lifted"
    # Art. 8.1, GDPR 7(3): keyword versions destroyed after a withdrawn consent (data: the
    # session ids) or on a granted request (data: the session, the number of the version
    # that stays and who wrote it).
    KEYWORDS_ERASED = "keywords_erased"
    KEYWORDS_DELETED = "keywords_deleted"
    # GDPR 7(3): keyword consent withdrawn, the existing keywords kept under a narrower consent
    # (data: its text version). A restore records that consent again, so the kept keywords
    # never stand without the consent that covers them.
    KEYWORDS_KEPT = "keywords_kept"


class JournalError(ValueError):
    """A journal line is malformed or not signed by this register."""


@dataclass
class Entry:
    id: str
    effect: str
    pseudonym: str
    data: dict[str, Any]
    time: datetime
    state: str = "pending"  # pending | done | aborted
    marked: list[str] = field(default_factory=list)


def _path() -> Path:
    path = Path(settings.COACHREGISTER_EVIDENCE_DIR)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path / FILE


@contextlib.contextmanager
def _writer() -> Iterator[None]:
    with open(_path().with_suffix(".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _append(*records: dict[str, Any]) -> None:
    """Sign and append records, one write and one fsync for all."""
    from coachregister.audit.anchors import sign_all

    lines = "".join(json.dumps(signed, sort_keys=True, separators=(",", ":")) + "\n"
                    for signed in sign_all(list(records)))
    with _writer():
        fd = os.open(_path(), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, lines.encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)


def intents(effect: str, pseudonyms: list[str], data: dict[str, Any] | None = None) -> list[str]:
    now = timezone.now().isoformat()
    records = [{"type": "intent", "id": secrets.token_hex(8), "effect": effect,
                "pseudonym": pseudonym, "data": data or {}, "time": now}
               for pseudonym in pseudonyms]
    _append(*records)
    return [record["id"] for record in records]


def intent(effect: str, pseudonym: str, data: dict[str, Any] | None = None) -> str:
    return intents(effect, [pseudonym], data)[0]


def marks(entry_ids: list[str], state: str) -> None:
    now = timezone.now().isoformat()
    _append(*({"type": state, "id": entry_id, "time": now} for entry_id in entry_ids))


def mark(entry_id: str, state: str) -> None:
    marks([entry_id], state)


@contextlib.contextmanager
def effects(kind: str, pseudonyms: list[str],
            data: dict[str, Any] | None = None) -> Iterator[list[str]]:
    """Journal an effect on one or more coachees carried out inside the surrounding
    transaction (a purge batch): the intents now in one write, the done marks in one write
    once the transaction has committed, abort marks if the block fails."""
    if not connection.in_atomic_block:
        raise RuntimeError("journal an effect inside the transaction that carries it out")
    entry_ids = intents(kind, pseudonyms, data) if pseudonyms else []
    try:
        yield entry_ids
    except BaseException:
        if entry_ids:
            marks(entry_ids, "abort")
        raise
    if entry_ids:
        transaction.on_commit(lambda: marks(entry_ids, "done"))


@contextlib.contextmanager
def effect(kind: str, pseudonym: str, data: dict[str, Any] | None = None) -> Iterator[str]:
    """`effects` for one coachee: yields its entry's id."""
    with effects(kind, [pseudonym], data) as entry_ids:
        yield entry_ids[0]


def entries() -> list[Entry]:
    """Every journalled effect in order, with its state; each line's signature checked."""
    from coachregister.audit.anchors import EvidenceError, verify_signature

    path = _path()
    if not path.exists():
        return []
    found: dict[str, Entry] = {}
    for number, line in enumerate(path.read_text(encoding="ascii").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            verify_signature(record)
        except (ValueError, EvidenceError):
            raise JournalError(f"line {number} of the rights journal cannot be trusted") from None
        if record["type"] == "intent":
            found[record["id"]] = Entry(
                id=record["id"], effect=record["effect"], pseudonym=record["pseudonym"],
                data=record["data"], time=datetime.fromisoformat(record["time"]),
            )
        elif record["id"] in found:
            entry = found[record["id"]]
            entry.state = "done" if record["type"] == "done" else "aborted"
            entry.marked.append(record["type"])
    return list(found.values())


def reconcile(min_age: timedelta = timedelta(minutes=5)) -> list[Entry]:
    """After a crash: an erasure or purge intent without a mark is done when its destruction
    record exists (the commit happened, the mark did not), aborted when the coachee is still
    whole. Other effects stay pending for the owner. Returns what stays pending.

    An effect may still be running in another process: only intents older than `min_age`
    are judged, and each with the coachee's row locked, so a transaction that is about to
    commit is waited for rather than judged half-way (a later done mark wins anyway)."""
    from coachregister.coachees.models import Coachee
    from coachregister.retention.models import DestructionRecord, Scope

    pending = []
    cutoff = timezone.now() - min_age
    for entry in entries():
        if entry.state != "pending":
            continue
        if entry.effect in (Effect.ERASURE, Effect.PURGE) and entry.time <= cutoff:
            scope = Scope.ERASURE if entry.effect == Effect.ERASURE else Scope.PURGE
            with transaction.atomic():
                exists = Coachee.objects.select_for_update().filter(
                    pseudonym=entry.pseudonym).exists()
                recorded = DestructionRecord.objects.filter(
                    pseudonym=entry.pseudonym, scope=scope, destroyed_at__gte=entry.time
                ).exists()
            if recorded:
                mark(entry.id, "done")
                continue
            if scope == Scope.PURGE or exists:
                mark(entry.id, "abort")
                continue
        pending.append(entry)
    return pending
