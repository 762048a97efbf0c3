"""Art. 4.1e: the owners' decisions in unforeseen cases, logged, guarded, read-only once
saved, kept for the retention period and part of the certification audit's report."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from coachregister.audit.engagements import engagement_open
from coachregister.audit.models import Event
from coachregister.practice import services
from coachregister.practice.models import DecisionEntry
from coachregister.testing import factories

pytestmark = [pytest.mark.django_db, pytest.mark.article("4.1e")]

TEXTS = {"question": "Mag een coachee een opname van een sessie maken?",
         "decision": "Alleen met instemming van de coach.",
         "reasoning": "Het reglement zegt er niets over; vertrouwelijkheid gaat voor."}


def record(owner: object, **extra: object) -> DecisionEntry:
    values = {"decided_on": timezone.localdate(), **TEXTS}
    values.update(extra)
    return services.decision_record(actor=owner, request=None, **values)


def test_an_owner_records_a_decision_encrypted_and_audited(owner) -> None:
    entry = record(owner)
    assert b"opname" not in bytes(entry.question_enc)
    assert services.decision_text(entry, "question") == TEXTS["question"]
    assert services.decision_text(entry, "reasoning") == TEXTS["reasoning"]
    event = Event.objects.get(action="practice.decision.recorded")
    assert event.object_id == str(entry.pk) and event.actor_id == owner.pk


def test_only_an_owner_records(administrator, auditor, coach) -> None:
    for user in (administrator, auditor, coach):
        with pytest.raises(PermissionDenied):
            record(user)
    assert not DecisionEntry.objects.exists()


def test_an_entry_is_read_only_once_saved(owner) -> None:
    entry = record(owner)
    entry.reasoning_enc = b"changed"
    with pytest.raises(DatabaseError), transaction.atomic():
        entry.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        DecisionEntry.objects.filter(pk=entry.pk).update(pseudonyms="X")
    entry.refresh_from_db()
    assert services.decision_text(entry, "reasoning") == TEXTS["reasoning"]
    assert not hasattr(services, "decision_update")


def test_contact_data_in_the_texts_is_refused(owner) -> None:
    with pytest.raises(ValidationError):
        record(owner, question="Bel haar op 06-12345678 over de opname?")
    with pytest.raises(ValidationError):
        record(owner, reasoning="Zie de mail van iemand@voorbeeld.example.")
    assert not DecisionEntry.objects.exists()


def test_the_name_of_a_coachee_concerned_is_refused(owner, coach) -> None:
    coachee = factories.trajectory(owner, coach).coachee
    first_name = factories.ANNE.first_name
    with pytest.raises(ValidationError):
        record(owner, pseudonyms=coachee.pseudonym,
               decision=f"{first_name} mag de opname maken.")
    entry = record(owner, pseudonyms=coachee.pseudonym.lower())
    assert entry.pseudonym_list == [coachee.pseudonym]


def test_an_unknown_pseudonym_is_refused(owner) -> None:
    with pytest.raises(ValidationError):
        record(owner, pseudonyms="ZZZZ9999")


def test_entries_are_kept_for_the_retention_period(owner) -> None:
    """Counted from when an entry was recorded: a decision date typed in cannot make an
    entry disappear early."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    today = timezone.localdate()
    noon = datetime(today.year - 7, 1, 1, 12, tzinfo=ZoneInfo("Europe/Amsterdam"))
    with time_machine.travel(noon):
        old = record(owner)
    kept = record(owner, decided_on=date(today.year - 9, 5, 1))  # backdated, recorded now
    assert services.decisions_purge(today.replace(month=1, day=1)) == 0  # exactly 7 years
    assert services.decisions_purge(date(today.year, 1, 2)) == 1
    assert list(DecisionEntry.objects.values_list("pk", flat=True)) == [kept.pk]
    assert old.pk not in DecisionEntry.objects.values_list("pk", flat=True)


def test_the_log_page_owner_writes_administrator_reads(owner, administrator, client_for) -> None:
    record(owner)
    url = reverse("practice:decisions")
    owner_page = client_for(owner).get(url)
    assert TEXTS["decision"] in owner_page.content.decode()
    assert 'name="question"' in owner_page.content.decode()
    admin = client_for(administrator)
    admin_page = admin.get(url)
    assert TEXTS["decision"] in admin_page.content.decode()
    assert 'name="question"' not in admin_page.content.decode()
    refused = admin.post(url, {"decided_on": timezone.localdate().isoformat(), **TEXTS})
    assert refused.status_code == 403
    assert DecisionEntry.objects.count() == 1
    response = client_for(owner).post(url, {"decided_on": timezone.localdate().isoformat(),
                                            **TEXTS, "reasoning": "Een tweede besluit."})
    assert response.status_code == 302
    assert DecisionEntry.objects.count() == 2
    assert Event.objects.filter(action="practice.decisions.viewed").count() == 2


def test_coaches_and_third_parties_cannot_read_the_log(owner, coach, third_party,
                                                       client_for) -> None:
    record(owner)
    for user in (coach, third_party):
        response = client_for(user).get(reverse("practice:decisions"))
        assert response.status_code == 403
        assert TEXTS["decision"] not in response.content.decode()


def test_the_auditor_reads_it_in_the_certification_report_during_the_window(
    owner, coach, auditor, client_for
) -> None:
    factories.trajectory(owner, coach)  # a dossier to sample
    record(owner)
    now = timezone.now()
    engagement = engagement_open(actor=owner, request=None, auditor=auditor,
                                 window_from=now - timedelta(days=1),
                                 window_until=now + timedelta(days=1), sample_size=1)
    report = client_for(auditor).get(reverse("audit:engagement", args=[engagement.pk]))
    assert TEXTS["reasoning"] in report.content.decode()
    assert TEXTS["reasoning"] in client_for(owner).get(
        reverse("audit:engagement", args=[engagement.pk])).content.decode()
    log = client_for(auditor).get(reverse("practice:decisions"))
    assert TEXTS["reasoning"] in log.content.decode()


def test_the_auditor_outside_a_window_does_not_read_it(owner, coach, auditor,
                                                       client_for) -> None:
    factories.trajectory(owner, coach)
    record(owner)
    now = timezone.now()
    engagement = engagement_open(actor=owner, request=None, auditor=auditor,
                                 window_from=now - timedelta(days=10),
                                 window_until=now - timedelta(days=1), sample_size=1)
    report = client_for(auditor).get(reverse("audit:engagement", args=[engagement.pk]))
    assert TEXTS["reasoning"] not in report.content.decode()
    assert client_for(auditor).get(reverse("practice:decisions")).status_code == 403
