"""Disclosure only with a legal duty or a consent in force, never for a restricted coachee
(art. 1.10, 9.1; GDPR art. 7)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import override

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.coachees.models import Coachee
from coachregister.disclosures import services
from coachregister.disclosures.models import Disclosure, Recipient
from coachregister.testing import factories

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def coachee(owner: User, coach: User) -> Coachee:
    return factories.trajectory(owner, coach).coachee


@pytest.fixture
def doctor(owner: User) -> Recipient:
    return services.recipient_save(actor=owner, request=None, name="Bedrijfsarts Oost",
                                   kind="doctor")


def disclose(owner: User, coachee: Coachee, recipient: Recipient, **kwargs: object) -> Disclosure:
    defaults: dict[str, object] = {"categories": ["contact"],
                                   "processing_purpose": factories.purpose(owner)}
    defaults.update(kwargs)
    return services.disclosure_record(actor=owner, request=None, coachee=coachee,
                                      recipient=recipient, **defaults)


def refused(fn: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(ValidationError) as info, override("en"):
        fn(*args, **kwargs)  # type: ignore[operator]
    with override("en"):
        return " ".join(str(m) for m in info.value.messages)


def consent_for(owner: User, coachee: Coachee, recipient: Recipient) -> object:
    return factories.disclosure_consent(coachee, recipient, factories.purpose(owner))


@pytest.mark.article("9.1")
def test_without_a_basis_it_is_refused(owner: User, coachee: Coachee, doctor: Recipient) -> None:
    assert "basis" in refused(disclose, owner, coachee, doctor, basis="")
    assert "basis" in refused(disclose, owner, coachee, doctor, basis="because")
    assert "consent" in refused(disclose, owner, coachee, doctor, basis="consent")
    assert "statute" in refused(disclose, owner, coachee, doctor, basis="legal_duty")
    assert not Disclosure.objects.exists()


@pytest.mark.article("9.1")
def test_with_a_legal_duty_it_is_recorded(owner: User, coachee: Coachee,
                                          doctor: Recipient) -> None:
    disclosure = disclose(owner, coachee, doctor, basis="legal_duty",
                          legal_ground="Vordering officier van justitie, art. 126nd Sv",
                          categories=["contact", "trajectory"])
    assert disclosure.basis == "legal_duty" and disclosure.category_list() == ["contact",
                                                                               "trajectory"]
    assert disclosure.coachee_pseudonym == coachee.pseudonym and disclosure.disclosed_by == owner
    event = Event.objects.get(action="disclosures.disclosure.recorded")
    assert event.object_id == coachee.pseudonym and event.detail["basis"] == "legal_duty"
    assert services.recipients_of(coachee) == [doctor]


@pytest.mark.article("9.1")
def test_with_consent_in_force_then_withdrawn(owner: User, coachee: Coachee,
                                              doctor: Recipient) -> None:
    consent = consent_for(owner, coachee, doctor)
    disclose(owner, coachee, doctor, basis="consent", consent=consent)
    services.consent_withdraw(actor=owner, request=None, consent=consent)
    assert "withdrawn" in refused(disclose, owner, coachee, doctor, basis="consent",
                                  consent=consent)
    assert Disclosure.objects.count() == 1  # what went before stays in the register
    assert Event.objects.filter(action="disclosures.consent.withdrawn").count() == 1


@pytest.mark.article("9.1")
def test_consent_for_another_recipient_does_not_count(owner: User, coachee: Coachee,
                                                      doctor: Recipient) -> None:
    other = services.recipient_save(actor=owner, request=None, name="UWV", kind="authority")
    consent = consent_for(owner, coachee, doctor)
    assert "does not cover" in refused(disclose, owner, coachee, other, basis="consent",
                                       consent=consent)
    elsewhere = factories.purpose(owner, "Verzuimbegeleiding")
    assert "does not cover" in refused(disclose, owner, coachee, doctor, basis="consent",
                                       consent=consent, processing_purpose=elsewhere)


@pytest.mark.article("8.1")
def test_restricted_coachee_is_never_disclosed(owner: User, coachee: Coachee,
                                               doctor: Recipient) -> None:
    coachee.restricted = True
    coachee.save()
    assert "restricted" in refused(disclose, owner, coachee, doctor, basis="legal_duty",
                                   legal_ground="Wet X")
    assert not Disclosure.objects.exists()


@pytest.mark.article("9.1")
def test_only_the_register_runners_disclose(coach: User, coachee: Coachee,
                                            doctor: Recipient) -> None:
    with pytest.raises(PermissionDenied):
        disclose(coach, coachee, doctor, basis="legal_duty", legal_ground="Wet X")


@pytest.mark.article("9.1")
def test_intake_keyword_consent_is_a_consent_record(coachee: Coachee) -> None:
    keywords = coachee.consents.get(purpose="session_keywords")
    assert keywords.given and keywords.method == "intake_form" and keywords.text
