"""The purposes and legal grounds in the disclosure register and in consents are sealed under
the coachee's key (art. 6) and come back on the register page, in the access copy and after an
erasure as the fixed "(erased)" text (art. 1.10, 9.1)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import override

from coachregister.accounts.models import User
from coachregister.disclosures import services
from coachregister.disclosures.models import Consent, Disclosure, Recipient
from coachregister.rights.portal import overview
from coachregister.testing import factories
from coachregister.trajectories.models import Trajectory

pytestmark = pytest.mark.django_db

CONSENT_PURPOSE = "afstemming TOESTEMMINGSDOEL reintegratie"
PURPOSE = "verwijzing VERSTREKKINGSDOEL bedrijfsarts"
GROUND = "Vordering GRONDSLAG 126nd Sv"


@pytest.fixture
def trajectory(owner: User, coach: User) -> Trajectory:
    return factories.trajectory(owner, coach)


def record(owner: User, trajectory: Trajectory, times: int = 1) -> Recipient:
    coachee = trajectory.coachee
    doctor = services.recipient_save(actor=owner, request=None, name="Arts", kind="doctor")
    for _ in range(times):
        # Records from before the list of purposes (art. 2.1): purpose as sealed free text.
        consent = factories.legacy_consent(coachee, doctor, CONSENT_PURPOSE)
        factories.legacy_disclosure(owner, coachee, doctor, categories="contact",
                                    purpose_text=PURPOSE, basis="consent", consent=consent)
        factories.legacy_disclosure(owner, coachee, doctor, categories="trajectory",
                                    purpose_text=PURPOSE, basis="legal_duty", legal_ground=GROUND)
    return doctor


@pytest.mark.article("6")
def test_the_texts_are_stored_sealed_and_read_back(owner: User, trajectory: Trajectory) -> None:
    record(owner, trajectory)
    consent = Consent.objects.get(purpose="disclosure")
    assert CONSENT_PURPOSE.encode() not in bytes(consent.disclosure_purpose_enc)
    assert consent.disclosure_purpose == CONSENT_PURPOSE
    entry = Disclosure.objects.get(basis="legal_duty")
    assert PURPOSE.encode() not in bytes(entry.purpose_enc)
    assert GROUND.encode() not in bytes(entry.legal_ground_enc)
    assert (entry.purpose, entry.legal_ground) == (PURPOSE, GROUND)
    on_consent = Disclosure.objects.get(basis="consent")
    assert on_consent.legal_ground_enc is None and on_consent.legal_ground == ""


@pytest.mark.article("1.10")
def test_the_register_page_shows_each_text_without_a_query_per_row(
    owner: User, trajectory: Trajectory, client_for: Callable[[User], Client]
) -> None:
    record(owner, trajectory)
    client = client_for(owner)
    url = reverse("disclosures:coachee", args=[trajectory.coachee.pseudonym])
    with CaptureQueriesContext(connection) as one:
        html = client.get(url).content.decode()
    for text in (CONSENT_PURPOSE, PURPOSE, GROUND):
        assert text in html, text
    record(owner, trajectory, times=3)
    with CaptureQueriesContext(connection) as four:
        assert client.get(url).status_code == 200
    assert len(four) == len(one)


@pytest.mark.article("9.1")
def test_the_access_copy_holds_the_texts(owner: User, trajectory: Trajectory) -> None:
    record(owner, trajectory)
    copy = json.loads(json.dumps(overview(trajectory.coachee)))
    assert {(d["purpose"], d["legal_ground"]) for d in copy["disclosures"]} == {
        (PURPOSE, ""), (PURPOSE, GROUND)}
    assert CONSENT_PURPOSE in [c.get("disclosure_purpose") for c in copy["consents"]]


@pytest.mark.article("8.3")
def test_after_an_erasure_the_register_entry_reads_as_erased(
    owner: User, trajectory: Trajectory
) -> None:
    from coachregister.rights import services as rights

    record(owner, trajectory)
    erasure = rights.request_register(
        actor=owner, request=None, coachee=trajectory.coachee, kind="erasure", channel="email",
        verification="x",
    )
    rights.request_decide(actor=owner, request=None, data_request=erasure, decision="granted")
    with override("en"):
        entries = list(Disclosure.objects.select_related("coachee"))
        assert len(entries) == 2
        assert {(e.purpose, e.legal_ground) for e in entries} == {
            ("(erased)", ""), ("(erased)", "(erased)")}
