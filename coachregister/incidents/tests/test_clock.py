"""The 72-hour clock of GDPR art. 33(1) for incidents (art. 4.1c, 13.6): registration, the
warnings at 24 h, 48 h and overdue (each once), the late notification's reasons, and the
audited change of the awareness moment."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from coachregister.audit.models import Event
from coachregister.incidents import services
from coachregister.incidents.models import Incident
from coachregister.outbox.models import OutboxMessage
from coachregister.outbox.services import open_message

pytestmark = [pytest.mark.django_db, pytest.mark.article("4.1c")]

AMS = ZoneInfo("Europe/Amsterdam")
AWARE = datetime(2026, 3, 2, 9, 0, tzinfo=AMS)


def register(actor: object, **extra: object) -> Incident:
    values = {"summary": "Een laptop met een export is gestolen.", "aware_at": AWARE,
              "reported_by": "staff", "data_categories": ["contact"]}
    values.update(extra)
    with time_machine.travel(AWARE + timedelta(hours=1), tick=False):
        return services.incident_register(actor=actor, request=None, **values)


def warnings() -> list[str]:
    return sorted(OutboxMessage.objects.filter(kind="incident_warning")
                  .values_list("subject", flat=True))


def tick(hours: float) -> int:
    with time_machine.travel(AWARE + timedelta(hours=hours), tick=False):
        return services.warn_deadlines()


def test_registration_encrypts_what_happened_and_the_system_sets_the_time(owner) -> None:
    incident = register(owner, containment="Account geblokkeerd.", reported_by="processor",
                        processor_name="Microsoft")
    assert incident.registered_at == AWARE + timedelta(hours=1)
    assert b"laptop" not in bytes(incident.summary_enc)
    assert services.text(incident, "summary") == "Een laptop met een export is gestolen."
    assert services.text(incident, "containment") == "Account geblokkeerd."
    assert incident.processor_name == "Microsoft"
    event = Event.objects.get(action="incidents.incident.registered")
    assert event.detail["aware_at"] == "2026-03-02T08:00:00+00:00"


def test_a_processor_report_names_the_processor(owner) -> None:
    with pytest.raises(ValidationError):
        register(owner, reported_by="processor", processor_name="")


def test_the_owners_are_warned_at_24_and_48_hours_and_when_overdue_each_once(
    owner, administrator, make_user
) -> None:
    second_owner = make_user("owner")
    incident = register(owner)
    assert tick(23.9) == 0
    assert tick(24) == 1
    assert tick(30) == 0  # not twice
    assert tick(47.9) == 0
    assert tick(48) == 1
    assert tick(60) == 0
    assert tick(71.9) == 0
    assert tick(72) == 1
    assert tick(100) == 0
    incident.refresh_from_db()
    assert incident.warned_24_at and incident.warned_48_at and incident.warned_overdue_at
    # three warnings, each to both owners (not to the administrator)
    messages = OutboxMessage.objects.filter(kind="incident_warning")
    assert messages.count() == 6
    recipients = {open_message(m)[0] for m in messages}
    assert recipients == {owner.email, second_owner.email}
    assert administrator.email not in recipients
    subjects = warnings()
    assert sum("Overdue" in s or "Te laat" in s for s in subjects) == 2
    body = open_message(messages.first())[1]
    assert f"/incidents/{incident.pk}/" in body
    assert "laptop" not in body  # the mail names the incident, nothing of what happened


def test_no_warnings_once_the_authority_is_notified_or_the_risk_is_unlikely(owner) -> None:
    notified = register(owner)
    unlikely = register(owner)
    with time_machine.travel(AWARE + timedelta(hours=2), tick=False):
        services.incident_assess(actor=owner, request=None, incident=notified, risk="risk",
                                 reasons="Contactgegevens van coachees.")
        services.authority_notification_record(
            actor=owner, request=None, incident=notified,
            submitted_at=AWARE + timedelta(hours=2), reference="AP-1")
        services.incident_assess(actor=owner, request=None, incident=unlikely,
                                 risk="unlikely", reasons="Versleuteld, sleutels veilig.")
    assert tick(24) == 0
    assert tick(80) == 0


def test_a_late_notification_is_refused_without_the_reasons_for_the_delay(owner) -> None:
    incident = register(owner)
    with time_machine.travel(AWARE + timedelta(hours=80), tick=False):
        services.incident_assess(actor=owner, request=None, incident=incident, risk="high",
                                 reasons="Gezondheidsgegevens.")
        with pytest.raises(ValidationError) as refused:
            services.authority_notification_record(
                actor=owner, request=None, incident=incident,
                submitted_at=AWARE + timedelta(hours=79), reference="AP-2")
        assert refused.value.error_list[0].code == "delay_reasons"
        assert not incident.authority_notifications.exists()
        notification = services.authority_notification_record(
            actor=owner, request=None, incident=incident,
            submitted_at=AWARE + timedelta(hours=79), reference="AP-2",
            delay_reasons="De omvang werd pas na drie dagen duidelijk.")
    assert services.text(notification, "delay_reasons").startswith("De omvang")
    assert Event.objects.get(action="incidents.authority.notified").detail["late"] is True


def test_in_time_needs_no_reasons_and_follow_ups_are_recorded_the_same_way(owner) -> None:
    incident = register(owner)
    with time_machine.travel(AWARE + timedelta(hours=71), tick=False):
        services.incident_assess(actor=owner, request=None, incident=incident, risk="risk",
                                 reasons="Adressen.")
        services.authority_notification_record(
            actor=owner, request=None, incident=incident,
            submitted_at=AWARE + timedelta(hours=70), reference="AP-3")
        with pytest.raises(ValidationError):  # one first notification
            services.authority_notification_record(
                actor=owner, request=None, incident=incident,
                submitted_at=AWARE + timedelta(hours=70), reference="AP-3b")
    with time_machine.travel(AWARE + timedelta(days=10), tick=False):
        services.authority_notification_record(  # GDPR 33(4): later, no delay reasons asked
            actor=owner, request=None, incident=incident,
            submitted_at=AWARE + timedelta(days=9), reference="AP-3", follow_up=True)
    assert list(incident.authority_notifications.values_list("follow_up", flat=True)) == [
        False, True]


def test_a_follow_up_needs_a_first_notification_and_only_an_owner_records(
    owner, administrator
) -> None:
    incident = register(owner)
    with time_machine.travel(AWARE + timedelta(hours=3), tick=False):
        services.incident_assess(actor=administrator, request=None, incident=incident,
                                 risk="risk", reasons="Adressen.")
        with pytest.raises(ValidationError):
            services.authority_notification_record(
                actor=owner, request=None, incident=incident,
                submitted_at=AWARE + timedelta(hours=2), reference="AP-4", follow_up=True)
        with pytest.raises(PermissionDenied):
            services.authority_notification_record(
                actor=administrator, request=None, incident=incident,
                submitted_at=AWARE + timedelta(hours=2), reference="AP-4")


def test_a_changed_awareness_moment_is_audited_with_old_and_new(owner) -> None:
    incident = register(owner)  # registered an hour after becoming aware
    later = AWARE + timedelta(minutes=30)  # corrected: aware half an hour later than typed
    with time_machine.travel(AWARE + timedelta(hours=2), tick=False):
        services.incident_update(
            actor=owner, request=None, incident=incident, summary=services.text(
                incident, "summary"), aware_at=later, reported_by="staff",
            data_categories=["contact"])
    event = Event.objects.get(action="incidents.incident.aware_changed")
    assert event.detail == {"old": "2026-03-02T08:00:00+00:00",
                            "new": "2026-03-02T08:30:00+00:00"}
    assert event.actor_id == owner.pk
    incident.refresh_from_db()
    assert incident.aware_at == later
    # the 24-hour warning follows the new moment: due at later + 24 h
    assert incident.warned_24_at is None
    assert tick(24.25) == 0
    assert tick(24.75) == 1


def test_an_unchanged_awareness_moment_records_no_change_of_it(owner) -> None:
    incident = register(owner)
    with time_machine.travel(AWARE + timedelta(hours=2), tick=False):
        services.incident_update(actor=owner, request=None, incident=incident,
                                 summary="Anders verwoord.", aware_at=AWARE,
                                 reported_by="staff", data_categories=["contact"])
    assert not Event.objects.filter(action="incidents.incident.aware_changed").exists()
    assert Event.objects.get(action="incidents.incident.changed").detail == {
        "fields": "summary"}


def test_awareness_in_the_future_is_refused(owner) -> None:
    with pytest.raises(ValidationError):
        register(owner, aware_at=AWARE + timedelta(hours=5))


def test_the_hours_left_count_down_from_awareness(owner) -> None:
    incident = register(owner)
    assert services.hours_left(incident, AWARE + timedelta(hours=1)) == 71
    assert services.hours_left(incident, AWARE + timedelta(hours=72, minutes=30)) == -1


def test_closing_needs_the_assessment_and_the_notification(owner) -> None:
    incident = register(owner)
    with time_machine.travel(AWARE + timedelta(hours=3), tick=False):
        with pytest.raises(ValidationError):
            services.incident_close(actor=owner, request=None, incident=incident)
        services.incident_assess(actor=owner, request=None, incident=incident, risk="risk",
                                 reasons="Adressen.")
        with pytest.raises(ValidationError):
            services.incident_close(actor=owner, request=None, incident=incident)
        services.authority_notification_record(
            actor=owner, request=None, incident=incident,
            submitted_at=AWARE + timedelta(hours=2), reference="AP-5")
        services.incident_close(actor=owner, request=None, incident=incident)
    incident.refresh_from_db()
    assert incident.closed_at is not None


def test_the_awareness_moment_stays_before_registration_and_after_notification(owner) -> None:
    incident = register(owner)
    values = {"summary": "Een laptop met een export is gestolen.", "reported_by": "staff",
              "data_categories": ["contact"]}
    with time_machine.travel(AWARE + timedelta(hours=71), tick=False), \
            pytest.raises(ValidationError):  # later than the registration: moves the clock
            services.incident_update(actor=owner, request=None, incident=incident,
                                     aware_at=AWARE + timedelta(hours=70), **values)
    incident.refresh_from_db()
    assert incident.aware_at == AWARE
