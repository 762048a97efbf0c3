"""One holder at a time for a worker's periodic job, over all workers.

On PostgreSQL a session advisory lock (workers may run on several machines); on SQLite a file
lock next to the evidence (one machine). Not taken: another worker is running the job; the
caller tries again at its next housekeeping.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator

from django.db import connection


@contextlib.contextmanager
def claimed(key: int, name: str) -> Iterator[bool]:
    """True while this process holds the job `name` (advisory lock `key` on PostgreSQL, the
    file `<name>.lock` in the evidence directory elsewhere); False when another one does."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            got = bool(cursor.fetchone()[0])
        try:
            yield got
        finally:
            if got:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    from coachregister.audit.anchors import evidence_dir

    with open(evidence_dir() / f"{name}.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
