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
from coachregister.practice.models import RegulationVersion
from coachregister.retention.services import policy_set
from coachregister.testing import factories
from coachregister.trajectories.models import ClientOrganisation

pytestmark = [pytest.mark.django_db, pytest.mark.article("Werkwijze")]

MANAGES = {"owner", "administrator"}
FUTURE_MESSAGE = "The regulation cannot have been sent on a day still to come."


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
    assert "privacyreglement-20267.pdf" in response["Content-Disposition"]
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
