"""What the intake page promises about who sees the contact details is what the register
does (Werkwijze): every role is tried, directly and with a stated reason, and the outcome is
compared with the intake page's own list."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from coachregister.accounts.models import Role, User
from coachregister.accounts.services import third_party_scope_set
from coachregister.audit.engagements import engagement_open
from coachregister.testing import factories
from coachregister.trajectories import services as trajectories

pytestmark = [pytest.mark.django_db, pytest.mark.article("Werkwijze")]


def promised(owner: User, coach: User) -> dict[str, str]:
    """Role -> what the intake page says, read from the page a coachee sees."""
    factories.regulation()
    _trajectory, _token, code = trajectories.trajectory_open(
        actor=owner, request=None, client=factories.client(owner, "Werkgever"), coach=coach)
    client = Client()
    client.post(reverse("coachees:intake_start"), {"code": code})
    page = client.get(reverse("coachees:intake_form")).content.decode()
    said: dict[str, str] = {}
    for roles, opens in re.findall(r'data-roles="([^"]+)" data-opens="([^"]+)"', page):
        for role in roles.split():
            said[role] = opens
    return said


def tried(client: Client, url: str) -> tuple[bool, bool]:
    """(opens directly, opens with a stated reason)."""
    direct = "Anne de Vries" in client.get(url).content.decode()
    reason = {"reason": "coachee_asked", "explanation": "Vroeg om teruggebeld te worden"}
    with_reason = "Anne de Vries" in client.post(url, reason).content.decode()
    return direct, with_reason


def test_every_role_gets_what_the_intake_page_says(
    owner: User, administrator: User, coach: User, third_party: User, auditor: User,
    client_for: Callable[[User], Client],
) -> None:
    said = promised(owner, coach)
    assert set(said) >= {"owner", "administrator", "coach", "third_party", "auditor", "client"}
    trajectory = factories.trajectory(owner, coach)
    third_party_scope_set(actor=owner, request=None, user=third_party,
                          trajectories=[trajectory])
    now = timezone.now()
    engagement = engagement_open(actor=owner, request=None, auditor=auditor,
                                 window_from=now - timedelta(hours=1),
                                 window_until=now + timedelta(days=1), sample_size=10)
    url = reverse("coachees:contact", args=[trajectory.coachee.pseudonym])
    seen: dict[str, str] = {}
    for user in (owner, administrator, coach, third_party):
        direct, with_reason = tried(client_for(user), url)
        seen[user.role] = ("directly" if direct else "for-a-purpose" if with_reason
                           else "never")
    without = tried(client_for(auditor), url)
    engagement.include_contact_details = True
    engagement.save()
    with_flag = tried(client_for(auditor), url)
    seen["auditor"] = ("only-if-the-audit-includes-them"
                       if without == (False, False) and with_flag[0] else "other")
    # A client has no account in the register at all (Werkwijze: the client never handles
    # the coachee's data); disclosures to a client are refused in disclosures' own tests.
    seen["client"] = "never" if "client" not in Role.values else "other"
    assert seen == {role: said[role] for role in seen}


def test_the_regulation_and_the_statement_make_the_same_promise(practice: object) -> None:
    """The generated regulation (shown at intake and with the quote) and the staff's
    confidentiality statement say what the roles above do."""
    from coachregister.accounts.services import statement_text
    from coachregister.practice.models import PracticeSettings
    from coachregister.practice.services import regulation_text

    regulation = " ".join(regulation_text(PracticeSettings.load()).split())
    for promise in (
        "alleen gedeeld met de coach die uw begeleiding op zich neemt",
        "een ingehuurde coach die hem of haar voor uw traject vervangt",
        "openen ze alleen om uw verzoek af te handelen of om een reden die zij vastleggen",
        "uw contactgegevens alleen als de audit dat uitdrukkelijk omvat",
        "wij geven uw opdrachtgever geen gegevens van u",
    ):
        assert promise in regulation, promise
    statement = " ".join(statement_text(PracticeSettings.load()).split())
    assert "alleen voor de afhandeling van een verzoek of met een reden die ik vastleg" in (
        statement)
