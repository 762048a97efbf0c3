"""The coachee portal (art. 9.2): enumeration-safe links, single use, own data only."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.disclosures.models import Consent
from coachregister.outbox.models import OutboxMessage
from coachregister.outbox.services import open_message
from coachregister.rights import portal, services
from coachregister.rights.models import DataRequest, PortalLookup
from coachregister.testing import factories
from coachregister.trajectories.models import Trajectory

pytestmark = [pytest.mark.django_db, pytest.mark.article("9.2")]
START = reverse("rights:portal_start")
HOME = reverse("rights:portal_home")


@pytest.fixture
def trajectory(owner: User, coach: User) -> Trajectory:
    return factories.trajectory(owner, coach)


def ask(email: str) -> None:
    """Ask for a link, then run the worker's look-up pass that finds the coachee and queues
    the mail."""
    Client().post(START, {"email": email})
    portal.lookups_process()


def link_from_outbox() -> str:
    message = OutboxMessage.objects.filter(kind="portal_link").latest("id")
    _to, body = open_message(message)
    return re.search(r"http://\S+/portal/enter/\S+/", body).group(0).split("8000", 1)[1]


def test_asking_looks_the_same_for_known_and_unknown(trajectory: Trajectory) -> None:
    known = Client().post(START, {"email": "ANNE.devries@voorbeeld.example"})
    unknown = Client().post(START, {"email": "nobody@voorbeeld.example"})
    assert known.status_code == unknown.status_code == 200
    strip = lambda r: re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", r.content.decode())  # noqa: E731
    assert strip(known) == strip(unknown)
    assert not OutboxMessage.objects.filter(kind="portal_link").exists()  # only look-ups queued
    assert PortalLookup.objects.count() == 2
    assert portal.lookups_process() == 2
    assert not PortalLookup.objects.exists()
    assert OutboxMessage.objects.filter(kind="portal_link").count() == 1
    to, _body = open_message(OutboxMessage.objects.get(kind="portal_link"))
    assert to == factories.ANNE.email
    assert Event.objects.filter(action="rights.portal.link_unknown").count() == 1


def test_a_link_works_once_and_not_after_thirty_minutes(trajectory: Trajectory) -> None:
    ask(factories.ANNE.email)
    path = link_from_outbox()
    client = Client()
    assert client.get(path)["Location"] == HOME
    page = client.get(HOME)
    assert page.status_code == 200 and "Anne" in page.content.decode()
    assert Client().get(path).status_code == 410  # used
    ask(factories.ANNE.email)
    late = link_from_outbox()
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert Client().get(late).status_code == 410
    assert Client().get(HOME)["Location"] == START  # no session, no data


def test_requests_consents_and_export_from_the_portal(trajectory: Trajectory, owner: User) -> None:
    ask(factories.ANNE.email)
    client = Client()
    client.get(link_from_outbox())
    client.post(HOME, {"kind": "rectification", "phone": "+31687654321", "confirmed": "yes"})
    data_request = DataRequest.objects.get()
    assert data_request.channel == "portal" and services.requested_changes(data_request) == {
        "phone": "+31687654321"
    }
    bad = client.post(HOME, {"kind": "rectification", "confirmed": "yes"})
    assert bad.status_code == 200 and DataRequest.objects.count() == 1
    consent = Consent.objects.get(coachee=trajectory.coachee, purpose="session_keywords")
    # The keyword consent leads to the choice of erasing or keeping what was written.
    chosen = client.post(reverse("rights:portal_withdraw", args=[consent.pk]))
    assert chosen["Location"] == reverse("rights:portal_keywords_withdraw")
    client.post(chosen["Location"], {"choice": "keep"})
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None
    exported = json.loads(client.get(reverse("rights:portal_json")).content)
    assert exported["identity"]["last_name"] == "de Vries"
    assert exported["requests"][0]["kind"] == "rectification"


def test_a_coachee_never_sees_another_coachees_letter(
    trajectory: Trajectory, owner: User, coach: User
) -> None:
    other = factories.trajectory(
        owner,
        coach,
        contact=factories.Contact("Bram", "Bakker", "bram@voorbeeld.example", "+31612345679"),
    )
    their_request = services.request_register(
        actor=owner,
        request=None,
        coachee=other.coachee,
        kind="erasure",
        channel="letter",
        verification="x",
    )
    services.request_decide(
        actor=owner,
        request=None,
        data_request=their_request,
        decision="refused",
        justification="Geen grond.",
    )
    ask(factories.ANNE.email)
    client = Client()
    client.get(link_from_outbox())
    letter = their_request.letters.get()
    assert client.get(reverse("rights:portal_letter", args=[letter.pk])).status_code == 404
