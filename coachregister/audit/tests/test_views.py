"""The audit browser: owners and the administrator only, filters, keyset pages (art. 5, 6)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coachregister.accounts.models import Role, User
from coachregister.audit.models import Event
from coachregister.audit.services import event_record
from coachregister.conftest import ROLE_FIXTURES

pytestmark = [pytest.mark.django_db, pytest.mark.article("5.1")]
URL = reverse("audit:event_list")


@pytest.mark.parametrize("role_fixture", ROLE_FIXTURES)
def test_browser_per_role(role_fixture: str, request: pytest.FixtureRequest,
                          client_for: Callable[[User], Client]) -> None:
    user = request.getfixturevalue(role_fixture)
    response = client_for(user).get(URL)
    if role_fixture in ("owner", "administrator"):
        assert response.status_code == 200
        assert "accounts.confidentiality.published" in response.content.decode()
    else:
        assert response.status_code == 403
        denied = Event.objects.get(action="accounts.access.denied", actor=user)
        assert denied.outcome == "denied" and denied.object_id == "audit:event_list"


def test_anonymous_is_sent_to_sign_in(outsider: Client) -> None:
    response = outsider.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def seqs(response: object) -> list[int]:
    return [int(s) for s in re.findall(r"<tr class=\"\w+\">\s*<td>(\d+)</td>",
                                       response.content.decode())]  # type: ignore[attr-defined]


def test_filters(owner: User, client_for: Callable[[User], Client]) -> None:
    event_record(action="accounts.login.failed", outcome="denied")
    event_record(action="accounts.login.succeeded", actor=owner)
    event_record(action="coachees.contact.viewed", object_type="coachee", object_id="C-ABCD-EFGH")
    client = client_for(owner)
    accounts = client.get(URL, {"action": "accounts."})
    assert {Event.objects.get(seq=s).action for s in seqs(accounts)} >= {
        "accounts.login.failed", "accounts.login.succeeded"}
    assert all(Event.objects.get(seq=s).action.startswith("accounts.") for s in seqs(accounts))
    failed = client.get(URL, {"action": "accounts.login.failed"})
    assert {Event.objects.get(seq=s).action for s in seqs(failed)} == {"accounts.login.failed"}
    denied = client.get(URL, {"outcome": "denied"})
    assert {Event.objects.get(seq=s).outcome for s in seqs(denied)} == {"denied"}
    by_object = client.get(URL, {"object_id": "C-ABCD-EFGH"})
    assert [Event.objects.get(seq=s).action for s in seqs(by_object)] == ["coachees.contact.viewed"]
    by_actor = client.get(URL, {"actor": owner.pk})
    assert all(Event.objects.get(seq=s).actor == owner for s in seqs(by_actor))
    bad = client.get(URL, {"date_from": "gisteren"})
    assert bad.status_code == 200 and "date_from" in bad.context["form"].errors


def test_keyset_pages_do_not_overlap(owner: User, client_for: Callable[[User], Client]) -> None:
    for i in range(120):
        event_record(action="keys.epoch.started", object_id=f"X-{i}")
    client = client_for(owner)
    first = client.get(URL, {"action": "keys.epoch.started"})
    page_one = seqs(first)
    assert len(page_one) == 50 and page_one == sorted(page_one, reverse=True)
    older = re.search(r'<a href="\?([^"]*before=\d+[^"]*)"', first.content.decode())
    assert older
    second = client.get(URL + "?" + older.group(1).replace("&amp;", "&"))
    page_two = seqs(second)
    assert len(page_two) == 50 and max(page_two) < min(page_one)


def test_query_count_does_not_grow(owner: User, make_user: Callable[..., User],
                                   client_for: Callable[[User], Client]) -> None:
    client = client_for(owner)
    actors = [make_user(Role.COACH) for _ in range(10)]
    for actor in actors[:2]:
        event_record(action="test.some.event", actor=actor)
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    for actor in actors:
        for _ in range(6):
            event_record(action="test.some.event", actor=actor)
    with CaptureQueriesContext(connection) as many:
        client.get(URL)
    assert len(many) == len(few)
