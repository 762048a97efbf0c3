"""A complaint's dates follow the practice's procedure; the worker reminds the administrator
and the owners once near each date and once when it is overdue; the dashboard shows the
countdown in colour, as for requests (art. 4.1d)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from coachregister.accounts.models import User
from coachregister.complaints import services
from coachregister.complaints.models import Complaint, ComplaintProcedure
from coachregister.lib import deadlines
from coachregister.lib.deadlines import PRACTICE_TZ
from coachregister.outbox.models import OutboxMessage
from coachregister.outbox.services import open_message
from coachregister.testing import factories

pytestmark = [pytest.mark.django_db, pytest.mark.article("4.1d")]


def at(day: object, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=PRACTICE_TZ)  # type: ignore[arg-type]


def _file(owner: User, coach: User, received_at: datetime | None = None) -> Complaint:
    trajectory = factories.trajectory(owner, coach)
    return services.complaint_file(
        actor=owner, request=None, coachee=trajectory.coachee, topic="regulation",
        channel="phone", text="Mijn verzoek om inzage bleef liggen.", received_at=received_at)


def test_dates_follow_the_procedure(owner: User, coach: User) -> None:
    procedure = ComplaintProcedure.load()
    procedure.acknowledge_days, procedure.decide_weeks = 3, 8
    procedure.save()
    # Late evening in Amsterdam is the next day in UTC's eyes: the Dutch day counts.
    received = datetime(2026, 3, 2, 23, 30, tzinfo=PRACTICE_TZ)
    complaint = _file(owner, coach, received)
    assert complaint.acknowledge_due == deadlines.complaint_acknowledge_due(received, 3)
    assert complaint.acknowledge_due.isoformat() == "2026-03-05"
    assert complaint.decide_due.isoformat() == "2026-04-27"
    assert complaint.due == complaint.acknowledge_due  # first the acknowledgement
    services.complaint_acknowledge(actor=owner, request=None, complaint=complaint)
    assert complaint.due == complaint.decide_due


def test_reminders_once_near_and_once_overdue_for_each_date(
    owner: User, administrator: User, coach: User
) -> None:
    complaint = _file(owner, coach)

    def reminders() -> list[tuple[str, str]]:
        return sorted(open_message(m)
                      for m in OutboxMessage.objects.filter(kind="complaint_reminder"))

    ack = complaint.acknowledge_due
    with time_machine.travel(at(ack - timedelta(days=5))):
        assert services.remind_deadlines() == 0
    with time_machine.travel(at(ack - timedelta(days=2))):
        assert services.remind_deadlines() == 1
        assert services.remind_deadlines() == 0  # once
    soon = reminders()
    assert sorted(to for to, _body in soon) == sorted([owner.email, administrator.email])
    assert all(f"K-{complaint.pk}" in body and "Anne" not in body and "inzage" not in body
               for _to, body in soon)
    with time_machine.travel(at(ack + timedelta(days=1))):
        call_command("worker", "--once")  # the worker runs them (and sends the mail)
        assert services.remind_deadlines() == 0
    assert OutboxMessage.objects.filter(kind="complaint_reminder").count() == 4
    complaint.refresh_from_db()
    with time_machine.travel(at(ack + timedelta(days=1))):
        services.complaint_acknowledge(actor=owner, request=None, complaint=complaint)
    # The decision's date has reminders of its own.
    with time_machine.travel(at(complaint.decide_due - timedelta(days=1))):
        assert services.remind_deadlines() == 1
    with time_machine.travel(at(complaint.decide_due + timedelta(days=1))):
        assert services.remind_deadlines() == 1
        assert services.remind_deadlines() == 0
    services.complaint_decide(actor=owner, request=None, complaint=complaint,
                              outcome="upheld", reasons="Het verzoek is alsnog beantwoord.")
    complaint.refresh_from_db()
    complaint.reminded_overdue_at = None
    complaint.save()
    with time_machine.travel(at(complaint.decide_due + timedelta(days=3))):
        assert services.remind_deadlines() == 0  # decided: no more reminders


def test_the_dashboard_counts_down_in_colour(
    owner: User, coach: User, client_for: object
) -> None:
    complaint = _file(owner, coach)
    client = client_for(owner)  # type: ignore[operator]
    today = timezone.localdate()
    Complaint.objects.filter(pk=complaint.pk).update(acknowledge_due=today + timedelta(days=2))
    page = client.get(reverse("accounts:dashboard")).content.decode()
    assert 'data-testid="dashboard-complaints"' in page
    assert f'href="{reverse("complaints:detail", args=[complaint.pk])}"' in page
    row = page.split('data-testid="open-complaints"')[1]
    assert 'class="due-red"' in row
    assert '<td data-testid="complaint-days-left">2</td>' in row
    Complaint.objects.filter(pk=complaint.pk).update(acknowledge_due=today + timedelta(days=20))
    page = client.get(reverse("accounts:dashboard")).content.decode()
    assert 'class="due-green"' in page.split('data-testid="open-complaints"')[1]
    coach_page = client_for(coach).get(reverse("accounts:dashboard")).content.decode()  # type: ignore[operator]
    assert 'data-testid="dashboard-complaints"' not in coach_page
