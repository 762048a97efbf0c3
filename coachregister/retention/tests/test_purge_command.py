"""`coachregister retention purge` (art. 10.2): a dry run lists pseudonyms and destroys
nothing, a real run destroys, a summary line for logs and a progress bar on a terminal."""

from __future__ import annotations

import io
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from coachregister.accounts.models import User
from coachregister.coachees import vault
from coachregister.coachees.models import Coachee
from coachregister.retention.models import DestructionRecord
from coachregister.testing import factories
from coachregister.trajectories.services import trajectory_end

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")
TODAY = date(2026, 11, 27)


def at(day: date) -> time_machine.travel:
    return time_machine.travel(datetime.combine(day, time(12), tzinfo=AMS), tick=False)


def coachee(owner: User, coach: User, first: str, last_contact: date) -> str:
    with at(last_contact):
        trajectory = factories.trajectory(owner, coach, contact=vault.Contact(
            first, "Jansen", f"{first.lower()}@voorbeeld.example", "+31612345678"))
        trajectory_end(actor=owner, request=None, trajectory=trajectory, broken_off=False)
    return trajectory.coachee.pseudonym


@pytest.fixture
def register(owner: User, coach: User) -> dict[str, str]:
    return {
        "Pieter": coachee(owner, coach, "Pieter", date(2018, 4, 2)),  # expired
        "Karin": coachee(owner, coach, "Karin", date(2019, 1, 15)),  # expired
        "Sanne": coachee(owner, coach, "Sanne", date(2024, 6, 1)),  # kept
    }


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(*args: str, out: io.StringIO | None = None) -> str:
    out = out or io.StringIO()
    with at(TODAY):
        call_command("retention", "purge", *args, stdout=out)
    return out.getvalue()


def alive(pseudonym: str) -> bool:
    return Coachee.objects.filter(pseudonym=pseudonym).exists()


@pytest.mark.article("10.1")
def test_dry_run_lists_the_pseudonyms_due_and_destroys_nothing(register: dict[str, str]) -> None:
    output = run("--dry-run")
    lines = output.splitlines()
    assert sorted(lines[:-1]) == sorted([register["Pieter"], register["Karin"]])
    assert lines[-1] == "2 coachees due; nothing destroyed (dry run)"
    assert all(alive(p) for p in register.values())
    assert not DestructionRecord.objects.exists()
    for name in ("Pieter", "Karin", "Sanne", "Jansen", "@"):
        assert name not in output


@pytest.mark.article("10.1")
def test_a_real_run_destroys_and_prints_one_summary_line(register: dict[str, str]) -> None:
    output = run("--batch-size", "1")
    assert output == "purged 2 of 2 coachees in 2 batches\n"
    assert not alive(register["Pieter"]) and not alive(register["Karin"])
    assert alive(register["Sanne"])
    assert set(DestructionRecord.objects.values_list("pseudonym", flat=True)) == {
        register["Pieter"], register["Karin"]
    }
    assert run() == "purged 0 of 0 coachees in 0 batches\n"  # again the same day: nothing


@pytest.mark.article("10.1")
def test_on_a_terminal_a_progress_bar_then_the_summary(register: dict[str, str]) -> None:
    output = run("--batch-size", "1", out=Terminal())
    bar, summary = output.rstrip("\n").rsplit("\n", 1)
    assert bar.count("\r[") == 2 and bar.endswith("] 2/2")
    assert "] 1/2" in bar
    assert summary == "purged 2 of 2 coachees in 2 batches"
    assert "Pieter" not in output


@pytest.mark.article("10.1")
def test_a_batch_size_below_one_is_refused(register: dict[str, str]) -> None:
    with pytest.raises(CommandError):
        run("--batch-size", "0")
    assert all(alive(p) for p in register.values())


@pytest.mark.article("10.1")
def test_the_worker_purges_on_the_day_after_the_expiry_date(owner: User, coach: User) -> None:
    pseudonym = coachee(owner, coach, "Pieter", date(2019, 3, 14))  # expires 14 March 2026
    with at(date(2026, 3, 14)):
        call_command("worker", "--once", stdout=io.StringIO())
    assert alive(pseudonym)
    with at(date(2026, 3, 15)):
        call_command("worker", "--once", stdout=io.StringIO())
    assert not alive(pseudonym)
    assert DestructionRecord.objects.get(pseudonym=pseudonym).reason == "retention"
