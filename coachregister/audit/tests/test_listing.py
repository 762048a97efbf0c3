"""A list page that shows coachees' names is one audit event, its pseudonyms in the trail's
side table (audit/services.listing_record): covered by the chain through the digest in the
event, append-only, pruned with the trail, and read by every consumer of the reads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from coachregister.accounts.models import User
from coachregister.audit import anchors, chain, engagements, prune, triggers
from coachregister.audit.models import Engagement, Event, Listed
from coachregister.audit.services import LISTING, event_record, listing_record
from coachregister.audit.tests.test_truncation import broken, sql, verify
from coachregister.coachees.models import Coachee
from coachregister.lib.deadlines import PRACTICE_TZ
from coachregister.testing import factories

pytestmark = [pytest.mark.django_db]

LIST = reverse("coachees:list")
ACTION = "coachees.names.listed"


def _coachees(owner: User, coach: User, count: int) -> list[Coachee]:
    return [
        factories.trajectory(owner, coach, contact=factories.Contact(
            ["Anne", "Bram", "Cor"][n], "Achternaam", f"coachee{n}@voorbeeld.example", f"+3161234500{n}"
        )).coachee
        for n in range(count)
    ]


def _listings(user: User) -> list[Event]:
    return list(Event.objects.filter(action=ACTION, actor=user).order_by("id"))


@pytest.mark.article("6")
def test_a_list_page_is_one_event_naming_its_coachees_in_the_side_table(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    coachees = _coachees(owner, coach, 3)
    before = Event.objects.count()
    assert client_for(coach).get(LIST).status_code == 200
    (event,) = _listings(coach)
    names = sorted(c.pseudonym for c in coachees)
    assert Event.objects.count() == before + 1
    assert (event.object_type, event.object_id) == (LISTING, "")
    assert event.detail == {"names": 3, "digest": chain.listing_digest(names)}
    assert sorted(event.listed.values_list("pseudonym", flat=True)) == names
    assert "OK:" in verify()
    # The owner sees pseudonyms only: no names shown, no listing.
    client_for(owner).get(LIST)
    assert _listings(owner) == []


@pytest.mark.article("6")
@pytest.mark.parametrize("tamper", ["add", "remove", "change", "move", "trailing"])
def test_a_changed_listing_breaks_verify(
    owner: User, coach: User, client_for: Callable[[User], Client], tamper: str
) -> None:
    coachees = _coachees(owner, coach, 2)
    client_for(coach).get(LIST)
    (event,) = _listings(coach)
    other = Event.objects.exclude(object_type=LISTING).order_by("-seq").first()
    assert other is not None
    triggers.drop(connection)
    if tamper == "add":  # a name the coach never saw, added to the trail
        sql("INSERT INTO audit_listed (event_id, pseudonym) VALUES (%s, 'C-0000-AAAA')",
            [event.pk])
    elif tamper == "remove":  # a name the coach saw, taken out of it
        sql("DELETE FROM audit_listed WHERE pseudonym = %s", [coachees[0].pseudonym])
    elif tamper == "change":
        sql("UPDATE audit_listed SET pseudonym = 'C-0000-AAAA' WHERE pseudonym = %s",
            [coachees[0].pseudonym])
    elif tamper == "move":  # the rows moved to another event: that one is no listing
        sql("UPDATE audit_listed SET event_id = %s", [other.pk])
    else:  # a row for an event after the last listing
        other = event_record(action="test.page.read")
        sql("INSERT INTO audit_listed (event_id, pseudonym) VALUES (%s, 'C-0000-AAAA')",
            [other.pk])
    triggers.install(connection)
    found = broken()
    assert "the listed pseudonyms" in found
    assert (f"event {event.seq} do not match its digest" in found) == (tamper != "trailing")
    if tamper in ("move", "trailing"):
        assert f"rows of event row {other.pk}, which is no listing" in found


@pytest.mark.article("6")
def test_the_side_table_is_append_only_and_its_triggers_are_checked(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    _coachees(owner, coach, 1)
    client_for(coach).get(LIST)
    for statement in ("UPDATE audit_listed SET pseudonym = 'C-0000-AAAA'",
                      "DELETE FROM audit_listed"):
        with pytest.raises(DatabaseError), transaction.atomic():
            sql(statement)
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic():
            sql("TRUNCATE audit_listed")
    assert Listed.objects.count() == 1
    name = "audit_listed_no_change" if connection.vendor == "postgresql" else (
        "audit_listed_no_delete")
    sql(f"DROP TRIGGER {name}" + (" ON audit_listed" if connection.vendor == "postgresql"
                                   else ""))
    assert f"trigger {name} is missing" in broken()


@pytest.mark.article("10.2")
def test_a_prune_removes_a_listings_rows_with_its_event(db: None) -> None:
    old = datetime(2019, 9, 15, 10, 0, tzinfo=PRACTICE_TZ)
    with time_machine.travel(old, tick=False):  # the trail's first event
        listing_record(action=ACTION, pseudonyms=["C-0001-AAAA", "C-0002-AAAA"])
    with time_machine.travel(datetime(2026, 11, 27, 12, 0, tzinfo=PRACTICE_TZ), tick=False):
        kept = listing_record(action=ACTION, pseudonyms=["C-0003-AAAA"])
        anchors.anchor()
        result = prune.events_prune(before=prune.cutoff())
    assert result is not None and result.count == 1
    assert list(Listed.objects.values_list("event_id", "pseudonym")) == [
        (kept.pk, "C-0003-AAAA")]
    assert "OK:" in verify()


@pytest.mark.article("6")
def test_a_listing_names_each_pseudonym_once_and_nobody_is_no_event(coach: User) -> None:
    assert listing_record(action=ACTION, actor=coach, pseudonyms=[]) is None
    event = listing_record(action=ACTION, actor=coach,
                           pseudonyms=["C-0002-AAAA", "C-0001-AAAA", "C-0002-AAAA"])
    assert event is not None and event.detail["names"] == 2
    with pytest.raises(ValueError), transaction.atomic():
        listing_record(action=ACTION, actor=coach, pseudonyms=["C-1\x1fX"])
    assert Event.objects.filter(action=ACTION).count() == 1


@pytest.mark.article("7.3")
def test_who_saw_my_data_and_the_access_copy_show_the_list_that_named_the_coachee(
    owner: User, coach: User, other_coach: User, client_for: Callable[[User], Client]
) -> None:
    from coachregister.audit.queries import accesses_of
    from coachregister.rights.sections import READ_LABELS, accesses

    mine, other = _coachees(owner, coach, 2)
    stranger = factories.trajectory(owner, other_coach).coachee
    client_for(coach).get(LIST)
    (event,) = _listings(coach)
    for coachee in (mine, other):
        assert list(accesses_of(coachee)) == [event]
        assert list(accesses_of(coachee, limit=10)) == [event]
        (row,) = accesses(coachee)
        assert (row["what"], row["who"], row["what_label"]) == (
            ACTION, coach.full_name, str(READ_LABELS[ACTION]))
    page = client_for(owner).get(reverse("disclosures:who_saw", args=[mine.pseudonym]))
    assert coach.full_name in page.content.decode()
    # Another coach's coachee was not on the page and is not told of it.
    assert not accesses_of(stranger).exists() and not accesses_of(stranger, limit=10)


@pytest.mark.article("4.1c")
def test_an_incident_on_a_users_reads_includes_the_lists_they_saw(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    from coachregister.incidents.affected import viewed_by

    coachees = _coachees(owner, coach, 2)
    since = timezone.now() - timedelta(minutes=1)
    client_for(coach).get(LIST)
    until = timezone.now() + timedelta(minutes=1)
    assert set(viewed_by(coach, since, until).pseudonyms) == {c.pseudonym for c in coachees}
    assert viewed_by(coach, until, until + timedelta(minutes=1)).pseudonyms == ()


@pytest.mark.article("5.4")
def test_the_engagement_report_names_the_coachees_a_list_showed_the_auditor(
    owner: User, coach: User, auditor: User, client_for: Callable[[User], Client]
) -> None:
    sampled = factories.trajectory(owner, coach)
    factories.trajectory(owner, coach, contact=factories.Contact(
        "Bram", "Bakker", "bram@voorbeeld.example", "+31612345679"))  # not in the sample
    now = timezone.now()
    engagement = Engagement.objects.create(
        auditor=auditor, window_from=now - timedelta(hours=1),
        window_until=now + timedelta(days=1), sample_size=1, seed="s",
        population=[sampled.pseudonym], sample=[sampled.pseudonym],
        include_contact_details=True, created_by=owner,
    )
    client_for(auditor).get(LIST)
    opened = engagements.opened_by_auditor(engagement)
    assert [e.action for e in opened] == [ACTION]
    assert [row.pseudonym for row in opened[0].listed.all()] == [sampled.coachee.pseudonym]
    report = client_for(owner).get(reverse("audit:engagement", args=[engagement.pk]))
    assert f"<code>{sampled.coachee.pseudonym}</code>" in report.content.decode()


@pytest.mark.article("6")
def test_the_audit_browser_and_its_export_name_a_listings_coachees(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    import csv
    import io

    coachees = _coachees(owner, coach, 2)
    client_for(coach).get(LIST)
    admin = client_for(owner)
    page = admin.get(reverse("audit:event_list"), {"action": ACTION}).content.decode()
    for coachee in coachees:
        assert f"<code>{coachee.pseudonym}</code>" in page
    export = admin.get(reverse("audit:event_csv"), {"action": ACTION})
    (row,) = list(csv.DictReader(io.StringIO(export.content.decode())))
    names = sorted(c.pseudonym for c in coachees)
    assert row["listed"].split() == names
    assert f'"digest": "{chain.listing_digest(names)}"' in row["detail"]


@pytest.mark.article("6")
def test_going_back_past_the_side_table_is_refused_while_it_holds_rows(coach: User) -> None:
    from django.core.exceptions import ImproperlyConfigured

    listing_record(action=ACTION, actor=coach, pseudonyms=["C-0001-AAAA"])
    with pytest.raises(ImproperlyConfigured), transaction.atomic():
        triggers.listed_remove(connection)
    assert not triggers.problems(connection)


@pytest.mark.article("6")
@pytest.mark.django_db(transaction=True)
def test_a_migration_that_rebuilds_the_event_table_still_runs(coach: User) -> None:
    """SQLite rebuilds a table to alter a column; no trigger of the side table may name the
    event table, or the rebuild fails (and with it every later audit migration)."""
    from django.db import models

    listing_record(action=ACTION, actor=coach, pseudonyms=["C-0001-AAAA"])
    old = Event._meta.get_field("actor_role")
    wider = models.CharField(max_length=41, blank=True)
    wider.set_attributes_from_name("actor_role")
    wider.model = Event
    with connection.schema_editor() as editor:
        editor.alter_field(Event, old, wider)
        editor.alter_field(Event, wider, old)
    triggers.install(connection)
    assert not triggers.problems(connection)
    assert "OK:" in verify()
