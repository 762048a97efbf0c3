"""The audit filter answers a date it cannot use with a form error, never a server error
(art. 6: the register stays available; a crafted address must not break the page)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from coachregister.accounts.models import User

pytestmark = [pytest.mark.django_db, pytest.mark.article("6")]
URL = reverse("audit:event_list")


@pytest.mark.parametrize(
    "query",
    [
        {"date_until": "9999-12-31"},
        {"date_from": "0001-01-01"},
        {"date_from": "0001-01-01", "date_until": "9999-12-31"},
    ],
)
def test_dates_at_the_ends_of_the_calendar_are_a_form_error(
    owner: User, client_for: Callable[[User], Client], query: dict[str, str]
) -> None:
    response = client_for(owner).get(URL, query)
    assert response.status_code == 200
    form = response.context["form"]
    assert not form.is_valid()
    assert set(form.errors) == set(query)
    # In the user's language (Dutch by default).
    assert "Voer een geldige datum in." in response.content.decode()


def test_a_huge_page_marker_is_a_form_error(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    response = client_for(owner).get(URL, {"before": str(10**30)})
    assert response.status_code == 200
    assert "before" in response.context["form"].errors


def test_ordinary_dates_still_filter(owner: User, client_for: Callable[[User], Client]) -> None:
    response = client_for(owner).get(URL, {"date_from": "2000-01-01", "date_until": "9998-12-30"})
    assert response.status_code == 200
    assert response.context["form"].is_valid()
    assert response.context["events"]  # the statement published for the fixture is in range


@pytest.mark.parametrize("field", ["window_from", "window_until"])
def test_an_engagement_window_at_the_start_of_the_calendar_is_a_form_error(
    owner: User, auditor: User, client_for: Callable[[User], Client], field: str
) -> None:
    """Found by the form fuzz (tests/test_form_fuzz.py): a 500 before."""
    data = {"auditor": auditor.pk, "window_from": "2026-01-05T10:00",
            "window_until": "2026-02-05T10:00", "sample_size": "5", field: "0001-01-01T00:00"}
    response = client_for(owner).post(reverse("audit:engagements"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not auditor.engagements.exists()
