"""Steps that cannot be undone ask first and say after that they were done (issue 14), and a
request form shows only the fields of its kind.

Sending a request from the portal, withdrawing a consent (portal and staff) and deciding a
request answer first with a page that says what will happen, carrying the same data in
hidden fields; nothing is written until that page's button is pressed. Afterwards the next
page shows a success message.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext, override

from coachregister.accounts.models import User
from coachregister.coachees.models import Coachee
from coachregister.disclosures import services as disclosures
from coachregister.disclosures.models import Consent
from coachregister.rights import services
from coachregister.rights.models import DataRequest
from coachregister.rights.tests.test_request_kinds import portal_client
from coachregister.testing import factories

pytestmark = pytest.mark.django_db

HOME = "/portal/home/"


@pytest.fixture
def coachee(owner: User, coach: User) -> Coachee:
    return factories.trajectory(owner, coach).coachee


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))


@pytest.mark.article("7.1")
def test_sending_a_request_from_the_portal_asks_first_then_says_it_was_sent(
    coachee: Coachee,
) -> None:
    client = portal_client()
    asked = client.post(HOME, {"kind": "erasure"})
    html = asked.content.decode()
    assert asked.status_code == 200 and 'data-testid="confirm"' in html
    with override("nl"):  # what an erasure means, before it is sent
        assert escape(gettext(
            "If we grant it, all your data in our register are erased and cannot be brought "
            "back; this portal then no longer opens for you.")) in html
    assert not DataRequest.objects.exists()
    fields = hidden_fields(html)
    assert fields["kind"] == "erasure" and fields["confirmed"] == "yes"
    sent = client.post(HOME, fields, follow=True)
    assert DataRequest.objects.get().kind == "erasure"
    assert 'class="message success"' in sent.content.decode()


@pytest.mark.article("7.1")
def test_going_back_from_the_confirmation_keeps_what_was_typed_and_sends_nothing(
    coachee: Coachee,
) -> None:
    client = portal_client()
    html = client.post(HOME, {"kind": "rectification", "phone": "06 87654321"}).content.decode()
    fields = hidden_fields(html)
    back = client.post(HOME, {**fields, "edit": "1"})  # the "go back and change it" button
    assert back.status_code == 200 and not DataRequest.objects.exists()
    assert back.context["form"]["phone"].value() == "06 87654321"
    assert "06 87654321" not in back.wsgi_request.get_full_path()  # never in a URL


@pytest.mark.article("7.1")
def test_a_request_that_cannot_be_sent_says_why_before_asking(coachee: Coachee) -> None:
    client = portal_client()
    for sent in ({"kind": "rectification"}, {"kind": "rectification", "email": "geen-adres"},
                 {"kind": "restriction"}):
        answer = client.post(HOME, sent)
        assert 'data-testid="confirm"' not in answer.content.decode(), sent
        assert answer.context["form"].errors, sent
    assert not DataRequest.objects.exists()


@pytest.fixture
def consent(owner: User, coachee: Coachee) -> Consent:
    doctor = disclosures.recipient_save(actor=owner, request=None, name="Bedrijfsarts Oost",
                                        kind="doctor")
    return factories.disclosure_consent(coachee, doctor, factories.purpose(owner))


@pytest.mark.article("9.2")
@pytest.mark.parametrize("where", ["portal", "staff"])
def test_withdrawing_a_consent_asks_first(
    where: str, owner: User, consent: Consent, client_for: Callable[[User], Client]
) -> None:
    if where == "portal":
        client, url = portal_client(), reverse("rights:portal_withdraw", args=[consent.pk])
    else:
        client = client_for(owner)
        url = reverse("disclosures:consent_withdraw", args=[consent.pk])
    asked = client.post(url)
    consent.refresh_from_db()
    assert 'data-testid="confirm"' in asked.content.decode() and consent.withdrawn_at is None
    done = client.post(url, hidden_fields(asked.content.decode()), follow=True)
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None
    assert 'class="message success"' in done.content.decode()
    again = client.post(url, {"confirmed": "yes"}, follow=True)  # a second click
    assert 'class="message info"' in again.content.decode()


@pytest.mark.article("8.3")
def test_a_decision_asks_first_and_is_carried_out_only_when_confirmed(
    owner: User, coachee: Coachee, client_for: Callable[[User], Client]
) -> None:
    data_request = services.request_register(
        actor=owner, request=None, coachee=coachee, kind="erasure", channel="letter",
        verification="ondertekende brief")
    url = reverse("rights:detail", args=[data_request.pk])
    client = client_for(owner)
    asked = client.post(url, {"decision": "granted"})
    html = asked.content.decode()
    assert 'data-testid="confirm"' in html
    with override("nl"):
        assert escape(gettext(
            "All data of this coachee are erased from the register now; no one can bring them "
            "back. The coachee receives the letter by email.")) in html
    data_request.refresh_from_db()
    assert data_request.decided_at is None and Coachee.objects.filter(pk=coachee.pk).exists()
    done = client.post(url, hidden_fields(html), follow=True)
    data_request.refresh_from_db()
    assert data_request.decision == "granted" and not Coachee.objects.filter(pk=coachee.pk)
    assert 'class="message success"' in done.content.decode()


@pytest.mark.article("8.3")
def test_a_decision_that_cannot_be_carried_out_says_why_before_asking(
    owner: User, coachee: Coachee, client_for: Callable[[User], Client]
) -> None:
    data_request = services.request_register(
        actor=owner, request=None, coachee=coachee, kind="access", channel="letter",
        verification="ondertekende brief")
    url = reverse("rights:detail", args=[data_request.pk])
    client = client_for(owner)
    for sent in ({"decision": "refused"},  # no reasons, no ground
                 {"decision": "refused", "justification": "Te veel gevraagd."}):  # no ground
        answer = client.post(url, sent)
        assert 'data-testid="confirm"' not in answer.content.decode(), sent
        assert answer.context["decide"].non_field_errors(), sent
    data_request.refresh_from_db()
    assert data_request.decided_at is None


@pytest.mark.article("8.3")
def test_grounds_left_ticked_do_not_reach_a_granted_decision(
    owner: User, coachee: Coachee, client_for: Callable[[User], Client]
) -> None:
    """A refusal's grounds hidden again by choosing "granted" are still sent by the browser:
    the service drops them, so the letter of a granted request names no refusal ground."""
    data_request = services.request_register(
        actor=owner, request=None, coachee=coachee, kind="access", channel="letter",
        verification="ondertekende brief")
    url = reverse("rights:detail", args=[data_request.pk])
    client = client_for(owner)
    client.post(url, {"decision": "granted", "grounds": ["a", "b"], "confirmed": "yes"})
    data_request.refresh_from_db()
    assert data_request.decision == "granted" and data_request.refusal_grounds == ""


# --- only the fields of the kind ------------------------------------------------------------


@pytest.mark.article("8.1")
def test_the_correction_fields_belong_to_a_correction_only(
    owner: User, coachee: Coachee, client_for: Callable[[User], Client]
) -> None:
    staff = client_for(owner)
    new = reverse("rights:new", args=[coachee.pseudonym])
    portal = portal_client()
    chooser = staff.get(new)
    assert "form" not in chooser.context  # the kind comes first
    for kind in ("access", "erasure", "restriction", "portability", "rectification"):
        for form in (staff.get(new, {"kind": kind}).context["form"],
                     portal.get(HOME, {"kind": kind}).context["form"]):
            fields = set(form.fields)
            assert ({"first_name", "email", "phone", "keywords"} <= fields) == (
                kind == "rectification"), kind
            assert ("restriction_ground" in fields) == (kind == "restriction"), kind
            assert form.fields["kind"].widget.is_hidden


@pytest.mark.article("7.5")
def test_refusal_grounds_are_offered_for_access_only(
    owner: User, coachee: Coachee, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    for kind, offered in (("access", True), ("portability", True), ("erasure", False),
                          ("restriction", False)):
        data_request = services.request_register(
            actor=owner, request=None, coachee=coachee, kind=kind, channel="letter",
            verification="ondertekende brief", restriction_ground="a")
        page = client.get(reverse("rights:detail", args=[data_request.pk]))
        assert ("grounds" in page.context["decide"].fields) == offered, kind
