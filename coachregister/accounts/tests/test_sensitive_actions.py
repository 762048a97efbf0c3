"""Art. 12.2: each sensitive action of user management and the statement asks for a fresh
confirmation first, and carries nothing out without it. One's own account is not managed
through user management at all."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from coachregister.accounts.models import ConfidentialityStatement, Role, User
from coachregister.audit.models import Event
from coachregister.conftest import PASSWORD, confirm_recently, sign_in

pytestmark = [pytest.mark.django_db]

ACCOUNT = reverse("accounts:account")


def confirm_page(next_url: str) -> str:
    return f"{reverse('accounts:reauth')}?{urlencode({'next': next_url})}"


def action(user: User, name: str) -> str:
    return reverse("accounts:user_action", args=[user.pk, name])


def edit(user: User) -> str:
    return reverse("accounts:user_edit", args=[user.pk])


def edit_data(user: User, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "username": user.username, "full_name": user.full_name, "email": user.email,
        "role": user.role, "contract_reference": "", "contract_end": "",
    }
    data.update(changes)
    return data


@pytest.mark.article("12.2")
@pytest.mark.parametrize("manager", ["owner", "administrator"])
def test_password_reset_needs_a_fresh_confirmation(
    manager: str, request: pytest.FixtureRequest, coach: User,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(request.getfixturevalue(manager))
    refused = client.post(action(coach, "reset-password"))
    assert refused.status_code == 302 and refused["Location"] == confirm_page(edit(coach))
    coach.refresh_from_db()
    assert coach.check_password(PASSWORD)
    assert not Event.objects.filter(action="accounts.password.reset").exists()
    done = confirm_recently(client).post(action(coach, "reset-password"))
    assert done.status_code == 200
    coach.refresh_from_db()
    assert coach.check_password(done.context["password"])
    assert Event.objects.filter(action="accounts.password.reset", object_id=str(coach.pk)).exists()


@pytest.mark.article("12.2")
def test_deactivating_needs_a_fresh_confirmation(
    administrator: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(administrator)
    refused = client.post(action(coach, "deactivate"))
    assert refused["Location"] == confirm_page(edit(coach))
    coach.refresh_from_db()
    assert coach.is_active
    assert not Event.objects.filter(action="accounts.user.deactivated").exists()
    confirm_recently(client).post(action(coach, "deactivate"))
    coach.refresh_from_db()
    assert not coach.is_active


@pytest.mark.article("12.2")
def test_removing_the_second_factor_needs_a_fresh_confirmation(
    administrator: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=coach, name="authenticator", confirmed=True)
    client = client_for(administrator)
    refused = client.post(action(coach, "reset-two-factor"))
    assert refused["Location"] == confirm_page(edit(coach))
    assert TOTPDevice.objects.filter(user=coach).exists()
    confirm_recently(client).post(action(coach, "reset-two-factor"))
    assert not TOTPDevice.objects.filter(user=coach).exists()


@pytest.mark.article("12.2")
def test_other_user_actions_need_no_confirmation(
    administrator: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(administrator)
    response = client.post(action(coach, "sign-out-everywhere"))
    assert response["Location"] == edit(coach)
    assert Event.objects.filter(action="accounts.sessions.revoked", object_id=str(coach.pk)).exists()


@pytest.mark.article("12.2")
def test_changing_a_role_needs_a_fresh_confirmation_and_nothing_is_half_done(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    data = edit_data(coach, role=Role.AUDITOR, full_name="Nieuwe Naam")
    refused = client.post(edit(coach), data)
    assert refused["Location"] == confirm_page(edit(coach))
    coach.refresh_from_db()
    assert coach.role == Role.COACH and coach.full_name != "Nieuwe Naam"
    assert not Event.objects.filter(action__in=["accounts.role.changed",
                                                "accounts.user.updated"]).exists()
    done = confirm_recently(client).post(edit(coach), data)
    assert done.status_code == 302
    coach.refresh_from_db()
    assert coach.role == Role.AUDITOR and coach.full_name == "Nieuwe Naam"
    assert Event.objects.get(action="accounts.role.changed").detail == {
        "from_role": Role.COACH, "to_role": Role.AUDITOR
    }


@pytest.mark.article("12.2")
def test_editing_without_a_role_change_needs_no_confirmation(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    response = client_for(owner).post(edit(coach), edit_data(coach, full_name="Andere Naam"))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:user_list")
    coach.refresh_from_db()
    assert coach.full_name == "Andere Naam"


@pytest.mark.article("12.2")
@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMINISTRATOR])
def test_creating_an_owner_or_administrator_needs_a_fresh_confirmation(
    role: str, owner: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    data = {"username": "nieuw", "full_name": "Nieuw", "email": "n@staff.example", "role": role,
            "confirm_owner": "on"}
    refused = client.post(reverse("accounts:user_new"), data)
    assert refused["Location"] == confirm_page(reverse("accounts:user_new"))
    assert not User.objects.filter(username="nieuw").exists()
    done = confirm_recently(client).post(reverse("accounts:user_new"), data)
    assert done.status_code == 200
    assert User.objects.get(username="nieuw").role == role


@pytest.mark.article("12.2")
def test_publishing_the_statement_needs_a_fresh_confirmation(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    refused = client.post(reverse("accounts:statement_publish"))
    assert refused["Location"] == confirm_page(reverse("accounts:confidentiality"))
    assert ConfidentialityStatement.current().version == 1
    assert not Event.objects.filter(action="accounts.confidentiality.published",
                                    actor=owner).exists()
    done = confirm_recently(client).post(reverse("accounts:statement_publish"))
    assert done["Location"] == reverse("accounts:confidentiality")
    assert ConfidentialityStatement.current().version == 2


@pytest.mark.article("4.1f")
def test_an_owner_publishes_the_first_statement_from_the_gate_page(practice: object) -> None:
    owner = User(username="eigenaar", full_name="E", email="e@staff.example", role=Role.OWNER)
    owner.set_password(PASSWORD)
    owner.save()
    client = sign_in(Client(), owner)
    gate = client.get(reverse("accounts:confidentiality"))
    assert gate.status_code == 503 and reverse("accounts:statement_publish") in gate.content.decode()
    confirm_recently(client).post(reverse("accounts:statement_publish"))
    assert ConfidentialityStatement.current() is not None


@pytest.mark.article("12.2")
@pytest.mark.parametrize("name", ["reset-password", "deactivate", "reset-two-factor",
                                  "sign-out-everywhere"])
def test_own_account_is_not_managed_through_user_management(
    name: str, owner: User, client_for: Callable[[User], Client]
) -> None:
    """Even with a fresh confirmation: the account page, which asks for the current password
    to change it, is the way."""
    client = confirm_recently(client_for(owner))
    stamp = owner.security_stamp
    response = client.post(action(owner, name), follow=True)
    assert response.redirect_chain[0] == (ACCOUNT, 302)
    assert "My account" in response.content.decode() or "Mijn account" in response.content.decode()
    assert any("account" in str(m).lower() for m in response.context["messages"])
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD) and owner.security_stamp == stamp
    assert "password" not in response.context or response.context.get("password") is None
    event = Event.objects.get(action="accounts.access.denied", actor=owner)
    assert event.detail == {"reason": "self_service"} and event.object_id == str(owner.pk)
    assert not Event.objects.filter(action__in=["accounts.password.reset",
                                                "accounts.sessions.revoked"]).exists()


@pytest.mark.article("12.2")
def test_own_account_edit_page_sends_to_the_account_page(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    client = confirm_recently(client_for(owner))
    listing = client.get(reverse("accounts:user_list")).content.decode()
    assert edit(owner) not in listing and ACCOUNT in listing  # the list links to "My account"
    assert client.get(edit(owner))["Location"] == ACCOUNT
    client.post(edit(owner), edit_data(owner, role=Role.COACH))
    owner.refresh_from_db()
    assert owner.role == Role.OWNER
