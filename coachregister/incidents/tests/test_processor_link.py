"""Art. 13.6: the processor tells the practice of a breach without undue delay; the incident
links to that processor in the processors register (art. 13), shows its agreement and breach
contact, and keeps the link when it is changed. Old incidents keep their processor's name."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from coachregister.audit.models import Event
from coachregister.incidents import services
from coachregister.incidents.models import Incident
from coachregister.practice.processors import processor_add, processor_retire

pytestmark = [pytest.mark.django_db, pytest.mark.article("13.6")]


def microsoft(owner: Any, **extra: Any) -> Any:
    values = {"name": "Microsoft 365", "service": "mail_storage",
              "agreement_name": "Data Protection Addendum", "storage_location": "EU",
              "third_country": "Verenigde Staten", "transfer_basis": "dpf",
              "data_categories": "E-mail", "breach_contact": "berichtencentrum M365",
              "next_review": timezone.localdate() + timedelta(days=30)}
    values.update(extra)
    return processor_add(actor=owner, request=None, **values)


def register(owner: Any, **extra: Any) -> Incident:
    values = {"summary": "Een gedeelde map stond open.",
              "aware_at": timezone.now() - timedelta(hours=1), "reported_by": "processor"}
    values.update(extra)
    return services.incident_register(actor=owner, request=None, **values)


def form(**extra: str) -> dict[str, str]:
    data = {"summary": "Een gedeelde map stond open.", "reported_by": "processor",
            "aware_at": timezone.localtime(timezone.now() - timedelta(hours=1)).strftime(
                "%Y-%m-%dT%H:%M")}
    data.update(extra)
    return data


def test_an_incident_links_the_processor_that_reported_it(owner) -> None:
    processor = microsoft(owner)
    incident = register(owner, processor=processor)
    assert incident.processor_id == processor.pk
    assert incident.processor_name == "Microsoft 365"  # the authority's form names it
    event = Event.objects.get(action="incidents.incident.registered")
    assert event.detail["processor"] == str(processor.pk)
    assert "Microsoft" not in str(event.detail)


def test_only_the_reporting_processor_is_linked(owner) -> None:
    processor = microsoft(owner)
    incident = register(owner, processor=processor, reported_by="staff")
    assert incident.processor is None and incident.processor_name == ""


def test_a_processor_outside_the_register_is_still_named_in_words(owner) -> None:
    incident = register(owner, processor_name="Kleine leverancier")
    assert incident.processor is None and incident.processor_name == "Kleine leverancier"
    with pytest.raises(ValidationError):
        register(owner)  # neither linked nor named


def test_a_retired_processor_is_not_linked_anew_but_stays_linked(owner) -> None:
    processor = microsoft(owner)
    incident = register(owner, processor=processor)
    processor_retire(actor=owner, request=None, processor=processor)
    processor.refresh_from_db()
    with pytest.raises(ValidationError):
        register(owner, processor=processor)
    services.incident_update(actor=owner, request=None, incident=incident,
                             summary="Een gedeelde map stond open; nu dicht.",
                             aware_at=incident.aware_at, reported_by="processor",
                             processor=processor)
    incident.refresh_from_db()
    assert incident.processor_id == processor.pk


def test_a_change_of_the_link_is_audited_by_field(owner) -> None:
    incident = register(owner, processor_name="Microsoft")
    processor = microsoft(owner, name="Microsoft 365 (tenant 2)")
    services.incident_update(actor=owner, request=None, incident=incident,
                             summary="Een gedeelde map stond open.", aware_at=incident.aware_at,
                             reported_by="processor", processor=processor)
    incident.refresh_from_db()
    assert incident.processor_id == processor.pk
    event = Event.objects.get(action="incidents.incident.changed")
    assert set(event.detail["fields"].split(",")) == {"processor_id", "processor_name"}


def test_the_form_offers_active_processors_and_the_detail_shows_the_link(owner,
                                                                         client_for) -> None:
    processor = microsoft(owner)
    retired = microsoft(owner, name="Oude mailprovider", third_country="",
                        transfer_basis="none")
    processor_retire(actor=owner, request=None, processor=retired)
    client = client_for(owner)
    page = client.get(reverse("incidents:new")).content.decode()
    assert f'value="{processor.pk}"' in page and "Oude mailprovider" not in page
    response = client.post(reverse("incidents:new"), form(processor=str(processor.pk)))
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert incident.processor_id == processor.pk
    detail = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert 'data-testid="incident-processor"' in detail
    assert "berichtencentrum M365" in detail
    # Changing the description keeps the link (the processor is preselected).
    edit = client.get(reverse("incidents:edit", args=[incident.pk])).content.decode()
    assert f'<option value="{processor.pk}" selected>' in edit


def test_an_old_incident_keeps_its_processor_name(owner, client_for) -> None:
    incident = register(owner, processor_name="Leverancier van vroeger")
    detail = client_for(owner).get(
        reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "Leverancier van vroeger" in detail
    assert 'data-testid="incident-processor"' not in detail
