"""After a purge the SQLite file and its WAL hold no byte of the purged coachee (art. 10.2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from coachregister.rights.tests.test_erasure_unrecoverable import assert_no_captured_bytes_left


@pytest.mark.article("10.2")
def test_sqlite_file_and_wal_hold_no_byte_of_the_purged_coachee(tmp_path: Path) -> None:
    """No VACUUM; the same search finds a living coachee's ciphertext (the control)."""
    assert_no_captured_bytes_left(tmp_path, "purge")
