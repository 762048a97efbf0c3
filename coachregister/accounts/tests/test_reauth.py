"""Art. 12.2: "confirm it is you" before a sensitive action — the password, or the code of the
second factor; audited either way, failures counted towards the account's lockout, and the
confirmation holds for `REAUTH_MINUTES` only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from coachregister.accounts import policy, reauth
from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.conftest import OFFICE_ADDRESS, PASSWORD, confirm_recently

pytestmark = [pytest.mark.django_db, pytest.mark.article("12.2")]

CONFIRM = reverse("accounts:reauth")


def user_edit(user: User) -> str:
    return reverse("accounts:user_edit", args=[user.pk])


def deactivate(user: User) -> str:
    return reverse("accounts:user_action", args=[user.pk, "deactivate"])


def confirm_page(next_url: str) -> str:
    return f"{CONFIRM}?{urlencode({'next': next_url})}"


def with_totp(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_without_confirmation_the_action_goes_to_the_confirm_page_and_back(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    refused = client.post(deactivate(coach))
    assert refused.status_code == 302 and refused["Location"] == confirm_page(user_edit(coach))
    coach.refresh_from_db()
    assert coach.is_active  # nothing was done
    page = client.get(refused["Location"])
    assert page.status_code == 200 and 'name="password"' in page.content.decode()
    assert 'name="token"' not in page.content.decode()  # the owner has no second factor
    confirmed = client.post(CONFIRM, {"password": PASSWORD, "next": user_edit(coach)})
    assert confirmed.status_code == 302 and confirmed["Location"] == user_edit(coach)
    event = Event.objects.get(action="accounts.reauth.succeeded")
    assert event.actor == owner and event.object_id == str(owner.pk)
    assert event.detail == {"method": "password"}
    assert client.post(deactivate(coach)).status_code == 302
    coach.refresh_from_db()
    assert not coach.is_active


def test_the_code_of_the_second_factor_confirms_too(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    device = with_totp(owner)
    client = client_for(owner)
    assert 'name="token"' in client.get(CONFIRM).content.decode()
    response = client.post(CONFIRM, {"token": code_for(device)})
    assert response.status_code == 302
    assert Event.objects.get(action="accounts.reauth.succeeded").detail == {
        "method": "second_factor"
    }
    assert reauth.is_fresh(response.wsgi_request)


def test_wrong_password_is_refused_audited_and_counted(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    before = policy.account_failures(owner.username)
    response = client.post(CONFIRM, {"password": "not-my-password-1", "next": "/users/"})
    assert response.status_code == 200
    assert "accounts/reauth.html" in [t.name for t in response.templates]
    assert "not-my-password-1" not in response.content.decode()
    assert policy.account_failures(owner.username) == before + 1
    event = Event.objects.get(action="accounts.reauth.failed")
    assert event.actor == owner and event.outcome == "denied"
    assert event.detail == {"part": "password"}
    assert not reauth.is_fresh(response.wsgi_request)


def test_wrong_code_is_refused_and_counted(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    device = with_totp(owner)
    client = client_for(owner)
    wrong = "000000" if code_for(device) != "000000" else "111111"
    response = client.post(CONFIRM, {"token": wrong})
    assert response.status_code == 200
    assert policy.account_failures(owner.username) == 1
    assert Event.objects.get(action="accounts.reauth.failed").detail == {"part": "second_factor"}


def test_failed_confirmations_lock_the_account(
    owner: User, client_for: Callable[[User], Client], settings: object
) -> None:
    """An open session cannot be used to guess the owner's password without limit: the
    failures count towards the account's lockout (and towards this address's)."""
    client = client_for(owner)
    limit = settings.AXES_FAILURE_LIMIT  # type: ignore[attr-defined]
    for n in range(limit):
        client.post(CONFIRM, {"password": f"guess-number-{n}"})
    assert policy.account_locked(owner.username)
    # Now even the right password no longer confirms from here (the address is locked too).
    response = client.post(CONFIRM, {"password": PASSWORD})
    assert response.status_code == 429
    assert not reauth.is_fresh(response.wsgi_request)


def test_while_locked_a_user_with_a_second_factor_gives_both(
    owner: User, client_for: Callable[[User], Client], settings: object
) -> None:
    device = with_totp(owner)
    limit = settings.AXES_FAILURE_LIMIT  # type: ignore[attr-defined]
    for n in range(limit):  # failures from elsewhere lock the account
        Client().post(reverse("accounts:login"), {"username": owner.username,
                                                  "password": f"guess-{n}-wrong1"},
                      REMOTE_ADDR=f"198.51.100.{n + 1}")
    assert policy.account_locked(owner.username)
    client = client_for(owner)
    password_only = client.post(CONFIRM, {"password": PASSWORD})
    assert password_only.status_code == 200 and not reauth.is_fresh(password_only.wsgi_request)
    both = client.post(CONFIRM, {"password": PASSWORD, "token": code_for(device)})
    assert both.status_code == 302 and reauth.is_fresh(both.wsgi_request)
    assert Event.objects.get(action="accounts.reauth.succeeded").detail == {
        "method": "password_and_second_factor"
    }


def test_next_cannot_leave_the_site(owner: User, client_for: Callable[[User], Client]) -> None:
    client = client_for(owner)
    response = client.post(CONFIRM, {"password": PASSWORD, "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:dashboard")
    response = client.post(f"{CONFIRM}?next=//evil.example/", {"password": PASSWORD})
    assert response["Location"] == reverse("accounts:dashboard")


def test_the_confirmation_expires_after_the_configured_minutes(
    owner: User, coach: User, other_coach: User, client_for: Callable[[User], Client],
    settings: object,
) -> None:
    settings.REAUTH_MINUTES = 3  # type: ignore[attr-defined]
    client = client_for(owner)
    start = timezone.now()
    with time_machine.travel(start):
        assert client.post(CONFIRM, {"password": PASSWORD}).status_code == 302
    with time_machine.travel(start + timedelta(minutes=2, seconds=50)):
        assert client.post(deactivate(coach))["Location"] == user_edit(coach)
    coach.refresh_from_db()
    assert not coach.is_active
    with time_machine.travel(start + timedelta(minutes=3, seconds=10)):
        late = client.post(deactivate(other_coach))
    assert late["Location"] == confirm_page(user_edit(other_coach))
    other_coach.refresh_from_db()
    assert other_coach.is_active


def test_the_default_is_five_minutes(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    client = confirm_recently(client_for(owner))
    with time_machine.travel(timezone.now() + timedelta(minutes=5, seconds=30)):
        late = client.post(deactivate(coach))
    assert late["Location"] == confirm_page(user_edit(coach))


def test_signing_in_counts_as_a_confirmation(owner: User, coach: User) -> None:
    client = Client()
    client.post(reverse("accounts:login"), {"username": owner.username, "password": PASSWORD},
                REMOTE_ADDR=OFFICE_ADDRESS)
    response = client.post(deactivate(coach))
    assert response["Location"] == user_edit(coach)
    coach.refresh_from_db()
    assert not coach.is_active


@pytest.mark.parametrize("role_fixture", ["owner", "administrator", "coach", "other_coach",
                                          "third_party", "auditor"])
def test_every_signed_in_user_may_open_the_confirm_page(
    role_fixture: str, request: pytest.FixtureRequest, client_for: Callable[[User], Client]
) -> None:
    user = request.getfixturevalue(role_fixture)
    assert client_for(user).get(CONFIRM).status_code == 200


def test_anonymous_is_sent_to_sign_in(outsider: Client) -> None:
    response = outsider.get(CONFIRM)
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("accounts:login")
    )
