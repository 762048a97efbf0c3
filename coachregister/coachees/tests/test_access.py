"""Who sees a coachee's contact details (Werkwijze, art. 5.1): only the own coach opens them
directly; every view and refusal is audited."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coachregister.accounts.models import User
from coachregister.audit.models import Event, Listed
from coachregister.coachees.models import Coachee
from coachregister.conftest import ROLE_FIXTURES
from coachregister.testing import factories
from coachregister.trajectories import services
from coachregister.trajectories.models import Trajectory

pytestmark = [pytest.mark.django_db, pytest.mark.article("Werkwijze")]
SEES = {"coach"}
OPEN_FOR_A_PURPOSE = {"owner", "administrator"}


@pytest.fixture
def trajectory(owner: User, coach: User) -> Trajectory:
    return factories.trajectory(owner, coach)


def panel(trajectory: Trajectory) -> str:
    return reverse("coachees:contact", args=[trajectory.coachee.pseudonym])


@pytest.mark.parametrize("role_fixture", ROLE_FIXTURES)
def test_contact_panel_per_role(role_fixture: str, request: pytest.FixtureRequest,
                                client_for: Callable[[User], Client],
                                trajectory: Trajectory) -> None:
    user = request.getfixturevalue(role_fixture)
    response = client_for(user).get(panel(trajectory))
    if role_fixture in OPEN_FOR_A_PURPOSE:  # the record, and a form asking why; no details
        assert response.status_code == 200
        assert "Anne" not in response.content.decode()
        assert 'data-testid="contact-closed"' in response.content.decode()
        assert not Event.objects.filter(action="coachees.contact.viewed", actor=user).exists()
        return
    event = Event.objects.get(action="coachees.contact.viewed", actor=user)
    assert event.object_id == trajectory.coachee.pseudonym
    if role_fixture in SEES:
        assert response.status_code == 200
        assert "Anne de Vries" in response.content.decode()
        assert event.outcome == "allowed"
        assert response["Cache-Control"] == "no-store" or "no-store" in response["Cache-Control"]
    else:
        assert response.status_code == 403
        assert "Anne" not in response.content.decode()
        assert event.outcome == "denied"


def test_anonymous_and_unknown(outsider: Client, trajectory: Trajectory, owner: User,
                               client_for: Callable[[User], Client]) -> None:
    response = outsider.get(panel(trajectory))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client_for(owner).get(reverse("coachees:contact", args=["C-0000-0000"])).status_code == 404


def test_reassigning_moves_access(owner: User, coach: User, other_coach: User,
                                  client_for: Callable[[User], Client],
                                  trajectory: Trajectory) -> None:
    assert client_for(coach).get(panel(trajectory)).status_code == 200
    assert client_for(other_coach).get(panel(trajectory)).status_code == 403
    services.trajectory_reassign(actor=owner, request=None, trajectory=trajectory,
                                 coach=other_coach)
    assert client_for(coach).get(panel(trajectory)).status_code == 403
    assert client_for(other_coach).get(panel(trajectory)).status_code == 200


@pytest.mark.parametrize("role_fixture", ROLE_FIXTURES)
def test_coachee_list_per_role(role_fixture: str, request: pytest.FixtureRequest, owner: User,
                               other_coach: User, client_for: Callable[[User], Client],
                               trajectory: Trajectory) -> None:
    factories.trajectory(owner, other_coach, contact=factories.Contact(
        "Bram", "Bakker", "bram@voorbeeld.example", "+31612345679"))
    user = request.getfixturevalue(role_fixture)
    response = client_for(user).get(reverse("coachees:list"))
    page = response.content.decode()
    listed = set(Listed.objects.filter(event__action="coachees.names.listed",
                                       event__actor=user).values_list("pseudonym", flat=True))
    if role_fixture in ("owner", "administrator"):  # pseudonyms only
        assert trajectory.coachee.pseudonym in page and "Anne" not in page and "Bram" not in page
        assert not listed
    elif role_fixture == "coach":
        assert "Anne de Vries" in page and "Bram" not in page
        assert listed == {trajectory.coachee.pseudonym}
    elif role_fixture == "other_coach":
        assert "Bram Bakker" in page and "Anne" not in page and len(listed) == 1
    else:  # no scope, no sample: an empty list
        assert response.status_code == 200 and not listed and "Anne" not in page


def test_list_query_count_stays_flat(owner: User, coach: User,
                                     client_for: Callable[[User], Client]) -> None:
    client = client_for(coach)
    for n in range(2):
        factories.trajectory(owner, coach, contact=factories.Contact(
            "Piet", "Jansen", f"p{n}@voorbeeld.example", "+31612345670"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("coachees:list"))
    for n in range(2, 10):
        factories.trajectory(owner, coach, contact=factories.Contact(
            "Piet", "Jansen", f"p{n}@voorbeeld.example", "+31612345670"))
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("coachees:list"))
    assert len(response.context["rows"]) == Coachee.objects.count() == 10
    assert len(many) == len(few)
