"""The practice-settings page as an owner meets it (issue 14): the current address as a hint
for the office networks and the wrong network line named (art. 12.2), the practice phone
checked (art. 2: it is printed in the regulation), and after a change that alters the
regulation or the confidentiality statement an offer to publish it (art. 2, 4.1f)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from coachregister.accounts.models import User
from coachregister.conftest import confirm_recently
from coachregister.practice.models import PracticeSettings


def nl(message: str) -> str:
    """The message as the Dutch page shows it."""
    from django.utils.translation import gettext, override

    with override("nl"):
        return gettext(message)

pytestmark = pytest.mark.django_db
URL = reverse("practice:settings")


def form_data(**changes: object) -> dict[str, object]:
    practice = PracticeSettings.load()
    data: dict[str, object] = {
        "name": practice.name, "office_networks": practice.office_networks,
        "phone": practice.phone, "email": practice.email, "address": practice.address,
        "website": practice.website, "chamber_of_commerce": practice.chamber_of_commerce,
        "further_copy_fee": practice.further_copy_fee,
    }
    for flag in ("two_factor_everywhere", "coach_mail_includes_contact_details",
                 "extension_allowed"):
        if getattr(practice, flag):
            data[flag] = "on"
    data.update(changes)
    return data


@pytest.mark.article("12.2")
def test_the_page_shows_the_visitors_address_and_whether_it_is_inside(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = client_for(owner)  # the test client comes from 127.0.0.1
    # Outside the office the owner has taken the second step (art. 12.2).
    device = TOTPDevice.objects.create(user=owner, name="telefoon", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    PracticeSettings.objects.update(office_networks="192.0.2.0/24")
    address = nl("Your current address is %(address)s.") % {"address": "127.0.0.1"}
    outside = client.get(URL).content.decode()
    assert address in outside
    assert nl("It lies outside the office networks below; if you are in the office now, this "
              "is the address to add (or its network).") in outside
    PracticeSettings.objects.update(office_networks="192.0.2.0/24\n127.0.0.0/8")
    inside = client.get(URL).content.decode()
    assert address in inside
    assert nl("It lies inside the office networks below.") in inside


@pytest.mark.article("12.2")
def test_the_networks_error_names_each_wrong_line(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    client = confirm_recently(client_for(owner))
    before = PracticeSettings.load().office_networks
    response = client.post(URL, form_data(
        office_networks="127.0.0.0/8\r\n\r\n10.0.0.0/33\r\n192.0.2.0/24\r\nkantoor"
    ))
    assert response.status_code == 200
    errors = response.context["form"].errors["office_networks"]
    wrong = nl("Line %(line)d: “%(value)s” is not an IP address or network, like "
               "192.0.2.0/24.")
    assert errors == [wrong % {"line": 3, "value": "10.0.0.0/33"},
                      wrong % {"line": 5, "value": "kantoor"}]
    assert PracticeSettings.load().office_networks == before


@pytest.mark.article("2")
@pytest.mark.parametrize(("typed", "stored"), [
    ("020-1234567", "020 123 4567"),
    ("+31 20 123 4567", "020 123 4567"),
    ("+32 2 555 01 00", "+32 2 555 01 00"),
    ("", ""),
])
def test_a_valid_practice_phone_is_stored_in_a_readable_notation(
    owner: User, client_for: Callable[[User], Client], typed: str, stored: str
) -> None:
    response = client_for(owner).post(URL, form_data(phone=typed))
    assert response.status_code == 302
    assert PracticeSettings.load().phone == stored


@pytest.mark.article("2")
@pytest.mark.parametrize("typed", ["12", "bel ons", "020-123", "+31 6 1234"])
def test_an_invalid_practice_phone_is_refused(
    owner: User, client_for: Callable[[User], Client], typed: str
) -> None:
    before = PracticeSettings.load().phone
    response = client_for(owner).post(URL, form_data(phone=typed))
    assert response.status_code == 200 and "phone" in response.context["form"].errors
    assert PracticeSettings.load().phone == before


@pytest.mark.article("2")
def test_a_change_to_the_texts_offers_to_publish_them(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    # The name is in the regulation and in the confidentiality statement.
    saved = client.post(URL, form_data(name="Praktijk Nieuwe Naam"))
    assert saved.status_code == 302
    page = client.get(URL).content.decode()
    assert 'data-testid="publish-offer"' in page
    assert f'href="{reverse("practice:regulation")}" data-testid="offer-regulation"' in page
    assert f'action="{reverse("accounts:statement_publish")}"' in page
    # The offer is made once, right after the change.
    assert 'data-testid="publish-offer"' not in client.get(URL).content.decode()


@pytest.mark.article("2")
def test_a_change_in_the_regulation_only_offers_the_regulation(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    assert client.post(URL, form_data(website="https://nieuw.example")).status_code == 302
    page = client.get(URL).content.decode()
    assert 'data-testid="offer-regulation"' in page
    assert 'data-testid="offer-statement"' not in page


@pytest.mark.article("2")
def test_a_save_that_changes_no_text_offers_nothing(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    assert client.post(URL, form_data()).status_code == 302
    assert 'data-testid="publish-offer"' not in client.get(URL).content.decode()
