"""Sign-in policy of article 12.2, through the real login view."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from coachregister.accounts.models import Role, User
from coachregister.audit.models import Event
from coachregister.conftest import OFFICE_ADDRESS, OUTSIDE_ADDRESS, PASSWORD
from coachregister.practice.models import PracticeSettings

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
pytestmark = [pytest.mark.django_db]

LOGIN = reverse("accounts:login")
VERIFY = reverse("accounts:login_verify")
DASHBOARD = reverse("accounts:dashboard")


def post_login(
    client: Client, user: User, *, address: str, password: str = PASSWORD, **extra: str
) -> object:
    return client.post(
        LOGIN, {"username": user.username, "password": password}, REMOTE_ADDR=address, **extra
    )


def with_totp(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def signed_in_as(client: Client, address: str) -> User | None:
    response = client.get(DASHBOARD, REMOTE_ADDR=address)
    return response.wsgi_request.user if response.status_code == 200 else None


@pytest.mark.article("12.2")
def test_office_address_without_second_factor_signs_in(coach: User) -> None:
    client = Client()
    response = post_login(client, coach, address=OFFICE_ADDRESS)
    assert response.status_code == 302
    assert response["Location"] == DASHBOARD
    assert signed_in_as(client, OFFICE_ADDRESS) == coach
    event = Event.objects.get(action="accounts.login.succeeded")
    assert event.actor == coach and event.detail == {"second_factor": False}
    assert event.client_ip == OFFICE_ADDRESS


@pytest.mark.article("12.2")
def test_outside_address_without_second_factor_is_refused_with_explanation(coach: User) -> None:
    client = Client()
    response = post_login(client, coach, address=OUTSIDE_ADDRESS)
    assert response.status_code == 403
    assert "authenticator" in response.content.decode()
    assert signed_in_as(client, OUTSIDE_ADDRESS) is None
    event = Event.objects.get(action="accounts.login.failed")
    assert event.outcome == "denied" and event.detail == {"reason": "second_factor_missing"}


@pytest.mark.article("12.2")
def test_forged_forwarded_for_from_untrusted_peer_is_not_the_office(coach: User) -> None:
    client = Client()
    response = post_login(
        client, coach, address=OUTSIDE_ADDRESS, HTTP_X_FORWARDED_FOR=OFFICE_ADDRESS
    )
    assert response.status_code == 403
    assert signed_in_as(client, OUTSIDE_ADDRESS) is None
    assert Event.objects.get(action="accounts.login.failed").client_ip == OUTSIDE_ADDRESS


@pytest.mark.article("12.2")
def test_forwarded_for_from_trusted_proxy_counts(coach: User, settings: object) -> None:
    settings.TRUSTED_PROXIES = ["10.9.0.0/16"]  # type: ignore[attr-defined]
    client = Client()
    response = post_login(client, coach, address="10.9.0.2", HTTP_X_FORWARDED_FOR="192.0.2.44")
    assert response.status_code == 302  # 192.0.2.0/24 is an office network in the fixture
    outside = Client()
    response = post_login(
        outside, coach, address="10.9.0.2", HTTP_X_FORWARDED_FOR=OUTSIDE_ADDRESS
    )
    assert response.status_code == 403


@pytest.mark.article("12.2")
def test_outside_address_with_totp_needs_the_code(coach: User) -> None:
    device = with_totp(coach)
    client = Client()
    response = post_login(client, coach, address=OUTSIDE_ADDRESS)
    assert response.status_code == 302 and response["Location"] == VERIFY
    assert signed_in_as(client, OUTSIDE_ADDRESS) is None  # the password alone is not enough
    bad_code = "000000" if code_for(device) != "000000" else "111111"
    wrong = client.post(VERIFY, {"token": bad_code}, REMOTE_ADDR=OUTSIDE_ADDRESS)
    assert wrong.status_code == 200
    assert any(text in wrong.content.decode() for text in ("niet juist", "not correct"))
    assert Event.objects.filter(action="accounts.login.failed",
                                detail__reason="bad_second_factor").count() == 1
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    ok = client.post(VERIFY, {"token": code_for(device)}, REMOTE_ADDR=OUTSIDE_ADDRESS)
    assert ok.status_code == 302 and ok["Location"] == DASHBOARD
    assert signed_in_as(client, OUTSIDE_ADDRESS) == coach
    assert Event.objects.get(action="accounts.login.succeeded").detail == {"second_factor": True}


@pytest.mark.article("12.2")
def test_backup_code_works_once(coach: User) -> None:
    with_totp(coach)
    backup = StaticDevice.objects.create(user=coach, name="backup")
    StaticToken.objects.create(device=backup, token="abcd1234")
    first = Client()
    post_login(first, coach, address=OUTSIDE_ADDRESS)
    used = first.post(VERIFY, {"token": "abcd1234"}, REMOTE_ADDR=OUTSIDE_ADDRESS)
    assert used.status_code == 302
    second = Client()
    post_login(second, coach, address=OUTSIDE_ADDRESS)
    again = second.post(VERIFY, {"token": "abcd1234"}, REMOTE_ADDR=OUTSIDE_ADDRESS)
    assert again.status_code == 200
    assert signed_in_as(second, OUTSIDE_ADDRESS) is None


@pytest.mark.article("12.2")
def test_two_factor_everywhere_applies_inside_the_office(coach: User) -> None:
    practice = PracticeSettings.load()
    practice.two_factor_everywhere = True
    practice.save()
    assert post_login(Client(), coach, address=OFFICE_ADDRESS).status_code == 403
    with_totp(coach)
    response = post_login(Client(), coach, address=OFFICE_ADDRESS)
    assert response["Location"] == VERIFY


@pytest.mark.article("12.2")
def test_verify_step_expires(coach: User) -> None:
    device = with_totp(coach)
    client = Client()
    post_login(client, coach, address=OUTSIDE_ADDRESS)
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        response = client.post(VERIFY, {"token": code_for(device)}, REMOTE_ADDR=OUTSIDE_ADDRESS)
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert signed_in_as(client, OUTSIDE_ADDRESS) is None


@pytest.mark.article("12.2")
def test_verify_without_password_step_goes_back_to_login() -> None:
    response = Client().get(VERIFY)
    assert response.status_code == 302 and response["Location"] == LOGIN


@pytest.mark.article("12.2")
def test_wrong_password_gives_one_message_for_all_cases(coach: User) -> None:
    client = Client()
    unknown = client.post(LOGIN, {"username": "nobody", "password": "x" * 12})
    wrong = post_login(client, coach, address=OFFICE_ADDRESS, password="wrong-password-1")
    assert unknown.status_code == wrong.status_code == 200
    for response in (unknown, wrong):
        page = response.content.decode()
        assert any(text in page for text in ("username or password", "gebruikersnaam of het wachtwoord"))
    events = list(Event.objects.filter(action="accounts.login.failed").order_by("seq"))
    assert [e.actor for e in events] == [None, coach]
    # The typed username is never recorded.
    assert all("nobody" not in str(e.detail) and e.object_id != "nobody" for e in events)


@pytest.mark.article("12.2")
def test_lockout_after_repeated_failures(coach: User, settings: object) -> None:
    limit = settings.AXES_FAILURE_LIMIT  # type: ignore[attr-defined]
    client = Client()
    for _ in range(limit - 1):
        response = post_login(client, coach, address=OFFICE_ADDRESS, password="wrong-pass-1")
        assert response.status_code == 200
    locked = post_login(client, coach, address=OFFICE_ADDRESS, password="wrong-pass-1")
    assert locked.status_code == 429
    # This address is locked now: even the right password is refused from it.
    right = post_login(Client(), coach, address=OFFICE_ADDRESS)
    assert right.status_code == 429
    assert signed_in_as(client, OFFICE_ADDRESS) is None
    assert Event.objects.filter(action="accounts.login.locked_out", actor=coach).exists()
    # The account is locked too: from outside the password alone is refused from any address
    # (test_login_lockout.py has the roads that still sign in).
    outside = Client()
    assert post_login(outside, coach, address="198.51.100.7").status_code == 429
    assert signed_in_as(outside, "198.51.100.7") is None
    # After the cool-off the right password works again.
    cooloff = settings.AXES_COOLOFF_TIME  # type: ignore[attr-defined]
    with time_machine.travel(timezone.now() + cooloff + timedelta(minutes=1)):
        fresh = Client()
        assert post_login(fresh, coach, address=OFFICE_ADDRESS).status_code == 302


@pytest.mark.article("12.2")
def test_third_party_signs_in_until_contract_end(make_user: Callable[..., User]) -> None:
    today = timezone.localdate()
    current = make_user(Role.THIRD_PARTY, contract_end=today)
    ended = make_user(Role.THIRD_PARTY, contract_end=today - timedelta(days=1))
    assert post_login(Client(), current, address=OFFICE_ADDRESS).status_code == 302
    refused = post_login(Client(), ended, address=OFFICE_ADDRESS)
    assert refused.status_code == 200
    assert Event.objects.filter(action="accounts.login.failed", outcome="denied").exists()


@pytest.mark.article("5.3")
def test_third_party_session_ends_when_contract_ends(
    third_party: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(third_party)
    assert client.get(DASHBOARD).status_code == 200
    end = third_party.contract_end
    morning_after = datetime.combine(end + timedelta(days=1), time(9), tzinfo=AMSTERDAM)
    with time_machine.travel(morning_after):
        response = client.get(DASHBOARD)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


@pytest.mark.article("12.2")
def test_inactive_user_cannot_sign_in(make_user: Callable[..., User]) -> None:
    user = make_user(Role.COACH, is_active=False)
    assert post_login(Client(), user, address=OFFICE_ADDRESS).status_code == 200


@pytest.mark.article("12.2")
def test_next_parameter_cannot_redirect_off_site(coach: User) -> None:
    client = Client()
    response = client.post(
        f"{LOGIN}?next=https://evil.example/", {"username": coach.username, "password": PASSWORD}
    )
    assert response["Location"] == DASHBOARD
