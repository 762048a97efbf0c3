"""The copy is complete (art. 7.3; GDPR art. 15): every section of `rights.sections.SECTIONS`
carries its content into the overview, the JSON export, the portal page and the access
letter; emptying any one section fails its check; the query count does not grow with the
rows; who saw the data is listed without a cap, with reason and explanation."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coachregister.accounts.models import User
from coachregister.audit.services import deferred, event_record
from coachregister.coachees.models import ContactAccess, ContactMoment
from coachregister.disclosures import sealed
from coachregister.disclosures.models import Basis, Disclosure, Proposal, ProposalStatus, Recipient
from coachregister.notes.models import KeywordVersion
from coachregister.notes.services import keywords_amend, session_record
from coachregister.outbox.models import OutboxMessage
from coachregister.outbox.services import open_message
from coachregister.practice.models import PracticeSettings, ProcessingPurpose, PurposeBasis
from coachregister.retention.models import LegalHold, MailboxTask, PaperDossierTask
from coachregister.retention.services import expiry_date
from coachregister.rights import portal, sections, services
from coachregister.rights.templatetags.letter_tags import local_day
from coachregister.testing import factories
from coachregister.trajectories.models import Trajectory

pytestmark = [pytest.mark.django_db]
COPY = pytest.mark.article("7.3")


@dataclass
class World:
    trajectory: Trajectory
    owner: User
    coach: User
    administrator: User
    access: ContactAccess


def add_session(world: World, keywords: str, amended: str = "", reason: str = "") -> None:
    session = session_record(
        actor=world.coach, request=None, trajectory=world.trajectory,
        held_on=timezone.localdate(), kind="in_person", duration_minutes=60, keywords=keywords,
    )
    if amended:
        with time_machine.travel(timezone.now() + timedelta(days=3)):
            keywords_amend(actor=world.coach, request=None, session=session, keywords=amended,
                           reason=reason)


def add_disclosure(world: World, name: str) -> None:
    coachee = world.trajectory.coachee
    Disclosure.objects.create(
        coachee=coachee, coachee_pseudonym=coachee.pseudonym,
        recipient=Recipient.objects.create(name=name, kind="doctor"),
        categories="contact,trajectory", basis=Basis.CONSENT,
        purpose_enc=sealed.seal(coachee, "disclosure_purpose", "Doorverwijzing fysiotherapie"),
        disclosed_by=world.owner,
    )


def add_read(world: World, explanation: str) -> ContactAccess:
    coachee = world.trajectory.coachee
    access = ContactAccess.objects.create(
        coachee=coachee, user=world.administrator, reason="request",
        explanation_enc=sealed.seal(coachee, "contact_access_explanation", explanation),
    )
    event_record(action="coachees.contact.viewed", actor=world.administrator,
                 object_type="coachee", object_id=coachee.pseudonym,
                 detail={"reason": "request", "access": access.pk})
    return access


@pytest.fixture
def world(owner: User, coach: User, administrator: User) -> World:
    trajectory = factories.trajectory(owner, coach)
    coachee = trajectory.coachee
    w = World(trajectory, owner, coach, administrator, None)  # type: ignore[arg-type]
    add_session(w, "slaap en werkdruk", "slaap, werkdruk en sport", "sport vergeten")
    # A session whose keywords were all erased: listed, with no version.
    erased = session_record(actor=coach, request=None, trajectory=trajectory,
                            held_on=timezone.localdate(), kind="video", duration_minutes=45,
                            keywords="wordt gewist")
    KeywordVersion.objects.filter(session=erased).delete()
    ContactMoment.objects.create(trajectory=trajectory, kind="call",
                                 occurred_on=date(2026, 3, 1), recorded_by=coach)
    add_disclosure(w, "Huisartsenpraktijk Centrum")
    refused = services.request_register(actor=owner, request=None, coachee=coachee,
                                        kind="access", channel="letter", verification="brief")
    services.request_decide(actor=owner, request=None, data_request=refused,
                            decision="refused", grounds=["d"], justification="Bescherming.",
                            other_form="telefonisch toegelicht")
    coachee.restricted, coachee.restricted_at, coachee.restriction_ground = (
        True, timezone.now(), "a")
    coachee.save(update_fields=["restricted", "restricted_at", "restriction_ground"])
    LegalHold.objects.create(coachee=coachee, reason="Geschil met de opdrachtgever",
                             until=timezone.localdate() + timedelta(days=30), set_by=owner)
    MailboxTask.objects.create(pseudonym=coachee.pseudonym, assigned_to=coach)
    PaperDossierTask.objects.get_or_create(trajectory=trajectory)
    ProcessingPurpose.coaching()
    ProcessingPurpose.objects.create(name="Loopbaanadvies", basis=PurposeBasis.CONSENT)
    ProcessingPurpose.objects.create(name="Oud doel", basis=PurposeBasis.CONSENT, active=False)
    w.access = add_read(w, "Verzoek om inzage afhandelen")
    from coachregister.complaints.services import complaint_file

    complaint_file(actor=owner, request=None, coachee=coachee, topic="regulation",
                   channel="letter", text="Mijn gegevens gingen naar de verkeerde coach.")
    Proposal.objects.create(
        coachee=coachee, recipient=Recipient.objects.create(name="Bedrijfsarts Zuid",
                                                            kind="doctor"),
        processing_purpose=ProcessingPurpose.coaching(), categories="trajectory",
        basis=Basis.LEGAL_DUTY, status=ProposalStatus.READY, prepared_by=owner,
    )
    return w


def first(items: object) -> dict:
    assert items, "the section is empty"
    return items[0]  # type: ignore[index]


def check_identity(data: dict, w: World) -> None:
    assert data["identity"]["first_name"] == "Anne"
    assert data["identity"]["email"] == factories.ANNE.email


def check_trajectories(data: dict, w: World) -> None:
    assert first(data["trajectories"])["pseudonym"] == w.trajectory.pseudonym
    assert data["trajectories"][0]["coach"] == w.coach.full_name


def check_contact_moments(data: dict, w: World) -> None:
    assert ("2026-03-01", "call") in [(m["date"], m["kind"]) for m in data["contact_moments"]]


def check_sessions(data: dict, w: World) -> None:
    amended = next(s for s in data["sessions"] if s["versions"])
    assert [(v["number"], v["keywords"], v["reason"]) for v in amended["versions"]] == [
        (1, "slaap en werkdruk", ""), (2, "slaap, werkdruk en sport", "sport vergeten")
    ]
    assert amended["keywords"] == "slaap, werkdruk en sport"
    erased = [s for s in data["sessions"] if s["kind"] == "video"]
    assert erased and erased[0]["versions"] == [] and erased[0]["keywords"] == ""


def check_consents(data: dict, w: World) -> None:
    consent = next(c for c in data["consents"] if c["purpose"] == "session_keywords")
    assert consent["given"] is True and consent["text"] and consent["version"]
    assert consent["purpose_label"]


def check_disclosures(data: dict, w: World) -> None:
    disclosure = first(data["disclosures"])
    assert disclosure["recipient"] == "Huisartsenpraktijk Centrum"
    assert disclosure["purpose"] == "Doorverwijzing fysiotherapie"
    assert disclosure["categories"] == ["contact", "trajectory"]


def check_proposals(data: dict, w: World) -> None:
    planned = first(data["proposals"])
    assert planned["recipient"] == "Bedrijfsarts Zuid" and planned["status"] == "ready"
    assert planned["categories"] == ["trajectory"] and planned["purpose"]


def check_requests(data: dict, w: World) -> None:
    request = first(data["requests"])
    assert (request["kind"], request["decision"]) == ("access", "refused")
    assert request["justification"] == "Bescherming." and len(request["grounds"]) == 1
    assert request["other_form"] == "telefonisch toegelicht"
    assert {"extended_until", "restriction_ground", "fee", "keywords"} <= set(request)


def check_complaints(data: dict, w: World) -> None:
    complaint = first(data["complaints"])
    assert complaint["text"] == "Mijn gegevens gingen naar de verkeerde coach."
    assert complaint["received"] and complaint["topic"]


def check_restriction(data: dict, w: World) -> None:
    assert data["restriction"]["restricted"] is True
    assert data["restriction"]["since"] and data["restriction"]["ground"] == "a"
    assert data["restriction"]["ground_label"]


def check_legal_hold(data: dict, w: World) -> None:
    assert data["legal_hold"]["on_hold"] is True
    assert first(data["legal_hold"]["holds"])["reason"] == "Geschil met de opdrachtgever"


def check_retention(data: dict, w: World) -> None:
    assert data["retention"]["expiry_date"] == expiry_date(w.trajectory.coachee).isoformat()


def check_mailbox(data: dict, w: World) -> None:
    task = first(data["mailbox"])
    assert task["coach"] == w.coach.full_name and task["removed"] is None


def check_paper_dossiers(data: dict, w: World) -> None:
    assert first(data["paper_dossiers"])["trajectory"] == w.trajectory.pseudonym


def check_purposes(data: dict, w: World) -> None:
    listed = {p["purpose"]: p["basis"] for p in data["purposes"]}
    assert listed.get("Loopbaanadvies") == "consent" and "Oud doel" not in listed
    assert ProcessingPurpose.coaching().label in listed


def check_accesses(data: dict, w: World) -> None:
    explained = [e for e in data["accesses"] if e["explanation"]]
    assert explained, "no read with its explanation"
    read = explained[0]
    assert read["who"] == w.administrator.full_name and read["role"] == "administrator"
    assert read["what"] == "coachees.contact.viewed" and read["reason"] == "request"
    assert read["reason_label"] and read["explanation"] == "Verzoek om inzage afhandelen"


CHECKS: dict[str, Callable[[dict, World], None]] = {
    name.removeprefix("check_"): check
    for name, check in dict(globals()).items()
    if name.startswith("check_")
}


@COPY
def test_every_section_has_a_check() -> None:
    assert list(CHECKS) == list(sections.SECTIONS)


@COPY
def test_each_section_holds_its_content(world: World) -> None:
    data = portal.overview(world.trajectory.coachee)
    assert list(data) == list(sections.SECTIONS)
    for check in CHECKS.values():
        check(data, world)
    exported = json.loads(portal.overview_json(world.trajectory.coachee))
    for check in CHECKS.values():
        check(exported, world)  # the JSON export carries every section too (GDPR art. 20)


@COPY
def test_emptying_any_section_fails_its_check(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Removing a section from the copy is caught: each check fails on an emptied section."""
    coachee = world.trajectory.coachee
    full = portal.overview(coachee)
    for name in list(sections.SECTIONS):
        empty: object = {} if isinstance(full[name], dict) else []
        with monkeypatch.context() as patched:
            patched.setitem(sections.SECTIONS, name, lambda c, empty=empty: empty)
            data = portal.overview(coachee)
        with pytest.raises((AssertionError, KeyError, StopIteration)):
            CHECKS[name](data, world)


@COPY
def test_who_saw_the_data_has_no_cap(world: World) -> None:
    coachee = world.trajectory.coachee
    with deferred():
        for _n in range(1005):
            event_record(action="coachees.contact.viewed", actor=world.coach,
                         object_type="coachee", object_id=coachee.pseudonym)
    accesses = portal.overview(coachee)["accesses"]
    assert len(accesses) >= 1006
    assert any(e["explanation"] == "Verzoek om inzage afhandelen" for e in accesses)


@COPY
def test_the_query_count_does_not_grow_with_the_rows(world: World) -> None:
    coachee = world.trajectory.coachee
    with CaptureQueriesContext(connection) as few:
        portal.overview(coachee)
    coachee.restricted = False  # to add sessions
    coachee.save(update_fields=["restricted"])
    for n in range(4):
        add_session(world, f"onderwerp {n}", f"onderwerp {n} aangevuld", "aanvulling")
        add_disclosure(world, f"Ontvanger {n}")
        add_read(world, f"Uitleg {n}")
        ContactMoment.objects.create(trajectory=world.trajectory, kind="email",
                                     occurred_on=date(2026, 2, n + 1))
        services.request_register(actor=world.owner, request=None, coachee=coachee,
                                  kind="access", channel="letter", verification="brief")
        LegalHold.objects.create(coachee=coachee, reason="Nog een geschil",
                                 until=timezone.localdate(), set_by=world.owner)
        MailboxTask.objects.create(pseudonym=coachee.pseudonym, assigned_to=world.owner)
    coachee.restricted = True
    coachee.save(update_fields=["restricted"])
    with CaptureQueriesContext(connection) as many:
        data = portal.overview(coachee)
    assert len(data["accesses"]) >= 5 and len(data["requests"]) == 5
    assert len(many.captured_queries) == len(few.captured_queries)


def sections_shown(html: str) -> list[str]:
    return re.findall(r'data-section="(\w+)"', html)


@COPY
def test_the_letter_shows_every_section(world: World) -> None:
    coachee = world.trajectory.coachee
    data_request = services.request_register(actor=world.owner, request=None, coachee=coachee,
                                             kind="access", channel="letter",
                                             verification="brief")
    html = render_to_string("rights/letter_decision.html", {
        "practice": PracticeSettings.load(), "contact": factories.ANNE,
        "request": data_request, "today": timezone.localdate(),
        "answer": portal.overview(coachee),
    })
    assert sections_shown(html) == list(sections.SECTIONS)
    for text in ("slaap en werkdruk", "sport vergeten", "Verzoek om inzage afhandelen",
                 "Geschil met de opdrachtgever", "Loopbaanadvies",
                 "telefonisch toegelicht", local_day(expiry_date(coachee))):
        assert text in html, text


@COPY
def test_the_portal_page_shows_every_section(world: World) -> None:
    Client().post(reverse("rights:portal_start"), {"email": factories.ANNE.email})
    portal.lookups_process()
    _to, body = open_message(OutboxMessage.objects.filter(kind="portal_link").latest("id"))
    path = re.search(r"https?://[^/\s]+(/portal/enter/\S+/)", body).group(1)
    client = Client()
    client.get(path)
    html = client.get(reverse("rights:portal_home")).content.decode()
    assert sections_shown(html) == list(sections.SECTIONS)
    for text in ("slaap en werkdruk", "sport vergeten", "Verzoek om inzage afhandelen",
                 "Loopbaanadvies", "Huisartsenpraktijk Centrum"):
        assert text in html, text


@pytest.mark.article("7.2")
def test_the_overview_names_the_purposes_with_their_basis_and_the_erasure_day(
    world: World,
) -> None:
    """Art. 7.2: the answer says for which purposes, on which basis, and until when."""
    coachee = world.trajectory.coachee
    data = portal.overview(coachee)
    data_request = services.request_register(actor=world.owner, request=None, coachee=coachee,
                                             kind="access", channel="letter",
                                             verification="brief")
    html = render_to_string("rights/letter_decision.html", {
        "practice": PracticeSettings.load(), "contact": factories.ANNE,
        "request": data_request, "today": timezone.localdate(), "answer": data,
    })
    overview = html.split('data-section="identity"')[0]  # the overview above the copy
    for purpose in data["purposes"]:
        assert f"{purpose['purpose']} ({purpose['basis_label']})" in overview
    assert "Oud doel" not in html
    assert local_day(data["retention"]["expiry_date"]) in overview  # a Dutch date


@pytest.mark.article("7.4")
def test_an_answer_in_another_form_is_in_the_letter_and_the_copy(world: World) -> None:
    """Art. 7.4: the other form the answer took is named in the letter and kept in the copy."""
    coachee = world.trajectory.coachee
    data_request = coachee.requests.get()
    html = render_to_string("rights/letter_decision.html", {
        "practice": PracticeSettings.load(), "contact": factories.ANNE,
        "request": data_request, "today": timezone.localdate(), "answer": None,
    })
    assert "telefonisch toegelicht" in html
    assert portal.overview(coachee)["requests"][0]["other_form"] == "telefonisch toegelicht"
