"""Keywords on request (art. 8.1, 8.3): a correction request may concern one session's
keywords (correct, supplement or delete), asked in the portal or registered by staff; a
granted one is carried out at once, whatever the lock, and the letter says what changed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import override

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.lib import pdf
from coachregister.notes import services as notes
from coachregister.notes.models import CoachingSession, KeywordVersion
from coachregister.retention import journal
from coachregister.rights import portal, services
from coachregister.rights.models import DataRequest
from coachregister.testing import factories
from coachregister.trajectories.models import Trajectory

pytestmark = pytest.mark.django_db
HOME = reverse("rights:portal_home")
HELD = timezone.localdate() - timedelta(days=10)


@pytest.fixture
def trajectory(owner: User, coach: User) -> Trajectory:
    return factories.trajectory(owner, coach)


@pytest.fixture
def session(coach: User, trajectory: Trajectory) -> CoachingSession:
    return notes.session_record(
        actor=coach, request=None, trajectory=trajectory, held_on=HELD, kind="video",
        duration_minutes=45, keywords="werkdruk",
    )


@pytest.fixture(autouse=True)
def letters_as_html(monkeypatch: pytest.MonkeyPatch) -> None:
    """The letter's text without a PDF reader: the HTML WeasyPrint would be given."""
    def render(template: str, context: dict[str, Any], language: str = "nl") -> bytes:
        with override(language):
            return render_to_string(template, context).encode()

    monkeypatch.setattr(pdf, "render_pdf", render)


def letter_text(data_request: DataRequest) -> str:
    from coachregister.rights.services import letter_pdf

    html = letter_pdf(data_request.letters.get()).decode()
    return " ".join(html.replace("&#x27;", "'").split())


def in_portal(trajectory: Trajectory) -> Client:
    client = Client()
    state = client.session
    state[portal.SESSION_COACHEE] = trajectory.coachee_id
    state.save()
    return client


def ask(owner: User, session: CoachingSession, action: str, keywords: str = "") -> DataRequest:
    return services.request_register(
        actor=owner, request=None, coachee=session.trajectory.coachee, kind="rectification",
        channel="letter", verification="ondertekende brief", session=session,
        keyword_action=action, keywords=keywords,
    )


def decide(owner: User, data_request: DataRequest, **kwargs: Any) -> DataRequest:
    kwargs.setdefault("decision", "granted")
    return services.request_decide(actor=owner, request=None, data_request=data_request,
                                   **kwargs)


def texts(session: CoachingSession) -> list[tuple[str, str]]:
    coachee = session.trajectory.coachee
    return [notes.read_version(coachee, v) for v in session.versions.order_by("number")]


# --- the request (art. 8.1) ----------------------------------------------------------------


@pytest.mark.article("8.1")
def test_the_portal_asks_for_one_sessions_keywords_sealed(
    trajectory: Trajectory, session: CoachingSession
) -> None:
    client = in_portal(trajectory)
    page = client.get(HOME, {"kind": "rectification"}).content.decode()
    assert f'value="{session.pk}"' in page  # the session is offered, by its date
    response = client.post(HOME, {"kind": "rectification", "session": session.pk,
                                  "keyword_action": "correct", "keywords": "werkplezier",
                                  "confirmed": "yes"})
    assert response.status_code == 302
    data_request = DataRequest.objects.get()
    assert (data_request.session, data_request.keyword_action) == (session, "correct")
    assert services.requested_changes(data_request) == {"keywords": "werkplezier"}
    assert b"werkplezier" not in bytes(data_request.changes_enc)
    event = Event.objects.get(action="rights.request.received")
    assert "werkplezier" not in str(event.detail)


@pytest.mark.article("8.1")
def test_only_the_coachees_own_sessions_and_guarded_text(
    owner: User, coach: User, trajectory: Trajectory, session: CoachingSession
) -> None:
    other = factories.trajectory(owner, coach, contact=factories.person(2))
    theirs = notes.session_record(actor=coach, request=None, trajectory=other, held_on=HELD,
                                  kind="video", duration_minutes=45, keywords="anders")
    client = in_portal(trajectory)
    page = client.get(HOME, {"kind": "rectification"}).content.decode()
    assert f'value="{theirs.pk}"' not in page
    for data in (
        {"session": theirs.pk, "keyword_action": "delete"},  # not theirs to choose
        {"session": session.pk, "keyword_action": "correct", "keywords": "Anne was moe"},
        {"session": session.pk, "keyword_action": "correct"},  # no text
        {"session": session.pk},  # no action
    ):
        response = client.post(HOME, {"kind": "rectification", "confirmed": "yes", **data})
        assert response.status_code == 200, data
    assert not DataRequest.objects.exists()
    with pytest.raises(ValidationError):  # the service refuses another coachee's session
        services.request_register(
            actor=owner, request=None, coachee=trajectory.coachee, kind="rectification",
            channel="letter", verification="brief", session=theirs, keyword_action="delete",
        )
    with pytest.raises(ValidationError):  # keywords go through a correction request
        services.request_register(
            actor=owner, request=None, coachee=trajectory.coachee, kind="access",
            channel="letter", verification="brief", session=session, keyword_action="delete",
        )


@pytest.mark.article("8.1")
def test_staff_register_a_keyword_request(
    owner: User, client_for: Callable[[User], Client], trajectory: Trajectory,
    session: CoachingSession,
) -> None:
    new = reverse("rights:new", args=[trajectory.coachee.pseudonym])
    client = client_for(owner)
    assert HELD.strftime("%Y") in client.get(new, {"kind": "rectification"}).content.decode()
    response = client.post(new, {
        "kind": "rectification", "channel": "letter", "received_at": "2026-11-20T10:00",
        "verification": "ondertekende brief", "session": session.pk,
        "keyword_action": "supplement", "keywords": "en balans",
    })
    assert response.status_code == 302
    data_request = DataRequest.objects.get()
    assert data_request.keyword_action == "supplement" and data_request.session == session
    assert services.requested_changes(data_request) == {"keywords": "en balans"}
    detail = client.get(reverse("rights:detail", args=[data_request.pk])).content.decode()
    assert 'data-testid="keyword-request"' in detail


# --- carried out at once (art. 8.3) ----------------------------------------------------------


@pytest.mark.article("8.3")
def test_a_granted_correction_is_a_new_version_by_the_decider_whatever_the_lock(
    owner: User, coach: User, session: CoachingSession
) -> None:
    data_request = ask(owner, session, "correct", "werkplezier")
    with time_machine.travel(timezone.now() + timedelta(days=5)):
        assert session.is_locked()
        decide(owner, data_request)
    latest = session.versions.order_by("number").last()
    assert latest.number == 2 and latest.written_by == owner
    assert texts(session)[0] == ("werkdruk", "")  # the earlier text stays
    keywords, reason = texts(session)[1]
    assert keywords == "werkplezier" and "op verzoek van de coachee" in reason
    assert latest.wrapped_key is not None
    event = Event.objects.get(action="notes.keywords.changed_on_request")
    assert event.detail["action"] == "correct" and event.detail["request"] == data_request.pk
    assert "werkplezier" not in str(event.detail)
    coachee = session.trajectory.coachee
    with override(coachee.language):
        date = date_format(HELD, "j F Y")
        expected = _(
            "The keywords of your session of %(date)s have been corrected as you asked."
        ) % {"date": date}
    assert expected in letter_text(data_request)  # in the coachee's language


@pytest.mark.article("8.3")
def test_a_granted_supplement_adds_to_the_current_keywords(
    owner: User, session: CoachingSession
) -> None:
    data_request = ask(owner, session, "supplement", "en balans")
    decide(owner, data_request)
    assert texts(session)[-1][0] == "werkdruk\nen balans"
    assert "aangevuld" in letter_text(data_request)  # the coachee wrote in Dutch


@pytest.mark.article("8.3")
def test_a_granted_deletion_destroys_the_earlier_versions(
    owner: User, coach: User, session: CoachingSession,
    django_capture_on_commit_callbacks: Any,
) -> None:
    earlier = ask(owner, session, "correct", "werkplezier")
    decide(owner, earlier)
    data_request = ask(owner, session, "delete")
    assert services.requested_changes(data_request) == {"keywords": ""}
    with django_capture_on_commit_callbacks(execute=True):
        decide(owner, data_request)
    (version,) = session.versions.all()  # the rows of versions 1 and 2 are gone
    assert version.number == 3 and version.written_by == owner
    keywords, reason = texts(session)[0]
    assert keywords == "" and "Verwijderd op verzoek van de coachee" in reason
    assert not KeywordVersion.objects.filter(session=session, number__lt=3).exists()
    (entry,) = [e for e in journal.entries() if e.effect == journal.Effect.KEYWORDS_DELETED]
    assert entry.state == "done" and entry.data == {
        "session": session.pk, "number": 3, "by": owner.pk}
    assert Event.objects.get(
        action="notes.keywords.changed_on_request", detail__action="delete"
    ).detail["versions_destroyed"] == 2
    assert "verwijderd" in letter_text(data_request)  # the coachee wrote in Dutch
    assert CoachingSession.objects.filter(pk=session.pk).exists()  # the date stays


@pytest.mark.article("8.3")
def test_partly_granted_without_the_keywords_changes_nothing_of_them(
    owner: User, session: CoachingSession
) -> None:
    data_request = services.request_register(
        actor=owner, request=None, coachee=session.trajectory.coachee, kind="rectification",
        channel="letter", verification="brief", changes={"phone": "+31687654321"},
        session=session, keyword_action="correct", keywords="werkplezier",
    )
    decide(owner, data_request, decision="partly", justification="De trefwoorden kloppen.",
           granted_changes={"phone": "+31687654321"})
    assert [k for k, _r in texts(session)] == ["werkdruk"]
    assert notes.vault.open_contact(session.trajectory.coachee).phone == "+31687654321"
    assert "keywords of your session" not in letter_text(data_request)
    refused = ask(owner, session, "delete")
    decide(owner, refused, decision="refused", justification="Nodig voor de begeleiding.")
    assert session.versions.count() == 1
