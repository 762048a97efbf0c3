"""The pages that read the trail or the register stay flat as they grow (issue 15; DESIGN.md:
every list of personal data has a query-count test): "who saw my data", the audit browser
with each of its filters and the owner's dashboard make as many queries at 1,000 rows as at
10. The events are appended through `event_record`, the real append path; the coachees are
sealed by the vault and bulk-inserted (coachees/tests/test_list_scale.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from itertools import cycle

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coachregister.accounts.models import Role, User
from coachregister.audit.models import Event, Outcome
from coachregister.audit.queries import accesses_of
from coachregister.audit.services import event_record
from coachregister.audit.views import PAGE_SIZE
from coachregister.coachees.models import Coachee
from coachregister.coachees.tests.test_list_scale import register
from coachregister.retention.services import past_purge_day
from coachregister.testing import factories
from coachregister.trajectories.models import Status, Trajectory

pytestmark = pytest.mark.django_db
FEW, MANY = 10, 1000
WHO_SAW_LIMIT = 500  # disclosures.views.who_saw shows the newest 500


def counted(client: Client, url: str, params: dict[str, object] | None = None) -> tuple[
    int, object
]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries), response


def reads(coachee: Coachee, actors: list[User]) -> Iterator[dict[str, object]]:
    """Staff reads of one coachee, in a fixed rotation of actors, actions, objects (the
    coachee and their trajectory: two kinds of link) and outcomes, so that any ten of them
    hold every kind the page must show."""
    trajectory = coachee.trajectories.get().pseudonym
    kinds = [
        {"action": "coachees.contact.viewed", "object_type": "coachee"},
        {"action": "notes.dossier.viewed", "object_type": "trajectory"},
        {"action": "coachees.name.listed", "object_type": "coachee"},
        {"action": "coachees.contact.viewed", "object_type": "coachee",
         "outcome": Outcome.DENIED},
        {"action": "notes.versions.viewed", "object_type": "trajectory"},
    ]
    for kind, actor in zip(cycle(kinds), cycle(actors)):
        object_id = coachee.pseudonym if kind["object_type"] == "coachee" else trajectory
        yield {**kind, "actor": actor, "object_id": object_id}


def append(events: Iterator[dict[str, object]], count: int) -> None:
    for _ in range(count):
        event_record(**next(events))  # type: ignore[arg-type]


@pytest.fixture
def readers(coach: User, other_coach: User, make_user: Callable[..., User]) -> list[User]:
    return [coach, other_coach, make_user(Role.ADMINISTRATOR)]


@pytest.mark.article("1.10")
def test_who_saw_my_data_makes_the_same_queries_for_10_and_1000_reads(
    owner: User, coach: User, readers: list[User], client_for: Callable[[User], Client],
    capsys: pytest.CaptureFixture[str],
) -> None:
    register(owner, coach, 5, start=5000)  # others, whose reads must not show
    (coachee,) = register(owner, coach, 1)
    other = Coachee.objects.exclude(pk=coachee.pk).first()
    events = reads(coachee, readers)
    append(reads(other, readers), 5)
    append(events, FEW)
    url = reverse("disclosures:who_saw", args=[coachee.pseudonym])
    client = client_for(owner)
    client.get(url)  # the session's first request warms its caches
    few, response = counted(client, url)
    assert len(response.context["rows"]) == FEW
    append(events, MANY - FEW)
    many, response = counted(client, url)
    with capsys.disabled():
        print(f"\nwho saw my data: {few} queries at {FEW} reads, {many} at {MANY}")
    assert many == few
    assert accesses_of(coachee).count() == MANY
    assert len(response.context["rows"]) == WHO_SAW_LIMIT
    html = response.content.decode()
    assert all(reader.full_name in html for reader in readers)
    assert f'href="/trajectories/{coachee.trajectories.get().pseudonym}' in html


@pytest.mark.article("6")
def test_the_audit_browser_makes_the_same_queries_for_10_and_1000_events_per_filter(
    owner: User, coach: User, readers: list[User], client_for: Callable[[User], Client],
    capsys: pytest.CaptureFixture[str],
) -> None:
    (coachee,) = register(owner, coach, 1)
    today = timezone.localdate()
    filters: dict[str, dict[str, object]] = {
        "none": {},
        "action": {"action": "coachees.contact.viewed"},
        "area": {"action": "notes."},
        "object": {"object_id": coachee.pseudonym},
        "actor": {"actor": coach.pk},
        "denied": {"outcome": Outcome.DENIED},
        "days": {"date_from": today - timedelta(days=1), "date_until": today},
        "all": {"action": "coachees.contact.viewed", "object_id": coachee.pseudonym,
                "actor": coach.pk, "outcome": Outcome.DENIED, "date_from": today,
                "date_until": today},
    }
    url = reverse("audit:event_list")
    events = reads(coachee, readers)
    append(events, FEW)
    client = client_for(owner)
    client.get(url)  # the session's first request warms its caches
    few = {}
    for name, params in filters.items():
        few[name], response = counted(client, url, params)
        assert not params or response.context["form"].is_valid(), name
        assert response.context["rows"], name
    append(events, MANY - FEW)
    many = {}
    for name, params in filters.items():
        many[name], response = counted(client, url, params)
        rows = response.context["rows"]
        assert len(rows) == PAGE_SIZE and response.context["older_query"], name
    with capsys.disabled():
        print(f"\naudit browser, queries at {FEW} / {MANY} events: " + ", ".join(
            f"{name} {few[name]}/{many[name]}" for name in filters))
    assert many == few
    assert Event.objects.filter(object_id=coachee.pseudonym, actor=coach,
                                outcome=Outcome.DENIED).count() > PAGE_SIZE


@pytest.mark.article("Werkwijze")
@pytest.mark.parametrize("state", ["open", "past_purge_day"])
def test_the_owner_dashboard_makes_the_same_queries_for_10_and_1000_coachees(
    state: str, owner: User, coach: User, client_for: Callable[[User], Client],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """"open": every coachee in an active trajectory (the count of open trajectories);
    "past_purge_day": every trajectory ended long ago, so every coachee is counted by the
    purge-day number the dashboard shows (art. 10.1), which reads them in one query."""
    organisation = factories.client(owner)

    def add(count: int, start: int) -> None:
        coachees = register(owner, coach, count, start=start, organisation=organisation)
        if state == "past_purge_day":
            long_ago = timezone.now() - timedelta(days=365 * 30)
            Trajectory.objects.filter(coachee__in=coachees).update(
                status=Status.ENDED, created_at=long_ago)
            Coachee.objects.filter(pk__in=[c.pk for c in coachees]).update(created_at=long_ago)

    add(FEW, 0)
    url = reverse("accounts:dashboard")
    client = client_for(owner)
    client.get(url)  # the session's first request warms its caches
    few, response = counted(client, url)
    add(MANY - FEW, FEW)
    many, response = counted(client, url)
    with capsys.disabled():
        print(f"\nowner dashboard, {state}: {few} queries at {FEW} coachees, {many} at {MANY}")
    assert many == few
    if state == "open":
        assert response.context["open_trajectories"] == MANY
        assert response.context["past_purge_day"] == 0
    else:
        assert response.context["open_trajectories"] == 0
        assert response.context["past_purge_day"] == past_purge_day() == MANY
