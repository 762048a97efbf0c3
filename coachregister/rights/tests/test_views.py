"""Request pages per role, and the open requests on the dashboard (art. 4.1d)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from coachregister.accounts.models import User
from coachregister.conftest import ROLE_FIXTURES
from coachregister.rights.models import DataRequest
from coachregister.testing import factories
from coachregister.trajectories.models import Trajectory

pytestmark = [pytest.mark.django_db]
MANAGERS = {"owner", "administrator"}


@pytest.fixture
def trajectory(owner: User, coach: User) -> Trajectory:
    return factories.trajectory(owner, coach)


@pytest.mark.article("7.1")
@pytest.mark.parametrize("role_fixture", ROLE_FIXTURES)
def test_request_pages_per_role(
    role_fixture: str,
    request: pytest.FixtureRequest,
    client_for: Callable[[User], Client],
    trajectory: Trajectory,
) -> None:
    client = client_for(request.getfixturevalue(role_fixture))
    new = reverse("rights:new", args=[trajectory.coachee.pseudonym])
    response = client.post(
        new,
        {
            "kind": "access",
            "channel": "phone",
            "received_at": "2026-11-20T10:00",
            "verification": "teruggebeld op het bekende nummer",
        },
    )
    allowed = role_fixture in MANAGERS
    assert response.status_code == (302 if allowed else 403)
    assert DataRequest.objects.count() == (1 if allowed else 0)
    assert client.get(reverse("rights:list")).status_code == (200 if allowed else 403)
    if allowed:
        detail = client.get(reverse("rights:detail", args=[DataRequest.objects.get().pk]))
        assert detail.status_code == 200
        dashboard = client.get(reverse("accounts:dashboard")).content.decode()
        assert trajectory.coachee.pseudonym in dashboard and "due-" in dashboard


@pytest.mark.article("7.1")
def test_bad_input_stores_nothing(
    owner: User, client_for: Callable[[User], Client], trajectory: Trajectory
) -> None:
    new = reverse("rights:new", args=[trajectory.coachee.pseudonym])
    response = client_for(owner).post(
        new,
        {
            "kind": "rectification",
            "channel": "phone",
            "received_at": "2026-11-20T10:00",
            "verification": "teruggebeld",
        },
    )
    assert response.status_code == 200 and response.context["form"].non_field_errors()
    assert not DataRequest.objects.exists()


@pytest.mark.article("8.1")
@pytest.mark.parametrize("role_fixture", ROLE_FIXTURES)
def test_lifting_a_restriction_per_role(role_fixture: str, request: pytest.FixtureRequest,
                                        client_for: Callable[[User], Client],
                                        trajectory: Trajectory) -> None:
    coachee = trajectory.coachee
    coachee.restricted = True
    coachee.save()
    client = client_for(request.getfixturevalue(role_fixture))
    response = client.post(reverse("rights:restriction_lift", args=[coachee.pseudonym]))
    coachee.refresh_from_db()
    if role_fixture in MANAGERS:
        assert response.status_code == 302 and not coachee.restricted
    else:
        assert response.status_code == 403 and coachee.restricted


@pytest.mark.article("8.2")
def test_a_correction_partly_granted_from_the_page(owner: User,
                                                   client_for: Callable[[User], Client],
                                                   trajectory: Trajectory) -> None:
    from coachregister.coachees import vault
    from coachregister.rights import services

    data_request = services.request_register(
        actor=owner, request=None, coachee=trajectory.coachee, kind="rectification",
        channel="letter", verification="x",
        changes={"phone": "+31687654321", "last_name": "de Vries-Jansen"})
    client_for(owner).post(reverse("rights:detail", args=[data_request.pk]), {
        "decision": "partly", "justification": "De achternaam klopt al.",
        "granted_fields": ["phone"], "confirmed": "yes"})
    data_request.refresh_from_db()
    assert data_request.decision == "partly"
    trajectory.coachee.refresh_from_db()
    contact = vault.open_contact(trajectory.coachee)
    assert contact.phone == "+31687654321" and contact.last_name == "de Vries"
