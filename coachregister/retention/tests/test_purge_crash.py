"""Crash safety by fault injection, not by timed kills (art. 10.2): the purge of 200 coachees
is killed with SIGKILL at 20 chosen steps across its batches. After each kill every coachee
is whole or gone, the destruction records and the journal match the coachees gone, the audit
trail verifies, and the next run finishes the rest."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

pytestmark = pytest.mark.article("10.2")

COACHEES = 200
BATCH = 25
# batch.start, journalled, shredded (one statement per table for the whole batch), right
# before and right after the commit.
STEPS_PER_BATCH = 5
# Every step of the first two batches, and steps in the middle and last batches.
STEPS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 17, 18, 19, 22, 23, 36, 37, 38, 39,
         STEPS_PER_BATCH * (COACHEES // BATCH)]
SCRIPT = Path(__file__).with_name("purge_crash_script.py")


def run(env: dict[str, str], *args: str, fault: int | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(env)
    if fault is not None:
        env["COACHREGISTER_FAULT_AT"] = str(fault)
    return subprocess.run([sys.executable, str(SCRIPT), *args], env=env, capture_output=True,
                          text=True, timeout=600, check=False)


def state(env: dict[str, str]) -> dict[str, list[str] | bool]:
    result = run(env, "check")
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


class Databases:
    """The engine the suite runs on: a SQLite file copied per step, or a PostgreSQL database
    made per step from a template."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.postgres = connection.vendor == "postgresql"
        self.made: list[str] = []

    def _admin(self, statement: str) -> None:
        import psycopg

        settings = connection.settings_dict
        with psycopg.connect(host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432,
                             user=settings["USER"], dbname="postgres", autocommit=True) as conn:
            conn.execute(statement)

    def env(self, name: str, template: str | None = None) -> dict[str, str]:
        if not self.postgres:  # the caller copies the folder with the database file
            return {"COACHREGISTER_VAR_DIR": str(self.tmp_path / name)}
        database = f"crash_{os.getpid()}_{name}"
        self._admin(f'DROP DATABASE IF EXISTS "{database}"')
        self._admin(f'CREATE DATABASE "{database}"'
                    + (f' TEMPLATE "crash_{os.getpid()}_{template}"' if template else ""))
        self.made.append(database)
        settings = connection.settings_dict
        return {"DATABASE_URL": f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}"
                                f":{settings['PORT'] or 5432}/{database}"}

    def drop_last(self) -> None:
        if self.postgres:
            self._admin(f'DROP DATABASE IF EXISTS "{self.made.pop()}" WITH (FORCE)')

    def drop(self) -> None:
        for database in reversed(self.made):
            self._admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def test_a_purge_killed_at_any_step_leaves_whole_coachees_and_a_matching_record(
    tmp_path: Path,
) -> None:
    databases = Databases(tmp_path)
    try:
        _crash_at_every_step(tmp_path, databases)
    finally:
        databases.drop()


def _crash_at_every_step(tmp_path: Path, databases: Databases) -> None:
    base = tmp_path / "base"
    base.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(COACHREGISTER_ENV="test", BATCH=str(BATCH),
               COACHREGISTER_KEY_DIR=str(tmp_path / "keys"),
               COACHREGISTER_EVIDENCE_DIR=str(base / "evidence"), **databases.env("base"))
    made = run(env, "setup", str(COACHEES))
    assert made.returncode == 0, made.stderr[-3000:]
    everyone = set(state(env)["whole"])
    assert len(everyone) == COACHEES

    for step in STEPS:
        work = tmp_path / f"step{step}"
        shutil.copytree(base, work)
        step_env = {**env, "COACHREGISTER_EVIDENCE_DIR": str(work / "evidence"),
                    **databases.env(f"step{step}", template="base")}
        killed = run(step_env, "purge", fault=step)
        assert killed.returncode == -signal.SIGKILL, (step, killed.stderr[-2000:])
        after = state(step_env)
        gone = everyone - set(after["whole"])
        assert after["broken"] == [] and after["leftovers"] == [], step
        assert set(after["records"]) == gone, step
        assert set(after["journal_done"]) == gone and after["journal_pending"] == [], step
        assert after["verified"], step
        assert len(gone) == BATCH * ((step - 1) // STEPS_PER_BATCH) + (
            BATCH if (step - 1) % STEPS_PER_BATCH == STEPS_PER_BATCH - 1 else 0), step

        finished = run(step_env, "purge")
        assert finished.returncode == 0, finished.stderr[-2000:]
        final = state(step_env)
        assert final["whole"] == [] and set(final["records"]) == everyone, step
        assert final["verified"], step
        shutil.rmtree(work)
        databases.drop_last()
