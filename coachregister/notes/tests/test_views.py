"""The dossier and session pages for every role (art. 3.1, 5.1)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.conftest import ROLE_FIXTURES
from coachregister.notes import services
from coachregister.notes.models import CoachingSession
from coachregister.testing import factories
from coachregister.trajectories.models import Trajectory

pytestmark = [pytest.mark.django_db, pytest.mark.article("3.1")]
SEES_DOSSIER = {"owner", "administrator", "coach"}


@pytest.fixture
def trajectory(owner: User, coach: User) -> Trajectory:
    return factories.trajectory(owner, coach)


@pytest.fixture
def session(coach: User, trajectory: Trajectory) -> CoachingSession:
    return services.session_record(
        actor=coach,
        request=None,
        trajectory=trajectory,
        held_on=timezone.localdate(),
        kind="video",
        duration_minutes=45,
        keywords="grenzen stellen, slaap",
    )


@pytest.mark.parametrize("role_fixture", ROLE_FIXTURES)
def test_dossier_per_role(
    role_fixture: str,
    request: pytest.FixtureRequest,
    client_for: Callable[[User], Client],
    trajectory: Trajectory,
    session: CoachingSession,
) -> None:
    user = request.getfixturevalue(role_fixture)
    response = client_for(user).get(reverse("notes:dossier", args=[trajectory.pseudonym]))
    if role_fixture in SEES_DOSSIER:
        page = response.content.decode()
        assert response.status_code == 200 and "grenzen stellen, slaap" in page
        assert "Anne" not in page  # contact details only in their own, audited panel
        assert Event.objects.filter(action="notes.dossier.viewed", actor=user).count() == 1
    else:
        assert response.status_code == 403 and b"grenzen" not in response.content
        assert Event.objects.filter(
            action="accounts.access.denied", actor=user, object_id=trajectory.pseudonym
        ).exists()


@pytest.mark.parametrize("role_fixture", ROLE_FIXTURES)
def test_new_session_per_role(
    role_fixture: str,
    request: pytest.FixtureRequest,
    client_for: Callable[[User], Client],
    trajectory: Trajectory,
) -> None:
    user = request.getfixturevalue(role_fixture)
    url = reverse("notes:session_new", args=[trajectory.pseudonym])
    response = client_for(user).post(
        url,
        {
            "held_on": timezone.localdate().isoformat(),
            "kind": "phone",
            "duration_minutes": 30,
            "keywords": "energie",
        },
    )
    if role_fixture == "coach":
        assert response.status_code == 302
        assert CoachingSession.objects.count() == 1
    else:
        assert response.status_code == 403
        assert not CoachingSession.objects.exists()


def test_guard_message_on_the_form(
    coach: User, client_for: Callable[[User], Client], trajectory: Trajectory
) -> None:
    url = reverse("notes:session_new", args=[trajectory.pseudonym])
    response = client_for(coach).post(
        url,
        {
            "held_on": timezone.localdate().isoformat(),
            "kind": "phone",
            "duration_minutes": 30,
            "keywords": "Anne voelt zich beter",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["keywords"]
    # The coach is told which word matched (issue 14); the text is not lost.
    assert len(errors) == 1 and "\u201cAnne\u201d" in errors[0]
    assert "Anne voelt zich beter" in response.content.decode()


@pytest.mark.parametrize("role_fixture", ROLE_FIXTURES)
def test_edit_and_versions_per_role(
    role_fixture: str,
    request: pytest.FixtureRequest,
    client_for: Callable[[User], Client],
    coach: User,
    session: CoachingSession,
) -> None:
    user = request.getfixturevalue(role_fixture)
    client = client_for(user)
    edit = client.post(reverse("notes:session_edit", args=[session.pk]), {"keywords": "ander"})
    assert edit.status_code == (302 if role_fixture == "coach" else 403)
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        client = client_for(user)
        if role_fixture == "coach":
            client.post(
                reverse("notes:session_edit", args=[session.pk]),
                {"keywords": "aangevuld", "reason": "vergeten"},
            )
        versions = client.get(reverse("notes:session_versions", args=[session.pk]))
    if role_fixture in ("coach", "owner", "administrator"):
        assert versions.status_code == 200
        page = versions.content.decode()
        assert ("ander" in page and "aangevuld" in page) or role_fixture != "coach"
    else:
        assert versions.status_code == 403


def test_dossier_query_count_does_not_grow(
    coach: User, client_for: Callable[[User], Client], trajectory: Trajectory
) -> None:
    client = client_for(coach)
    url = reverse("notes:dossier", args=[trajectory.pseudonym])
    services.session_record(
        actor=coach,
        request=None,
        trajectory=trajectory,
        held_on=timezone.localdate(),
        kind="video",
        duration_minutes=45,
        keywords="een",
    )
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(8):
        services.session_record(
            actor=coach,
            request=None,
            trajectory=trajectory,
            held_on=timezone.localdate() - timedelta(days=n),
            kind="video",
            duration_minutes=45,
            keywords=f"punt {n}",
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.content.decode().count('data-testid="keywords"') == 9
    assert len(many) == len(few)


@pytest.mark.django_db(transaction=True)
def test_no_plaintext_keywords_in_the_raw_database(
    tmp_path: Path, owner: User, coach: User
) -> None:
    from coachregister.coachees.tests.test_vault import dump_database

    trajectory = factories.trajectory(owner, coach)
    services.session_record(
        actor=coach,
        request=None,
        trajectory=trajectory,
        held_on=timezone.localdate(),
        kind="video",
        duration_minutes=45,
        keywords="perfectionisme zwemmen Zuidas-project",
    )
    raw = dump_database(tmp_path)
    assert trajectory.pseudonym.encode() in raw
    for word in (b"perfectionisme", b"zwemmen", b"Zuidas"):
        assert word not in raw
