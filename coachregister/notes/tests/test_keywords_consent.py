"""Withdrawing the consent for keywords in the portal (art. 3.1; GDPR art. 7(3), 17(1)(b)):
the coachee chooses between erasing what was written and keeping it for the rest of the
trajectory; either way no new keywords are written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.disclosures import consents
from coachregister.disclosures.models import Consent, Method, Purpose
from coachregister.notes import services
from coachregister.notes.models import CoachingSession, KeywordVersion
from coachregister.retention import journal
from coachregister.rights import portal
from coachregister.testing import factories
from coachregister.trajectories.models import Trajectory

pytestmark = [pytest.mark.django_db, pytest.mark.article("3.1")]
CHOICE = reverse("rights:portal_keywords_withdraw")


@pytest.fixture
def trajectory(owner: User, coach: User) -> Trajectory:
    return factories.trajectory(owner, coach)


@pytest.fixture
def sessions(coach: User, trajectory: Trajectory) -> list[CoachingSession]:
    made = []
    for days, keywords in ((3, "werkdruk"), (1, "grenzen stellen")):
        made.append(services.session_record(
            actor=coach, request=None, trajectory=trajectory,
            held_on=timezone.localdate() - timedelta(days=days), kind="video",
            duration_minutes=45, keywords=keywords,
        ))
    services.keywords_edit(actor=coach, request=None, session=made[1], keywords="grenzen")
    return made


def in_portal(trajectory: Trajectory) -> Client:
    client = Client()
    session = client.session
    session[portal.SESSION_COACHEE] = trajectory.coachee_id
    session.save()
    return client


def keyword_consent(trajectory: Trajectory) -> Consent:
    return Consent.objects.get(coachee=trajectory.coachee, purpose=Purpose.SESSION_KEYWORDS)


def test_withdrawing_in_the_portal_asks_first_and_erasing_destroys_every_version(
    coach: User, trajectory: Trajectory, sessions: list[CoachingSession],
    django_capture_on_commit_callbacks: Any, client_for: Callable[[User], Client],
) -> None:
    client = in_portal(trajectory)
    consent = keyword_consent(trajectory)
    asked = client.post(reverse("rights:portal_withdraw", args=[consent.pk]))
    assert asked.status_code == 302 and asked["Location"] == CHOICE
    consent.refresh_from_db()
    assert consent.withdrawn_at is None  # nothing happens before the choice
    page = client.get(CHOICE)
    assert page.status_code == 200 and 'value="erase"' in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):  # the journal's done mark
        erased = client.post(CHOICE, {"choice": "erase"})
    assert erased["Location"] == reverse("rights:portal_home")
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None
    assert not KeywordVersion.objects.filter(session__trajectory=trajectory).exists()
    # The sessions and their dates stay: they are contact moments.
    assert CoachingSession.objects.filter(trajectory=trajectory).count() == 2
    assert not Consent.objects.filter(purpose=Purpose.KEYWORDS_KEPT).exists()
    (entry,) = [e for e in journal.entries() if e.effect == journal.Effect.KEYWORDS_ERASED]
    assert entry.state == "done" and sorted(entry.data["sessions"]) == sorted(
        s.pk for s in sessions)
    event = Event.objects.get(action="notes.keywords.consent_withdrawn")
    assert event.detail["erased"] is True and event.detail["versions_destroyed"] == 2
    assert "werkdruk" not in str(event.detail)
    # No new keywords; every page that shows keywords copes with sessions without any.
    with pytest.raises(ValidationError):
        services.session_record(actor=coach, request=None, trajectory=trajectory,
                                held_on=timezone.localdate(), kind="video",
                                duration_minutes=30, keywords="nieuw")
    assert client.get(reverse("rights:portal_home")).status_code == 200
    assert [s["keywords"] for s in portal.overview(trajectory.coachee)["sessions"]] == ["", ""]
    staff = client_for(coach)
    for name, args in (("notes:dossier", [trajectory.pseudonym]),
                       ("notes:session_edit", [sessions[0].pk]),
                       ("notes:session_versions", [sessions[0].pk])):
        assert staff.get(reverse(name, args=args)).status_code == 200, name


def test_keeping_records_a_narrower_consent_in_the_words_shown(
    coach: User, trajectory: Trajectory, sessions: list[CoachingSession]
) -> None:
    client = in_portal(trajectory)
    page = client.get(CHOICE).content.decode()
    shown = services.kept_consent_text()
    assert shown in page.replace("&#x27;", "'") and 'value="keep"' in page
    client.post(CHOICE, {"choice": "keep"})
    assert keyword_consent(trajectory).withdrawn_at is not None
    kept = Consent.objects.get(coachee=trajectory.coachee, purpose=Purpose.KEYWORDS_KEPT)
    assert kept.given and kept.in_force and kept.method == Method.PORTAL
    assert kept.text == shown and kept.text_version == factories.regulation().version
    assert KeywordVersion.objects.filter(session__trajectory=trajectory).count() == 2
    assert services.current_keywords(trajectory.coachee, sessions[1]) == "grenzen"
    # The narrower consent allows no new keywords.
    assert not consents.in_force(trajectory.coachee, Purpose.SESSION_KEYWORDS)
    with pytest.raises(ValidationError):
        services.session_record(actor=coach, request=None, trajectory=trajectory,
                                held_on=timezone.localdate(), kind="video",
                                duration_minutes=30, keywords="nieuw")
    assert not any(e.effect == journal.Effect.KEYWORDS_ERASED for e in journal.entries())

    # Withdrawing the narrower consent later: the only choice left is erasing.
    asked = client.post(reverse("rights:portal_withdraw", args=[kept.pk]))
    assert asked["Location"] == CHOICE
    page = client.get(CHOICE).content.decode()
    assert 'value="erase"' in page and 'value="keep"' not in page
    refused = client.post(CHOICE, {"choice": "keep"})
    assert refused.status_code == 200  # not a choice any more
    client.post(CHOICE, {"choice": "erase"})
    kept.refresh_from_db()
    assert kept.withdrawn_at is not None
    assert not KeywordVersion.objects.filter(session__trajectory=trajectory).exists()


def test_without_a_consent_in_force_there_is_nothing_to_choose(
    trajectory: Trajectory, sessions: list[CoachingSession]
) -> None:
    client = in_portal(trajectory)
    client.post(CHOICE, {"choice": "erase"})
    assert client.get(CHOICE)["Location"] == reverse("rights:portal_home")
    with pytest.raises(ValidationError):
        services.keywords_consent_withdraw(request=None, coachee=trajectory.coachee,
                                           erase=False)


def test_another_coachees_keywords_are_untouched(
    owner: User, coach: User, trajectory: Trajectory, sessions: list[CoachingSession]
) -> None:
    other = factories.trajectory(owner, coach, contact=factories.person(1))
    theirs = services.session_record(
        actor=coach, request=None, trajectory=other, held_on=timezone.localdate(),
        kind="video", duration_minutes=45, keywords="eigen woorden",
    )
    services.keywords_consent_withdraw(request=None, coachee=trajectory.coachee, erase=True)
    assert services.current_keywords(other.coachee, theirs) == "eigen woorden"
    assert consents.in_force(other.coachee, Purpose.SESSION_KEYWORDS)


def test_kept_keywords_go_when_the_trajectory_ends(
    owner: User, coach: User, trajectory: Trajectory, sessions: list[CoachingSession],
    django_capture_on_commit_callbacks: Any,
) -> None:
    """"For the rest of the trajectory" ends with the trajectory: the kept keywords are
    erased (journalled) and the narrower consent has served."""
    from coachregister.trajectories.services import trajectory_end

    services.keywords_consent_withdraw(request=None, coachee=trajectory.coachee, erase=False)
    with django_capture_on_commit_callbacks(execute=True):
        trajectory_end(actor=owner, request=None, trajectory=trajectory, broken_off=False)
    assert not KeywordVersion.objects.filter(session__trajectory=trajectory).exists()
    assert CoachingSession.objects.filter(trajectory=trajectory).count() == 2  # dates stay
    kept = Consent.objects.get(coachee=trajectory.coachee, purpose=Purpose.KEYWORDS_KEPT)
    assert kept.withdrawn_at is not None
    erased = [e for e in journal.entries() if e.effect == journal.Effect.KEYWORDS_ERASED]
    assert erased and erased[-1].state == "done"


def test_keywords_under_full_consent_stay_when_the_trajectory_ends(
    owner: User, trajectory: Trajectory, sessions: list[CoachingSession]
) -> None:
    from coachregister.trajectories.services import trajectory_end

    trajectory_end(actor=owner, request=None, trajectory=trajectory, broken_off=False)
    assert KeywordVersion.objects.filter(session__trajectory=trajectory).count() == 2


def test_staff_cannot_withdraw_keyword_consent_without_the_coachees_choice(
    owner: User, trajectory: Trajectory, sessions: list[CoachingSession],
    client_for: Callable[[User], Client],
) -> None:
    from coachregister.disclosures.services import consent_withdraw

    consent = keyword_consent(trajectory)
    with pytest.raises(ValidationError):
        consent_withdraw(actor=owner, request=None, consent=consent)
    client_for(owner).post(reverse("disclosures:consent_withdraw", args=[consent.pk]))
    consent.refresh_from_db()
    assert consent.in_force
    assert KeywordVersion.objects.filter(session__trajectory=trajectory).count() == 2


def test_erasing_keywords_takes_the_practices_copies_with_them(
    owner: User, trajectory: Trajectory, sessions: list[CoachingSession],
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The access letter and a prepared disclosure copied the keywords; erasing them on the
    coachee's word destroys those copies too, and a consented disclosure is asked again."""
    from coachregister.disclosures import services as disclosures
    from coachregister.disclosures.models import Proposal, ProposalStatus
    from coachregister.rights import services as rights
    from coachregister.rights.models import Letter

    coachee = trajectory.coachee
    access = rights.request_register(actor=owner, request=None, coachee=coachee,
                                     kind="access", channel="letter", verification="brief")
    rights.request_decide(actor=owner, request=None, data_request=access, decision="granted")
    assert b"grenzen" not in bytes(Letter.objects.get(request=access).pdf_enc)
    doctor = disclosures.recipient_save(actor=owner, request=None, name="Arts", kind="doctor")
    proposal = disclosures.proposal_prepare(
        actor=owner, request=None, coachee=coachee, recipient=doctor,
        processing_purpose=factories.purpose(owner), categories=["keywords"], basis="consent")
    content = disclosures.proposal_content(proposal)
    disclosures.proposal_answer(request=None, coachee=coachee, proposal=proposal, consent=True,
                                digest=disclosures.content_digest(content))
    with django_capture_on_commit_callbacks(execute=True):
        services.keywords_consent_withdraw(request=None, coachee=coachee, erase=True)
    assert not Letter.objects.filter(request=access).exists()
    access.refresh_from_db()
    assert access.decision == "granted"  # the request's record stays
    proposal = Proposal.objects.get(pk=proposal.pk)
    assert proposal.content_enc is None and proposal.status == ProposalStatus.ASKED
