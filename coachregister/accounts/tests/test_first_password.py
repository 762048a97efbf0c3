"""A password someone else has seen is changed first (art. 12.2): an account made by an owner
or the administrator, a password reset, and the first owner from `createowner`."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from coachregister.accounts import services
from coachregister.accounts.models import Role, User
from coachregister.conftest import sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.article("12.2")]

NEW_PASSWORD = "een-eigen-lang-wachtwoord-42"


def test_a_new_account_changes_its_password_before_anything_else(owner: User) -> None:
    user, password = services.user_create(
        actor=owner, request=None, username="nieuw", full_name="Nieuwe Coach",
        email="nieuw@staff.example", role=Role.COACH)
    assert user.must_change_password
    client = sign_in(Client(), user)
    for name in ("accounts:dashboard", "accounts:confidentiality", "coachees:list"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:password_change")
    assert client.get(reverse("accounts:password_change")).status_code == 200
    done = client.post(reverse("accounts:password_change"), {
        "old_password": password, "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD})
    assert done["Location"] == reverse("accounts:dashboard")
    user.refresh_from_db()
    assert not user.must_change_password and user.check_password(NEW_PASSWORD)
    # Then the sign-in goes on as for everyone: the confidentiality statement first.
    assert client.get(reverse("accounts:dashboard"))["Location"] == reverse(
        "accounts:confidentiality")


def test_a_reset_password_is_changed_first_too(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    services.user_reset_password(actor=owner, request=None, user=coach)
    coach.refresh_from_db()
    assert coach.must_change_password
    client = sign_in(Client(), coach)
    assert client.get(reverse("accounts:dashboard"))["Location"] == reverse(
        "accounts:password_change")


def test_the_first_owner_changes_the_printed_password() -> None:
    owner, _password = services.owner_bootstrap(
        username="eva", full_name="Eva Eigenaar", email="eva@staff.example")
    assert owner.must_change_password
