"""Run in subprocesses by test_purge_crash.py (not a test module): `setup N` builds N expired
coachees; `purge` runs the purge (killed by COACHREGISTER_FAULT_AT when set); `check`
reports, as JSON, which coachees are whole, which are gone, the destruction records, the
journal after reconciling, and whether the audit trail verifies."""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coachregister.settings")


def setup(count: int) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine
    from django.core.management import call_command

    from coachregister.accounts.models import Role, User
    from coachregister.coachees.vault import Contact
    from coachregister.testing import factories
    from coachregister.trajectories.services import trajectory_end

    call_command("migrate", verbosity=0)
    owner = User.objects.create(username="eigenaar", full_name="E", role=Role.OWNER)
    coach = User.objects.create(username="coach", full_name="C", role=Role.COACH)
    with time_machine.travel(datetime(2015, 3, 2, 12, tzinfo=ZoneInfo("Europe/Amsterdam")),
                             tick=False):
        for n in range(count):
            word = "".join("abcdefghij"[int(d)] for d in f"{n:04d}")
            trajectory = factories.trajectory(owner, coach, contact=Contact(
                f"Naam{word}", "Proef", f"proef{n}@voorbeeld.example", f"+3161{n:07d}"))
            trajectory_end(actor=owner, request=None, trajectory=trajectory, broken_off=False)


def purge() -> None:
    from coachregister.retention.services import purge_run

    purge_run(batch_size=int(os.environ.get("BATCH", "25")))


def check() -> None:
    import io
    from datetime import timedelta

    from django.core.management import CommandError, call_command

    from coachregister.coachees import vault
    from coachregister.coachees.models import Coachee, ContactMoment
    from coachregister.disclosures.models import Consent
    from coachregister.retention import journal
    from coachregister.retention.models import DestructionRecord
    from coachregister.trajectories.models import Trajectory

    journal.reconcile(min_age=timedelta(0))  # nothing else runs: judge every intent now
    whole, broken = [], []
    for coachee in Coachee.objects.all():
        parts = (
            Trajectory.objects.filter(coachee_pseudonym=coachee.pseudonym).count() == 1,
            ContactMoment.objects.filter(trajectory__coachee=coachee).count() == 1,
            Consent.objects.filter(coachee=coachee).count() == 2,
            vault.open_contact(coachee).last_name == "Proef",
        )
        (whole if all(parts) else broken).append(coachee.pseudonym)
    present = set(whole) | set(broken)
    leftovers = sorted(
        set(Trajectory.objects.exclude(coachee_pseudonym="").values_list(
            "coachee_pseudonym", flat=True)) - present
    )
    try:
        call_command("audit", "verify", stdout=io.StringIO())
        verified = True
    except CommandError:
        verified = False
    print(json.dumps({
        "whole": sorted(whole), "broken": sorted(broken), "leftovers": leftovers,
        "records": sorted(DestructionRecord.objects.values_list("pseudonym", flat=True)),
        "journal_done": sorted(e.pseudonym for e in journal.entries() if e.state == "done"),
        "journal_pending": sorted(e.pseudonym for e in journal.entries()
                                  if e.state == "pending"),
        "verified": verified,
    }))


if __name__ == "__main__":
    import django

    django.setup()
    {"setup": lambda: setup(int(sys.argv[2])), "purge": purge, "check": check}[sys.argv[1]]()
