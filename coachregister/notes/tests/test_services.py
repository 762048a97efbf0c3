"""Sessions and keywords (art. 3.1): the guard, the lock, amendments, restriction, consent."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import override

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.coachees.models import ContactKind
from coachregister.coachees.services import last_contact
from coachregister.disclosures.models import Consent
from coachregister.lib.deadlines import PRACTICE_TZ
from coachregister.notes import services
from coachregister.notes.models import CoachingSession
from coachregister.testing import factories
from coachregister.trajectories.models import Trajectory

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def trajectory(owner: User, coach: User) -> Trajectory:
    return factories.trajectory(owner, coach)


def record(
    coach: User,
    trajectory: Trajectory,
    keywords: str = "werkdruk, grenzen",
    held_on: date | None = None,
) -> CoachingSession:
    return services.session_record(
        actor=coach,
        request=None,
        trajectory=trajectory,
        held_on=held_on or timezone.localdate(),
        kind="in_person",
        duration_minutes=60,
        keywords=keywords,
    )


def current(session: CoachingSession) -> str:
    version = session.versions.order_by("-number").first()
    return services.read_version(session.trajectory.coachee, version)[0]


@pytest.mark.article("3.1")
def test_a_session_is_stored_encrypted_and_counts_as_contact(
    coach: User, trajectory: Trajectory
) -> None:
    session = record(coach, trajectory, held_on=timezone.localdate())
    assert current(session) == "werkdruk, grenzen"
    assert b"werkdruk" not in bytes(session.versions.get().keywords_enc)
    assert session.contact_moment.kind == ContactKind.SESSION
    assert last_contact(trajectory.coachee) == session.held_on
    event = Event.objects.get(action="notes.session.recorded")
    assert "werkdruk" not in str(event.detail) and event.object_id == trajectory.pseudonym


@pytest.mark.article("3.1")
@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ("Anne was moe", "name"),
        ("mail anne.devries@voorbeeld.example", "email"),
        ("bel 06-12345678", "phone"),
    ],
)
def test_the_guard_refuses_and_says_which_kind_without_repeating_it(
    coach: User, trajectory: Trajectory, keywords: str, message: str
) -> None:
    with pytest.raises(ValidationError) as info, override("en"):
        record(coach, trajectory, keywords)
    with override("en"):
        text = " ".join(str(m) for m in info.value.messages)
    expected = {"name": "name", "email": "email address", "phone": "phone number"}[message]
    assert expected in text
    assert keywords.split()[-1] not in text and "Anne" not in text
    assert not CoachingSession.objects.exists()
    assert trajectory.contact_moments.filter(kind="session").count() == 0


@pytest.mark.article("3.1")
def test_only_the_coach_of_the_trajectory_writes(
    owner: User, other_coach: User, administrator: User, trajectory: Trajectory
) -> None:
    for actor in (owner, other_coach, administrator):
        with pytest.raises(PermissionDenied):
            record(actor, trajectory)


@pytest.mark.article("3.1")
def test_without_keyword_consent_only_the_session_itself(owner: User, coach: User) -> None:
    trajectory = factories.trajectory(owner, coach, keyword_consent=False)
    with pytest.raises(ValidationError):
        record(coach, trajectory, "werkdruk")
    assert current(record(coach, trajectory, "")) == ""
    consent = Consent.objects.get(coachee=trajectory.coachee, purpose="session_keywords")
    consent.given = True
    consent.save()
    assert current(record(coach, trajectory, "werkdruk")) == "werkdruk"
    consent.withdrawn_at = timezone.now()
    consent.save()
    with pytest.raises(ValidationError):
        record(coach, trajectory, "rust")


@pytest.mark.article("8.1")
def test_a_restricted_coachee_gets_no_new_sessions_or_edits(
    coach: User, trajectory: Trajectory
) -> None:
    session = record(coach, trajectory)
    coachee = trajectory.coachee
    coachee.restricted = True
    coachee.save()
    trajectory.refresh_from_db()
    with pytest.raises(ValidationError, match="restricted"), override("en"):
        record(coach, trajectory)
    session.refresh_from_db()
    with pytest.raises(ValidationError, match="restricted"), override("en"):
        services.keywords_edit(actor=coach, request=None, session=session, keywords="nieuw")
    assert current(session) == "werkdruk, grenzen"


@pytest.mark.article("3.1")
def test_no_sessions_in_the_future(coach: User, trajectory: Trajectory) -> None:
    with pytest.raises(ValidationError):
        record(coach, trajectory, held_on=timezone.localdate() + timedelta(days=1))


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PRACTICE_TZ)


@pytest.mark.article("3.1")
def test_editable_until_the_end_of_the_next_day_then_amended_with_reason(
    coach: User, trajectory: Trajectory, other_coach: User
) -> None:
    day = timezone.localdate() - timedelta(days=10)
    with time_machine.travel(local(day, 16), tick=False):
        session = record(coach, trajectory, "eerste versie", held_on=day)
    with time_machine.travel(local(day + timedelta(days=1), 23, 59), tick=False):
        assert not session.is_locked()
        services.keywords_edit(actor=coach, request=None, session=session, keywords="verbeterd")
        with pytest.raises(ValidationError):
            services.keywords_amend(
                actor=coach, request=None, session=session, keywords="x", reason="te vroeg"
            )
    assert current(session) == "verbeterd" and session.versions.count() == 1
    with time_machine.travel(local(day + timedelta(days=2), 0, 0), tick=False):
        assert session.is_locked()
        with pytest.raises(ValidationError):
            services.keywords_edit(actor=coach, request=None, session=session, keywords="stil")
        with pytest.raises(ValidationError):
            services.keywords_amend(
                actor=coach, request=None, session=session, keywords="aangevuld", reason=""
            )
        with pytest.raises(ValidationError):  # the reason passes the guard too
            services.keywords_amend(
                actor=coach,
                request=None,
                session=session,
                keywords="aangevuld",
                reason="Anne vroeg erom",
            )
        with pytest.raises(PermissionDenied):
            services.keywords_amend(
                actor=other_coach,
                request=None,
                session=session,
                keywords="aangevuld",
                reason="typfout",
            )
        services.keywords_amend(
            actor=coach,
            request=None,
            session=session,
            keywords="aangevuld",
            reason="typfout hersteld",
        )
    versions = list(session.versions.order_by("number"))
    coachee = trajectory.coachee
    assert [services.read_version(coachee, v) for v in versions] == [
        ("verbeterd", ""),
        ("aangevuld", "typfout hersteld"),
    ]
    actions = list(
        Event.objects.filter(action__startswith="notes.")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["notes.session.recorded", "notes.keywords.edited", "notes.keywords.amended"]


@pytest.mark.article("3.1")
def test_the_lock_follows_dutch_days_across_summer_time(
    coach: User, trajectory: Trajectory
) -> None:
    from coachregister.lib.deadlines import keywords_lock_at

    written = local(date(2026, 3, 28), 23, 30)  # the night before the clocks go forward
    assert keywords_lock_at(written) == local(date(2026, 3, 30), 0, 0)
    assert keywords_lock_at(written.astimezone(UTC)) == local(date(2026, 3, 30), 0, 0)
