"""The coach is told of a new coachee (art. 3.1), by default without personal data."""

from __future__ import annotations

import pytest

from coachregister.accounts.models import User
from coachregister.outbox.models import OutboxMessage
from coachregister.outbox.services import open_message
from coachregister.practice.models import PracticeSettings
from coachregister.testing import factories

pytestmark = [pytest.mark.django_db, pytest.mark.article("3.1")]
ANNE = factories.ANNE


def test_mail_links_to_the_register_without_personal_data(owner: User, coach: User) -> None:
    trajectory = factories.trajectory(owner, coach)
    to, body = open_message(OutboxMessage.objects.get())
    assert to == coach.email
    assert f"/trajectories/{trajectory.pseudonym}/" in body
    for secret in (ANNE.first_name, ANNE.last_name, ANNE.email, ANNE.phone, "612345678"):
        assert secret not in body


def test_practice_may_choose_to_include_the_details(owner: User, coach: User) -> None:
    practice = PracticeSettings.load()
    practice.coach_mail_includes_contact_details = True
    practice.save()
    factories.trajectory(owner, coach)
    _to, body = open_message(OutboxMessage.objects.get())
    assert "Anne de Vries" in body and ANNE.email in body and ANNE.phone in body


def test_no_mail_when_the_intake_fails(owner: User, coach: User) -> None:
    from coachregister.coachees.services import InvitationUnusable, intake_complete
    from coachregister.trajectories.models import Invitation

    trajectory = factories.trajectory(owner, coach, contact=None)
    invitation = Invitation.objects.get(trajectory=trajectory)
    invitation.used_at = invitation.created_at
    invitation.save()
    with pytest.raises(InvitationUnusable):
        intake_complete(request=None, invitation=invitation, contact=ANNE,
                        regulation=factories.regulation(), keyword_consent=True)
    assert not OutboxMessage.objects.exists()
