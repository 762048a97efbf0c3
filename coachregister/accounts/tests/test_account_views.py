"""Two-step enrolment, backup codes, password change, the dashboard per role, the language."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.conftest import PASSWORD, ROLE_FIXTURES, confirm_recently

pytestmark = pytest.mark.django_db

ENROL = reverse("accounts:two_factor_enrol")


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=30, t0=0, digits=6):06d}"


@pytest.mark.article("12.2")
def test_enrolment_shows_a_qr_code_and_confirms_with_a_code(
    coach: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(coach)
    page = client.get(ENROL)
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html
    device = TOTPDevice.objects.get(user=coach, confirmed=False)
    assert "otpauth://totp/" in device.config_url and "Testpraktijk" in device.config_url
    key = re.sub(r"\s", "", page.context["manual_key"])
    assert len(key) == 32  # 160-bit secret in base32, typed by hand if the camera fails
    wrong = client.post(ENROL, {"token": "12345"})
    assert wrong.status_code == 200 and not TOTPDevice.objects.filter(confirmed=True).exists()
    # django-otp throttles after a wrong code (1 s, doubling): try again a little later.
    with time_machine.travel(timezone.now() + timedelta(seconds=3)):
        response = client.post(ENROL, {"token": current_code(device)})
    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert set(StaticToken.objects.filter(device__user=coach).values_list("token", flat=True)) == set(codes)
    assert TOTPDevice.objects.get(user=coach).confirmed
    assert Event.objects.filter(action="accounts.two_factor.enrolled", actor=coach).exists()


@pytest.mark.article("12.2")
def test_admin_resets_a_lost_phone(
    administrator: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    TOTPDevice.objects.create(user=coach, name="authenticator", confirmed=True)
    client = confirm_recently(client_for(administrator))
    client.post(reverse("accounts:user_action", args=[coach.pk, "reset-two-factor"]))
    assert not TOTPDevice.objects.filter(user=coach).exists()
    assert Event.objects.filter(action="accounts.two_factor.reset", object_id=str(coach.pk)).exists()


@pytest.mark.article("12.2")
def test_password_change_keeps_this_session_and_checks_the_old_one(
    coach: User, client_for: Callable[[User], Client]
) -> None:
    client, other = client_for(coach), client_for(coach)
    url = reverse("accounts:password_change")
    bad = client.post(url, {"old_password": "wrong", "new_password1": "a-New-passphrase-77",
                            "new_password2": "a-New-passphrase-77"})
    assert bad.status_code == 200
    coach.refresh_from_db()
    assert coach.check_password(PASSWORD)
    good = client.post(url, {"old_password": PASSWORD, "new_password1": "a-New-passphrase-77",
                             "new_password2": "a-New-passphrase-77"})
    assert good.status_code == 302
    assert client.get(reverse("accounts:dashboard")).status_code == 200
    assert other.get(reverse("accounts:dashboard")).status_code == 302


@pytest.mark.parametrize("role_fixture", ROLE_FIXTURES)
@pytest.mark.article("5.1")
def test_dashboard_per_role_has_no_dead_links(
    role_fixture: str, request: pytest.FixtureRequest, client_for: Callable[[User], Client]
) -> None:
    user = request.getfixturevalue(role_fixture)
    client = client_for(user)
    page = client.get(reverse("accounts:dashboard"))
    assert page.status_code == 200
    assert user.full_name in page.content.decode()
    links = set(re.findall(r'href="(/[^"]*)"', page.content.decode()))
    assert links
    for link in links:
        if link.startswith("/static/"):
            continue
        assert client.get(link).status_code == 200, link


@pytest.mark.article("Werkwijze")
def test_dutch_by_default_english_on_request(
    coach: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(coach)
    dutch = client.get(reverse("accounts:dashboard")).content.decode()
    assert 'lang="nl"' in dutch and "Welkom" in dutch
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = client.get(reverse("accounts:dashboard")).content.decode()
    assert 'lang="en"' in english and "Welcome" in english
