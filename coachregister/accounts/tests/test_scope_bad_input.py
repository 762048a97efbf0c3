"""Saving a third party's scope (art. 5.3) with a value that is not a trajectory: a form
error in the user's language, the scope left as it was, never a server error."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from coachregister.accounts.models import ThirdPartyScope, User
from coachregister.testing import factories

pytestmark = [pytest.mark.django_db, pytest.mark.article("5.3")]

MESSAGE = "Choose trajectories from the list."


@pytest.mark.parametrize(
    "values", [["abc"], ["1x"], [""], ["\x00"], [str(10**30)], ["-1"], ["{pk}", "abc"]]
)
def test_a_value_that_is_not_a_trajectory_is_refused(
    owner: User, coach: User, third_party: User, client_for: Callable[[User], Client],
    values: list[str],
) -> None:
    trajectory = factories.trajectory(owner, coach)
    ThirdPartyScope.objects.create(user=third_party, trajectory=trajectory)
    client = client_for(owner)
    url = reverse("accounts:user_action", args=[third_party.pk, "scope"])
    response = client.post(
        url, {"trajectories": [v.format(pk=trajectory.pk) for v in values]}, follow=True
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("accounts:user_edit", args=[third_party.pk])
    with translation.override("nl"):
        assert translation.gettext(MESSAGE) in response.content.decode()
    assert list(third_party.scope.values_list("trajectory_id", flat=True)) == [trajectory.pk]


def test_the_error_is_in_english_for_an_english_user(
    owner: User, third_party: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    url = reverse("accounts:user_action", args=[third_party.pk, "scope"])
    response = client.post(
        url, {"trajectories": ["abc"]}, follow=True, headers={"accept-language": "en"}
    )
    assert MESSAGE in response.content.decode()


def test_valid_trajectories_are_still_saved(
    owner: User, coach: User, third_party: User, client_for: Callable[[User], Client]
) -> None:
    first, second = factories.trajectory(owner, coach), factories.trajectory(owner, coach)
    url = reverse("accounts:user_action", args=[third_party.pk, "scope"])
    client_for(owner).post(url, {"trajectories": [first.pk, second.pk]})
    assert set(third_party.scope.values_list("trajectory_id", flat=True)) == {first.pk, second.pk}
    client_for(owner).post(url, {})
    assert not third_party.scope.exists()
