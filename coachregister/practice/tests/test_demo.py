"""The demo practice of the README's first command: complete, made through the services,
and safe to load twice."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from coachregister.accounts.models import Role, User
from coachregister.audit import chain
from coachregister.coachees.models import Coachee
from coachregister.trajectories.models import Trajectory

pytestmark = pytest.mark.django_db


@pytest.mark.article("Werkwijze")
def test_demo_loads_once_with_every_role_and_status() -> None:
    out = io.StringIO()
    call_command("demo", stdout=out)
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    assert set(Trajectory.objects.values_list("status", flat=True)) == {
        "invited", "active", "ended", "broken_off"}
    assert Coachee.objects.count() == 4
    assert "eigenaar" in out.getvalue()
    counts = (User.objects.count(), Trajectory.objects.count(), Coachee.objects.count())
    again = io.StringIO()
    call_command("demo", stdout=again)
    assert (User.objects.count(), Trajectory.objects.count(), Coachee.objects.count()) == counts
    assert "already" in again.getvalue()
    assert chain.verify(chain.iter_rows()).ok
