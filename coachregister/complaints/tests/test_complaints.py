"""Complaints (art. 11, 4.1d): filed in the portal or registered by staff, sealed; the
acknowledgement and the decision are letters in the coachee's language with a mail linking
to the portal; an open complaint holds the coachee's retention; a granted erasure keeps the
complaint file under its own key until the complaint is closed and the legal-claims period
has passed (GDPR art. 17(3)(e)), then the worker shreds it."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.coachees import access
from coachregister.coachees.models import Coachee
from coachregister.complaints import services
from coachregister.complaints.models import Complaint, ComplaintLetter, ComplaintProcedure
from coachregister.disclosures.sealed import ERASED
from coachregister.lib.deadlines import PRACTICE_TZ, add_years
from coachregister.outbox.models import OutboxMessage
from coachregister.outbox.services import open_message
from coachregister.retention import services as retention
from coachregister.retention.models import HoldSource, LegalHold
from coachregister.rights import portal
from coachregister.rights import services as rights
from coachregister.testing import factories

pytestmark = [pytest.mark.django_db, pytest.mark.article("11")]

TEXT = "Mijn gegevens zijn zonder toestemming gedeeld met mijn werkgever."


def at(day: object, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=PRACTICE_TZ)  # type: ignore[arg-type]


def portal_client(coachee: Coachee) -> Client:
    client = Client()
    session = client.session
    session[portal.SESSION_COACHEE] = coachee.pk
    session.save()
    return client


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def _staff_file(owner: User, coachee: Coachee) -> Complaint:
    return services.complaint_file(actor=owner, request=None, coachee=coachee,
                                   topic="regulation", channel="letter", text=TEXT)


def test_a_coachee_files_in_the_portal_sealed_and_held(owner: User, coach: User) -> None:
    coachee = factories.trajectory(owner, coach).coachee
    client = portal_client(coachee)
    home = client.get(reverse("rights:portal_home")).content.decode()
    assert f'href="{reverse("complaints:portal")}"' in home  # linked from "What do you want?"
    response = client.post(reverse("complaints:portal"), {"topic": "regulation", "text": TEXT})
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.channel == "portal" and complaint.created_by is None
    assert b"werkgever" not in bytes(complaint.text_enc) and complaint.text == TEXT
    event = Event.objects.get(action="complaints.complaint.received")
    assert event.object_id == coachee.pseudonym and "werkgever" not in str(event.detail)
    page = client.get(reverse("complaints:portal")).content.decode()
    assert f"K-{complaint.pk}" in page
    # Staff register one from a call; the portal channel is the coachee's own.
    with pytest.raises(ValidationError):
        services.complaint_file(actor=owner, request=None, coachee=coachee, topic="other",
                                channel="portal", text=TEXT)
    by_phone = services.complaint_file(actor=owner, request=None, coachee=coachee,
                                       topic="other", channel="phone", text="Te laat gebeld.")
    assert by_phone.channel == "phone" and by_phone.created_by == owner


def test_an_open_complaint_holds_retention_until_it_is_closed(owner: User, coach: User) -> None:
    trajectory = factories.trajectory(owner, coach)
    coachee = trajectory.coachee
    complaint = _staff_file(owner, coachee)
    hold = LegalHold.objects.get(coachee=coachee)
    assert complaint.hold == hold and hold.source == HoldSource.COMPLAINT and hold.stands()
    assert "hold" in retention.keepers(coachee)
    from coachregister.trajectories.services import trajectory_end

    trajectory_end(actor=owner, request=None, trajectory=trajectory, broken_off=False)
    far = add_years(timezone.localdate(), 9)
    pseudonyms = [p for p, _day in retention.due_for_purge(today=far)]
    assert coachee.pseudonym not in pseudonyms  # held past the retention period
    services.complaint_acknowledge(actor=owner, request=None, complaint=complaint)
    services.complaint_decide(actor=owner, request=None, complaint=complaint,
                              outcome="rejected", reasons="Er is niets gedeeld.")
    hold.refresh_from_db()
    assert hold.lifted_at is not None and hold.lifted_by == owner
    assert "hold" not in retention.keepers(coachee)
    assert coachee.pseudonym in [p for p, _day in retention.due_for_purge(today=far)]


def test_letters_in_the_coachees_language_and_a_mail_with_a_portal_link(
    owner: User, coach: User, tmp_path: Path
) -> None:
    procedure = ComplaintProcedure.load()
    procedure.external_body = "Geschillencommissie Coaching"
    procedure.save()
    coachee = factories.trajectory(owner, coach).coachee
    coachee.restricted = True  # restricted coachees still receive them (art. 8.1)
    coachee.save(update_fields=["restricted"])
    complaint = _staff_file(owner, coachee)
    services.complaint_acknowledge(actor=owner, request=None, complaint=complaint)
    letter = complaint.letters.get()
    assert letter.kind == "acknowledgement" and letter.wrapped_key
    text = pdf_text(services.letter_pdf(letter), tmp_path)
    assert f"K-{complaint.pk}" in text and "ons kenmerk" in text and "werkgever" in text
    assert "Met vriendelijke groet" in text  # Dutch: the coachee's language
    assert complaint.decide_due.strftime("%Y") in text
    mail = OutboxMessage.objects.get(kind="complaint_acknowledgement")
    to, body = open_message(mail)
    assert to == factories.ANNE.email
    assert reverse("rights:portal_start") in body and f"K-{complaint.pk}" in body
    assert "werkgever" not in body  # the letter waits in the portal; no attachment
    with pytest.raises(ValidationError):  # once
        services.complaint_acknowledge(actor=owner, request=None, complaint=complaint)
    # The decision, now in English: the coachee's language decides.
    Coachee.objects.filter(pk=coachee.pk).update(language="en")
    complaint = Complaint.objects.get(pk=complaint.pk)
    services.complaint_decide(actor=owner, request=None, complaint=complaint,
                              outcome="partly", reasons="Een deel is terecht.")
    decision = complaint.letters.get(kind="decision")
    text = pdf_text(services.letter_pdf(decision), tmp_path)
    assert "our reference" in text and "Kind regards" in text, text
    assert "partly upheld" in " ".join(text.split())
    assert "Een deel is terecht." in text
    assert "Geschillencommissie Coaching" in text and "Autoriteit Persoonsgegevens" in text
    to, body = open_message(OutboxMessage.objects.get(kind="complaint_decision"))
    assert reverse("rights:portal_start") in body and "Een deel" not in body
    # The coachee reads both letters in the portal, and only their own.
    client = portal_client(Coachee.objects.get(pk=coachee.pk))
    page = client.get(reverse("complaints:portal")).content.decode()
    assert page.count('data-testid="complaint-letter-link"') == 2
    got = client.get(reverse("complaints:portal_letter", args=[decision.pk]))
    assert got.status_code == 200 and got.content.startswith(b"%PDF")
    other = factories.trajectory(owner, coach, contact=factories.person(3)).coachee
    assert portal_client(other).get(
        reverse("complaints:portal_letter", args=[decision.pk])).status_code == 404


def _erase(owner: User, coachee: Coachee) -> None:
    data_request = rights.request_register(
        actor=owner, request=None, coachee=coachee, kind="erasure", channel="email",
        verification="antwoord vanaf het bekende adres")
    rights.request_decide(actor=owner, request=None, data_request=data_request,
                          decision="granted")


def test_the_complaint_file_survives_an_erasure_until_its_claims_period_ends(
    owner: User, coach: User, tmp_path: Path
) -> None:
    procedure = ComplaintProcedure.load()
    procedure.claims_years = 2
    procedure.save()
    coachee = factories.trajectory(owner, coach).coachee
    pseudonym = coachee.pseudonym
    complaint = _staff_file(owner, coachee)
    services.complaint_acknowledge(actor=owner, request=None, complaint=complaint)
    old = services.complaint_file(actor=owner, request=None, coachee=coachee, topic="other",
                                  channel="phone", text="Oude klacht over een afspraak.")
    services.complaint_decide(actor=owner, request=None, complaint=old, outcome="upheld",
                              reasons="Excuses gemaakt.")
    Complaint.objects.filter(pk=old.pk).update(decided_at=timezone.now() - timedelta(days=800))
    _erase(owner, coachee)  # the complaint's own hold does not block the erasure
    assert not Coachee.objects.filter(pseudonym=pseudonym).exists()
    kept = Complaint.objects.get(pk=complaint.pk)
    assert kept.coachee is None and kept.kept_apart and kept.kept_until is None
    assert kept.text == TEXT  # readable under its own key, not the destroyed coachee key
    assert pdf_text(services.letter_pdf(kept.letters.get()), tmp_path).count("werkgever") == 1
    # The older complaint's claims period had passed: its text and letters went.
    gone = Complaint.objects.get(pk=old.pk)
    assert not gone.kept_apart and gone.text == str(ERASED) and not gone.letters.exists()
    # Open: the worker keeps it, however late.
    with time_machine.travel(at(add_years(timezone.localdate(), 10))):
        assert services.files_shred_due() == 0
    # The practice decides (no letter: there is no one left to write to); the period starts.
    services.complaint_decide(actor=owner, request=None, complaint=kept, outcome="rejected",
                              reasons="Niet gegrond.")
    kept.refresh_from_db()
    assert kept.kept_until == add_years(timezone.localdate(), 2)
    assert kept.decision_text == "Niet gegrond." and kept.letters.count() == 1
    with time_machine.travel(at(kept.kept_until)):
        assert services.files_shred_due() == 0
    with time_machine.travel(at(kept.kept_until + timedelta(days=1))):
        from django.core.management import call_command

        call_command("worker", "--once")
    assert not Complaint.objects.filter(pk=complaint.pk).exists()
    assert not ComplaintLetter.objects.filter(complaint_id=complaint.pk).exists()
    event = Event.objects.get(action="complaints.file.shredded")
    assert event.object_id == pseudonym and event.detail["complaint"] == complaint.pk


def test_a_hold_set_by_hand_still_blocks_an_erasure(owner: User, coach: User) -> None:
    coachee = factories.trajectory(owner, coach).coachee
    _staff_file(owner, coachee)
    retention.hold_set(actor=owner, request=None, coachee=coachee, reason="Geschil",
                       until=timezone.localdate() + timedelta(days=30))
    with pytest.raises(ValidationError):
        _erase(owner, coachee)
    assert Coachee.objects.filter(pk=coachee.pk).exists()


def test_the_purge_keeps_a_file_kept_apart_and_takes_the_rest(owner: User, coach: User) -> None:
    from django.db import transaction

    from coachregister.retention.models import DestructionReason, Scope
    from coachregister.retention.shredder import shred

    coachee = factories.trajectory(owner, coach).coachee
    pseudonym = coachee.pseudonym
    complaint = _staff_file(owner, coachee)
    closed = services.complaint_file(actor=owner, request=None, coachee=coachee, topic="other",
                                     channel="phone", text="Oud.")
    services.complaint_decide(actor=owner, request=None, complaint=closed, outcome="upheld",
                              reasons="Ja.")
    Complaint.objects.filter(pk=closed.pk).update(decided_at=timezone.now() - timedelta(
        days=365 * 6))
    with transaction.atomic():
        record = shred(pseudonym=pseudonym, scope=Scope.PURGE, reason=DestructionReason.RETENTION)
    assert record.destroyed["complaint_files_kept"] == 1
    assert record.destroyed["complaint_records"] == 1
    assert list(Complaint.objects.values_list("pk", flat=True)) == [complaint.pk]
    assert Complaint.objects.get().text == TEXT


def test_per_role_access(
    owner: User, administrator: User, coach: User, third_party: User, auditor: User,
    client_for: Callable[[User], Client],
) -> None:
    trajectory = factories.trajectory(owner, coach)
    coachee = trajectory.coachee
    complaint = _staff_file(owner, coachee)
    detail = reverse("complaints:detail", args=[complaint.pk])
    for user in (coach, third_party, auditor):
        client = client_for(user)
        assert client.get(detail).status_code in (403, 404)
        assert client.get(reverse("complaints:list")).status_code in (403, 404)
        assert client.get(reverse("complaints:new", args=[coachee.pseudonym])).status_code in (
            403, 404)
    admin = client_for(administrator)
    page = admin.get(detail).content.decode()
    assert TEXT in page and 'data-testid="open-contact-for-complaint"' in page
    # Reading the complaint is recorded as a read for this complaint (who saw my data).
    assert Event.objects.filter(action="complaints.complaint.viewed",
                                detail__task=f"complaint:{complaint.pk}").exists()
    # The administrator registers one received by letter, with the channel.
    response = admin.post(reverse("complaints:new", args=[coachee.pseudonym]), {
        "topic": "other", "channel": "letter", "received_at": "2026-01-05T10:00",
        "text": "Brief over de planning."})
    assert response.status_code == 302
    assert Complaint.objects.filter(channel="letter", created_by=administrator).count() == 1
    # Contact details open for the handling of the open complaint, not after it closed.
    task = f"complaint:{complaint.pk}"
    assert any(t == task for t, _label in access.open_tasks(coachee))
    shown = admin.post(reverse("coachees:contact", args=[coachee.pseudonym]), {"task": task})
    assert "Anne" in shown.content.decode()
    assert client_for(coach).post(detail, {"step": "acknowledge"}).status_code in (403, 404)
    assert admin.post(detail, {"step": "acknowledge"}).status_code == 302
    assert admin.post(detail, {"outcome": "upheld", "reasons": "Terecht."}).status_code == 302
    assert [letter.kind for letter in complaint.letters.all()] == ["acknowledgement", "decision"]
    assert admin.get(reverse("complaints:letter", args=[complaint.letters.first().pk])).get(
        "Content-Type") == "application/pdf"
    assert client_for(coach).get(
        reverse("complaints:letter", args=[complaint.letters.first().pk])).status_code in (
        403, 404)
    assert all(t != task for t, _label in access.open_tasks(coachee))
    refused = admin.post(reverse("coachees:contact", args=[coachee.pseudonym]), {"task": task})
    assert "Anne" not in refused.content.decode()
    # The procedure: the owner sets it, the administrator reads it.
    procedure_url = reverse("complaints:procedure")
    values = {"acknowledge_days": "3", "decide_weeks": "4", "external_body": "",
              "external_body_url": "", "authority": "Autoriteit Persoonsgegevens",
              "authority_url": "https://autoriteitpersoonsgegevens.nl", "claims_years": "5"}
    assert admin.get(procedure_url).status_code == 200
    assert admin.post(procedure_url, values).status_code in (403, 404)
    assert ComplaintProcedure.load().acknowledge_days == 5
    assert client_for(owner).post(procedure_url, values).status_code == 302
    assert ComplaintProcedure.load().acknowledge_days == 3  # shorter: in force at once
    assert Event.objects.filter(action="complaints.procedure.saved", actor=owner).exists()


def test_a_complaints_hold_is_not_lifted_by_hand_while_it_is_open(
    owner: User, coach: User
) -> None:
    coachee = factories.trajectory(owner, coach).coachee
    _staff_file(owner, coachee)
    hold = LegalHold.objects.get(coachee=coachee)
    with pytest.raises(ValidationError):
        retention.hold_lift(actor=owner, request=None, hold=hold)
    hold.refresh_from_db()
    assert hold.lifted_at is None and hold.stands()
