"""The first sign-in of a new practice: password, second factor, confidentiality statement,
then (for an owner, while no regulation is published) the publish screen; recording a client
waits for the regulation (art. 12.2, 4.1f, Werkwijze)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from coachregister.accounts.models import Role, User
from coachregister.conftest import OFFICE_ADDRESS, OUTSIDE_ADDRESS, PASSWORD
from coachregister.testing import factories

pytestmark = [pytest.mark.django_db]

LOGIN = reverse("accounts:login")
VERIFY = reverse("accounts:login_verify")
DASHBOARD = reverse("accounts:dashboard")
GATE = reverse("accounts:confidentiality")
CLIENT_NEW = reverse("trajectories:client_new")
TRAJECTORY_NEW = reverse("trajectories:new")


def regulation_page() -> str:
    """The publish screen."""
    return reverse("practice:regulation")


def code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@pytest.mark.article("12.2")
def test_owner_goes_password_code_statement_then_the_publish_screen(
    make_user: Callable[..., User],
) -> None:
    owner = make_user(Role.OWNER, accepted=False)
    device = TOTPDevice.objects.create(user=owner, name="authenticator", confirmed=True)
    client = Client(REMOTE_ADDR=OUTSIDE_ADDRESS)
    step = client.post(LOGIN, {"username": owner.username, "password": PASSWORD})
    assert step["Location"] == VERIFY
    verified = client.post(VERIFY, {"token": code(device)})
    assert verified.status_code == 302 and verified["Location"] == regulation_page()
    assert client.get(verified["Location"])["Location"] == GATE  # the statement first
    accepted = client.post(GATE, {"version": 1, "accept": "on"})
    assert accepted.status_code == 302 and accepted["Location"] == regulation_page()
    assert client.get(accepted["Location"]).status_code == 200


@pytest.mark.article("12.2")
def test_owner_with_a_published_regulation_and_other_staff_go_to_the_dashboard(
    make_user: Callable[..., User],
) -> None:
    administrator = make_user(Role.ADMINISTRATOR)
    response = Client(REMOTE_ADDR=OFFICE_ADDRESS).post(
        LOGIN, {"username": administrator.username, "password": PASSWORD})
    assert response["Location"] == DASHBOARD  # only an owner publishes
    owner = make_user(Role.OWNER)
    factories.regulation()
    response = Client(REMOTE_ADDR=OFFICE_ADDRESS).post(
        LOGIN, {"username": owner.username, "password": PASSWORD})
    assert response["Location"] == DASHBOARD
    nexted = Client(REMOTE_ADDR=OFFICE_ADDRESS).post(
        f"{LOGIN}?next=/trajectories/", {"username": owner.username, "password": PASSWORD})
    assert nexted["Location"] == "/trajectories/"


@pytest.mark.article("Werkwijze")
def test_recording_a_client_waits_for_the_regulation(
    make_user: Callable[..., User], client_for: Callable[[User], Client],
) -> None:
    administrator = client_for(make_user(Role.ADMINISTRATOR))
    for url in (CLIENT_NEW, TRAJECTORY_NEW):
        page = administrator.get(url)
        assert page.status_code == 200 and 'name="client"' not in page.content.decode()
        text = page.content.decode()
        assert "nog niet gepubliceerd" in text or "not published" in text
        assert "eigenaar" in text or "owner" in text
    owner_page = client_for(make_user(Role.OWNER)).get(CLIENT_NEW)
    assert 'name="quote_reference"' not in owner_page.content.decode()
    assert f'href="{regulation_page()}"' in owner_page.content.decode()
    assert client_for(make_user(Role.COACH)).get(CLIENT_NEW).status_code == 403
    factories.regulation()
    assert 'name="quote_reference"' in administrator.get(CLIENT_NEW).content.decode()
    assert 'name="client"' in administrator.get(TRAJECTORY_NEW).content.decode()
