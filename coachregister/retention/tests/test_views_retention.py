"""The retention pages (art. 10.1, 10.2, 5.1): the policy and its versions, the overview with
the number that must be zero, coming expiries, legal holds set and lifted through the page,
idle open trajectories, and the destruction records with their CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.conftest import ROLE_FIXTURES, confirm_recently
from coachregister.lib import deadlines
from coachregister.retention import services
from coachregister.retention.models import (
    DestructionRecord,
    LegalHold,
    MailboxTask,
    RetentionPolicy,
    Tombstone,
)
from coachregister.testing import factories
from coachregister.testing.factories import person
from coachregister.trajectories.models import Trajectory
from coachregister.trajectories.services import trajectory_end

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")
MANAGERS = {"owner", "administrator"}


def at(day: date, hour: int = 12) -> time_machine.travel:
    return time_machine.travel(datetime.combine(day, time(hour), tzinfo=AMS), tick=False)


def made_on(owner: User, coach: User, n: int, last: date, *, end: bool = True) -> Trajectory:
    """A trajectory whose intake (its last contact) was on `last`; ended that day unless
    `end` is false (then it stays open)."""
    with at(last):
        trajectory = factories.trajectory(owner, coach, contact=person(n))
        if end:
            trajectory_end(actor=owner, request=None, trajectory=trajectory, broken_off=False)
    return trajectory


def years_ago(years: int, days: int = 0) -> date:
    """The last-contact day whose expiry under `years` lies `days` from today."""
    return deadlines.add_years(timezone.localdate() + timedelta(days=days), -years)


def english(client: Client) -> Client:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


POLICY = {"years": 7, "statute": "", "client_contact_years": 2, "staff_years": 2,
          "audit_years": 7, "idle_months": 12}


# --- access per role (art. 5.1) ---------------------------------------------------------------


@pytest.mark.article("5.1")
@pytest.mark.parametrize("name", ["retention:overview", "retention:policy",
                                  "retention:hold_new", "retention:records",
                                  "retention:records_csv"])
@pytest.mark.parametrize("role_fixture", ROLE_FIXTURES)
def test_retention_pages_are_for_the_registers_runners(
    name: str, role_fixture: str, request: pytest.FixtureRequest,
    client_for: Callable[[User], Client],
) -> None:
    user = request.getfixturevalue(role_fixture)
    response = client_for(user).get(reverse(name))
    if role_fixture in MANAGERS:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert Event.objects.filter(action="accounts.access.denied", actor=user).exists()


@pytest.mark.article("5.1")
def test_anonymous_is_sent_to_sign_in(outsider: Client, owner: User, coach: User) -> None:
    hold = services.hold_set(actor=owner, request=None,
                             coachee=factories.trajectory(owner, coach).coachee,
                             reason="Geschil", until=timezone.localdate() + timedelta(days=9))
    for url in (reverse("retention:overview"), reverse("retention:policy"),
                reverse("retention:records_csv"), reverse("retention:hold_lift", args=[hold.pk])):
        response = outsider.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    outsider.post(reverse("retention:hold_lift", args=[hold.pk]))
    hold.refresh_from_db()
    assert hold.lifted_at is None


@pytest.mark.article("5.1")
def test_only_an_owner_changes_the_policy(administrator: User,
                                          client_for: Callable[[User], Client]) -> None:
    client = confirm_recently(english(client_for(administrator)))
    page = client.get(reverse("retention:policy"))
    assert page.status_code == 200 and b"Only an owner changes the retention policy" in (
        page.content)
    assert page.context["form"].fields["years"].disabled
    response = client.post(reverse("retention:policy"), POLICY)
    assert response.status_code == 403
    assert not RetentionPolicy.objects.exists()


# --- the policy (art. 10.1) -------------------------------------------------------------------


@pytest.mark.article("10.1")
def test_a_change_needs_a_fresh_confirmation(owner: User,
                                             client_for: Callable[[User], Client]) -> None:
    response = client_for(owner).post(reverse("retention:policy"), POLICY)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:reauth"))
    assert not RetentionPolicy.objects.exists()


@pytest.mark.article("10.1")
def test_each_change_is_a_new_version_shown_with_date_and_author(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    client = confirm_recently(english(client_for(owner)))
    first = client.post(reverse("retention:policy"), POLICY)
    assert first.status_code == 302
    second = client.post(reverse("retention:policy"), {**POLICY, "idle_months": 6,
                                                       "audit_years": 10})
    assert second.status_code == 302
    assert list(RetentionPolicy.objects.values_list("version", "idle_months", "audit_years")) == [
        (2, 6, 10), (1, 12, 7)]
    assert RetentionPolicy.current().created_by == owner
    page = client.get(reverse("retention:policy"))
    html = page.content.decode()
    today = timezone.localtime().strftime("%-d %B %Y")
    assert f"Version 2, set on {today}" in html and owner.full_name in html
    assert page.context["form"].initial["idle_months"] == 6
    assert [v.version for v in page.context["versions"]] == [2, 1]  # earlier ones listed too
    assert Event.objects.filter(action="retention.policy.changed", actor=owner).count() == 2


@pytest.mark.article("10.1")
def test_a_longer_period_without_its_statute_is_refused_with_the_message(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    client = confirm_recently(english(client_for(owner)))
    response = client.post(reverse("retention:policy"), {**POLICY, "years": 10,
                                                         "audit_years": 10})
    assert response.status_code == 200
    assert not RetentionPolicy.objects.exists()
    assert response.context["form"].errors["statute"]
    assert b"needs the statute that requires it" in response.content
    saved = client.post(reverse("retention:policy"), {
        **POLICY, "years": 10, "audit_years": 10,
        "statute": "Wet op de geneeskundige behandelingsovereenkomst, art. 7:454 BW"})
    assert saved.status_code == 302
    assert RetentionPolicy.current().years == 10
    assert RetentionPolicy.current().statute.endswith("art. 7:454 BW")


@pytest.mark.article("10.1")
def test_an_audit_period_shorter_than_the_coachees_is_refused(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    client = confirm_recently(english(client_for(owner)))
    response = client.post(reverse("retention:policy"), {**POLICY, "years": 5, "audit_years": 4})
    assert response.status_code == 200
    assert response.context["form"].errors["audit_years"]
    assert b"at least as long as the coachees" in response.content
    assert not RetentionPolicy.objects.exists()


@pytest.mark.article("10.1")
def test_a_shorter_period_says_how_many_coachees_the_next_purge_destroys(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    made_on(owner, coach, 1, years_ago(6, days=-30))  # 6 years and a month ago
    made_on(owner, coach, 2, years_ago(4, days=-30))
    client = confirm_recently(english(client_for(owner)))
    response = client.post(reverse("retention:policy"), {**POLICY, "years": 5, "audit_years": 5},
                           follow=True)
    texts = [str(m) for m in response.context["messages"]]
    assert any("1 coachee will be destroyed at the next purge" in t for t in texts), texts


# --- the overview (art. 10.1) -----------------------------------------------------------------


@pytest.mark.article("10.1")
def test_the_number_that_must_be_zero_is_red_when_it_is_not(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    client = english(client_for(owner))
    page = client.get(reverse("retention:overview"))
    assert page.context["past_purge_day"] == 0
    assert b'class="count ok" data-testid="past-purge-day">0<' in page.content
    overdue = made_on(owner, coach, 1, years_ago(7, days=-3))
    page = client.get(reverse("retention:overview"))
    assert page.context["past_purge_day"] == 1 == services.past_purge_day()
    assert b'class="count error" data-testid="past-purge-day">1<' in page.content
    assert overdue.coachee.pseudonym.encode() in page.content
    dashboard = client.get(reverse("accounts:dashboard"))
    assert dashboard.context["past_purge_day"] == 1
    assert b'class="count error" data-testid="past-purge-day">1<' in dashboard.content
    assert reverse("retention:overview").encode() in dashboard.content


@pytest.mark.article("10.1")
def test_coming_expiries_with_what_keeps_them(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    soon = made_on(owner, coach, 1, years_ago(7, days=30))
    later = made_on(owner, coach, 2, years_ago(7, days=200))
    kept = made_on(owner, coach, 3, years_ago(7, days=-10), end=False)  # open trajectory
    held = made_on(owner, coach, 4, years_ago(7, days=60))
    services.hold_set(actor=owner, request=None, coachee=held.coachee, reason="Geschil",
                      until=timezone.localdate() + timedelta(days=365))
    Tombstone.objects.create(pseudonym="C-TOMB-01",
                             expires_on=timezone.localdate() + timedelta(days=5))
    page = english(client_for(owner)).get(reverse("retention:overview"))
    rows = {row.pseudonym: row for row in page.context["expiries"]}
    assert set(rows) == {soon.coachee.pseudonym, kept.coachee.pseudonym,
                         held.coachee.pseudonym, "C-TOMB-01"}
    assert rows[soon.coachee.pseudonym].expiry == services.expiry_date(soon.coachee)
    assert rows[soon.coachee.pseudonym].keepers == []
    assert rows[kept.coachee.pseudonym].keepers == ["open_trajectory"]
    assert rows[held.coachee.pseudonym].keepers == ["hold"]
    assert rows["C-TOMB-01"].erased
    html = page.content.decode()
    assert reverse("trajectories:detail", args=[soon.pseudonym]) in html
    assert "an open trajectory" in html and "a legal hold" in html
    assert later.coachee.pseudonym not in html
    assert page.context["past_purge_day"] == 0  # kept is kept, not overdue


@pytest.mark.article("10.1")
def test_open_trajectories_without_contact_are_flagged(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    idle = made_on(owner, coach, 1, timezone.localdate() - timedelta(days=400), end=False)
    recent = made_on(owner, coach, 2, timezone.localdate() - timedelta(days=30), end=False)
    page = english(client_for(owner)).get(reverse("retention:overview"))
    assert [t.pseudonym for t in page.context["idle"]] == [idle.pseudonym]
    assert idle.pseudonym.encode() in page.content
    assert recent.pseudonym.encode() not in page.content


@pytest.mark.article("10.1")
def test_the_overview_shows_no_names(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    from coachregister.retention import mailbox

    trajectory = made_on(owner, coach, 1, years_ago(7, days=20))
    contact = person(1)
    services.hold_set(actor=owner, request=None, coachee=trajectory.coachee, reason="Geschil",
                      until=timezone.localdate() + timedelta(days=9))
    mailbox.mailbox_tasks_create(coachee=trajectory.coachee)
    before = Event.objects.count()
    page = client_for(owner).get(reverse("retention:overview"))
    html = page.content.decode()
    assert trajectory.coachee.pseudonym in html
    for value in (contact.first_name, contact.last_name, contact.email, contact.phone):
        assert value not in html
    assert not Event.objects.filter(action="retention.mailbox_task.viewed").exists()
    assert Event.objects.count() == before  # pseudonyms only: nothing to record


def _rows(owner: User, coach: User, n: int) -> None:
    """n destruction records, mailbox tasks (of each state) and tombstones; a few coachees
    with a hold each and an idle open trajectory."""
    now = timezone.now()
    DestructionRecord.objects.bulk_create(
        DestructionRecord(pseudonym=f"C-R{i:03d}", scope="purge", reason="retention",
                          destroyed={"sessions": 2, "letters": 1}, policy_version=1,
                          expiry_date=date(2026, 1, 1)) for i in range(n))
    MailboxTask.objects.bulk_create(
        MailboxTask(pseudonym=f"C-M{i:03d}", assigned_to=coach,
                    confirmed_at=now if i % 3 == 1 else None,
                    key_destroyed_at=now if i % 3 else None) for i in range(n))
    Tombstone.objects.bulk_create(
        Tombstone(pseudonym=f"C-T{i:03d}", expires_on=timezone.localdate() + timedelta(days=9))
        for i in range(n))


@pytest.mark.article("10.1")
def test_the_overview_query_count_does_not_grow_with_the_rows(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    url = reverse("retention:overview")

    def holds_and_idle(start: int, count: int) -> None:
        for n in range(start, start + count):
            trajectory = made_on(owner, coach, n, timezone.localdate() - timedelta(days=400),
                                 end=False)
            services.hold_set(actor=owner, request=None, coachee=trajectory.coachee,
                              reason="Geschil", until=timezone.localdate() + timedelta(days=9))

    _rows(owner, coach, 10)
    holds_and_idle(1, 2)
    client.get(url)  # warm up (sessions, content types)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    DestructionRecord.objects.all().delete()
    MailboxTask.objects.all().delete()
    Tombstone.objects.all().delete()
    _rows(owner, coach, 100)
    holds_and_idle(3, 8)
    with CaptureQueriesContext(connection) as many:
        page = client.get(url)
    assert len(page.context["holds"]) == 10 and len(page.context["idle"]) == 10
    assert len(page.context["expiries"]) == 100
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


# --- legal holds through the page (art. 10.1) -------------------------------------------------


@pytest.mark.article("10.1")
def test_set_and_lift_a_hold_through_the_page(
    administrator: User, owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    trajectory = factories.trajectory(owner, coach)
    pseudonym = trajectory.coachee.pseudonym
    client = english(client_for(administrator))
    until = timezone.localdate() + timedelta(days=60)
    response = client.post(reverse("retention:hold_new"), {
        "pseudonym": pseudonym.lower(), "reason": "Geschil over de declaratie",
        "until": until.isoformat()})
    assert response.status_code == 302 and response["Location"] == reverse("retention:overview")
    hold = LegalHold.objects.get(coachee=trajectory.coachee)
    assert hold.stands() and hold.set_by == administrator and hold.until == until
    event = Event.objects.get(action="retention.hold.set")
    assert event.actor == administrator and event.object_id == pseudonym
    page = client.get(reverse("retention:overview"))
    assert list(page.context["holds"]) == [hold]
    assert b"Geschil over de declaratie" in page.content
    assert reverse("retention:hold_lift", args=[hold.pk]).encode() in page.content
    # the lift button asks first: the GET changes nothing
    confirm = client.get(reverse("retention:hold_lift", args=[hold.pk]))
    assert confirm.status_code == 200 and b"Yes, lift the hold" in confirm.content
    hold.refresh_from_db()
    assert hold.stands()
    lifted = client.post(reverse("retention:hold_lift", args=[hold.pk]))
    assert lifted.status_code == 302
    hold.refresh_from_db()
    assert not hold.stands() and hold.lifted_by == administrator
    event = Event.objects.get(action="retention.hold.lifted")
    assert event.actor == administrator and event.object_id == pseudonym
    again = client.post(reverse("retention:hold_lift", args=[hold.pk]), follow=True)
    assert any(m.level_tag == "error" for m in again.context["messages"])


@pytest.mark.article("10.1")
def test_a_reason_that_names_the_coachee_is_refused_with_the_guards_message(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    trajectory = factories.trajectory(owner, coach)  # Anne de Vries
    client = english(client_for(owner))
    response = client.post(reverse("retention:hold_new"), {
        "pseudonym": trajectory.coachee.pseudonym, "reason": "Geschil met Anne de Vries",
        "until": (timezone.localdate() + timedelta(days=9)).isoformat()})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert not LegalHold.objects.exists()
    assert not Event.objects.filter(action="retention.hold.set").exists()
    past = client.post(reverse("retention:hold_new"), {
        "pseudonym": trajectory.coachee.pseudonym, "reason": "Geschil",
        "until": (timezone.localdate() - timedelta(days=1)).isoformat()})
    assert b"cannot lie in the past" in past.content
    unknown = client.post(reverse("retention:hold_new"), {
        "pseudonym": "C-NONE-00", "reason": "Geschil",
        "until": (timezone.localdate() + timedelta(days=9)).isoformat()})
    assert b"No coachee has this pseudonym" in unknown.content
    assert not LegalHold.objects.exists()


@pytest.mark.article("10.1")
@pytest.mark.parametrize("role_fixture", ["coach", "other_coach", "third_party", "auditor"])
def test_a_hold_is_not_set_or_lifted_by_others(
    role_fixture: str, request: pytest.FixtureRequest, owner: User, coach: User,
    client_for: Callable[[User], Client],
) -> None:
    trajectory = factories.trajectory(owner, coach)
    hold = services.hold_set(actor=owner, request=None, coachee=trajectory.coachee,
                             reason="Geschil", until=timezone.localdate() + timedelta(days=9))
    client = client_for(request.getfixturevalue(role_fixture))
    assert client.post(reverse("retention:hold_lift", args=[hold.pk])).status_code == 403
    assert client.post(reverse("retention:hold_new"), {
        "pseudonym": trajectory.coachee.pseudonym, "reason": "Ander geschil",
        "until": (timezone.localdate() + timedelta(days=9)).isoformat()}).status_code == 403
    hold.refresh_from_db()
    assert hold.stands() and LegalHold.objects.count() == 1


# --- destruction records (art. 10.2) ----------------------------------------------------------


@pytest.mark.article("10.2")
def test_records_are_filtered_by_scope_reason_and_date_and_paginated(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    moment = timezone.make_aware(datetime(2026, 3, 10, 12))
    DestructionRecord.objects.bulk_create(
        [DestructionRecord(pseudonym=f"C-P{i:03d}", scope="purge", reason="retention",
                           destroyed={"sessions": 1}, destroyed_at=moment) for i in range(55)]
        + [DestructionRecord(pseudonym="C-E-001", scope="erasure", reason="request",
                             destroyed={"letters": 2},
                             destroyed_at=moment - timedelta(days=40))])
    client = english(client_for(owner))
    url = reverse("retention:records")
    first = client.get(url)
    assert len(first.context["page"].object_list) == 50
    assert first.context["page"].paginator.num_pages == 2
    second = client.get(url, {"page": 2})
    assert len(second.context["page"].object_list) == 6
    assert b"C-E-001" in second.content
    erasures = client.get(url, {"scope": "erasure"})
    assert [r.pseudonym for r in erasures.context["page"]] == ["C-E-001"]
    assert [r.pseudonym for r in client.get(url, {"reason": "request"}).context["page"]] == [
        "C-E-001"]
    march = client.get(url, {"date_from": "2026-03-01", "date_until": "2026-03-31"})
    assert march.context["page"].paginator.count == 55
    assert client.get(url, {"date_until": "2026-02-28"}).context["page"].paginator.count == 1
    assert client.get(url, {"date_from": "0001-01-01"}).status_code == 200  # a form error


@pytest.mark.article("10.2")
def test_the_csv_export_holds_no_personal_data(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    trajectory = made_on(owner, coach, 1, years_ago(7, days=-2))
    pseudonym = trajectory.coachee.pseudonym
    assert services.purge_run().purged == 1
    client = client_for(owner)
    response = client.get(reverse("retention:records_csv"), {"scope": "purge"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    text = response.content.decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["destroyed_at", "pseudonym", "scope", "reason", "destroyed",
                       "policy_version", "expiry_date"]
    assert len(rows) == 2
    record = DestructionRecord.objects.get(pseudonym=pseudonym)
    assert rows[1][1:4] == [pseudonym, "purge", "retention"]
    assert rows[1][4] == "; ".join(f"{k}={v}" for k, v in sorted(record.destroyed.items()))
    assert rows[1][6] == record.expiry_date.isoformat()
    contact = person(1)
    for value in (contact.first_name, contact.last_name, contact.email, contact.phone,
                  coach.full_name, owner.full_name):
        assert value not in text
    assert client.get(reverse("retention:records_csv"), {"scope": "erasure"}).content.decode(
    ).count("\n") == 1  # the filter applies: the header only
    assert Event.objects.filter(action="retention.records.exported", actor=owner).count() == 2


@pytest.mark.article("10.2")
def test_the_records_pages_query_count_does_not_grow_with_the_rows(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(owner)
    counts = {}
    for n in (10, 100):
        for model in (DestructionRecord, MailboxTask, Tombstone):
            model.objects.all().delete()
        _rows(owner, coach, n)
        client.get(reverse("retention:records"))  # warm up
        for name in ("retention:records", "retention:records_csv"):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(reverse(name)).status_code == 200
            counts[name, n] = len(queries)
    assert counts["retention:records", 10] == counts["retention:records", 100]
    assert counts["retention:records_csv", 10] == counts["retention:records_csv", 100]
