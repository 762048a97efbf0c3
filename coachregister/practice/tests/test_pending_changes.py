"""Weakening setting changes wait for the publication of the regulation that states them
(art. 2); strengthening ones act at once. Until then the old promise holds: in the text and
in the behaviour (the sign-in policy of art. 12.2, the retention of art. 10.1)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from coachregister.accounts import policy
from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.conftest import confirm_recently
from coachregister.practice import promises
from coachregister.practice.models import PendingChange, PracticeSettings, RegulationVersion
from coachregister.practice.services import (
    pending_open,
    pending_withdraw,
    practice_update,
    regulation_publish,
)
from coachregister.retention.models import RetentionPolicy
from coachregister.retention.services import policy_set

pytestmark = pytest.mark.django_db


def second_step_asked_from(address: str) -> bool:
    request = RequestFactory().get("/")
    request.client_ip = ipaddress.ip_address(address)  # type: ignore[attr-defined]
    return policy.second_factor_required(request)


def text() -> str:
    return " ".join(RegulationVersion.current().text.split())


@pytest.mark.article("12.2")
def test_removing_an_office_network_acts_at_once_and_the_text_follows_on_publication(
    owner: User,
) -> None:
    regulation_publish(actor=owner, request=None, version="v1")
    assert not second_step_asked_from("192.0.2.7") and "netwerkadressen: 2;" in text()
    # The public text gives the number of office networks, never their addresses.
    assert "192.0.2.0/24" not in text()
    practice_update(actor=owner, request=None, office_networks="")
    assert second_step_asked_from("192.0.2.7")  # stronger: at once
    assert pending_open("practice") is None
    assert "netwerkadressen: 2;" in text()  # the published text changes only with a version
    regulation_publish(actor=owner, request=None, version="v2")
    assert "netwerkadressen" not in text() and "waar zij ook zijn" in text()


@pytest.mark.article("12.2")
def test_adding_an_office_network_waits_for_publication(owner: User) -> None:
    regulation_publish(actor=owner, request=None, version="v1")
    practice_update(actor=owner, request=None,
                    office_networks="127.0.0.0/8\n10.1.0.0/16")  # one removed, one added
    # The removal acts, the addition waits: from the new network two steps are still asked.
    assert second_step_asked_from("10.1.2.3") and second_step_asked_from("192.0.2.7")
    assert PracticeSettings.load().office_networks == "127.0.0.0/8"
    change = pending_open("practice")
    assert change.values == {"office_networks": "127.0.0.0/8\n10.1.0.0/16"}
    assert "10.1.0.0/16" not in str(promises.current())
    assert promises.with_pending()["office_networks"] == ["127.0.0.0/8", "10.1.0.0/16"]
    assert Event.objects.filter(action="practice.pending_change.proposed").exists()
    published = regulation_publish(actor=owner, request=None, version="v2")
    assert not second_step_asked_from("10.1.2.3")  # now a password suffices there
    assert published.promises["office_networks"] == ["127.0.0.0/8", "10.1.0.0/16"]
    assert published.material
    change.refresh_from_db()
    assert change.applied_at is not None and change.regulation == published
    assert pending_open("practice") is None


@pytest.mark.article("12.2")
def test_two_steps_everywhere_off_waits_and_on_acts_at_once(owner: User) -> None:
    practice_update(actor=owner, request=None, two_factor_everywhere=True)  # nothing published
    assert second_step_asked_from("127.0.0.1")
    regulation_publish(actor=owner, request=None, version="v1")
    practice_update(actor=owner, request=None, two_factor_everywhere=False)
    assert second_step_asked_from("127.0.0.1") and PracticeSettings.load().two_factor_everywhere
    regulation_publish(actor=owner, request=None, version="v2")
    assert not second_step_asked_from("127.0.0.1")


@pytest.mark.article("10.1")
def test_a_shorter_retention_acts_at_once_a_longer_one_waits(owner: User) -> None:
    regulation_publish(actor=owner, request=None, version="v1")
    policy_set(actor=owner, request=None, years=5)
    assert RetentionPolicy.current().years == 5 and pending_open("retention") is None
    statute = "Wet op de geneeskundige behandelingsovereenkomst, 7:454"
    returned = policy_set(actor=owner, request=None, years=10, statute=statute, audit_years=10,
                          idle_months=6)
    current = RetentionPolicy.current()
    assert returned == current and (current.years, current.audit_years) == (5, 5)
    assert current.idle_months == 6  # not a promise: at once
    assert pending_open("retention").values == {"years": 10, "audit_years": 10,
                                                 "statute": statute}
    assert "zeven jaar na het laatste contact" in text() and "tien jaar" not in text()
    regulation_publish(actor=owner, request=None, version="v2")
    current = RetentionPolicy.current()
    assert (current.years, current.audit_years, current.statute) == (10, 10, statute)
    assert current.idle_months == 6 and "tien jaar na het laatste contact" in text()
    assert Event.objects.filter(action="retention.policy.changed").count() == 3


@pytest.mark.article("7.1")
def test_fee_extension_and_unknown_requesters_wait_and_a_lower_fee_supersedes(
    owner: User,
) -> None:
    regulation_publish(actor=owner, request=None, version="v1")
    practice_update(actor=owner, request=None, further_copy_fee=Decimal("5.00"),
                    extension_allowed=True, unknown_requester_days=60)
    practice = PracticeSettings.load()
    assert (practice.further_copy_fee, practice.extension_allowed,
            practice.unknown_requester_days) == (Decimal("0.00"), False, 30)
    assert pending_open("practice").values == {
        "further_copy_fee": "5.00", "extension_allowed": True, "unknown_requester_days": 60}
    practice_update(actor=owner, request=None, unknown_requester_days=14)  # shorter: at once
    assert PracticeSettings.load().unknown_requester_days == 14
    assert "unknown_requester_days" not in pending_open("practice").values  # superseded
    regulation_publish(actor=owner, request=None, version="v2")
    practice = PracticeSettings.load()
    assert (practice.further_copy_fee, practice.extension_allowed,
            practice.unknown_requester_days) == (Decimal("5.00"), True, 14)


@pytest.mark.article("Werkwijze")
def test_contact_details_in_the_coach_mail_wait_and_can_be_withdrawn(owner: User) -> None:
    regulation_publish(actor=owner, request=None, version="v1")
    practice_update(actor=owner, request=None, coach_mail_includes_contact_details=True)
    assert not PracticeSettings.load().coach_mail_includes_contact_details
    assert promises.regulation_unpublished()
    change = pending_withdraw(actor=owner, request=None, change=pending_open("practice"))
    assert change.withdrawn_at is not None and pending_open("practice") is None
    assert not promises.regulation_unpublished()
    regulation_publish(actor=owner, request=None, version="v2")
    assert not PracticeSettings.load().coach_mail_includes_contact_details


@pytest.mark.article("2")
def test_the_settings_pages_say_what_waits(
    owner: User, administrator: User, client_for: Callable[[User], Client]
) -> None:
    regulation_publish(actor=owner, request=None, version="v1")
    client = confirm_recently(client_for(owner))
    response = client.post(reverse("practice:settings"), {
        "name": "Testpraktijk", "office_networks": "127.0.0.0/8\n192.0.2.0/24\n10.9.0.0/16",
        "unknown_requester_days": 30, "further_copy_fee": "0.00"}, follow=True)
    page = response.content.decode()
    assert 'data-testid="pending-note"' in page and "10.9.0.0/16" in page
    assert "10.9.0.0/16" not in PracticeSettings.load().office_networks
    response = client.post(reverse("retention:policy"), {
        "years": 7, "statute": "", "client_contact_years": 2, "staff_years": 2,
        "audit_years": 9, "idle_months": 12}, follow=True)
    page = response.content.decode()
    assert 'data-testid="pending-note"' in page and RetentionPolicy.current().audit_years == 7
    regulation = client_for(administrator).get(reverse("practice:regulation"))
    assert len(regulation.context["pending"]) == 2
    assert b"Withdraw this change" not in regulation.content  # the owner withdraws
    change = pending_open("retention")
    client.post(reverse("practice:regulation_withdraw"), {"change": change.pk})
    assert pending_open("retention") is None
    assert PendingChange.objects.filter(withdrawn_at__isnull=False).count() == 1
