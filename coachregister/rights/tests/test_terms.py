"""Terms as promised (art. 7.1, 7.2, 8.2; GDPR art. 12(3)): the answer term is extended only
where the regulation allows it (the owner's setting, which the generated regulation follows),
to at most three months from receipt, with the reasons told within the first four weeks.
A request extended earlier keeps its dates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from coachregister.accounts.models import User
from coachregister.coachees.models import Coachee
from coachregister.conftest import confirm_recently
from coachregister.lib import deadlines
from coachregister.lib.deadlines import PRACTICE_TZ
from coachregister.outbox.models import OutboxMessage
from coachregister.practice.models import PracticeSettings
from coachregister.practice.services import regulation_text
from coachregister.rights import services
from coachregister.rights.models import DataRequest
from coachregister.testing import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def coachee(owner: User, coach: User) -> Coachee:
    return factories.trajectory(owner, coach).coachee


def allow_extension(allowed: bool = True) -> None:
    PracticeSettings.load()
    PracticeSettings.objects.update(extension_allowed=allowed)


def on(day: date) -> time_machine.travel:
    return time_machine.travel(datetime.combine(day, time(9), tzinfo=PRACTICE_TZ), tick=False)


def register(owner: User, coachee: Coachee, received: datetime) -> DataRequest:
    with time_machine.travel(received, tick=False):
        return services.request_register(actor=owner, request=None, coachee=coachee,
                                         kind="access", channel="letter", verification="x")


def extend(owner: User, data_request: DataRequest, months: int = 2) -> DataRequest:
    return services.request_extend(actor=owner, request=None, data_request=data_request,
                                   months=months, reasons="Veel gegevens uit drie trajecten")


@pytest.mark.article("7.1")
def test_without_the_setting_no_extension(owner: User, coachee: Coachee) -> None:
    data_request = register(owner, coachee, datetime(2027, 3, 10, 9, tzinfo=PRACTICE_TZ))
    with on(date(2027, 3, 12)), pytest.raises(ValidationError) as refused, override("en"):
        extend(owner, data_request)
    assert "does not allow" in refused.value.messages[0]
    data_request.refresh_from_db()
    assert data_request.extended_until is None and data_request.due == date(2027, 4, 7)
    assert not OutboxMessage.objects.filter(kind="rights_extension").exists()


@pytest.mark.article("7.1")
def test_the_detail_page_offers_the_extension_only_with_the_setting(
    owner: User, coachee: Coachee, client_for: Callable[[User], Client]
) -> None:
    received = timezone.now() - timedelta(days=2)
    data_request = register(owner, coachee, received)
    url = reverse("rights:detail", args=[data_request.pk])
    client = client_for(owner)
    page = client.get(url)
    assert page.status_code == 200 and 'data-testid="extend"' not in page.content.decode()
    client.post(url, {"months": "1", "reasons": "Veel gegevens"})
    data_request.refresh_from_db()
    assert data_request.extended_until is None
    allow_extension()
    page = client.get(url)
    assert page.status_code == 200 and 'data-testid="extend"' in page.content.decode()
    client.post(url, {"months": "1", "reasons": "Veel gegevens"})
    data_request.refresh_from_db()
    assert data_request.extended_until == deadlines.legal_ceiling(received, months=2)


@pytest.mark.article("7.1")
def test_at_most_three_months_from_receipt(owner: User, coachee: Coachee) -> None:
    allow_extension()
    received = datetime(2027, 1, 31, 10, tzinfo=PRACTICE_TZ)
    data_request = register(owner, coachee, received)
    with on(date(2027, 2, 20)):
        with pytest.raises(ValidationError):
            extend(owner, data_request, months=3)
        extend(owner, data_request, months=2)
    data_request.refresh_from_db()
    ceiling = deadlines.legal_ceiling(received, months=3)
    assert data_request.extended_until == ceiling == date(2027, 4, 30)
    assert data_request.due == ceiling


@pytest.mark.article("8.2")
def test_the_reasons_are_told_within_the_first_four_weeks(owner: User, coachee: Coachee) -> None:
    """Received 10 March: four weeks end 7 April, the legal month on 10 April. Between the
    two, the regulation's promise has passed and an extension is no longer possible."""
    allow_extension()
    data_request = register(owner, coachee, datetime(2027, 3, 10, 9, tzinfo=PRACTICE_TZ))
    assert (data_request.answer_due, data_request.legal_due) == (date(2027, 4, 7),
                                                                 date(2027, 4, 10))
    with on(date(2027, 4, 9)), pytest.raises(ValidationError) as refused, override("en"):
        extend(owner, data_request)
    assert "four weeks" in refused.value.messages[0]
    with on(date(2027, 4, 7)):
        extend(owner, data_request)
    assert OutboxMessage.objects.filter(kind="rights_extension").count() == 1


@pytest.mark.article("7.1")
def test_a_request_extended_earlier_keeps_its_dates(owner: User, coachee: Coachee) -> None:
    allow_extension()
    data_request = register(owner, coachee, datetime(2027, 3, 10, 9, tzinfo=PRACTICE_TZ))
    with on(date(2027, 3, 20)):
        extend(owner, data_request, months=1)
    allow_extension(False)
    data_request.refresh_from_db()
    assert data_request.extended_until == date(2027, 5, 10) == data_request.due


@pytest.mark.article("7.1")
def test_the_regulation_text_says_whether_the_term_can_be_extended() -> None:
    practice = PracticeSettings.load()
    assert "Die termijn wordt niet verlengd." in regulation_text(practice)
    assert "drie maanden" not in regulation_text(practice)
    practice.extension_allowed = True
    text = regulation_text(practice)
    assert "ten hoogste drie maanden na ontvangst" in text and "binnen vier weken" in text
    assert "niet verlengd" not in text


@pytest.mark.article("7.1")
def test_the_owner_turns_the_extension_on_on_the_settings_page(
    owner: User, administrator: User, client_for: Callable[[User], Client]
) -> None:
    url = reverse("practice:settings")
    data = {"name": "Testpraktijk", "office_networks": "127.0.0.0/8\n192.0.2.0/24",
            "extension_allowed": "on"}
    client_for(administrator).post(url, data)
    assert not PracticeSettings.load().extension_allowed  # the administrator only reads
    response = confirm_recently(client_for(owner)).post(url, data)
    assert response.status_code == 302
    assert PracticeSettings.load().extension_allowed
