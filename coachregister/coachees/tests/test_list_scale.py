"""The coachee list stays flat as the register grows (DESIGN.md: every list of personal data
has a query-count test): a page at a time, names decrypted and audited for that page only,
searchable by pseudonym (GET) and by exact email address (POST only, through the blind index,
within what the user may see)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from coachregister.accounts.models import User
from coachregister.audit.models import Event, Listed
from coachregister.audit.queries import accesses_of
from coachregister.coachees import access, vault
from coachregister.coachees.models import Coachee
from coachregister.coachees.views import COACHEES_PER_PAGE
from coachregister.lib import tokens
from coachregister.testing import factories
from coachregister.trajectories.models import ClientOrganisation, Status, Trajectory

pytestmark = [pytest.mark.django_db, pytest.mark.article("Werkwijze")]
LIST = reverse("coachees:list")
NOT_FOUND = "No coachee with this address that you may see."


def register(owner: User, coach: User, count: int, *, start: int = 0,
             organisation: ClientOrganisation | None = None) -> list[Coachee]:
    """`count` coachees, each with an active trajectory of `coach`, sealed by the vault itself
    and written in two bulk inserts (the full intake per coachee would take minutes)."""
    organisation = organisation or factories.client(owner)
    coachees = Coachee.objects.bulk_create(
        [vault.new_coachee(factories.person(n)) for n in range(start, start + count)]
    )
    Trajectory.objects.bulk_create([
        Trajectory(pseudonym=tokens.new_pseudonym("T"), client=organisation, coach=coach,
                   coachee=coachee, coachee_pseudonym=coachee.pseudonym, status=Status.ACTIVE,
                   created_by=owner)
        for coachee in coachees
    ])
    return coachees


def listed(client: Client, **params: object) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST, params)
    assert response.status_code == 200
    return len(queries), response


def pseudonyms(response: object) -> list[str]:
    return [coachee.pseudonym for coachee, _contact in response.context["rows"]]  # type: ignore[attr-defined]


@pytest.mark.parametrize("role", ["owner", "coach"])
def test_the_list_query_count_is_the_same_for_10_and_1000_coachees(
    role: str, owner: User, coach: User, other_coach: User,
    client_for: Callable[[User], Client], capsys: pytest.CaptureFixture[str],
) -> None:
    organisation = factories.client(owner)
    register(owner, other_coach, 5, start=5000, organisation=organisation)  # never the coach's
    register(owner, coach, 10, organisation=organisation)
    user = owner if role == "owner" else coach
    client = client_for(user)
    client.get(LIST)  # the session's first request warms its caches
    few, response = listed(client)
    assert len(response.context["rows"]) == (15 if role == "owner" else 10)
    register(owner, coach, 990, start=10, organisation=organisation)
    before = Listed.objects.count()
    many, response = listed(client)
    with capsys.disabled():
        print(f"\ncoachee list, {role}: {few} queries at 10, {many} at 1000")
    assert many == few
    assert len(response.context["rows"]) == COACHEES_PER_PAGE
    assert response.context["page"].paginator.count == (1005 if role == "owner" else 1000)
    shown = Listed.objects.count() - before
    assert shown == (COACHEES_PER_PAGE if role == "coach" else 0)  # only the page's names


def test_a_coachee_with_several_trajectories_is_listed_once_without_distinct(
    owner: User, coach: User, other_coach: User, client_for: Callable[[User], Client]
) -> None:
    organisation = factories.client(owner)
    (shared,) = register(owner, coach, 1, organisation=organisation)
    Trajectory.objects.bulk_create([
        Trajectory(pseudonym=tokens.new_pseudonym("T"), client=organisation, coach=someone,
                   coachee=shared, coachee_pseudonym=shared.pseudonym, status=Status.ACTIVE)
        for someone in (coach, other_coach)
    ])
    for user in (owner, coach, other_coach):
        visible = Coachee.objects.visible_to(user)
        assert "DISTINCT" not in str(visible.query).upper()
        assert list(visible) == [shared] and visible.count() == 1
        assert pseudonyms(listed(client_for(user))[1]) == [shared.pseudonym]


def test_page_two_shows_the_next_rows_and_bad_page_values_fall_back(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    register(owner, coach, COACHEES_PER_PAGE * 2 + 7)
    ordered = list(Coachee.objects.order_by("pseudonym").values_list("pseudonym", flat=True))
    client = client_for(owner)
    first, second, last = ordered[:50], ordered[50:100], ordered[100:]
    assert pseudonyms(listed(client)[1]) == first
    _count, page = listed(client, page=2)
    assert pseudonyms(page) == second
    html = page.content.decode()
    assert 'href="?page=1"' in html and 'href="?page=3"' in html
    for bad, expected in [("abc", first), ("", first), ("0", first), ("-3", first),
                          ("1.5", first), ("3", last), ("999", last),
                          ("99999999999999999999999", last)]:
        assert pseudonyms(listed(client, page=bad)[1]) == expected, bad


def test_search_by_pseudonym(owner: User, coach: User,
                             client_for: Callable[[User], Client]) -> None:
    coachees = register(owner, coach, COACHEES_PER_PAGE + 5)
    wanted = coachees[7].pseudonym
    client = client_for(coach)
    assert pseudonyms(listed(client, q=wanted)[1]) == [wanted]
    assert pseudonyms(listed(client, q=wanted[:-1].lower())[1]) == [wanted]
    assert pseudonyms(listed(client, q="C-")[1]) == sorted(
        c.pseudonym for c in coachees)[:COACHEES_PER_PAGE]
    _count, second = listed(client, q="C-", page=2)
    assert len(second.context["rows"]) == 5
    assert 'href="?q=C-&amp;page=1"' in second.content.decode()
    assert pseudonyms(listed(client, q="X" * 40)[1]) == []  # too long: no match, no error


def test_search_by_email_is_a_post_within_what_the_user_may_see(
    owner: User, coach: User, other_coach: User, client_for: Callable[[User], Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    register(owner, coach, 3)
    trajectory = factories.trajectory(owner, coach)  # Anne, through the intake
    email = factories.ANNE.email
    before = Event.objects.count()
    with translation.override("en"):
        found = client_for(coach).post(LIST, {"email": email.upper()})
        assert found.status_code == 200
        assert pseudonyms(found) == [trajectory.coachee.pseudonym]
        assert "Anne de Vries" in found.content.decode()
        assert NOT_FOUND not in found.content.decode()
        # another coach, and an address nobody has: the same answer, no oracle
        for user, address in [(other_coach, email), (coach, "niemand@voorbeeld.example")]:
            answer = client_for(user).post(LIST, {"email": address})
            assert answer.status_code == 200 and pseudonyms(answer) == []
            assert gettext(NOT_FOUND) in answer.content.decode()
            assert "Anne" not in answer.content.decode()
    assert found.request["PATH_INFO"] == LIST and not found.request["QUERY_STRING"]
    events = Event.objects.order_by("seq")[before:]
    assert [list(e.listed.values_list("pseudonym", flat=True)) for e in events
            if e.action == "coachees.names.listed"] == [[trajectory.coachee.pseudonym]]
    # Each look-up is on the trail, the found one on the coachee's own (who saw my data).
    assert [(e.object_id, e.detail["found"]) for e in events
            if e.action == "coachees.list.searched"] == [
        (trajectory.coachee.pseudonym, 1), ("", 0), ("", 0)]
    assert accesses_of(trajectory.coachee).filter(action="coachees.list.searched").exists()
    for event in events:
        text = json.dumps([event.action, event.object_id, event.detail]).casefold()
        assert email.casefold() not in text and "niemand" not in text
    assert email.casefold() not in caplog.text.casefold()
    assert "niemand" not in caplog.text


def test_an_email_in_the_address_is_ignored(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    register(owner, coach, 3)
    factories.trajectory(owner, coach)
    with translation.override("en"):
        response = client_for(coach).get(LIST, {"email": factories.ANNE.email})
    assert response.status_code == 200
    assert len(response.context["rows"]) == 4  # the whole list, not a search
    assert not response.context["email_searched"]
    assert NOT_FOUND not in response.content.decode()


@pytest.mark.postgres
def test_postgres_plans_of_the_coachs_list_use_indexes(
    owner: User, coach: User, other_coach: User
) -> None:
    """At the larger size, after ANALYZE: the coach's page and its count start from the
    trajectories' coach index and read the coach's coachees by key, not every coachee's row
    (which a semi-join alone makes PostgreSQL do), and hold the same coachees."""
    organisation = factories.client(owner)
    register(owner, other_coach, 3000, start=5000, organisation=organisation)
    register(owner, coach, 100, organisation=organisation)
    with connection.cursor() as cursor:
        for model in (Coachee, Trajectory):
            cursor.execute(f"ANALYZE {model._meta.db_table}")  # the models' own tables
    with CaptureQueriesContext(connection) as queries:
        visible = access.listable(coach).order_by("pseudonym")
    (ids,) = queries.captured_queries
    plans = [visible[:COACHEES_PER_PAGE].explain(), visible.order_by().explain()]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + ids["sql"])
        plans.append("\n".join(row[0] for row in cursor.fetchall()))
    for plan in plans:
        assert "Seq Scan" not in plan, plan
    assert "trajectories_trajectory_coach_id" in plans[-1], plans[-1]
    assert set(visible) == set(Coachee.objects.visible_to(coach))
    assert visible.count() == 100
