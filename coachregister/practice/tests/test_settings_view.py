"""Practice settings: owners edit, the administrator reads, others are refused (art. 1.4)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from coachregister.accounts.models import User
from coachregister.audit.models import Event
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
    response = client_for(owner).post(URL, form_data(office_networks="127.0.0.0/8\n10.1.0.0/16",
                                                     two_factor_everywhere="on"))
    assert response.status_code == 302
    practice = PracticeSettings.load()
    assert practice.two_factor_everywhere and "10.1.0.0/16" in practice.office_networks
    event = Event.objects.get(action="practice.settings.changed")
    assert event.detail == {"fields": "office_networks,two_factor_everywhere"}


def test_bad_network_is_refused_and_nothing_changes(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    response = client_for(owner).post(URL, form_data(office_networks="10.0.0.0/33"))
    assert response.status_code == 200 and "office_networks" in response.context["form"].errors
    assert PracticeSettings.load().office_networks == "127.0.0.0/8\n192.0.2.0/24"
    assert not Event.objects.filter(action="practice.settings.changed").exists()


def test_administrator_reads_but_cannot_change(
    administrator: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(administrator)
    assert client.get(URL).status_code == 200
    client.post(URL, form_data(name="Anders"))
    assert PracticeSettings.load().name == "Testpraktijk"
