"""Which requests can be made (art. 8.1, 4.1): an objection (GDPR art. 21) is no longer
registered, since the register processes nothing on art. 6(1)(e) or (f); the staff page and
the portal say where each wish goes instead, including a complaint (art. 4.1d, 11)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from coachregister.accounts.models import User
from coachregister.coachees.models import Coachee
from coachregister.practice.models import PracticeSettings
from coachregister.rights import services
from coachregister.rights.models import DataRequest, Kind
from coachregister.rights.tests.test_portal import ask, link_from_outbox
from coachregister.testing import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def coachee(owner: User, coach: User) -> Coachee:
    return factories.trajectory(owner, coach).coachee


def practice_address() -> PracticeSettings:
    PracticeSettings.load()
    PracticeSettings.objects.update(email="privacy@praktijk.example",
                                    address="Kerkstraat 1\n1234 AB Ergens")
    return PracticeSettings.load()


def portal_client() -> Client:
    ask(factories.ANNE.email)
    client = Client()
    client.get(link_from_outbox())
    return client


@pytest.mark.article("8.1")
@pytest.mark.parametrize("actor_role", ["owner", "portal"])
def test_a_new_objection_is_refused_with_a_clear_message(
    actor_role: str, owner: User, coachee: Coachee
) -> None:
    with pytest.raises(ValidationError) as refused, override("en"):
        services.request_register(
            actor=owner if actor_role == "owner" else None, request=None, coachee=coachee,
            kind=Kind.OBJECTION, channel="letter" if actor_role == "owner" else "portal",
            verification="x",
        )
    assert "GDPR art. 21" in refused.value.messages[0]
    assert "Autoriteit Persoonsgegevens" in refused.value.messages[0]
    assert not DataRequest.objects.exists()


@pytest.mark.article("8.1")
def test_an_earlier_objection_stays_readable(
    owner: User, coachee: Coachee, client_for: Callable[[User], Client]
) -> None:
    today = timezone.localdate()
    earlier = DataRequest.objects.create(
        coachee=coachee, coachee_pseudonym=coachee.pseudonym, kind=Kind.OBJECTION,
        channel="letter", received_at=timezone.now(), answer_due=today, legal_due=today,
    )
    with override("en"):
        assert earlier.get_kind_display() == "objection"
    page = client_for(owner).get(reverse("rights:detail", args=[earlier.pk]))
    assert page.status_code == 200


@pytest.mark.article("8.1")
def test_the_staff_form_no_longer_offers_an_objection(
    owner: User, coachee: Coachee, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    url = reverse("rights:new", args=[coachee.pseudonym])
    page = client.get(url)
    assert Kind.OBJECTION not in dict(page.context["kinds"])
    assert Kind.RESTRICTION in dict(page.context["kinds"])
    assert "form" not in client.get(url, {"kind": "objection"}).context
    response = client.post(url, {"kind": "objection", "channel": "letter",
                                 "received_at": "2026-11-20T10:00", "verification": "x"})
    assert response.status_code == 200 and "form" not in response.context  # asked again
    assert not DataRequest.objects.exists()


@pytest.mark.article("8.1")
def test_the_portal_form_no_longer_offers_an_objection(coachee: Coachee) -> None:
    client = portal_client()
    home = reverse("rights:portal_home")
    assert Kind.OBJECTION not in dict(client.get(home).context["kinds"])
    response = client.post(home, {"kind": "objection", "confirmed": "yes"})
    assert response.status_code == 200 and response.context["form"] is None  # asked again
    assert not DataRequest.objects.exists()


@pytest.mark.article("4.1d")
def test_the_staff_page_says_where_each_wish_goes(
    owner: User, coachee: Coachee, client_for: Callable[[User], Client]
) -> None:
    practice_address()
    with override("en"):
        html = client_for(owner).get(reverse("rights:new", args=[coachee.pseudonym])).content
    html = html.decode()
    assert 'data-testid="where-wishes-go"' in html
    assert reverse("disclosures:coachee", args=[coachee.pseudonym]) in html  # consents
    complaint = html.split('data-testid="complaint"')[1].split("</li>")[0]
    assert "privacy@praktijk.example" in complaint and "Kerkstraat 1" in complaint
    assert "Autoriteit Persoonsgegevens" in complaint


@pytest.mark.article("4.1d")
def test_the_portal_says_where_each_wish_goes(coachee: Coachee) -> None:
    practice_address()
    html = portal_client().get(reverse("rights:portal_home")).content.decode()
    assert 'data-testid="where-wishes-go"' in html
    complaint = html.split('data-testid="complaint"')[1].split("</li>")[0]
    assert "privacy@praktijk.example" in complaint and "Kerkstraat 1" in complaint
    assert "Autoriteit Persoonsgegevens" in complaint
