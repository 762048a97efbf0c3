"""The coach is told of a new coachee (art. 3.1), by default without personal data."""

from __future__ import annotations

import pytest
from django.conf import settings

from coachregister.accounts.models import User
from coachregister.lib.display import phone_display
from coachregister.outbox.models import OutboxMessage
from coachregister.outbox.services import open_message, send_due
from coachregister.outbox.tests.conftest import Inbox, body_of
from coachregister.practice.models import PracticeSettings
from coachregister.testing import factories

pytestmark = [pytest.mark.django_db, pytest.mark.article("3.1")]
ANNE = factories.ANNE


PERSONAL = (
    ANNE.first_name,
    ANNE.last_name,
    "Vries",
    ANNE.email,
    "devries",
    ANNE.phone,
    "612345678",
)


def test_mail_links_to_the_register_without_personal_data(owner: User, coach: User) -> None:
    trajectory = factories.trajectory(owner, coach)
    message = OutboxMessage.objects.get()
    to, body = open_message(message)
    assert message.kind == "coach_new_coachee"
    assert to == coach.email
    assert trajectory.pseudonym in body
    link = settings.COACHREGISTER_BASE_URL.rstrip("/") + f"/trajectories/{trajectory.pseudonym}/"
    assert link in body
    for secret in PERSONAL:
        assert secret not in body
        assert secret not in message.subject


def test_the_mail_as_delivered_carries_no_personal_data(
    owner: User, coach: User, inbox: Inbox
) -> None:
    trajectory = factories.trajectory(owner, coach)
    assert send_due() == 1
    [(recipients, mail)] = inbox.parsed()
    assert recipients == [coach.email]
    body = body_of(mail)
    assert f"/trajectories/{trajectory.pseudonym}/" in body
    for secret in PERSONAL:
        assert secret not in body
        assert secret not in str(mail["Subject"])


def test_practice_may_choose_to_include_the_details(owner: User, coach: User) -> None:
    practice = PracticeSettings.load()
    practice.coach_mail_includes_contact_details = True
    practice.save()
    trajectory = factories.trajectory(owner, coach)
    _to, body = open_message(OutboxMessage.objects.get())
    assert "Anne de Vries" in body and ANNE.email in body and phone_display(ANNE.phone) in body
    assert f"/trajectories/{trajectory.pseudonym}/" in body


def test_no_mail_when_the_intake_fails(owner: User, coach: User) -> None:
    from coachregister.coachees.services import InvitationUnusable, intake_complete
    from coachregister.trajectories.models import Invitation

    trajectory = factories.trajectory(owner, coach, contact=None)
    invitation = Invitation.objects.get(trajectory=trajectory)
    invitation.used_at = invitation.created_at
    invitation.save()
    with pytest.raises(InvitationUnusable):
        intake_complete(
            request=None,
            invitation=invitation,
            contact=ANNE,
            regulation=factories.regulation(),
            keyword_consent=True,
        )
    assert not OutboxMessage.objects.exists()
