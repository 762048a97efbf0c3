"""Contact details for a purpose only (Werkwijze, art. 5.1): the owner and the administrator
open them inside the handling of the coachee's open request or with a stated reason; the
event records the reason code, the explanation is sealed under the coachee's key, and a
restricted coachee's details open only on a ground of GDPR art. 18(2)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client, RequestFactory
from django.urls import reverse

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.coachees import access
from coachregister.coachees.models import AccessReason, Coachee, ContactAccess
from coachregister.rights import services as rights
from coachregister.testing import factories
from coachregister.trajectories.models import Trajectory

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def trajectory(owner: User, coach: User) -> Trajectory:
    return factories.trajectory(owner, coach)


def as_user(user: User) -> object:
    request = RequestFactory().get("/")
    request.user = user
    return request


@pytest.mark.article("Werkwijze")
def test_the_owner_needs_a_purpose(owner: User, trajectory: Trajectory) -> None:
    coachee = trajectory.coachee
    with pytest.raises(PermissionDenied):
        access.contact_details(request=as_user(owner), coachee=coachee)
    refused = Event.objects.get(action="coachees.contact.viewed", actor=owner)
    assert refused.outcome == "denied" and refused.detail == {"refused": "purpose"}


@pytest.mark.article("Werkwijze")
def test_a_stated_reason_needs_an_explanation(administrator: User, trajectory: Trajectory) -> None:
    coachee = trajectory.coachee
    with pytest.raises(ValidationError):
        access.contact_details(request=as_user(administrator), coachee=coachee,
                               purpose=access.Purpose(reason=AccessReason.COACHEE_ASKED))
    with pytest.raises(ValidationError):  # a code that is not a stated reason
        access.contact_details(request=as_user(administrator), coachee=coachee,
                               purpose=access.Purpose(reason="whim", explanation="x"))
    assert not ContactAccess.objects.exists()


@pytest.mark.article("Werkwijze")
def test_break_glass_records_code_and_sealed_explanation(
    administrator: User, trajectory: Trajectory
) -> None:
    coachee = trajectory.coachee
    contact = access.contact_details(
        request=as_user(administrator), coachee=coachee,
        purpose=access.Purpose(reason=AccessReason.COACH_UNAVAILABLE,
                               explanation="Coach ziek, afspraak verzetten"))
    assert contact.first_name == "Anne"
    opened = ContactAccess.objects.get()
    event = Event.objects.get(action="coachees.contact.viewed", actor=administrator)
    assert event.detail == {"reason": "coach_unavailable", "access": opened.pk}
    assert b"afspraak" not in bytes(opened.explanation_enc)
    assert opened.explanation == "Coach ziek, afspraak verzetten"
    assert "afspraak" not in str(event.detail)


@pytest.mark.article("Werkwijze")
def test_inside_an_open_request_of_this_coachee(owner: User, trajectory: Trajectory,
                                                other_coach: User) -> None:
    coachee = trajectory.coachee
    other = factories.trajectory(owner, other_coach, contact=factories.person(2)).coachee
    data_request = rights.request_register(
        actor=owner, request=None, coachee=coachee, kind="access", channel="email",
        verification="reply from the address on file")
    task = f"request:{data_request.pk}"
    access.contact_details(request=as_user(owner), coachee=coachee,
                           purpose=access.Purpose(task=task))
    event = Event.objects.filter(action="coachees.contact.viewed", actor=owner).get()
    assert event.detail["reason"] == "request" and event.detail["task"] == task
    with pytest.raises(ValidationError):  # the task concerns another coachee
        access.contact_details(request=as_user(owner), coachee=other,
                               purpose=access.Purpose(task=task))
    rights.request_decide(actor=owner, request=None, data_request=data_request,
                          decision="granted")
    with pytest.raises(ValidationError):  # valid only while the request is open
        access.contact_details(request=as_user(owner), coachee=coachee,
                               purpose=access.Purpose(task=task))


@pytest.mark.article("Werkwijze")
def test_the_page_opens_with_a_reason_and_not_without(
    owner: User, trajectory: Trajectory, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    url = reverse("coachees:contact", args=[trajectory.coachee.pseudonym])
    page = client.post(url, {"reason": "coachee_asked", "explanation": ""})
    assert page.status_code == 200 and "Anne" not in page.content.decode()
    assert "Explain why" in page.content.decode() or "Leg uit" in page.content.decode()
    page = client.post(url, {"reason": "coachee_asked", "explanation": "Belde om terugbelverzoek"})
    assert "Anne de Vries" in page.content.decode()
    assert ContactAccess.objects.get().user == owner


@pytest.mark.article("8.1")
def test_restricted_details_open_only_on_an_art_18_2_ground(
    owner: User, coach: User, trajectory: Trajectory
) -> None:
    Coachee.objects.filter(pk=trajectory.coachee.pk).update(restricted=True)
    coachee = Coachee.objects.get(pk=trajectory.coachee.pk)
    for user in (coach, owner):
        with pytest.raises(PermissionDenied):  # not even the coach without a ground
            access.contact_details(request=as_user(user), coachee=coachee)
        with pytest.raises(ValidationError):  # a break-glass reason is not a ground
            access.contact_details(request=as_user(user), coachee=coachee, purpose=access.Purpose(
                reason=AccessReason.COACHEE_ASKED, explanation="x"))
    access.contact_details(request=as_user(coach), coachee=coachee, purpose=access.Purpose(
        reason=AccessReason.R_CLAIMS, explanation="Lopende procedure"))
    assert ContactAccess.objects.get().reason == "r_claims"


@pytest.mark.article("5.4")
def test_the_auditor_opens_details_only_when_the_engagement_says_so(
    owner: User, auditor: User, trajectory: Trajectory
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from coachregister.audit.engagements import engagement_open

    now = timezone.now()
    engagement = engagement_open(actor=owner, request=None, auditor=auditor,
                                 window_from=now - timedelta(hours=1),
                                 window_until=now + timedelta(days=1), sample_size=5)
    coachee = trajectory.coachee
    assert access.opening(auditor, coachee) == access.NEVER
    with pytest.raises(PermissionDenied):
        access.contact_details(request=as_user(auditor), coachee=coachee)
    engagement.include_contact_details = True
    engagement.save()
    assert access.contact_details(request=as_user(auditor), coachee=coachee).first_name == "Anne"
    opened = ContactAccess.objects.get(user=auditor)
    assert opened.reason == "audit" and opened.task == f"engagement:{engagement.pk}"


@pytest.mark.article("Werkwijze")
def test_the_request_page_opens_the_details_for_that_request(
    owner: User, trajectory: Trajectory, client_for: Callable[[User], Client]
) -> None:
    data_request = rights.request_register(
        actor=owner, request=None, coachee=trajectory.coachee, kind="access", channel="email",
        verification="reply from the address on file")
    client = client_for(owner)
    page = client.get(reverse("rights:detail", args=[data_request.pk])).content.decode()
    assert 'data-testid="open-contact-for-request"' in page
    shown = client.post(reverse("coachees:contact", args=[trajectory.coachee.pseudonym]),
                        {"task": f"request:{data_request.pk}"})
    assert "Anne de Vries" in shown.content.decode()
    assert ContactAccess.objects.get().task == f"request:{data_request.pk}"
    who = client.get(reverse("disclosures:who_saw", args=[trajectory.coachee.pseudonym]))
    assert 'data-testid="why"' in who.content.decode()


@pytest.mark.article("1.11")
def test_a_hired_stand_in_opens_the_details_of_its_scope_until_the_contract_ends(
    owner: User, third_party: User, trajectory: Trajectory, other_coach: User
) -> None:
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from coachregister.accounts.services import third_party_scope_set

    other = factories.trajectory(owner, other_coach, contact=factories.person(3)).coachee
    third_party_scope_set(actor=owner, request=None, user=third_party, trajectories=[trajectory])
    coachee = trajectory.coachee
    assert access.contact_details(request=as_user(third_party), coachee=coachee).first_name
    with pytest.raises(PermissionDenied):  # outside the contract's scope
        access.contact_details(request=as_user(third_party), coachee=other)
    after = timezone.now() + timedelta(days=(third_party.contract_end - timezone.localdate()).days + 2)
    with time_machine.travel(after), pytest.raises(PermissionDenied):
        access.contact_details(request=as_user(third_party), coachee=coachee)


@pytest.mark.article("5.4")
def test_the_auditors_list_keeps_a_flat_query_count(
    owner: User, coach: User, auditor: User, client_for: Callable[[User], Client]
) -> None:
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from coachregister.audit.engagements import engagement_open

    for n in range(2):
        factories.trajectory(owner, coach, contact=factories.person(10 + n))
    now = timezone.now()
    window = {"window_from": now - timedelta(hours=1), "window_until": now + timedelta(days=1)}
    engagement_open(actor=owner, request=None, auditor=auditor, sample_size=50,
                    include_contact_details=True, **window)
    client = client_for(auditor)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("coachees:list")).status_code == 200
    for n in range(2, 8):
        factories.trajectory(owner, coach, contact=factories.person(10 + n))
    engagement_open(actor=owner, request=None, auditor=auditor, sample_size=50,
                    include_contact_details=True, **window)
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("coachees:list"))
    assert len(page.context["rows"]) == 8 and all(contact for _c, contact in page.context["rows"])
    assert len(many) == len(few)


@pytest.mark.article("7.3")
def test_reading_a_requests_letter_and_changes_shows_in_who_saw(
    owner: User, trajectory: Trajectory, client_for: Callable[[User], Client]
) -> None:
    from coachregister.rights import portal
    from coachregister.rights.models import Letter

    data_request = rights.request_register(
        actor=owner, request=None, coachee=trajectory.coachee, kind="rectification",
        channel="letter", verification="signed letter", changes={"phone": "+31611112222"})
    client = client_for(owner)
    assert client.get(reverse("rights:detail", args=[data_request.pk])).status_code == 200
    rights.request_decide(actor=owner, request=None, data_request=data_request,
                          decision="granted")
    letter = Letter.objects.get(request=data_request)
    assert client.get(reverse("rights:letter", args=[letter.pk])).status_code == 200
    seen = {e["what"]: e for e in portal.overview(trajectory.coachee)["accesses"]}
    for action in ("rights.request.viewed", "rights.letter.downloaded"):
        assert seen[action]["reason"] == "request", action
    assert ContactAccess.objects.filter(task=f"request:{data_request.pk}").count() == 2
