"""The keyword pages (art. 3.1, issue 14): the coach sees which word the name guard matched,
and nothing else does; without consent for keywords the field is not offered at all."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.notes import services
from coachregister.notes.models import CoachingSession
from coachregister.testing import factories

pytestmark = [pytest.mark.django_db, pytest.mark.article("3.1")]


def _post_session(client: Client, pseudonym: str, keywords: str) -> object:
    return client.post(
        reverse("notes:session_new", args=[pseudonym]),
        {
            "held_on": timezone.localdate().isoformat(),
            "kind": "video",
            "duration_minutes": 45,
            "keywords": keywords,
        },
    )


def test_the_coach_sees_the_matched_words_and_no_log_or_event_holds_them(
    owner: User, coach: User, client_for: Callable[[User], Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    trajectory = factories.trajectory(owner, coach)
    events_before = Event.objects.count()
    with caplog.at_level(logging.DEBUG):
        response = _post_session(
            client_for(coach), trajectory.pseudonym,
            "werkdruk; mevrouw de Vries; mail anne [at] voorbeeld [dot] nl; bel 06-12345678",
        )
    assert response.status_code == 200 and not CoachingSession.objects.exists()
    errors = response.context["form"].errors["keywords"]
    assert "\u201cde Vries\u201d" in errors[0]
    assert "\u201canne [at] voorbeeld [dot] nl\u201d" in errors[1]
    assert "\u201c06-12345678\u201d" in errors[2]
    page = response.content.decode()
    assert "de Vries\u201d" in page and "06-12345678\u201d" in page
    # Nothing else carries them: not the log records, not the audit trail.
    logged = " ".join(r.getMessage() + str(r.args) for r in caplog.records)
    for secret in ("Vries", "anne", "12345678"):
        assert secret not in logged
    for event in Event.objects.all()[events_before:]:
        assert "Vries" not in str(event.detail) and "12345678" not in str(event.detail)


def test_the_service_error_itself_names_only_the_kind(owner: User, coach: User) -> None:
    trajectory = factories.trajectory(owner, coach)
    from django.utils.translation import override

    with override("en"), pytest.raises(services.ValidationError) as refused:
        services.guard(trajectory.coachee, "Anne was moe")
    with override("en"):
        assert "Anne" not in str(refused.value) and "Anne" not in repr(refused.value)
        assert [services.guard_message(e) for e in refused.value.error_list] == [
            "The text contains the coachee's name: “Anne”. Leave names out."
        ]


def test_without_keyword_consent_no_field_and_the_page_says_why(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    trajectory = factories.trajectory(owner, coach, keyword_consent=False)
    client = client_for(coach)
    url = reverse("notes:session_new", args=[trajectory.pseudonym])
    page = client.get(url).content.decode()
    assert 'name="keywords"' not in page and 'data-testid="no-keyword-consent"' in page
    from django.utils.translation import gettext, override

    with override("nl"):
        why = gettext("The coachee has not given (or has withdrawn) consent for keywords, so "
                      "this session is recorded without them.")
    assert why in page
    # A session is still recorded, without keywords, even if keywords are posted anyway.
    response = _post_session(client, trajectory.pseudonym, "sneaky")
    assert response.status_code == 302
    session = CoachingSession.objects.get()
    assert services.current_keywords(trajectory.coachee, session) == ""
    edit = client.get(reverse("notes:session_edit", args=[session.pk])).content.decode()
    assert 'name="keywords"' not in edit and 'data-testid="no-keyword-consent"' in edit


def test_with_keyword_consent_the_field_is_offered(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    trajectory = factories.trajectory(owner, coach)
    page = client_for(coach).get(
        reverse("notes:session_new", args=[trajectory.pseudonym])
    ).content.decode()
    assert 'name="keywords"' in page and 'data-testid="no-keyword-consent"' not in page
