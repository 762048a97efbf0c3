"""The trail screens in words (art. 6), "who saw my data" (art. 7.2) and the auditor's
dashboard (art. 5.4): labels from the one table, local times, links only where they open,
the raw codes only in the details toggle."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from coachregister.accounts.models import User
from coachregister.audit import engagements, labels
from coachregister.audit.models import Event
from coachregister.audit.services import event_record
from coachregister.testing import factories
from coachregister.trajectories.models import Trajectory

pytestmark = pytest.mark.django_db
URL = reverse("audit:event_list")


@pytest.fixture
def trajectory(owner: User, coach: User) -> Trajectory:
    return factories.trajectory(owner, coach)


def _table(response: object) -> str:
    """The page's table without its details toggles: what a reader sees at first glance."""
    html = response.content.decode()  # type: ignore[attr-defined]
    table = html[html.index("<table"):html.index("</table>")]
    return re.sub(r"<details>.*?</details>", "", table, flags=re.S)


def _in_language_of(response: object, text: Callable[[], str]) -> str:
    language = getattr(response.wsgi_request, "LANGUAGE_CODE", None)  # type: ignore[attr-defined]
    with translation.override(language):
        return escape(text())


def _local(event: Event, fmt: str) -> tuple[str, str]:
    return (timezone.localtime(event.created_at).strftime(fmt),
            event.created_at.astimezone(UTC).strftime(fmt))


@pytest.mark.article("6")
def test_browser_shows_words_local_times_and_codes_only_in_details(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    event = event_record(action="accounts.login.succeeded", actor=coach)
    response = client_for(owner).get(URL)
    table = _table(response)
    assert _in_language_of(response, lambda: labels.action_label("accounts.login.succeeded")) in table
    assert _in_language_of(response, lambda: labels.role_label("coach")) in table
    assert "accounts.login.succeeded" not in table  # raw code: only in the toggle
    assert re.search(r"<details><summary>[^<]+</summary><code>accounts\.login\.succeeded</code>",
                     response.content.decode())
    local, utc = _local(event, "%d-%m-%Y %H:%M")
    assert local in table and local != utc and utc not in table


@pytest.mark.article("6")
def test_action_filter_is_a_list_built_from_the_table(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    page = client.get(URL).content.decode()
    select = page[page.index('name="action"'):page.index("</select>", page.index('name="action"'))]
    offered = set(re.findall(r'<option value="([^"]*)"', select))
    assert set(labels.ACTION_LABELS) <= offered
    assert {f"{area}." for area in labels.AREA_LABELS} <= offered
    event_record(action="keys.epoch.started", actor=owner)
    event_record(action="keys.master.rotated", actor=owner)
    one = client.get(URL, {"action": "keys.epoch.started"})
    assert {e.action for e in one.context["events"]} == {"keys.epoch.started"}
    area = client.get(URL, {"action": "keys."})
    assert {e.action for e in area.context["events"]} == {"keys.epoch.started",
                                                           "keys.master.rotated"}
    made_up = client.get(URL, {"action": "keys.epoch"})  # not in the list: a form error
    assert made_up.status_code == 200 and "action" in made_up.context["form"].errors


@pytest.mark.article("6")
def test_objects_link_only_where_the_viewer_can_open_them(
    owner: User, auditor: User, trajectory: Trajectory, client_for: Callable[[User], Client]
) -> None:
    now = timezone.now()
    engagement = engagements.engagement_open(
        actor=owner, request=None, auditor=auditor, window_from=now,
        window_until=now + timedelta(days=1), sample_size=1)
    event_record(action="incidents.incident.viewed", actor=owner, object_type="incident",
                 object_id="999999")  # no such incident: no link
    client = client_for(owner)
    html = client.get(URL).content.decode()
    links = set(re.findall(r'<a href="(/[^"]+)">', _table_html(html)))
    engagement_url = reverse("audit:engagement", args=[engagement.pk])
    trajectory_url = reverse("trajectories:detail", args=[trajectory.pseudonym])
    who_saw_url = reverse("disclosures:who_saw", args=[trajectory.coachee.pseudonym])
    assert {engagement_url, trajectory_url, who_saw_url} <= links
    assert not any("/999999/" in link for link in links)
    for link in links:
        assert client.get(link).status_code == 200, link


def _table_html(html: str) -> str:
    return html[html.index("<table"):html.index("</table>")]


@pytest.mark.article("6")
def test_links_do_not_add_a_query_per_row(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    for _ in range(2):
        factories.trajectory(owner, coach, contact=None)
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    for _ in range(6):
        factories.trajectory(owner, coach, contact=None)
    with CaptureQueriesContext(connection) as many:
        page = client.get(URL)
    assert len(many) == len(few)
    assert page.content.decode().count('href="/trajectories/') >= 8


@pytest.mark.article("7.2")
def test_who_saw_in_words_with_local_times(
    owner: User, coach: User, trajectory: Trajectory, client_for: Callable[[User], Client]
) -> None:
    pseudonym = trajectory.coachee.pseudonym
    client_for(coach).get(reverse("coachees:contact", args=[pseudonym]))
    read = Event.objects.filter(action="coachees.contact.viewed", actor=coach).latest("seq")
    response = client_for(owner).get(reverse("disclosures:who_saw", args=[pseudonym]))
    table = _table(response)
    assert _in_language_of(response, lambda: labels.action_label("coachees.contact.viewed")) in table
    assert _in_language_of(response, lambda: labels.role_label("coach")) in table
    assert "coachees.contact.viewed" not in table
    assert "<code>coachees.contact.viewed</code>" in response.content.decode()
    local, utc = _local(read, "%d-%m-%Y %H:%M")
    assert local in table and utc not in table


@pytest.mark.article("5.4")
def test_auditor_dashboard_shows_the_open_engagement(
    owner: User, auditor: User, trajectory: Trajectory, client_for: Callable[[User], Client]
) -> None:
    client = client_for(auditor)
    before = client.get(reverse("accounts:dashboard")).content.decode()
    assert 'data-testid="engagement-open"' not in before
    now = timezone.now()
    later = engagements.engagement_open(
        actor=owner, request=None, auditor=auditor, window_from=now + timedelta(days=3),
        window_until=now + timedelta(days=4), sample_size=1)
    current = engagements.engagement_open(
        actor=owner, request=None, auditor=auditor, window_from=now - timedelta(hours=1),
        window_until=now + timedelta(days=1), sample_size=1)
    page = client.get(reverse("accounts:dashboard")).content.decode()
    opened = re.findall(r'data-testid="engagement-open"><a href="([^"]+)"', page)
    assert opened == [reverse("audit:engagement", args=[current.pk])]
    assert client.get(opened[0]).status_code == 200
    coming = re.search(r'data-testid="engagement-coming">([^<]+)<', page)
    assert coming and str(later.pk) in coming.group(1)
    until = timezone.localtime(current.window_until)
    assert f"{until:%H:%M}" in page


@pytest.mark.article("7.2")
def test_the_coachees_copy_names_every_read_in_words(
    owner: User, trajectory: Trajectory
) -> None:
    """A read without the coachee's own wording (a complaint opened) takes the table's."""
    from coachregister.rights.sections import accesses

    event_record(action="complaints.complaint.viewed", actor=owner, object_type="coachee",
                 object_id=trajectory.coachee.pseudonym)
    with translation.override("en"):
        rows = accesses(trajectory.coachee)
    complaint = [r for r in rows if r["what"] == "complaints.complaint.viewed"]
    assert [r["what_label"] for r in complaint] == ["Complaint opened"]


@pytest.mark.article("6")
def test_csv_export_keeps_the_codes_and_is_recorded(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    import csv
    import io

    epoch = event_record(action="keys.epoch.started", actor=coach, object_type="epoch",
                         object_id="=1+2", detail={"note": "-danger"})
    event_record(action="accounts.login.failed", outcome="denied")
    client = client_for(owner)
    page = client.get(URL, {"action": "keys."}).content.decode()
    link = re.search(r'<a href="(/audit/export\.csv[^"]*)" download>', page)
    assert link and "action=keys." in link.group(1)
    response = client.get(link.group(1).replace("&amp;", "&"))
    assert response["Content-Type"].startswith("text/csv")
    content = response.content.decode()
    rows = list(csv.DictReader(io.StringIO(content)))
    assert [r["action"] for r in rows] == ["keys.epoch.started"]  # the filter applies
    row = rows[0]
    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        assert row["action_label"] == labels.action_label("keys.epoch.started")
    assert row["actor_role"] == "coach" and row["actor_id"] == str(coach.pk)
    assert coach.full_name not in content  # staff by account number, not by name
    assert row["object_id"] == "'=1+2"  # never a formula in a spreadsheet
    assert row["created_at"] == timezone.localtime(epoch.created_at).isoformat(
        timespec="seconds")
    assert row["created_at"].endswith(("+01:00", "+02:00"))  # Amsterdam, not UTC
    exported = Event.objects.filter(action="audit.trail.exported").latest("seq")
    assert exported.actor == owner and exported.detail == {"action": "keys."}
    bad = client.get(reverse("audit:event_csv"), {"action": "no\x00such"})
    assert bad.status_code == 200 and "action" in bad.context["form"].errors
