"""The worker mails the administrator when a request nears its date and when it is overdue,
once each (art. 4.1d)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import time_machine

from coachregister.accounts.models import User
from coachregister.lib.deadlines import PRACTICE_TZ
from coachregister.outbox.models import OutboxMessage
from coachregister.outbox.services import open_message
from coachregister.rights import services
from coachregister.testing import factories

pytestmark = [pytest.mark.django_db, pytest.mark.article("4.1d")]


def at(day: object, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=PRACTICE_TZ)  # type: ignore[arg-type]


def test_reminders_once_when_near_and_once_when_overdue(
    owner: User, administrator: User, coach: User
) -> None:
    trajectory = factories.trajectory(owner, coach)
    data_request = services.request_register(
        actor=owner,
        request=None,
        coachee=trajectory.coachee,
        kind="access",
        channel="letter",
        verification="x",
    )
    due = data_request.due

    def reminders() -> list[tuple[str, str]]:
        return sorted(open_message(m) for m in OutboxMessage.objects.filter(kind="rights_reminder"))

    with time_machine.travel(at(due - timedelta(days=6))):
        assert services.remind_deadlines() == 0
    with time_machine.travel(at(due - timedelta(days=4))):
        assert services.remind_deadlines() == 1
        assert services.remind_deadlines() == 0  # once
    soon = reminders()
    assert sorted(to for to, _body in soon) == sorted([owner.email, administrator.email])
    assert all("R-" in body and "Anne" not in body for _to, body in soon)
    with time_machine.travel(at(due + timedelta(days=1))):
        assert services.remind_deadlines() == 1
        assert services.remind_deadlines() == 0
    assert len(reminders()) == 4


def test_answered_requests_get_no_reminders(owner: User, coach: User) -> None:
    trajectory = factories.trajectory(owner, coach)
    data_request = services.request_register(
        actor=owner,
        request=None,
        coachee=trajectory.coachee,
        kind="erasure",
        channel="letter",
        verification="x",
    )
    services.request_decide(
        actor=owner,
        request=None,
        data_request=data_request,
        decision="refused",
        justification="Geen grond.",
    )
    with time_machine.travel(at(data_request.due + timedelta(days=3))):
        assert services.remind_deadlines() == 0
