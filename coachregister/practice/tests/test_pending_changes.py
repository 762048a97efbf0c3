"""Weakening setting changes wait for the publication of the regulation that states them
(art. 2); strengthening ones act at once. Until then the old promise holds: in the text and
in the behaviour (the sign-in policy of art. 12.2, the retention of art. 10.1)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models.signals import pre_save
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils.translation import gettext

from coachregister.accounts import policy
from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.complaints.models import ComplaintProcedure
from coachregister.complaints.services import procedure_save
from coachregister.conftest import confirm_recently
from coachregister.practice import promises
from coachregister.practice.models import (
    PendingChange,
    PracticeSettings,
    ProcessingPurpose,
    RegulationVersion,
)
from coachregister.practice.services import (
    pending_open,
    pending_withdraw,
    practice_update,
    purpose_add,
    purpose_retire,
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


# --- purposes (art. 2.1, 2.2): a new purpose is first stated in a new version ---------------


def purpose_names(values: dict) -> list[str]:
    return [p["name"] for p in values["purposes"]]


@pytest.mark.article("2.2")
def test_a_purpose_added_before_the_first_publication_is_in_use_at_once(owner: User) -> None:
    added = purpose_add(actor=owner, request=None, name="Verzuimbegeleiding", basis="consent")
    assert added.active and pending_open("purposes") is None
    assert "Verzuimbegeleiding" in purpose_names(promises.current())


@pytest.mark.article("2.2")
def test_a_purpose_added_after_publication_waits_for_the_next_version(owner: User) -> None:
    from coachregister.disclosures.forms import ProposalForm
    from coachregister.disclosures.services import _purpose_check

    regulation_publish(actor=owner, request=None, version="v1")
    added = purpose_add(actor=owner, request=None, name="Verzuimbegeleiding", basis="consent")
    added.refresh_from_db()
    assert not added.active
    assert pending_open("purposes").values == {"activate": [added.pk]}
    # Not usable yet: disclosures and consents choose only purposes in use.
    assert added not in ProposalForm().fields["processing_purpose"].queryset
    with pytest.raises(ValidationError):
        _purpose_check(added)
    assert "Verzuimbegeleiding" not in purpose_names(promises.current())
    assert "Verzuimbegeleiding" in purpose_names(promises.with_pending())
    assert promises.regulation_unpublished() and "Verzuimbegeleiding" not in text()
    with pytest.raises(ValidationError):  # the waiting one is on the list already
        purpose_add(actor=owner, request=None, name="verzuimbegeleiding", basis="consent")
    second = purpose_add(actor=owner, request=None, name="Re-integratie", basis="consent")
    assert pending_open("purposes").values == {"activate": [added.pk, second.pk]}
    published = regulation_publish(actor=owner, request=None, version="v2")
    added.refresh_from_db()
    second.refresh_from_db()
    assert added.active and second.active and published.material
    assert "purposes" in Event.objects.get(action="practice.regulation.published",
                                           object_id="v2").detail["changed"]
    assert {"Verzuimbegeleiding", "Re-integratie"} <= set(purpose_names(published.promises))
    assert "Verzuimbegeleiding" in text() and pending_open("purposes") is None
    assert Event.objects.filter(action="practice.purpose.activated").count() == 2
    _purpose_check(added)  # now usable


@pytest.mark.article("2.2")
def test_retiring_acts_at_once_and_a_waiting_purpose_leaves_the_waiting_list(
    owner: User,
) -> None:
    in_use = purpose_add(actor=owner, request=None, name="Re-integratie", basis="consent")
    regulation_publish(actor=owner, request=None, version="v1")
    purpose_retire(actor=owner, request=None, purpose=in_use)  # fewer purposes: at once
    assert not ProcessingPurpose.objects.get(pk=in_use.pk).active
    assert pending_open("purposes") is None
    first = purpose_add(actor=owner, request=None, name="Verzuimbegeleiding", basis="consent")
    second = purpose_add(actor=owner, request=None, name="Loopbaanadvies", basis="consent")
    purpose_retire(actor=owner, request=None, purpose=first)
    assert pending_open("purposes").values == {"activate": [second.pk]}
    purpose_retire(actor=owner, request=None, purpose=second)
    change = PendingChange.objects.get(target="purposes")
    assert change.withdrawn_at is not None and pending_open("purposes") is None
    regulation_publish(actor=owner, request=None, version="v2")
    assert not ProcessingPurpose.objects.filter(
        pk__in=[in_use.pk, first.pk, second.pk], active=True).exists()


@pytest.mark.article("2.2")
def test_the_settings_page_marks_a_waiting_purpose(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    regulation_publish(actor=owner, request=None, version="v1")
    waiting = purpose_add(actor=owner, request=None, name="Verzuimbegeleiding",
                          basis="consent")
    page = client_for(owner).get(reverse("practice:settings")).content.decode()
    row = next(r for r in page.split('data-testid="purpose-row"') if "Verzuimbegeleiding" in r)
    assert 'data-testid="purpose-waiting"' in row.split("</tr>")[0]
    assert reverse("practice:purpose_retire", args=[waiting.pk]) in row  # it can be retired
    preview = client_for(owner).get(reverse("practice:regulation"))
    assert "Verzuimbegeleiding" in preview.context["preview"]  # the next version states it
    regulation_publish(actor=owner, request=None, version="v2")
    page = client_for(owner).get(reverse("practice:settings")).content.decode()
    assert 'data-testid="purpose-waiting"' not in page


# --- the complaints procedure (art. 11.2): longer terms wait ---------------------------------


@pytest.mark.article("11")
def test_longer_complaint_terms_wait_shorter_ones_and_other_fields_act_at_once(
    owner: User,
) -> None:
    procedure_save(actor=owner, request=None, acknowledge_days=7)  # nothing published: at once
    assert ComplaintProcedure.load().acknowledge_days == 7
    regulation_publish(actor=owner, request=None, version="v1")
    procedure_save(actor=owner, request=None, acknowledge_days=10, decide_weeks=4,
                   external_body="Geschillencommissie")
    procedure = ComplaintProcedure.load()
    assert (procedure.acknowledge_days, procedure.decide_weeks,
            procedure.external_body) == (7, 4, "Geschillencommissie")
    assert pending_open("complaints").values == {"acknowledge_days": 10}
    assert promises.current()["complaints"]["acknowledge_days"] == 7
    assert promises.with_pending()["complaints"]["acknowledge_days"] == 10
    assert "binnen 7 dagen" in text() and promises.regulation_unpublished()
    procedure_save(actor=owner, request=None, decide_weeks=8)
    assert ComplaintProcedure.load().decide_weeks == 4
    assert pending_open("complaints").values == {"acknowledge_days": 10, "decide_weeks": 8}
    procedure_save(actor=owner, request=None, decide_weeks=3)  # shorter: at once, supersedes
    assert ComplaintProcedure.load().decide_weeks == 3
    assert pending_open("complaints").values == {"acknowledge_days": 10}
    published = regulation_publish(actor=owner, request=None, version="v2")
    procedure = ComplaintProcedure.load()
    assert (procedure.acknowledge_days, procedure.decide_weeks) == (10, 3)
    assert published.material and published.promises["complaints"]["acknowledge_days"] == 10
    assert "binnen 10 dagen" in text() and pending_open("complaints") is None


@pytest.mark.article("11")
def test_the_complaints_procedure_page_says_which_change_waits(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    regulation_publish(actor=owner, request=None, version="v1")
    client = client_for(owner)
    url = reverse("complaints:procedure")
    assert 'data-testid="pending-note"' not in client.get(url).content.decode()
    procedure = ComplaintProcedure.load()
    response = client.post(url, {
        "acknowledge_days": 12, "decide_weeks": procedure.decide_weeks,
        "external_body": "", "external_body_url": "", "authority": procedure.authority,
        "authority_url": procedure.authority_url, "claims_years": procedure.claims_years,
    }, follow=True)
    page = response.content.decode()
    assert 'data-testid="pending-note"' in page
    note = page.split('data-testid="pending-note"')[1].split("</p>")[0]
    assert "12" in note and ComplaintProcedure.load().acknowledge_days == 5


# --- publication: what counts as material, and a label taken meanwhile (art. 2) -------------


@pytest.mark.article("2")
def test_a_previous_version_without_promises_makes_nothing_material_unless_the_owner_says_so(
    owner: User,
) -> None:
    first = regulation_publish(actor=owner, request=None, version="v1")
    RegulationVersion.objects.filter(pk=first.pk).update(promises={})  # as published before
    practice_update(actor=owner, request=None, office_networks="")  # a material promise
    second = regulation_publish(actor=owner, request=None, version="v2")
    event = Event.objects.get(action="practice.regulation.published", object_id="v2")
    assert not second.material and event.detail["changed"] == ""
    assert not Event.objects.filter(action="practice.regulation.coachees_told").exists()
    RegulationVersion.objects.filter(pk=second.pk).update(promises={})
    third = regulation_publish(actor=owner, request=None, version="v3", material=True)
    assert third.material


@pytest.mark.article("2")
def test_a_label_taken_by_a_concurrent_publication_is_refused_with_a_message(
    owner: User,
) -> None:
    regulation_publish(actor=owner, request=None, version="v1")

    def concurrent(sender: type, instance: RegulationVersion, **kwargs: object) -> None:
        # The other publication inserts the same label between the check and the insert.
        if instance.pk is None:
            RegulationVersion.objects.bulk_create([RegulationVersion(
                version=instance.version, text="", published_by=owner)])

    pre_save.connect(concurrent, sender=RegulationVersion)
    try:
        with pytest.raises(ValidationError) as raised:
            regulation_publish(actor=owner, request=None)
    finally:
        pre_save.disconnect(concurrent, sender=RegulationVersion)
    assert raised.value.messages == [gettext("This version already exists.")]
    assert list(RegulationVersion.objects.values_list("version", flat=True)) == ["v1"]
    assert regulation_publish(actor=owner, request=None, version="v2").version == "v2"
