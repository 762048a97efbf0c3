"""The new-account form (art. 1.4): no role is preset, and making an owner, who may change
everything, is confirmed with a box of its own."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from coachregister.accounts.models import Role, User
from coachregister.conftest import confirm_recently

pytestmark = [pytest.mark.django_db, pytest.mark.article("1.4")]


def test_a_new_account_has_no_preset_role(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    form = client.get(reverse("accounts:user_new")).context["form"]
    assert form.fields["role"].choices[0][0] == "" and not form["role"].value()
    response = client.post(reverse("accounts:user_new"), {
        "username": "zonder", "full_name": "Zonder Rol", "email": "z@staff.example"})
    assert response.status_code == 200 and "role" in response.context["form"].errors
    assert not User.objects.filter(username="zonder").exists()


def test_making_an_owner_asks_to_confirm(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    client = confirm_recently(client_for(owner))
    data = {"username": "baas2", "full_name": "Tweede Baas", "email": "b2@staff.example",
            "role": Role.OWNER}
    refused = client.post(reverse("accounts:user_new"), data)
    assert refused.status_code == 200 and "confirm_owner" in refused.context["form"].errors
    assert not User.objects.filter(username="baas2").exists()
    done = client.post(reverse("accounts:user_new"), {**data, "confirm_owner": "on"})
    assert done.status_code == 200 and User.objects.get(username="baas2").role == Role.OWNER
    # Changing an existing account has no such box: its role is already shown as it is.
    other = User.objects.get(username="baas2")
    edit = client.get(reverse("accounts:user_edit", args=[other.pk])).context["form"]
    assert "confirm_owner" not in edit.fields
