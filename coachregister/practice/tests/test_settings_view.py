"""Practice settings: owners edit, the administrator reads, others are refused (art. 1.4)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.conftest import confirm_recently
from coachregister.practice.models import PracticeSettings

pytestmark = pytest.mark.django_db
URL = reverse("practice:settings")


def form_data(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {"name": "Testpraktijk", "office_networks": "127.0.0.0/8"}
    data.update(changes)
    return data


@pytest.mark.article("12.2")
def test_owner_changes_office_networks_and_it_is_audited(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    client = confirm_recently(client_for(owner))  # art. 12.2: the sign-in policy asks again
    response = client.post(URL, form_data(office_networks="127.0.0.0/8\n10.1.0.0/16",
                                          two_factor_everywhere="on"))
    assert response.status_code == 302
    practice = PracticeSettings.load()
    assert practice.two_factor_everywhere and "10.1.0.0/16" in practice.office_networks
    event = Event.objects.get(action="practice.settings.changed")
    assert event.detail == {"fields": "office_networks,two_factor_everywhere"}


@pytest.mark.article("12.2")
def test_bad_network_is_refused_and_nothing_changes(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    client = confirm_recently(client_for(owner))
    response = client.post(URL, form_data(office_networks="10.0.0.0/33"))
    assert response.status_code == 200 and "office_networks" in response.context["form"].errors
    assert PracticeSettings.load().office_networks == "127.0.0.0/8\n192.0.2.0/24"
    assert not Event.objects.filter(action="practice.settings.changed").exists()


@pytest.mark.article("1.4")
def test_administrator_reads_but_cannot_change(
    administrator: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(administrator)
    assert client.get(URL).status_code == 200
    client.post(URL, form_data(name="Anders"))
    assert PracticeSettings.load().name == "Testpraktijk"


def confirm_page() -> str:
    from urllib.parse import urlencode

    return f"{reverse('accounts:reauth')}?{urlencode({'next': URL})}"


@pytest.mark.article("12.2")
@pytest.mark.parametrize("change", [
    {"office_networks": "0.0.0.0/0"},
    {"office_networks": "127.0.0.0/8\n192.0.2.0/24", "two_factor_everywhere": "on"},
])
def test_sign_in_policy_change_needs_a_fresh_confirmation(
    change: dict[str, str], owner: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    data = form_data(**{"office_networks": "127.0.0.0/8\n192.0.2.0/24", **change},
                     name="Ook Anders")
    refused = client.post(URL, data)
    assert refused.status_code == 302 and refused["Location"] == confirm_page()
    practice = PracticeSettings.load()
    assert practice.office_networks == "127.0.0.0/8\n192.0.2.0/24"
    assert not practice.two_factor_everywhere and practice.name == "Testpraktijk"
    assert not Event.objects.filter(action="practice.settings.changed").exists()
    done = confirm_recently(client).post(URL, data)
    assert done.status_code == 302 and done["Location"] == URL
    practice = PracticeSettings.load()
    assert practice.name == "Ook Anders"
    assert Event.objects.filter(action="practice.settings.changed").count() == 1


@pytest.mark.article("12.2")
def test_other_settings_change_without_confirmation(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    # As a browser sends a textarea: CRLF line ends, which are not a change.
    data = form_data(office_networks="127.0.0.0/8\r\n192.0.2.0/24\r\n", name="Praktijk Noord")
    response = client_for(owner).post(URL, data)
    assert response.status_code == 302 and response["Location"] == URL
    assert PracticeSettings.load().name == "Praktijk Noord"
    assert Event.objects.get(action="practice.settings.changed").detail == {"fields": "name"}
