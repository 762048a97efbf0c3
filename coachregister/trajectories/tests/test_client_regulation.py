"""The regulation as a PDF for a client's quote, and the day it was sent (Werkwijze: the
client receives the privacy regulation with the quote; art. 1.9: the client never handles
coachee data, only the practice's own documents)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext, override

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.conftest import ROLE_FIXTURES
from coachregister.practice import promises, regulation_pdf
from coachregister.practice.models import PracticeSettings, RegulationVersion
from coachregister.practice.services import practice_update, regulation_publish
from coachregister.retention.services import policy_set
from coachregister.testing import factories
from coachregister.trajectories.models import ClientOrganisation
from coachregister.trajectories.services import client_regulation_sent

pytestmark = [pytest.mark.django_db, pytest.mark.article("Werkwijze")]

MANAGES = {"owner", "administrator"}
FUTURE_MESSAGE = "The regulation cannot have been sent on a day still to come."
EARLY_MESSAGE = ("The regulation cannot have been sent before version %(version)s was "
                 "published (%(published)s).")


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "regulation.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                         check=True).stdout
    return " ".join(out.split())


@pytest.fixture
def quote_client(owner: User) -> ClientOrganisation:
    # A retention period other than the default, so the PDF cannot state it by accident.
    policy_set(actor=owner, request=None, years=5)
    # The published text is another app's (practice.services); here a text of its own, so
    # what the PDF adds (letterhead, version, date, retention) is what is tested.
    version = RegulationVersion.objects.create(
        version="2026.7", text="Waarom wij gegevens vragen\n\nUw rechten",
        promises={"retention_years": promises.current()["retention_years"]},
    )
    # Published a month ago, so a quote sent in between can be recorded.
    RegulationVersion.objects.filter(pk=version.pk).update(
        published_at=timezone.now() - timedelta(days=30))
    version.refresh_from_db()
    client = factories.client(owner)
    client.regulation_version = version
    client.save()
    return client


def test_pdf_holds_practice_version_date_and_retention(
    quote_client: ClientOrganisation, tmp_path: Path
) -> None:
    version = quote_client.regulation_version
    text = pdf_text(regulation_pdf.render(version, "nl"), tmp_path)
    assert "Testpraktijk" in text
    assert "2026.7" in text
    with override("nl"):
        from django.utils.formats import date_format

        assert date_format(timezone.localtime(version.published_at), "j F Y") in text
    assert re.search(r"(?<![\d.])5 (years|jaar)", text), text


def test_owner_downloads_the_client_version_and_it_is_audited(
    quote_client: ClientOrganisation, client_for: Callable[[User], Client], owner: User,
    tmp_path: Path,
) -> None:
    response = client_for(owner).get(
        reverse("trajectories:client_regulation_pdf", args=[quote_client.pk])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "privacyreglement-2026-7.pdf" in response["Content-Disposition"]
    assert "2026.7" in pdf_text(response.content, tmp_path)
    event = Event.objects.get(action="trajectories.client.regulation_downloaded")
    assert event.actor == owner and event.object_id == str(quote_client.pk)


def test_sent_date_is_recorded_audited_and_shown(
    quote_client: ClientOrganisation, client_for: Callable[[User], Client],
    administrator: User,
) -> None:
    browser = client_for(administrator)
    day = timezone.localdate() - timedelta(days=2)
    response = browser.post(
        reverse("trajectories:client_regulation_sent", args=[quote_client.pk]),
        {"sent_on": day.isoformat()},
    )
    assert response.status_code == 302
    quote_client.refresh_from_db()
    assert quote_client.regulation_sent_on == day
    event = Event.objects.get(action="trajectories.client.regulation_sent")
    assert event.actor == administrator
    assert event.detail == {"version": "2026.7", "sent_on": day.isoformat()}
    page = browser.get(reverse("trajectories:client_edit", args=[quote_client.pk]))
    with override("nl"):
        from django.utils.formats import date_format

        shown = date_format(day, "j F Y")
    assert re.search(
        r'data-testid="regulation-sent-on">' + re.escape(shown), page.content.decode()
    )


def test_a_day_still_to_come_is_refused_in_dutch(
    quote_client: ClientOrganisation, client_for: Callable[[User], Client], owner: User,
) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client_for(owner).post(
        reverse("trajectories:client_regulation_sent", args=[quote_client.pk]),
        {"sent_on": tomorrow.isoformat()},
        HTTP_ACCEPT_LANGUAGE="nl",
    )
    assert response.status_code == 200
    with override("nl"):
        message = gettext(FUTURE_MESSAGE)
    assert escape(message) in response.content.decode()
    quote_client.refresh_from_db()
    assert quote_client.regulation_sent_on is None
    assert not Event.objects.filter(action="trajectories.client.regulation_sent").exists()


@pytest.mark.parametrize("role_fixture", ROLE_FIXTURES)
def test_only_owners_and_administrator(
    role_fixture: str, request: pytest.FixtureRequest, quote_client: ClientOrganisation,
    client_for: Callable[[User], Client],
) -> None:
    browser = client_for(request.getfixturevalue(role_fixture))
    allowed = role_fixture in MANAGES
    pdf = browser.get(reverse("trajectories:client_regulation_pdf", args=[quote_client.pk]))
    assert pdf.status_code == (200 if allowed else 403)
    sent = browser.post(
        reverse("trajectories:client_regulation_sent", args=[quote_client.pk]),
        {"sent_on": timezone.localdate().isoformat()},
    )
    assert sent.status_code == (302 if allowed else 403)
    quote_client.refresh_from_db()
    assert (quote_client.regulation_sent_on is not None) == allowed
    assert Event.objects.filter(
        action="trajectories.client.regulation_downloaded").exists() == allowed


def test_the_pdf_of_an_old_version_shows_the_practice_as_it_then_was(
    owner: User, practice: PracticeSettings, tmp_path: Path,
) -> None:
    """The PDF shows a version exactly as it was published: renaming or moving the practice
    afterwards does not rewrite the letterhead of the old version."""
    old = regulation_publish(actor=owner, request=None, version="2026.8")
    practice_update(actor=owner, request=None, name="Hernoemde Coachpraktijk",
                    address="Nieuwstraat 99\n9999 ZZ Elders", email="nieuw@example.org")
    text = pdf_text(regulation_pdf.render(old, "nl"), tmp_path)
    assert "Testpraktijk" in text
    assert "Hernoemde" not in text and "Nieuwstraat" not in text
    assert "nieuw@example.org" not in text
    new = regulation_publish(actor=owner, request=None, version="2026.9")
    assert "Hernoemde Coachpraktijk" in pdf_text(regulation_pdf.render(new, "nl"), tmp_path)


def test_a_version_without_promises_takes_the_current_letterhead(
    owner: User, practice: PracticeSettings, tmp_path: Path,
) -> None:
    """A version published before promises were stored has only the current settings."""
    version = RegulationVersion.objects.create(version="2025.1", text="Oude tekst")
    practice_update(actor=owner, request=None, name="Hernoemde Coachpraktijk")
    assert "Hernoemde Coachpraktijk" in pdf_text(regulation_pdf.render(version, "nl"),
                                                  tmp_path)


def test_a_day_before_the_version_was_published_is_refused_in_dutch(
    quote_client: ClientOrganisation, client_for: Callable[[User], Client], owner: User,
) -> None:
    version = quote_client.regulation_version
    published = timezone.localdate(version.published_at)
    browser = client_for(owner)
    response = browser.post(
        reverse("trajectories:client_regulation_sent", args=[quote_client.pk]),
        {"sent_on": (published - timedelta(days=1)).isoformat()},
        HTTP_ACCEPT_LANGUAGE="nl",
    )
    assert response.status_code == 200
    with override("nl"):
        from django.utils.formats import date_format

        message = gettext(EARLY_MESSAGE) % {"version": version.version,
                                           "published": date_format(published, "j F Y")}
    assert escape(message) in response.content.decode()
    quote_client.refresh_from_db()
    assert quote_client.regulation_sent_on is None
    assert not Event.objects.filter(action="trajectories.client.regulation_sent").exists()
    # The day of publication itself is accepted.
    response = browser.post(
        reverse("trajectories:client_regulation_sent", args=[quote_client.pk]),
        {"sent_on": published.isoformat()},
    )
    assert response.status_code == 302
    quote_client.refresh_from_db()
    assert quote_client.regulation_sent_on == published


def test_another_version_clears_the_day_the_old_one_was_sent(
    quote_client: ClientOrganisation, client_for: Callable[[User], Client], owner: User,
) -> None:
    """The sent day belonged to the old version: after the client's version changes (here
    through the edit page, whose form sets the new version before the service runs) the quote
    file no longer claims the new one went out that day. Saving without a change keeps it."""
    day = timezone.localdate() - timedelta(days=2)
    client_regulation_sent(actor=owner, request=None, client=quote_client, sent_on=day)
    browser = client_for(owner)
    url = reverse("trajectories:client_edit", args=[quote_client.pk])
    fields = {"name": quote_client.name, "contact_name": "HR",
              "contact_email": "hr@client.example", "contact_phone": "",
              "quote_reference": "OFF-1", "quote_date": "2026-01-05",
              "regulation_version": quote_client.regulation_version.pk}
    assert browser.post(url, fields).status_code == 302
    quote_client.refresh_from_db()
    assert quote_client.regulation_sent_on == day
    newer = RegulationVersion.objects.create(version="2026.10", text="Nieuwe tekst")
    assert browser.post(url, {**fields, "regulation_version": newer.pk}).status_code == 302
    quote_client.refresh_from_db()
    assert quote_client.regulation_version == newer
    assert quote_client.regulation_sent_on is None
    assert Event.objects.filter(action="trajectories.client.updated",
                                detail={"regulation_sent_cleared": True}).count() == 1
