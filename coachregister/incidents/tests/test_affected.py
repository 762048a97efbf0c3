"""Affected coachees from the audit trail (art. 4.1c): what a user viewed, what a user could
see, a client's or trajectory's coachees, a hand-picked list."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from coachregister.accounts.models import User
from coachregister.audit.models import Event, Outcome
from coachregister.audit.queries import READS
from coachregister.audit.services import event_record
from coachregister.incidents import affected
from coachregister.incidents.models import AffectedCoachee, Incident
from coachregister.incidents.services import incident_register
from coachregister.testing import factories
from coachregister.trajectories.models import Trajectory

pytestmark = [pytest.mark.django_db, pytest.mark.article("4.1c")]



def _at(moment: datetime) -> time_machine.travel:
    return time_machine.travel(moment, tick=False)


def _read(actor: User, moment: datetime, action: str, object_type: str, object_id: str,
          outcome: str = Outcome.ALLOWED) -> None:
    with _at(moment):
        event_record(action=action, actor=actor, object_type=object_type, object_id=object_id,
                     outcome=outcome)


def _incident(owner: User) -> Incident:
    return incident_register(actor=owner, request=None, summary="Laptop kwijt in de trein.",
                             aware_at=timezone.now() - timedelta(hours=1), reported_by="staff")


@pytest.fixture
def start() -> datetime:
    return datetime(2026, 3, 2, 9, 0, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def dossiers(owner: User, coach: User, other_coach: User, start: datetime) -> list[Trajectory]:
    with _at(start - timedelta(days=10)):
        return [factories.trajectory(owner, coach if n < 5 else other_coach,
                                     contact=factories.person(n)) for n in range(6)]


def test_viewed_by_matches_exactly_the_read_events(
    owner: User, coach: User, other_coach: User, dossiers: list[Trajectory], start: datetime,
) -> None:
    t = dossiers
    until = start + timedelta(hours=8)
    # In the window, by the coach: a contact read (coachee) and a dossier read (trajectory).
    _read(coach, start + timedelta(hours=1), "coachees.contact.viewed", "coachee",
          t[0].coachee_pseudonym)
    _read(coach, start + timedelta(hours=2), "notes.dossier.viewed", "trajectory", t[1].pseudonym)
    _read(coach, start, "notes.versions.viewed", "trajectory", t[2].pseudonym)  # T1 included
    _read(coach, until, "coachees.name.listed", "coachee", t[2].coachee_pseudonym)
    # Controls: before and after the window, another user, a refused read, a non-read action.
    _read(coach, start - timedelta(minutes=1), "coachees.contact.viewed", "coachee",
          t[3].coachee_pseudonym)
    _read(coach, until + timedelta(minutes=1), "notes.dossier.viewed", "trajectory",
          t[3].pseudonym)
    _read(other_coach, start + timedelta(hours=3), "coachees.contact.viewed", "coachee",
          t[5].coachee_pseudonym)
    _read(coach, start + timedelta(hours=3), "coachees.contact.viewed", "coachee",
          t[4].coachee_pseudonym, outcome=Outcome.DENIED)
    _read(coach, start + timedelta(hours=4), "trajectories.trajectory.ended", "trajectory",
          t[4].pseudonym)

    found = affected.viewed_by(coach, start, until)

    # What the audit trail says, read independently of the service.
    said = set()
    for event in Event.objects.filter(actor=coach, action__in=READS, outcome=Outcome.ALLOWED,
                                      created_at__gte=start, created_at__lte=until):
        said.add(event.object_id if event.object_type == "coachee" else
                 Trajectory.objects.get(pseudonym=event.object_id).coachee_pseudonym)
    assert set(found.pseudonyms) == said
    assert set(found.pseudonyms) == {t[0].coachee_pseudonym, t[1].coachee_pseudonym,
                                     t[2].coachee_pseudonym}
    assert found.count == 3 and not found.approximate
    assert affected.viewed_by(other_coach, start, until).pseudonyms == (t[5].coachee_pseudonym,)


def test_a_selection_is_stored_once_and_audited(
    owner: User, coach: User, dossiers: list[Trajectory], start: datetime,
) -> None:
    incident = _incident(owner)
    _read(coach, start + timedelta(hours=1), "coachees.contact.viewed", "coachee",
          dossiers[0].coachee_pseudonym)
    found = affected.viewed_by(coach, start, start + timedelta(hours=2))
    assert affected.affected_add(actor=owner, request=None, incident=incident,
                                 selection=found) == 1
    assert affected.affected_add(actor=owner, request=None, incident=incident,
                                 selection=found) == 0
    [row] = AffectedCoachee.objects.filter(incident=incident)
    assert row.pseudonym == dossiers[0].coachee_pseudonym
    assert row.coachee == dossiers[0].coachee
    event = Event.objects.filter(action="incidents.affected.added").order_by("seq").first()
    assert event.object_id == str(incident.pk)
    assert event.detail["scope"] == "viewed" and event.detail["found"] == 1
    assert event.detail["user"] == coach.pk


def test_only_the_register_runners_select(coach: User, owner: User) -> None:
    incident = _incident(owner)
    with pytest.raises(PermissionDenied):
        affected.affected_add(actor=coach, request=None, incident=incident,
                              selection=affected.Selection("picked", ("C-X",)))


def test_could_see_follows_the_reassignments_of_a_coach(
    owner: User, coach: User, other_coach: User, dossiers: list[Trajectory], start: datetime,
) -> None:
    from coachregister.trajectories.services import trajectory_reassign

    moved = dossiers[0]
    with _at(start + timedelta(days=1)):
        trajectory_reassign(actor=owner, request=None, trajectory=moved, coach=other_coach)
    before = affected.could_see(coach, start, start + timedelta(hours=1))
    after = affected.could_see(coach, start + timedelta(days=2), start + timedelta(days=3))
    assert moved.coachee_pseudonym in before.pseudonyms
    assert moved.coachee_pseudonym not in after.pseudonyms
    assert set(before.pseudonyms) == {t.coachee_pseudonym for t in dossiers[:5]}
    assert moved.coachee_pseudonym not in affected.could_see(
        other_coach, start, start + timedelta(hours=1)).pseudonyms
    assert moved.coachee_pseudonym in affected.could_see(
        other_coach, start + timedelta(days=2), start + timedelta(days=3)).pseudonyms
    assert not before.approximate


def test_could_see_a_third_party_from_its_scope_history_or_today_as_approximation(
    owner: User, third_party: User, dossiers: list[Trajectory], start: datetime,
) -> None:
    from coachregister.accounts.models import ThirdPartyScope
    from coachregister.accounts.services import third_party_scope_set

    ThirdPartyScope.objects.create(user=third_party, trajectory=dossiers[0])
    guessed = affected.could_see(third_party, start, start + timedelta(hours=1))
    assert guessed.pseudonyms == (dossiers[0].coachee_pseudonym,)
    assert guessed.approximate  # no recorded history: today's scope

    with _at(start - timedelta(days=1)):
        third_party_scope_set(actor=owner, request=None, user=third_party,
                              trajectories=[dossiers[1]])
    with _at(start + timedelta(days=1)):
        third_party_scope_set(actor=owner, request=None, user=third_party,
                              trajectories=[dossiers[2]])
    early = affected.could_see(third_party, start, start + timedelta(hours=1))
    assert early.pseudonyms == (dossiers[1].coachee_pseudonym,) and not early.approximate
    later = affected.could_see(third_party, start + timedelta(days=2), start + timedelta(days=3))
    assert later.pseudonyms == (dossiers[2].coachee_pseudonym,)


def test_could_see_an_auditor_the_samples_of_overlapping_windows(
    owner: User, auditor: User, dossiers: list[Trajectory], start: datetime,
) -> None:
    from coachregister.audit.engagements import engagement_open

    engagement = engagement_open(actor=owner, request=None, auditor=auditor,
                                 window_from=start, window_until=start + timedelta(days=1),
                                 sample_size=2)
    found = affected.could_see(auditor, start + timedelta(hours=2), start + timedelta(hours=3))
    expected = {Trajectory.objects.get(pseudonym=p).coachee_pseudonym for p in engagement.sample}
    assert set(found.pseudonyms) == expected and found.count == 2
    assert affected.could_see(auditor, start + timedelta(days=2),
                              start + timedelta(days=3)).pseudonyms == ()


def test_client_trajectory_and_hand_picked(owner: User, dossiers: list[Trajectory]) -> None:
    first = dossiers[0]
    assert affected.of_client(first.client).pseudonyms == (first.coachee_pseudonym,)
    assert affected.of_trajectory(dossiers[1]).pseudonyms == (dossiers[1].coachee_pseudonym,)
    picked = affected.picked(f"{dossiers[2].coachee_pseudonym.lower()}, {dossiers[3].pseudonym}")
    assert set(picked.pseudonyms) == {dossiers[2].coachee_pseudonym,
                                      dossiers[3].coachee_pseudonym}
    with pytest.raises(ValidationError, match=r"^\['1 "):  # a count, not what was typed
        affected.picked(f"{dossiers[2].coachee_pseudonym} C-NOPE-00")


def test_the_page_lists_pseudonyms_and_count_and_says_paper_cannot(
    owner: User, coach: User, dossiers: list[Trajectory], client_for: object, start: datetime,
) -> None:
    incident = _incident(owner)
    for trajectory in dossiers[:2]:
        _read(coach, start + timedelta(hours=1), "coachees.contact.viewed", "coachee",
              trajectory.coachee_pseudonym)
    browser = client_for(owner)
    url = f"/incidents/{incident.pk}/affected/"
    response = browser.post(url, {
        "scope": "viewed", "viewed-user": coach.pk,
        "viewed-since": "2026-03-02T08:00", "viewed-until": "2026-03-02T18:00",
    }, follow=True)
    page = response.content.decode()
    assert response.status_code == 200
    assert dossiers[0].coachee_pseudonym in page and dossiers[1].coachee_pseudonym in page
    assert dossiers[2].coachee_pseudonym not in page
    assert 'data-testid="paper-cannot"' in page
    assert incident.affected.count() == 2
