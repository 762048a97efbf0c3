"""Receiving requests with their dates, and the extension rule (art. 7, 8; GDPR 12(3))."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.coachees.models import Coachee
from coachregister.lib.deadlines import PRACTICE_TZ
from coachregister.outbox.models import OutboxMessage
from coachregister.outbox.services import open_message
from coachregister.practice.models import PracticeSettings
from coachregister.rights import services
from coachregister.rights.models import DataRequest
from coachregister.testing import factories

pytestmark = [pytest.mark.django_db]
RECEIVED = datetime(2027, 1, 31, 10, 0, tzinfo=PRACTICE_TZ)


@pytest.fixture
def coachee(owner: User, coach: User) -> Coachee:
    return factories.trajectory(owner, coach).coachee


def allow_extension(allowed: bool = True) -> None:
    """The owner's setting: the regulation allows extending the answer term (GDPR 12(3))."""
    PracticeSettings.load()
    PracticeSettings.objects.update(extension_allowed=allowed)


def register(owner: User, coachee: Coachee, **kwargs: object) -> DataRequest:
    defaults: dict[str, object] = {
        "kind": "access",
        "channel": "letter",
        "verification": "reply from the email on file",
        "received_at": RECEIVED,
    }
    defaults.update(kwargs)
    with time_machine.travel(defaults["received_at"] + timedelta(hours=1), tick=False):  # type: ignore[operator]
        return services.request_register(actor=owner, request=None, coachee=coachee, **defaults)


@pytest.mark.article("7.1")
def test_a_request_gets_both_dates(owner: User, coachee: Coachee) -> None:
    data_request = register(owner, coachee)
    assert data_request.answer_due == date(2027, 2, 28)  # four weeks
    assert data_request.legal_due == date(2027, 2, 28)  # 31 January + one month
    assert data_request.due == date(2027, 2, 28)
    event = Event.objects.get(action="rights.request.received")
    assert event.detail == {"request": data_request.pk, "kind": "access", "channel": "letter"}


@pytest.mark.article("7.1")
def test_identity_check_is_recorded_and_corrections_state_changes(
    owner: User, coachee: Coachee
) -> None:
    with pytest.raises(ValidationError):
        register(owner, coachee, verification=" ")
    with pytest.raises(ValidationError):
        register(owner, coachee, kind="rectification")
    with pytest.raises(ValidationError):
        register(owner, coachee, kind="rectification", changes={"birthday": "1 mei"})
    correction = register(
        owner, coachee, kind="rectification", changes={"phone": "+31687654321", "email": ""}
    )
    assert services.requested_changes(correction) == {"phone": "+31687654321"}
    assert b"87654321" not in bytes(correction.changes_enc)
    assert DataRequest.objects.count() == 1


@pytest.mark.article("7.1")
def test_only_staff_or_the_portal_register(coach: User, coachee: Coachee) -> None:
    with pytest.raises(PermissionDenied):
        register(coach, coachee)
    with pytest.raises(ValidationError):
        services.request_register(
            actor=None,
            request=None,
            coachee=coachee,
            kind="access",
            channel="letter",
            verification="x",
        )


@pytest.mark.article("7.1")
def test_extension_only_with_reasons_told_before_the_first_deadline(
    owner: User, coachee: Coachee
) -> None:
    allow_extension()
    coachee.language = "nl"  # the mail is in the coachee's language (GDPR art. 12(1))
    coachee.save(update_fields=["language"])
    data_request = register(
        owner, coachee, received_at=datetime(2027, 3, 10, 9, tzinfo=PRACTICE_TZ)
    )
    assert data_request.due == date(2027, 4, 7)  # four weeks come before the month
    day_after = datetime.combine(date(2027, 4, 8), time(9), tzinfo=PRACTICE_TZ)
    with time_machine.travel(day_after), pytest.raises(ValidationError):  # one day too late
        services.request_extend(
            actor=owner, request=None, data_request=data_request, months=2, reasons="Veel gegevens"
        )
    with time_machine.travel(datetime.combine(date(2027, 4, 7), time(9), tzinfo=PRACTICE_TZ)):
        with pytest.raises(ValidationError):
            services.request_extend(
                actor=owner, request=None, data_request=data_request, months=2, reasons="  "
            )
        with pytest.raises(ValidationError):
            services.request_extend(
                actor=owner,
                request=None,
                data_request=data_request,
                months=3,
                reasons="Veel gegevens",
            )
        assert not OutboxMessage.objects.filter(kind="rights_extension").exists()
        services.request_extend(
            actor=owner,
            request=None,
            data_request=data_request,
            months=2,
            reasons="Veel gegevens uit drie trajecten",
        )
    data_request.refresh_from_db()
    assert data_request.extended_until == date(2027, 6, 10) and data_request.extension_told_at
    to, body = open_message(OutboxMessage.objects.get(kind="rights_extension"))
    assert to == factories.ANNE.email
    assert "Veel gegevens uit drie trajecten" in body and "10 juni 2027" in body
    with pytest.raises(ValidationError):  # once
        services.request_extend(
            actor=owner, request=None, data_request=data_request, months=1, reasons="nog meer"
        )


@pytest.mark.article("4.1d")
@pytest.mark.parametrize(
    ("today", "colour"),
    [
        (date(2027, 2, 10), "green"),
        (date(2027, 2, 19), "amber"),
        (date(2027, 2, 24), "red"),
        (date(2027, 3, 2), "red"),
    ],
)
def test_urgency_colours(owner: User, coachee: Coachee, today: date, colour: str) -> None:
    data_request = register(owner, coachee)
    assert data_request.urgency(today) == colour
