"""One setting, every document and the behaviour (DESIGN: "One source of truth").

The retention period is changed once, through the service an owner uses, and the regulation,
the record of processing activities (GDPR art. 30), the letters and the purge all follow it.
Shortening acts at once (a stronger promise); lengthening waits for the regulation that states
it (a weaker promise, practice.models.PendingChange), so the purge keeps the old promise until
then.
"""

from __future__ import annotations

import subprocess
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from coachregister.accounts.models import User
from coachregister.coachees.models import Coachee
from coachregister.practice import record
from coachregister.practice.models import RegulationVersion
from coachregister.practice.services import regulation_publish, regulation_text
from coachregister.retention import services as retention
from coachregister.retention.services import policy_set
from coachregister.rights import services as rights
from coachregister.rights.models import Kind
from coachregister.testing import factories
from coachregister.testing.factories import person
from coachregister.trajectories.services import trajectory_end

pytestmark = [pytest.mark.django_db, pytest.mark.article("10.1")]

AMS = ZoneInfo("Europe/Amsterdam")
TODAY = date(2026, 11, 27)


def at(day: date) -> time_machine.travel:
    return time_machine.travel(datetime.combine(day, time(12), tzinfo=AMS), tick=False)


def due(coachee: Coachee) -> bool:
    """Whether the purge would take the coachee today."""
    return coachee.pseudonym in {pseudonym for pseudonym, _day in retention.due_for_purge()}


def flat(text: str) -> str:
    return " ".join(text.split())


def record_retention() -> str:
    return flat(" ".join(row["period"] for row in record.record_content()["retention"]))


def letter_text(owner: User, coachee: Coachee, tmp_path: Path) -> str:
    data_request = rights.request_register(
        actor=owner, request=None, coachee=coachee, kind=Kind.ACCESS, channel="email",
        verification="reply from the email on file")
    rights.request_decide(actor=owner, request=None, data_request=data_request,
                          decision="granted")
    path = tmp_path / f"letter-{data_request.pk}.pdf"
    path.write_bytes(rights.letter_pdf(data_request.letters.get()))
    return flat(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                               check=True).stdout)


def test_the_retention_period_changes_text_record_letters_and_purge_together(
    owner: User, coach: User, tmp_path: Path
) -> None:
    # A coachee whose last contact was six years ago: inside seven years, past five or six.
    with at(date(2020, 6, 1)):
        trajectory = factories.trajectory(owner, coach, contact=person(1))
        trajectory_end(actor=owner, request=None, trajectory=trajectory, broken_off=False)
    coachee = trajectory.coachee
    with at(TODAY):
        regulation_publish(actor=owner, request=None)
        assert "zeven jaar na het laatste contact" in flat(RegulationVersion.current().text)
        assert "7 jaar" in record_retention() or "7 years" in record_retention()
        letter = letter_text(owner, coachee, tmp_path)
        assert "7 years" in letter or "7 jaar" in letter
        assert not due(coachee)

        # Shorter: a stronger promise, in force at once everywhere it is stated or acted on.
        policy_set(actor=owner, request=None, years=5)
        assert due(coachee)
        assert "5 jaar" in record_retention() or "5 years" in record_retention()
        letter = letter_text(owner, coachee, tmp_path)
        assert ("5 years" in letter or "5 jaar" in letter) and "7 jaar" not in letter
        assert "vijf jaar na het laatste contact" in flat(regulation_text(language="nl"))
        # The published text changes with the next version, which states the new period.
        assert "zeven jaar" in flat(RegulationVersion.current().text)
        regulation_publish(actor=owner, request=None)
        assert "vijf jaar na het laatste contact" in flat(RegulationVersion.current().text)
        assert "five years after the last contact" in flat(RegulationVersion.current().text_en)

        # Longer again: a weaker promise waits for its publication; until then the purge, the
        # record and the letters keep five years.
        policy_set(actor=owner, request=None, years=7)
        assert due(coachee)
        assert "5 jaar" in record_retention() or "5 years" in record_retention()
        regulation_publish(actor=owner, request=None)
        assert not due(coachee)
        assert "7 jaar" in record_retention() or "7 years" in record_retention()
        assert "zeven jaar na het laatste contact" in flat(RegulationVersion.current().text)
