"""The other personal data the register holds (art. 10.1): the client's business contact and
deactivated staff accounts, anonymised in place on the day after their period; and the weekly
paper-dossier reminders with their escalation."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from coachregister.accounts import services as accounts
from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.outbox.models import OutboxMessage
from coachregister.outbox.services import open_message
from coachregister.retention import others, services
from coachregister.retention.models import PaperDossierTask
from coachregister.testing import factories
from coachregister.trajectories import services as trajectories
from coachregister.trajectories.models import ClientOrganisation, Trajectory

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")


def at(day: date, hour: int = 12) -> time_machine.travel:
    return time_machine.travel(datetime.combine(day, time(hour), tzinfo=AMS), tick=False)


def opened(owner: User, coach: User, client: ClientOrganisation) -> Trajectory:
    trajectory, _token, _code = trajectories.trajectory_open(
        actor=owner, request=None, client=client, coach=coach
    )
    return trajectory


def contact_of(client: ClientOrganisation) -> tuple[str, str, str]:
    client.refresh_from_db()
    return client.contact_name, client.contact_email, client.contact_phone


# --- the client's business contact --------------------------------------------------------


@pytest.mark.article("10.1")
def test_client_contact_cleared_the_day_after_its_period_not_earlier(
    owner: User, coach: User
) -> None:
    with at(date(2024, 3, 1)):
        client = factories.client(owner, name="Bouwbedrijf Oost")
        for ended_on in (date(2023, 6, 1), date(2024, 3, 10)):  # the last one counts
            trajectories.trajectory_end(actor=owner, request=None, broken_off=False,
                                        trajectory=opened(owner, coach, client), on=ended_on)
    assert others.client_contact_expiry(client) == date(2026, 3, 10)  # two years by default
    with at(date(2026, 3, 10), hour=23):
        assert others.clients_anonymise_due() == 0
    assert contact_of(client) == ("HR", "hr@client.example", "")
    with at(date(2026, 3, 11), hour=0):
        assert others.clients_anonymise_due() == 1
        assert others.clients_anonymise_due() == 0  # again the same day: nothing
    assert contact_of(client) == ("", "", "")
    client.refresh_from_db()
    assert client.name == "Bouwbedrijf Oost"  # the organisation is not a person
    event = Event.objects.get(action="retention.client_contact.anonymised")
    assert event.object_type == "client" and event.object_id == str(client.pk)
    assert "HR" not in str(event.detail) and "hr@" not in str(event.detail)


@pytest.mark.article("10.1")
def test_an_open_trajectory_keeps_the_client_contact(owner: User, coach: User) -> None:
    with at(date(2020, 1, 6)):
        client = factories.client(owner)
        trajectories.trajectory_end(actor=owner, request=None, broken_off=False,
                                    trajectory=opened(owner, coach, client))
        opened(owner, coach, client)  # still running years later
    with at(date(2026, 6, 1)):
        assert others.client_contact_expiry(client) is None
        assert others.clients_anonymise_due() == 0
    assert contact_of(client)[0] == "HR"


@pytest.mark.article("10.1")
def test_a_quote_without_trajectory_counts_from_its_date(owner: User) -> None:
    client = factories.client(owner)  # quote dated 5 January 2026
    with at(date(2028, 1, 5)):
        assert others.clients_anonymise_due() == 0
    with at(date(2028, 1, 6)):
        assert others.clients_anonymise_due() == 1
    assert contact_of(client) == ("", "", "")


@pytest.mark.article("10.1")
def test_the_client_contact_period_follows_the_policy(owner: User, coach: User) -> None:
    with at(date(2024, 3, 1)):
        client = factories.client(owner)
        trajectories.trajectory_end(actor=owner, request=None, broken_off=False,
                                    trajectory=opened(owner, coach, client), on=date(2024, 3, 10))
    services.policy_set(actor=owner, request=None, years=7, client_contact_years=1)
    with at(date(2025, 3, 10)):
        assert others.clients_anonymise_due() == 0
    with at(date(2025, 3, 11)):
        assert others.clients_anonymise_due() == 1


# --- staff accounts -------------------------------------------------------------------------


@pytest.mark.article("10.1")
def test_deactivated_staff_anonymised_after_the_period_and_still_the_actor_in_the_trail(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    with at(date(2024, 5, 1)):
        trajectory = factories.trajectory(owner, coach, contact=None)
        trajectories.trajectory_end(actor=coach, request=None, trajectory=trajectory,
                                    broken_off=True)  # an event with the coach as actor
        TOTPDevice.objects.create(user=coach, name="app", confirmed=True)
        StaticDevice.objects.create(user=coach, name="backup").token_set.create(token="abc123")
    with at(date(2024, 5, 20)):
        accounts.user_set_active(actor=owner, request=None, user=coach, active=False)
    coach.refresh_from_db()
    assert coach.deactivated_at is not None
    assert others.staff_expiry(coach) == date(2026, 5, 20)
    old_name, old_email, old_username = coach.full_name, coach.email, coach.username

    with at(date(2026, 5, 20), hour=23):
        assert others.staff_anonymise_due() == 0
    coach.refresh_from_db()
    assert coach.full_name == old_name
    with at(date(2026, 5, 21), hour=0):
        assert others.staff_anonymise_due() == 1
        assert others.staff_anonymise_due() == 0
    coach.refresh_from_db()
    assert coach.username == f"anonymised-{coach.pk}"
    assert coach.full_name == "Geanonimiseerd account" and coach.email == ""
    assert not coach.has_usable_password()
    assert not TOTPDevice.objects.filter(user=coach).exists()
    assert not StaticDevice.objects.filter(user=coach).exists()
    assert Trajectory.objects.get(pk=trajectory.pk).coach_id == coach.pk  # the row stays

    ended = Event.objects.get(action="trajectories.trajectory.ended")
    assert ended.actor_id == coach.pk
    anonymised = Event.objects.get(action="retention.staff.anonymised")
    assert anonymised.object_id == str(coach.pk)
    for value in (old_name, old_email, old_username):
        assert value not in str(anonymised.detail)
    page = client_for(owner).get(reverse("audit:event_list")).content.decode()
    assert "Geanonimiseerd account" in page
    assert old_name not in page and old_email not in page


@pytest.mark.article("10.1")
def test_reactivation_stops_the_staff_period(owner: User, coach: User) -> None:
    with at(date(2023, 1, 2)):
        accounts.user_set_active(actor=owner, request=None, user=coach, active=False)
    with at(date(2023, 2, 1)):
        accounts.user_set_active(actor=owner, request=None, user=coach, active=True)
    coach.refresh_from_db()
    assert coach.deactivated_at is None
    with at(date(2026, 1, 1)):
        assert others.staff_anonymise_due() == 0
    coach.refresh_from_db()
    assert coach.email and coach.has_usable_password()


# --- paper-dossier reminders ----------------------------------------------------------------


def mails(kind: str) -> list[tuple[str, str]]:
    return [open_message(m) for m in OutboxMessage.objects.filter(kind=kind).order_by("pk")]


@pytest.mark.article("10.1")
def test_paper_dossier_reminded_weekly_escalated_after_30_days_and_silent_once_confirmed(
    owner: User, administrator: User, coach: User
) -> None:
    start = date(2026, 2, 2)
    with at(start):
        trajectory = factories.trajectory(owner, coach)  # Anne de Vries
        task = trajectories.trajectory_end(actor=coach, request=None, trajectory=trajectory,
                                           broken_off=False)

    def day(n: int) -> dict[str, int]:
        with at(start + timedelta(days=n)):
            return others.paper_tasks_remind()

    assert day(6) == {"reminded": 0, "escalated": 0}
    assert day(7) == {"reminded": 1, "escalated": 0}
    assert day(7) == {"reminded": 0, "escalated": 0}  # claimed once
    assert day(13) == {"reminded": 0, "escalated": 0}
    assert day(14) == {"reminded": 1, "escalated": 0}
    assert day(21) == {"reminded": 1, "escalated": 0}
    assert day(28) == {"reminded": 1, "escalated": 0}
    assert day(30) == {"reminded": 0, "escalated": 0}  # 30 days old, not older
    assert day(31) == {"reminded": 0, "escalated": 1}
    assert day(35) == {"reminded": 1, "escalated": 0}
    assert day(37) == {"reminded": 0, "escalated": 0}
    assert day(38) == {"reminded": 0, "escalated": 1}

    to_coach = mails("retention_paper_reminded")
    assert len(to_coach) == 5 and {to for to, _ in to_coach} == {coach.email}
    escalations = mails("retention_paper_escalated")
    assert len(escalations) == 2 and {to for to, _ in escalations} == {administrator.email}
    for _to, body in to_coach + escalations:
        assert trajectory.pseudonym in body
        assert reverse("trajectories:detail", args=[trajectory.pseudonym]) in body
        assert "Anne" not in body and "Vries" not in body and "@" not in body
        assert coach.full_name not in body
    assert not any("Anne" in m.subject for m in OutboxMessage.objects.all())

    with at(start + timedelta(days=40)):
        services.paper_task_confirm(actor=coach, request=None, task=task, method="shredded")
    assert day(45) == {"reminded": 0, "escalated": 0}
    assert day(60) == {"reminded": 0, "escalated": 0}
    assert PaperDossierTask.objects.get(pk=task.pk).escalated_at is not None


@pytest.mark.article("10.1")
def test_escalation_goes_to_the_owners_when_there_is_no_administrator(
    owner: User, coach: User
) -> None:
    start = date(2026, 2, 2)
    with at(start):
        trajectories.trajectory_end(actor=coach, request=None, broken_off=False,
                                    trajectory=factories.trajectory(owner, coach, contact=None))
    with at(start + timedelta(days=31)):
        assert others.paper_tasks_remind()["escalated"] == 1
    assert [to for to, _ in mails("retention_paper_escalated")] == [owner.email]


# --- the worker's daily pass ----------------------------------------------------------------


@pytest.mark.article("10.1")
def test_the_worker_runs_the_retention_pass_once_a_day(owner: User, coach: User) -> None:
    with at(date(2024, 3, 1)):
        client = factories.client(owner)
        trajectories.trajectory_end(actor=owner, request=None, broken_off=False,
                                    trajectory=opened(owner, coach, client), on=date(2024, 3, 1))
        accounts.user_set_active(actor=owner, request=None, user=coach, active=False)
    with at(date(2026, 3, 2)):
        call_command("worker", "--once", stdout=io.StringIO())
    assert contact_of(client) == ("", "", "")
    coach.refresh_from_db()
    assert coach.full_name == "Geanonimiseerd account"
    with at(date(2026, 3, 2)):
        assert others.daily_run() == {
            "purged": 0, "mailbox_expired": 0, "clients": 0, "staff": 0, "decisions": 0,
            "reminded": 0, "escalated": 0,
        }
