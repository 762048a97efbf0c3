"""Art. 13: the processors register. Owners add, change and retire processors with their
agreement as data; the administrator reads; everyone else is refused. A transfer outside the
EEA needs its basis, a review date passed shows amber, and every change is audited without
a name."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from coachregister.audit.models import Event
from coachregister.practice import processors
from coachregister.practice.models import ProcessingRecordSnapshot, Processor

pytestmark = [pytest.mark.django_db, pytest.mark.article("13")]


def values(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "Microsoft 365", "service": "mail_storage",
        "agreement_name": "Microsoft Products and Services Data Protection Addendum",
        "agreement_version": "2025-01", "storage_location": "EU Data Boundary",
        "third_country": "Verenigde Staten", "transfer_basis": "dpf",
        "data_categories": "E-mail en bestanden", "breach_contact": "berichtencentrum",
        "next_review": timezone.localdate() + timedelta(days=200),
    }
    base.update(overrides)
    return base


def add(owner: Any, **overrides: Any) -> Processor:
    return processors.processor_add(actor=owner, request=None, **values(**overrides))


def form_data(**overrides: Any) -> dict[str, str]:
    data = {key: ("" if value is None else str(value)) for key, value in values().items()}
    data.update(overrides)
    return data


def test_an_owner_adds_a_processor_audited_without_its_name(owner) -> None:
    processor = add(owner)
    assert processor.active and processor.transfer_basis == "dpf"
    event = Event.objects.get(action="practice.processor.added")
    assert event.object_id == str(processor.pk) and event.actor_id == owner.pk
    assert "Microsoft" not in str(event.detail)
    # The record of processing activities follows at once.
    latest = ProcessingRecordSnapshot.objects.order_by("-made_at", "-id").first()
    assert latest is not None
    assert [t["processor"] for t in latest.content["transfers"]] == ["Microsoft 365"]


def test_only_an_owner_changes_the_register(owner, administrator, coach, auditor) -> None:
    processor = add(owner)
    for user in (administrator, coach, auditor):
        with pytest.raises(PermissionDenied):
            add(user, name="Ander")
        with pytest.raises(PermissionDenied):
            processors.processor_update(actor=user, request=None, processor=processor,
                                        storage_location="Elders")
        with pytest.raises(PermissionDenied):
            processors.processor_retire(actor=user, request=None, processor=processor)
    processor.refresh_from_db()
    assert processor.active and processor.storage_location == "EU Data Boundary"
    assert Processor.objects.count() == 1


def test_a_third_country_needs_a_transfer_basis(owner) -> None:
    with pytest.raises(ValidationError) as caught:
        add(owner, transfer_basis="none")
    assert caught.value.message_dict["transfer_basis"] == [gettext(
        "Data go to a country outside the EEA: choose the basis of that transfer.")]
    assert not Processor.objects.exists()


def test_no_third_country_needs_no_transfer(owner) -> None:
    with pytest.raises(ValidationError) as caught:
        add(owner, third_country="  ", transfer_basis="scc")
    assert "transfer_basis" in caught.value.message_dict
    processor = add(owner, third_country="", transfer_basis="none")
    assert processor.transfer_basis == "none"


def test_the_next_review_is_not_in_the_past_when_added(owner) -> None:
    with pytest.raises(ValidationError) as caught:
        add(owner, next_review=timezone.localdate() - timedelta(days=1))
    assert caught.value.message_dict["next_review"] == [
        gettext("The next review cannot be in the past.")]
    assert add(owner, next_review=timezone.localdate()).pk


def test_an_overdue_review_may_stay_but_is_not_set_anew(owner) -> None:
    processor = add(owner)
    Processor.objects.filter(pk=processor.pk).update(
        next_review=timezone.localdate() - timedelta(days=3))
    processor.refresh_from_db()
    changed = processors.processor_update(actor=owner, request=None, processor=processor,
                                          agreement_version="2026-01")
    assert changed.agreement_version == "2026-01"
    with pytest.raises(ValidationError):
        processors.processor_update(actor=owner, request=None, processor=processor,
                                    next_review=timezone.localdate() - timedelta(days=1))


def test_a_change_is_audited_with_the_fields_only(owner) -> None:
    processor = add(owner)
    processors.processor_update(actor=owner, request=None, processor=processor,
                                storage_location="Nederland", third_country="",
                                transfer_basis="none")
    event = Event.objects.get(action="practice.processor.changed")
    assert event.detail["fields"] == "storage_location,third_country,transfer_basis"
    assert event.object_id == str(processor.pk)
    # Nothing changed: no event.
    processors.processor_update(actor=owner, request=None, processor=processor,
                                storage_location="Nederland")
    assert Event.objects.filter(action="practice.processor.changed").count() == 1


def test_retiring_keeps_the_row_and_ends_changes(owner) -> None:
    processor = add(owner)
    processors.processor_retire(actor=owner, request=None, processor=processor)
    processor.refresh_from_db()
    assert not processor.active
    assert Event.objects.filter(action="practice.processor.retired",
                                object_id=str(processor.pk)).count() == 1
    with pytest.raises(ValidationError):
        processors.processor_update(actor=owner, request=None, processor=processor,
                                    storage_location="Elders")


def test_the_list_shows_amber_when_the_review_is_due(owner, client_for) -> None:
    due = add(owner, name="Oude hosting", third_country="", transfer_basis="none")
    Processor.objects.filter(pk=due.pk).update(
        next_review=timezone.localdate() - timedelta(days=1))
    add(owner, name="Nieuwe back-up", third_country="", transfer_basis="none")
    page = client_for(owner).get(reverse("practice:processors")).content.decode()
    rows = page.split('data-testid="processor-row"')[1:]
    assert len(rows) == 2
    assert "Nieuwe back-up" in rows[0] and 'data-testid="review-due"' not in rows[0]
    assert "Oude hosting" in rows[1] and 'data-testid="review-due"' in rows[1]
    assert 'class="due-amber"' in page.split("Oude hosting")[0].rsplit("<tr", 1)[1]


def test_the_owner_edits_through_the_pages(owner, client_for) -> None:
    client = client_for(owner)
    response = client.post(reverse("practice:processor_add"), form_data())
    assert response.status_code == 302
    processor = Processor.objects.get()
    refused = client.post(reverse("practice:processor_add"),
                          form_data(name="Tweede", transfer_basis="none"))
    assert refused.status_code == 200
    assert gettext("Data go to a country outside the EEA: choose the basis of that "
                   "transfer.") in refused.content.decode()
    edit = reverse("practice:processor_edit", args=[processor.pk])
    assert "EU Data Boundary" in client.get(edit).content.decode()
    client.post(edit, form_data(storage_location="Nederland"))
    processor.refresh_from_db()
    assert processor.storage_location == "Nederland"
    client.post(reverse("practice:processor_retire", args=[processor.pk]))
    processor.refresh_from_db()
    assert not processor.active


def test_the_administrator_reads_only(owner, administrator, client_for) -> None:
    processor = add(owner)
    client = client_for(administrator)
    page = client.get(reverse("practice:processors"))
    assert page.status_code == 200 and "Microsoft 365" in page.content.decode()
    assert reverse("practice:processor_add") not in page.content.decode()
    assert client.get(reverse("practice:processor_add")).status_code == 403
    assert client.post(reverse("practice:processor_edit", args=[processor.pk]),
                       form_data(storage_location="Elders")).status_code == 403
    assert client.post(reverse("practice:processor_retire",
                               args=[processor.pk])).status_code == 403
    processor.refresh_from_db()
    assert processor.active and processor.storage_location == "EU Data Boundary"


def test_coach_third_party_and_auditor_are_refused(coach, third_party, auditor,
                                                   client_for) -> None:
    for user in (coach, third_party, auditor):
        assert client_for(user).get(reverse("practice:processors")).status_code == 403
    assert Event.objects.filter(action="accounts.access.denied").count() == 3


def test_the_settings_page_links_to_the_register(owner, administrator, client_for) -> None:
    for user in (owner, administrator):
        page = client_for(user).get(reverse("practice:settings")).content.decode()
        assert reverse("practice:processors") in page
        assert reverse("practice:record") in page
