"""Intake errors the coachee can find (Werkwijze, issue 14): a summary at the top with a link
to each field in error, the focus on it, and a page title that says there is an error."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils.translation import gettext, override

from coachregister.accounts.models import User
from coachregister.testing import factories
from coachregister.trajectories import services

pytestmark = [pytest.mark.django_db, pytest.mark.article("Werkwijze")]

START = reverse("coachees:intake_start")
FORM = reverse("coachees:intake_form")


def _client(owner: User, coach: User, language: str) -> Client:
    factories.regulation()
    _trajectory, _token, code = services.trajectory_open(
        actor=owner, request=None, client=factories.client(owner), coach=coach
    )
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    assert client.post(START, {"code": code}).status_code == 302
    return client


def _title(page: str) -> str:
    found = re.search(r"<title>(.*?)</title>", page, re.S)
    assert found
    return found.group(1).strip()


def test_the_summary_links_every_field_in_error_and_takes_the_focus(
    owner: User, coach: User
) -> None:
    client = _client(owner, coach, "en")
    response = client.post(FORM, {
        "first_name": "Anne", "last_name": "", "email": "anne@", "phone": "12",
        "regulation": str(factories.regulation().pk),
    })
    assert response.status_code == 200
    page = response.content.decode()
    summary = re.search(r'<div class="errors" id="error-summary"[^>]*>(.*?)</div>', page, re.S)
    assert summary, "no error summary"
    tag = re.search(r'<div class="errors" id="error-summary"[^>]*>', page).group(0)
    assert 'tabindex="-1"' in tag and "autofocus" in tag and 'role="alert"' in tag
    # The summary comes before the form and the first field.
    assert page.index('id="error-summary"') < page.index('<form method="post" novalidate')
    links = re.findall(r'<a href="#(id_\w+)">', summary.group(1))
    assert links == ["id_last_name", "id_email", "id_phone", "id_regulation_read"]
    for target in links:  # every link leads to a field on the page
        assert f'id="{target}"' in page
    assert _title(page).startswith("Error: Your contact details")
    assert "autofocus" not in page.replace(tag, "")  # nothing else takes the focus


def test_the_dutch_title_is_prefixed_too(owner: User, coach: User) -> None:
    client = _client(owner, coach, "nl")
    page = client.post(FORM, {"first_name": "", "regulation": "0"}).content.decode()
    with override("nl"):
        prefix = gettext("Error:")
        heading = gettext("Your contact details")
    assert _title(page).startswith(f"{prefix} {heading}")


def test_no_summary_and_no_prefix_without_errors(owner: User, coach: User) -> None:
    client = _client(owner, coach, "en")
    page = client.get(FORM).content.decode()
    assert 'id="error-summary"' not in page
    assert _title(page).startswith("Your contact details")
