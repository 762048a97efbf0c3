"""The coach's contact card (art. 12.1): a copy of a coachee's contact in the coach's mailbox
is a recorded act. Only the coachee's own coach downloads it; every download and refusal is
audited with the pseudonym, never the name."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.coachees.models import Coachee
from coachregister.coachees.vault import Contact
from coachregister.testing import factories
from coachregister.testing.factories import ANNE

pytestmark = pytest.mark.django_db


def _url(pseudonym: str) -> str:
    return reverse("coachees:vcard", args=[pseudonym])


@pytest.mark.article("12.1")
def test_the_coach_downloads_the_contact_as_a_vcard_and_it_is_audited(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    coachee = factories.trajectory(owner, coach).coachee
    response = client_for(coach).get(_url(coachee.pseudonym))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/vcard")
    assert response["Content-Disposition"] == f'attachment; filename="{coachee.pseudonym}.vcf"'
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    text = response.content.decode()
    lines = text.split("\r\n")
    assert lines[:2] == ["BEGIN:VCARD", "VERSION:3.0"] and lines[-2:] == ["END:VCARD", ""]
    assert "N:de Vries;Anne;;;" in lines and "FN:Anne de Vries" in lines
    assert f"EMAIL;TYPE=INTERNET:{ANNE.email}" in lines
    assert f"TEL;TYPE=CELL:{ANNE.phone}" in lines
    assert f"NOTE:coachregister {coachee.pseudonym}" in lines
    event = Event.objects.get(action="coachees.contact.vcard_downloaded")
    assert event.actor == coach and event.outcome == "allowed"
    assert event.object_type == "coachee" and event.object_id == coachee.pseudonym
    assert "Anne" not in str(event.detail) and ANNE.email not in str(event.detail)


@pytest.mark.article("12.1")
def test_special_characters_are_escaped(owner: User, coach: User) -> None:
    """RFC 6350: a comma, semicolon, backslash or line end in a value cannot start a new
    field or property in the coach's address book."""
    from coachregister.coachees.views import vcard

    coachee = factories.trajectory(owner, coach).coachee
    card = vcard(coachee, Contact("Jan;Willem", "van 't Hof,\\x\nNOTE:y", "jw@voorbeeld.example",
                                  ""))
    lines = card.split("\r\n")
    assert "N:van 't Hof\\,\\\\x\\nNOTE:y;Jan\\;Willem;;;" in lines
    assert not any(line.startswith("NOTE:y") for line in lines)
    assert not any(line.startswith("TEL") for line in lines)  # no phone, no empty field


@pytest.mark.article("5.1")
@pytest.mark.parametrize("role_fixture", ["owner", "administrator", "other_coach",
                                          "third_party", "auditor"])
def test_everyone_but_the_coachees_own_coach_is_refused(
    role_fixture: str, request: pytest.FixtureRequest, owner: User, coach: User,
    client_for: Callable[[User], Client],
) -> None:
    coachee = factories.trajectory(owner, coach).coachee
    user = request.getfixturevalue(role_fixture)
    response = client_for(user).get(_url(coachee.pseudonym))
    assert response.status_code == 403
    assert ANNE.email.encode() not in response.content
    assert not Event.objects.filter(action="coachees.contact.vcard_downloaded",
                                    outcome="allowed").exists()
    assert Event.objects.filter(action="accounts.access.denied", actor=user,
                                object_id=coachee.pseudonym, outcome="denied").exists()


@pytest.mark.article("5.1")
def test_anonymous_is_sent_to_sign_in_and_unknown_is_not_found(
    outsider: Client, owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    coachee = factories.trajectory(owner, coach).coachee
    response = outsider.get(_url(coachee.pseudonym))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client_for(coach).get(_url("C-NONE-00")).status_code == 404


@pytest.mark.article("12.1")
def test_not_while_processing_is_restricted(owner: User, coach: User,
                                            client_for: Callable[[User], Client]) -> None:
    coachee = factories.trajectory(owner, coach).coachee
    Coachee.objects.filter(pk=coachee.pk).update(restricted=True)
    response = client_for(coach).get(_url(coachee.pseudonym))
    assert response.status_code == 403 and ANNE.email.encode() not in response.content
    event = Event.objects.get(action="coachees.contact.vcard_downloaded")
    assert event.outcome == "denied" and event.detail == {"reason": "restricted"}


@pytest.mark.article("12.1")
def test_the_contact_panel_offers_the_download_to_the_coach_only(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    coachee = factories.trajectory(owner, coach).coachee
    url = _url(coachee.pseudonym).encode()
    contact_page = reverse("coachees:contact", args=[coachee.pseudonym])
    assert url in client_for(coach).get(contact_page).content
    assert url not in client_for(owner).get(contact_page).content
