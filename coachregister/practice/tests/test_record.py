"""GDPR art. 30(1); art. 2 and 13: the record of processing activities is generated from the
settings and registers, follows each change of them with a dated snapshot (and makes none
when nothing changed), renders as a PDF, and is read by the owners, the administrator and
the auditor inside an engagement window only."""

from __future__ import annotations

import io
import json
import subprocess
import tempfile
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from coachregister.audit.engagements import engagement_open
from coachregister.audit.models import Event
from coachregister.practice import record
from coachregister.practice.models import ProcessingRecordSnapshot
from coachregister.practice.processors import processor_add, processor_update
from coachregister.practice.services import practice_update
from coachregister.retention.services import policy_set
from coachregister.testing import factories

pytestmark = [pytest.mark.django_db]


def snapshots() -> int:
    return ProcessingRecordSnapshot.objects.count()


def latest() -> ProcessingRecordSnapshot:
    return ProcessingRecordSnapshot.objects.order_by("-made_at", "-id").first()


def add_processor(owner: Any, **extra: Any) -> Any:
    values = {"name": "Microsoft 365", "service": "mail_storage",
              "agreement_name": "Data Protection Addendum", "storage_location": "EU",
              "data_categories": "E-mail", "breach_contact": "berichtencentrum",
              "next_review": timezone.localdate() + timedelta(days=30)}
    values.update(extra)
    return processor_add(actor=owner, request=None, **values)


@pytest.mark.article("2")
def test_the_record_is_generated_from_the_settings(owner, practice) -> None:
    content = record.record_content()
    json.dumps(content)  # JSON-serialisable as it is stored
    assert content["controller"]["name"] == practice.name
    assert content["values"]["retention_years"] == 7
    assert content["values"]["office_network_count"] == len(practice.office_networks.split())
    assert "office_networks" not in content["values"]
    purposes = [p["purpose"] for p in content["purposes"]]
    with override("nl"):
        from coachregister.practice.models import ProcessingPurpose

        assert str(ProcessingPurpose.coaching().label) in purposes
    assert len(content["categories"]) == 4
    assert content["transfers"] == []


@pytest.mark.article("2")
def test_an_unchanged_record_makes_no_snapshot(owner) -> None:
    first = record.snapshot_if_changed()
    assert first is not None and first.digest == record.digest(record.record_content())
    assert record.snapshot_if_changed() is None
    assert record.snapshot_if_changed() is None
    assert snapshots() == 1


@pytest.mark.article("2")
def test_what_is_observed_is_not_part_of_the_digest() -> None:
    content = record.record_content()
    moved = {**content, record.OBSERVED: {"living_epochs": 99, "last_anchor_at": "x"}}
    assert record.digest(moved) == record.digest(content)
    assert record.digest({**content, "values": {}}) != record.digest(content)


@pytest.mark.article("2")
def test_a_new_retention_policy_makes_a_new_snapshot(owner) -> None:
    record.snapshot_if_changed()
    policy_set(actor=owner, request=None, years=5, audit_years=6)
    snapshot = record.snapshot_if_changed()
    assert snapshot is not None and snapshots() == 2
    assert snapshot.content["values"]["retention_years"] == 5
    assert snapshot.content["values"]["audit_years"] == 6
    with override("nl"):
        assert record._years(5) in snapshot.content["retention"][0]["period"]
    assert record.snapshot_if_changed() is None


@pytest.mark.article("2")
def test_a_new_number_of_office_networks_makes_a_new_snapshot_without_addresses(owner) -> None:
    """Art. 12.2: the record states how many office networks are set, never the addresses
    (the regulation promises they are not made public)."""
    record.snapshot_if_changed()
    practice_update(actor=owner, request=None,
                    office_networks="127.0.0.0/8\n198.51.100.0/24\n203.0.113.7/32")
    snapshot = record.snapshot_if_changed()
    assert snapshot is not None
    assert snapshot.content["values"]["office_network_count"] == 3
    assert "3" in snapshot.content["security"][0]
    stored = json.dumps(snapshot.content)
    for address in ("127.0.0.0", "198.51.100.0", "203.0.113.7"):
        assert address not in stored
    assert record.snapshot_if_changed() is None


@pytest.mark.article("13")
def test_a_processor_with_a_third_country_is_a_transfer_in_a_new_snapshot(owner) -> None:
    record.snapshot_if_changed()
    processor = add_processor(owner)
    assert snapshots() == 2  # the service kept the record current itself
    assert latest().content["transfers"] == []
    processor_update(actor=owner, request=None, processor=processor,
                     third_country="Verenigde Staten", transfer_basis="dpf")
    assert snapshots() == 3
    transfers = latest().content["transfers"]
    assert [(t["processor"], t["country"]) for t in transfers] == [
        ("Microsoft 365", "Verenigde Staten")]
    with override("nl"):
        kind = record._("processor: %(service)s") % {
            "service": processor.get_service_display()}
    assert {"kind": kind, "count": 1} in latest().content["recipients"]
    assert record.snapshot_if_changed() is None


@pytest.mark.article("2")
def test_the_worker_keeps_a_snapshot(owner) -> None:
    call_command("worker", "--once", stdout=io.StringIO())
    assert snapshots() == 1
    call_command("worker", "--once", stdout=io.StringIO())
    assert snapshots() == 1


@pytest.mark.article("2")
def test_the_pdf_holds_the_controller_and_the_retention_years(owner, practice,
                                                              client_for) -> None:
    policy_set(actor=owner, request=None, years=6)
    response = client_for(owner).get(reverse("practice:record_pdf"))
    assert response["Content-Type"] == "application/pdf"
    with tempfile.NamedTemporaryFile(suffix=".pdf") as pdf:
        pdf.write(response.content)
        pdf.flush()
        text = " ".join(subprocess.run(["pdftotext", pdf.name, "-"], capture_output=True,
                                       text=True, check=True).stdout.split())
    assert practice.name in text
    with override("nl"):
        assert record._years(6) in text
    assert Event.objects.filter(action="practice.record.downloaded").count() == 1
    assert snapshots() == 1


@pytest.mark.article("2")
def test_owner_and_administrator_read_the_record_and_its_versions(owner, administrator,
                                                                  practice,
                                                                  client_for) -> None:
    for user in (owner, administrator):
        client = client_for(user)
        page = client.get(reverse("practice:record"))
        assert page.status_code == 200 and practice.name in page.content.decode()
        versions = client.get(reverse("practice:record_snapshots")).content.decode()
        assert versions.count('data-testid="snapshot-row"') == 1
    snapshot = latest()
    page = client_for(owner).get(reverse("practice:record_snapshot", args=[snapshot.pk]))
    assert 'data-testid="snapshot-date"' in page.content.decode()
    assert Event.objects.filter(action="practice.record.viewed").count() == 2
    assert Event.objects.filter(action="practice.record.snapshot_viewed",
                                object_id=str(snapshot.pk)).count() == 1


@pytest.mark.article("2")
def test_the_auditor_reads_inside_the_window_only(owner, coach, auditor, client_for) -> None:
    client = client_for(auditor)
    assert client.get(reverse("practice:record")).status_code == 403
    assert client.get(reverse("practice:record_pdf")).status_code == 403
    factories.trajectory(owner, coach)
    now = timezone.now()
    engagement_open(actor=owner, request=None, auditor=auditor,
                    window_from=now - timedelta(hours=1), window_until=now + timedelta(days=1),
                    sample_size=1)
    assert client.get(reverse("practice:record")).status_code == 200
    assert client.get(reverse("practice:record_snapshots")).status_code == 403


@pytest.mark.article("2")
def test_coach_and_third_party_are_refused(coach, third_party, client_for) -> None:
    for user in (coach, third_party):
        client = client_for(user)
        for name in ("practice:record", "practice:record_pdf", "practice:record_snapshots"):
            assert client.get(reverse(name)).status_code == 403
    assert snapshots() == 0



@pytest.mark.article("2")
def test_recipients_are_listed_by_category_never_by_name(owner, practice, client_for) -> None:
    """GDPR 30(1)(d): categories of recipients with their counts. A recipient can be a natural
    person (a doctor); the record is kept indefinitely and shown to the auditor, so no name
    appears in the content, the page or the snapshot."""
    from coachregister.disclosures.models import RecipientKind
    from coachregister.disclosures.services import recipient_save

    for name in ("Dr. Annelies Verhoeven-Brinkgreve", "Huisarts Pieter Zwanenburg"):
        recipient_save(actor=owner, request=None, name=name, kind=RecipientKind.DOCTOR)
    recipient_save(actor=owner, request=None, name="Belastingdienst Utrecht",
                   kind=RecipientKind.AUTHORITY)
    content = record.record_content()
    stored = json.dumps(content, ensure_ascii=False)
    with override("nl"):
        doctors = str(RecipientKind.DOCTOR.label)
        authorities = str(RecipientKind.AUTHORITY.label)
    assert {"kind": doctors, "count": 2} in content["recipients"]
    assert {"kind": authorities, "count": 1} in content["recipients"]
    page = client_for(owner).get(reverse("practice:record")).content.decode()
    assert f"{doctors}: 2" in page
    snapshot = json.dumps(latest().content, ensure_ascii=False)
    for text in (stored, page, snapshot):
        for name in ("Verhoeven", "Zwanenburg", "Belastingdienst"):
            assert name not in text


@pytest.mark.article("2")
def test_the_record_page_shows_no_office_network_address(owner, practice,
                                                          client_for) -> None:
    """Art. 12.2: the security section says how many office networks are set and whether the
    second step is asked everywhere, never the addresses."""
    practice_update(actor=owner, request=None, office_networks="127.0.0.0/8\n198.51.100.0/24")
    page = client_for(owner).get(reverse("practice:record")).content.decode()
    assert "198.51.100.0" not in page and "127.0.0.0" not in page
    with override("nl"):
        stated = record.record_content()["security"][0]
    assert "2" in stated and stated in page
    practice_update(actor=owner, request=None, two_factor_everywhere=True)
    with override("nl"):
        everywhere = record._("Two-step verification is required for every sign-in.")
        assert record.record_content()["security"][0] == everywhere


@pytest.mark.article("2")
def test_the_erasure_bound_is_the_promised_one(owner, settings) -> None:
    """Art. 6, 10.2: the backups line states the bound the promises give (keyring), not a sum
    of its own."""
    from coachregister.practice.promises import current

    bound = current()["erasure_bound_days"]
    content = record.record_content()
    assert content["values"]["erasure_bound_days"] == bound
    with override("nl"):
        assert record._days(bound) in content["retention"][-1]["period"]
