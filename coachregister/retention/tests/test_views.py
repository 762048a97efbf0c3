"""Confirming a paper dossier's destruction (art. 10.1): the coach of the trajectory or the
register's runners; everyone else is refused and the refusal is audited."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.conftest import ROLE_FIXTURES
from coachregister.testing import factories
from coachregister.trajectories import services

pytestmark = [pytest.mark.django_db, pytest.mark.article("10.1")]
MAY_CONFIRM = {"owner", "administrator", "coach"}


@pytest.mark.parametrize("role_fixture", ROLE_FIXTURES)
def test_confirm_per_role(role_fixture: str, request: pytest.FixtureRequest, owner: User,
                          coach: User, client_for: Callable[[User], Client]) -> None:
    trajectory = factories.trajectory(owner, coach)
    task = services.trajectory_end(actor=owner, request=None, trajectory=trajectory,
                                   broken_off=False)
    user = request.getfixturevalue(role_fixture)
    response = client_for(user).post(reverse("retention:paper_confirm", args=[task.pk]),
                                     {"method": "service"})
    task.refresh_from_db()
    if role_fixture in MAY_CONFIRM:
        assert response.status_code == 302
        assert task.confirmed_by == user and task.method == "service" and task.confirmed_at
        event = Event.objects.get(action="retention.paper_dossier.destroyed")
        assert event.object_id == trajectory.pseudonym and event.detail == {"method": "service"}
    else:
        assert response.status_code == 403 and task.is_open
        assert Event.objects.filter(action="accounts.access.denied", actor=user,
                                    outcome="denied").exists()


def test_unknown_method_is_refused_with_a_message(owner: User, coach: User,
                                                  client_for: Callable[[User], Client]) -> None:
    trajectory = factories.trajectory(owner, coach)
    task = services.trajectory_end(actor=owner, request=None, trajectory=trajectory,
                                   broken_off=False)
    response = client_for(coach).post(reverse("retention:paper_confirm", args=[task.pk]),
                                      {"method": "burnt"}, follow=True)
    task.refresh_from_db()
    assert task.is_open
    assert any(m.level_tag == "error" for m in response.context["messages"])


def test_anonymous_is_sent_to_sign_in(outsider: Client, owner: User, coach: User) -> None:
    trajectory = factories.trajectory(owner, coach)
    task = services.trajectory_end(actor=owner, request=None, trajectory=trajectory,
                                   broken_off=True)
    response = outsider.post(reverse("retention:paper_confirm", args=[task.pk]),
                             {"method": "service"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
