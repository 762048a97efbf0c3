"""The confidentiality gate (art. 4.1f, 5.2, 5.3) and the session limits (art. 12.2)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from coachregister.accounts import services
from coachregister.accounts.models import ConfidentialityAcceptance, Role, User
from coachregister.audit.models import Event
from coachregister.conftest import OUTSIDE_ADDRESS

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("accounts:dashboard")
GATE = reverse("accounts:confidentiality")
LOGIN = reverse("accounts:login")
PERSONAL_DATA_PAGES = [
    reverse("accounts:dashboard"),
    reverse("accounts:user_list"),
    reverse("audit:event_list"),
    reverse("practice:settings"),
]


@pytest.mark.article("4.1f")
@pytest.mark.parametrize("role", [r for r in Role.values])
def test_no_personal_data_page_before_the_statement_is_accepted(
    role: str, make_user: Callable[..., User], client_for: Callable[[User], Client]
) -> None:
    user = make_user(role, accepted=False)
    client = client_for(user)
    for url in PERSONAL_DATA_PAGES:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == GATE
    page = client.get(GATE)
    assert page.status_code == 200
    assert "Geheimhoudingsverklaring" in page.content.decode()


@pytest.mark.article("5.2")
def test_accepting_records_version_and_time_and_opens_the_pages(
    make_user: Callable[..., User], client_for: Callable[[User], Client]
) -> None:
    user = make_user(Role.OWNER, accepted=False)
    client = client_for(user)
    refused = client.post(GATE, {"version": 1})  # the box not ticked
    assert refused.status_code == 200
    assert not ConfidentialityAcceptance.objects.filter(user=user).exists()
    before = timezone.now()
    response = client.post(GATE, {"version": 1, "accept": "on"})
    assert response.status_code == 302 and response["Location"] == DASHBOARD
    acceptance = ConfidentialityAcceptance.objects.get(user=user)
    assert acceptance.statement.version == 1 and acceptance.accepted_at >= before
    event = Event.objects.get(action="accounts.confidentiality.accepted")
    assert event.actor == user and event.object_id == "1"
    for url in PERSONAL_DATA_PAGES:
        assert client.get(url).status_code == 200, url


@pytest.mark.article("4.1f")
def test_a_new_version_must_be_accepted_again(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(coach)
    assert client.get(DASHBOARD).status_code == 200
    services.statement_publish(actor=owner, request=None)
    assert client.get(DASHBOARD)["Location"] == GATE
    stale = client.post(GATE, {"version": 1, "accept": "on"})
    assert stale.status_code == 200  # accepting the old version does not count
    assert client.post(GATE, {"version": 2, "accept": "on"}).status_code == 302
    assert client.get(DASHBOARD).status_code == 200


@pytest.mark.article("5.2")
def test_only_an_owner_publishes(administrator: User, client_for: Callable[[User], Client]) -> None:
    response = client_for(administrator).post(reverse("accounts:statement_publish"))
    assert response.status_code == 403
    assert Event.objects.filter(action="accounts.access.denied", actor=administrator).exists()


@pytest.mark.article("5.2")
def test_statement_is_generated_from_practice_settings(practice: object, owner: User) -> None:
    practice.name = "Praktijk Zonnestraal"  # type: ignore[attr-defined]
    practice.save()  # type: ignore[attr-defined]
    statement = services.statement_publish(actor=owner, request=None)
    assert "Praktijk Zonnestraal" in statement.text


@pytest.mark.article("12.2")
def test_idle_timeout_after_thirty_minutes(coach: User, client_for: Callable[[User], Client]) -> None:
    client = client_for(coach)
    with time_machine.travel(timezone.now() + timedelta(minutes=29)):
        assert client.get(DASHBOARD).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=29 + 31)):
        response = client.get(DASHBOARD)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


@pytest.mark.article("12.2")
def test_absolute_timeout_after_twelve_hours_even_when_active(
    coach: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(coach)
    start = timezone.now()
    for minutes in range(20, 12 * 60, 20):  # active every 20 minutes, never idle
        with time_machine.travel(start + timedelta(minutes=minutes)):
            assert client.get(DASHBOARD).status_code == 200, minutes
    with time_machine.travel(start + timedelta(hours=12, minutes=5)):
        response = client.get(DASHBOARD)
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert Event.objects.filter(
        action="accounts.session.ended", detail__reason="absolute_timeout"
    ).exists()


@pytest.mark.article("12.2")
def test_moving_outside_the_office_ends_a_password_only_session(
    coach: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(coach)
    assert client.get(DASHBOARD).status_code == 200
    response = client.get(DASHBOARD, REMOTE_ADDR=OUTSIDE_ADDRESS)
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert client.get(DASHBOARD).status_code == 302  # the session is gone, also back inside


@pytest.mark.article("12.2")
def test_sign_out_everywhere_ends_every_session(
    coach: User, client_for: Callable[[User], Client]
) -> None:
    laptop, phone = client_for(coach), client_for(coach)
    assert laptop.get(DASHBOARD).status_code == phone.get(DASHBOARD).status_code == 200
    laptop.post(reverse("accounts:sign_out_everywhere"))
    assert laptop.get(DASHBOARD).status_code == 302
    assert phone.get(DASHBOARD).status_code == 302
    assert Event.objects.filter(action="accounts.sessions.revoked", actor=coach).exists()


@pytest.mark.article("12.2")
def test_logout_is_post_only_and_audited(coach: User, client_for: Callable[[User], Client]) -> None:
    client = client_for(coach)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(DASHBOARD).status_code == 302
    assert Event.objects.filter(action="accounts.logout", actor=coach).exists()
