"""Pages of consents, disclosures, recipients, audits and who-saw-my-data, for every role."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coachregister.accounts.models import User
from coachregister.audit import engagements
from coachregister.audit.queries import accesses_of
from coachregister.audit.services import event_record
from coachregister.conftest import ROLE_FIXTURES
from coachregister.disclosures import services
from coachregister.disclosures.models import Consent, Disclosure, Proposal
from coachregister.testing import factories
from coachregister.trajectories.models import Trajectory

pytestmark = [pytest.mark.django_db]
MANAGERS = {"owner", "administrator"}


@pytest.fixture
def trajectory(owner: User, coach: User) -> Trajectory:
    return factories.trajectory(owner, coach)


@pytest.mark.article("1.10")
@pytest.mark.parametrize("role_fixture", ROLE_FIXTURES)
def test_register_pages_per_role(role_fixture: str, request: pytest.FixtureRequest,
                                 client_for: Callable[[User], Client], owner: User,
                                 trajectory: Trajectory) -> None:
    user = request.getfixturevalue(role_fixture)
    client = client_for(user)
    pseudonym = trajectory.coachee.pseudonym
    consent = Consent.objects.filter(coachee=trajectory.coachee).first()
    pages = [reverse("disclosures:recipients"),
             reverse("disclosures:coachee", args=[pseudonym]),
             reverse("disclosures:who_saw", args=[pseudonym])]
    for url in pages:
        assert client.get(url).status_code == (200 if role_fixture in MANAGERS else 403), url
    withdraw = client.post(reverse("disclosures:consent_withdraw", args=[consent.pk]),
                           {"confirmed": "yes"})
    consent.refresh_from_db()
    assert (withdraw.status_code, consent.withdrawn_at is not None) == (
        (302, True) if role_fixture in MANAGERS else (403, False))


@pytest.mark.article("9.1")
def test_a_legal_duty_is_prepared_then_sent_as_a_file(
    owner: User, client_for: Callable[[User], Client], trajectory: Trajectory
) -> None:
    doctor = services.recipient_save(actor=owner, request=None, name="Arts", kind="doctor")
    purpose = factories.purpose(owner)
    url = reverse("disclosures:coachee", args=[trajectory.coachee.pseudonym])
    client = client_for(owner)
    fields = {"proposal-recipient": doctor.pk, "proposal-processing_purpose": purpose.pk,
              "proposal-categories": ["contact", "trajectory"],
              "proposal-basis": "legal_duty"}
    refused = client.post(url, fields)
    assert refused.status_code == 200 and refused.context["form"].non_field_errors()
    assert not Proposal.objects.exists()
    client.post(url, {**fields, "proposal-legal_ground": "Wet X art. 1"})
    proposal = Proposal.objects.get()
    response = client.post(reverse("disclosures:proposal_action", args=[proposal.pk, "send"]))
    assert response["Content-Type"].startswith("application/json")
    data = json.loads(response.content)
    assert data["contact"]["last_name"] == "de Vries" and "sessions" not in data
    assert Disclosure.objects.get().category_list() == ["contact", "trajectory"]


@pytest.mark.article("1.10")
@pytest.mark.parametrize("role_fixture", ROLE_FIXTURES)
def test_engagement_pages_per_role(role_fixture: str, request: pytest.FixtureRequest,
                                   client_for: Callable[[User], Client], owner: User,
                                   auditor: User, trajectory: Trajectory) -> None:
    now = timezone.now()
    engagement = engagements.engagement_open(actor=owner, request=None, auditor=auditor,
                                             window_from=now, window_until=now + timedelta(1),
                                             sample_size=1)
    user = request.getfixturevalue(role_fixture)
    client = client_for(user)
    listing = client.get(reverse("audit:engagements"))
    detail = client.get(reverse("audit:engagement", args=[engagement.pk]))
    allowed = role_fixture in MANAGERS | {"auditor"}
    assert listing.status_code == (200 if allowed else 403)
    assert detail.status_code == (200 if allowed else 403)
    created = client.post(reverse("audit:engagements"), {
        "auditor": auditor.pk, "window_from": "2026-12-01T09:00",
        "window_until": "2026-12-02T17:00", "sample_size": 1})
    count = type(engagement).objects.count()
    assert count == (2 if role_fixture in MANAGERS else 1), created.status_code


@pytest.mark.article("1.10")
def test_who_saw_lists_staff_reads_with_a_flat_query_count(
    owner: User, coach: User, make_user: Callable[..., User],
    client_for: Callable[[User], Client], trajectory: Trajectory
) -> None:
    pseudonym = trajectory.coachee.pseudonym
    url = reverse("disclosures:who_saw", args=[pseudonym])
    client_for(coach).get(reverse("coachees:contact", args=[pseudonym]))
    admin = client_for(owner)
    with CaptureQueriesContext(connection) as few:
        page = admin.get(url)
    assert coach.full_name in page.content.decode()
    for _ in range(10):
        viewer = make_user("coach")
        event_record(action="coachees.contact.viewed", actor=viewer, object_type="coachee",
                     object_id=pseudonym)
    with CaptureQueriesContext(connection) as many:
        admin.get(url)
    assert len(many) == len(few)
    assert accesses_of(trajectory.coachee).count() == 11


@pytest.mark.postgres
@pytest.mark.article("7.3")
def test_who_saw_uses_the_index_on_postgresql(trajectory: Trajectory) -> None:
    from coachregister.audit import chain
    from coachregister.audit.models import Event

    last = Event.objects.order_by("-seq").first()
    seq, prev = last.seq, last.hash
    rows = []
    for n in range(20000):  # a realistic trail: many events about other coachees
        seq += 1
        values = {"seq": seq, "created_at": timezone.now(), "actor_id": None, "actor_role": "",
                  "client_ip": None, "action": "coachees.contact.viewed",
                  "object_type": "coachee", "object_id": f"C-{n:04d}-ABCD", "outcome": "allowed",
                  "detail": {}}
        digest = chain.link(prev, values)
        rows.append(Event(prev_hash=prev, hash=digest, **values))
        prev = digest
    Event.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_event")
    plan = accesses_of(trajectory.coachee).explain()
    assert "audit_object_idx" in plan, plan
    assert "Seq Scan on audit_event" not in plan, plan
