"""Trajectory pages for every role, including the coach without the trajectory."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.conftest import ROLE_FIXTURES
from coachregister.retention.models import PaperDossierTask
from coachregister.testing import factories
from coachregister.trajectories.models import Status, Trajectory

pytestmark = [pytest.mark.django_db, pytest.mark.article("5.1")]

SEES_DETAIL = {"owner", "administrator", "coach"}
MANAGES = {"owner", "administrator"}


@pytest.fixture
def trajectory(owner: User, coach: User) -> Trajectory:
    return factories.trajectory(owner, coach)


@pytest.mark.parametrize("role_fixture", ROLE_FIXTURES)
def test_detail_per_role(role_fixture: str, request: pytest.FixtureRequest,
                         client_for: Callable[[User], Client], trajectory: Trajectory) -> None:
    user = request.getfixturevalue(role_fixture)
    response = client_for(user).get(reverse("trajectories:detail", args=[trajectory.pseudonym]))
    if role_fixture in SEES_DETAIL:
        assert response.status_code == 200
        assert trajectory.pseudonym in response.content.decode()
        assert "Anne" not in response.content.decode()  # the detail shows no contact data
    else:
        assert response.status_code == 403
        event = Event.objects.get(action="accounts.access.denied", actor=user)
        assert event.object_id == trajectory.pseudonym and event.outcome == "denied"


@pytest.mark.parametrize("role_fixture", ROLE_FIXTURES)
def test_list_new_clients_report_per_role(role_fixture: str, request: pytest.FixtureRequest,
                                          client_for: Callable[[User], Client],
                                          trajectory: Trajectory) -> None:
    client = client_for(request.getfixturevalue(role_fixture))
    expected = {
        "trajectories:list": True,  # each role sees its own part (access.py)
        "trajectories:new": role_fixture in MANAGES,
        "trajectories:client_list": role_fixture in MANAGES,
        "trajectories:client_new": role_fixture in MANAGES,
        "trajectories:report": role_fixture in MANAGES | {"auditor"},
    }
    for name, allowed in expected.items():
        assert client.get(reverse(name)).status_code == (200 if allowed else 403), name
    listing = client.get(reverse("trajectories:list"))
    if role_fixture not in SEES_DETAIL:
        assert trajectory.pseudonym not in listing.content.decode()


def test_anonymous_goes_to_login(outsider: Client, trajectory: Trajectory) -> None:
    response = outsider.get(reverse("trajectories:detail", args=[trajectory.pseudonym]))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_open_trajectory_shows_link_and_code_once(owner: User, coach: User,
                                                  client_for: Callable[[User], Client]) -> None:
    organisation = factories.client(owner)
    response = client_for(owner).post(reverse("trajectories:new"),
                                      {"client": organisation.pk, "coach": coach.pk})
    assert response.status_code == 200
    page = response.content.decode()
    code = re.search(r'data-testid="invitation-code">([0-9A-Z-]+)<', page).group(1)
    link = re.search(r'data-testid="invitation-link">([^<]+)<', page).group(1)
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}", code) and "/intake/" in link
    trajectory = Trajectory.objects.get()
    assert trajectory.status == Status.INVITED and trajectory.coach == coach
    invitation = trajectory.invitations.get()
    assert code not in invitation.code_hash and link.rsplit("/", 2)[-2] not in invitation.token_hash
    assert Event.objects.filter(action="trajectories.trajectory.opened",
                                object_id=trajectory.pseudonym).exists()


def test_coach_ends_own_trajectory_and_confirms_paper_destruction(
    coach: User, client_for: Callable[[User], Client], trajectory: Trajectory
) -> None:
    client = client_for(coach)
    url = reverse("trajectories:action", args=[trajectory.pseudonym, "end"])
    assert client.post(url, {"outcome": "broken_off"}).status_code == 302
    trajectory.refresh_from_db()
    assert trajectory.status == Status.BROKEN_OFF and trajectory.ended_on
    task = PaperDossierTask.objects.get(trajectory=trajectory)
    assert task.is_open
    dashboard = client.get(reverse("accounts:dashboard")).content.decode()
    assert trajectory.pseudonym in dashboard  # the open task shows on the dashboard
    client.post(reverse("retention:paper_confirm", args=[task.pk]), {"method": "shredded"})
    task.refresh_from_db()
    assert not task.is_open and task.confirmed_by == coach and task.method == "shredded"
    assert trajectory.pseudonym not in client.get(reverse("accounts:dashboard")).content.decode()


def test_other_coach_cannot_end_or_record(other_coach: User, client_for: Callable[[User], Client],
                                          trajectory: Trajectory) -> None:
    client = client_for(other_coach)
    for action, data in [("end", {"outcome": "ended"}),
                         ("contact-moment", {"kind": "call", "occurred_on": "2026-01-01"})]:
        url = reverse("trajectories:action", args=[trajectory.pseudonym, action])
        assert client.post(url, data).status_code == 403
    trajectory.refresh_from_db()
    assert trajectory.status == Status.ACTIVE and trajectory.contact_moments.count() == 1


def test_contact_moment_validation(coach: User, client_for: Callable[[User], Client],
                                   trajectory: Trajectory) -> None:
    client = client_for(coach)
    url = reverse("trajectories:action", args=[trajectory.pseudonym, "contact-moment"])
    client.post(url, {"kind": "call", "occurred_on": "2999-01-01"})
    client.post(url, {"kind": "telepathy", "occurred_on": "2026-01-01"})
    assert trajectory.contact_moments.count() == 1  # only the intake
    client.post(url, {"kind": "call", "occurred_on": "2026-01-02"})
    assert trajectory.contact_moments.filter(kind="call").count() == 1


def test_list_query_count_is_flat(owner: User, coach: User,
                                  client_for: Callable[[User], Client]) -> None:
    client = client_for(owner)
    factories.trajectory(owner, coach)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("trajectories:list"))
    for n in range(8):
        factories.trajectory(owner, coach, contact=factories.Contact(
            "Piet", "Jansen", f"piet{n}@voorbeeld.example", "+31612345670"))
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("trajectories:list"))
    assert len(many) == len(few)
