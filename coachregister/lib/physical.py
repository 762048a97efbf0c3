"""Forgetting is physical (art. 6, 8.3, 10): what a deletion removes leaves the files at once.

On SQLite every connection runs with `PRAGMA secure_delete=ON` (settings.py), so deleted and
overwritten cells are zeroed in the database file. The write-ahead log still holds earlier
page images until it is checkpointed and truncated: `checkpoint()` does that, checks the
result and retries while readers keep it busy. On PostgreSQL dead tuples and WAL are not
ours to wipe; there the epoch keys (keys/keyring.py) make what stays behind unreadable.
"""

from __future__ import annotations

import contextlib
import logging
import time

from django.db import connection, transaction

log = logging.getLogger(__name__)

ATTEMPTS = 100
PAUSE_SECONDS = 0.05


class CheckpointBusy(RuntimeError):
    """The WAL could not be truncated: a reader kept it busy for every attempt."""


def checkpoint() -> None:
    """Copy the SQLite WAL into the database and truncate it to zero bytes; a no-op on other
    engines. Inside a transaction it runs once that has committed. Raises `CheckpointBusy`
    when it never gets through (the caller's work is committed; the worker tries again)."""
    if connection.vendor != "sqlite":
        return
    if connection.in_atomic_block:  # the deletion is not on disk yet: after the commit
        queued = any(func is checkpoint_quietly for _sids, func, *_ in connection.run_on_commit)
        if not queued:  # once per transaction, however many rows it destroyed
            transaction.on_commit(checkpoint_quietly)
        return
    for _attempt in range(ATTEMPTS):
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy, _log_frames, _done = cursor.fetchone()
        if not busy:
            return
        time.sleep(PAUSE_SECONDS)
    log.warning("the SQLite WAL stayed busy; it will be truncated on the next pass")
    raise CheckpointBusy("the write-ahead log could not be truncated")


def checkpoint_quietly() -> None:
    with contextlib.suppress(CheckpointBusy):  # logged; the worker's next send tries again
        checkpoint()
