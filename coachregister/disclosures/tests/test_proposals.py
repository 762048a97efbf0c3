"""A disclosure is prepared by staff and consented to by the coachee, who first sees exactly
what would be sent (art. 9.1, 9.2); what is sent enters the register (art. 1.10)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils.translation import override

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.audit.queries import accesses_of
from coachregister.coachees.models import Coachee
from coachregister.disclosures import services
from coachregister.disclosures.models import (
    Consent,
    Disclosure,
    Proposal,
    ProposalStatus,
    Recipient,
)
from coachregister.lib.display import phone_display
from coachregister.outbox.models import OutboxMessage
from coachregister.outbox.services import open_message
from coachregister.practice.models import ProcessingPurpose
from coachregister.rights import portal
from coachregister.rights import services as rights
from coachregister.rights.models import DataRequest
from coachregister.testing import factories

pytestmark = pytest.mark.django_db
CATEGORIES = ["contact", "trajectory", "keywords"]
NEW_PHONE = "+31687654321"


@pytest.fixture
def coachee(owner: User, coach: User) -> Coachee:
    return factories.trajectory(owner, coach).coachee


@pytest.fixture
def doctor(owner: User) -> Recipient:
    return services.recipient_save(actor=owner, request=None, name="Bedrijfsarts Oost",
                                   kind="doctor")


@pytest.fixture
def purpose(owner: User) -> ProcessingPurpose:
    return factories.purpose(owner)


def prepare(actor: User, coachee: Coachee, recipient: Recipient, purpose: ProcessingPurpose,
            **kwargs: object) -> Proposal:
    values: dict[str, object] = {"categories": ["contact"], "basis": "consent"}
    values.update(kwargs)
    return services.proposal_prepare(actor=actor, request=None, coachee=coachee,
                                     recipient=recipient, processing_purpose=purpose, **values)


def consent(proposal: Proposal) -> Proposal:
    """The coachee consents to the content the preview shows now."""
    digest = services.content_digest(services.proposal_content(proposal))
    return services.proposal_answer(request=None, coachee=proposal.coachee, proposal=proposal,
                                    consent=True, digest=digest)


def refused(fn: object, *args: object, **kwargs: object) -> str:
    with override("en"), pytest.raises(ValidationError) as info:
        fn(*args, **kwargs)  # type: ignore[operator]
    with override("en"):
        return " ".join(str(m) for m in info.value.messages)


def correct_phone(owner: User, coachee: Coachee, phone: str) -> None:
    request = rights.request_register(actor=None, request=None, coachee=coachee,
                                      kind="rectification", channel="portal",
                                      verification="portal", changes={"phone": phone})
    rights.request_decide(actor=owner, request=None, data_request=request, decision="granted")


def portal_client(coachee: Coachee) -> Client:
    client = Client()
    session = client.session
    session[portal.SESSION_COACHEE] = coachee.pk
    session.save()
    return client


# --- art. 9.1: basis, who consents, never to a client --------------------------------------


@pytest.mark.article("9.1")
@pytest.mark.parametrize("category", CATEGORIES)
def test_a_client_never_receives_personal_data(owner: User, coachee: Coachee,
                                               purpose: ProcessingPurpose,
                                               category: str) -> None:
    client = services.recipient_save(actor=owner, request=None, name="Opdrachtgever BV",
                                     kind="client")
    for basis, ground in (("consent", ""), ("legal_duty", "Wet X")):
        assert "client organisation never receives" in refused(
            prepare, owner, coachee, client, purpose, categories=[category], basis=basis,
            legal_ground=ground)
        assert "client organisation never receives" in refused(
            services.disclosure_record, actor=owner, request=None, coachee=coachee,
            recipient=client, categories=[category], processing_purpose=purpose, basis=basis,
            legal_ground=ground)
    assert "client organisation never receives" in refused(
        services.consent_record, actor=None, request=None, coachee=coachee, recipient=client,
        processing_purpose=purpose, text="Ik stem in.", text_version="1", method="portal")
    assert not Proposal.objects.exists() and not Disclosure.objects.exists()
    assert not Consent.objects.filter(purpose="disclosure").exists()


@pytest.mark.article("9.1")
def test_a_legal_duty_names_its_statute_and_is_ready_at_once(
    owner: User, coachee: Coachee, doctor: Recipient, purpose: ProcessingPurpose
) -> None:
    assert "statute" in refused(prepare, owner, coachee, doctor, purpose, basis="legal_duty")
    assert "basis" in refused(prepare, owner, coachee, doctor, purpose, basis="because")
    mails = OutboxMessage.objects.count()
    proposal = prepare(owner, coachee, doctor, purpose, basis="legal_duty",
                       legal_ground="Vordering art. 126nd Sv")
    assert proposal.status == ProposalStatus.READY
    assert proposal.legal_ground == "Vordering art. 126nd Sv"
    assert b"126nd" not in bytes(proposal.legal_ground_enc)  # sealed
    assert OutboxMessage.objects.count() == mails  # nobody is asked


@pytest.mark.article("9.1")
def test_staff_do_not_record_a_consent_other_than_on_paper(
    owner: User, coachee: Coachee, doctor: Recipient, purpose: ProcessingPurpose
) -> None:
    for method in ("staff", "portal", "intake_form"):
        assert "paper" in refused(
            services.consent_record, actor=owner, request=None, coachee=coachee,
            recipient=doctor, processing_purpose=purpose, text="Ik stem in.", text_version="1",
            method=method)
    assert "portal" in refused(
        services.consent_record, actor=None, request=None, coachee=coachee, recipient=doctor,
        processing_purpose=purpose, text="Ik stem in.", text_version="1", method="paper")


@pytest.mark.article("9.1")
def test_a_paper_consent_counts_once_another_owner_confirmed_it(
    owner: User, administrator: User, make_user: Callable[..., User], coachee: Coachee,
    doctor: Recipient, purpose: ProcessingPurpose
) -> None:
    proposal = prepare(administrator, coachee, doctor, purpose)
    proposal = services.proposal_paper_record(actor=administrator, request=None,
                                              proposal=proposal)
    paper = proposal.consent
    assert proposal.status == ProposalStatus.PAPER and paper.method == "paper"
    assert paper.recorded_by == administrator and paper.confirmed_at is None
    assert not services.consent_counts(paper)
    assert "consented" in refused(services.proposal_send, actor=owner, request=None,
                                  proposal=proposal)
    assert "paper consent" in refused(
        services.disclosure_record, actor=owner, request=None, coachee=coachee,
        recipient=doctor, categories=["contact"], processing_purpose=purpose, basis="consent",
        consent=paper)
    with pytest.raises(PermissionDenied):
        services.proposal_paper_confirm(actor=administrator, request=None, proposal=proposal)
    services.proposal_paper_confirm(actor=owner, request=None, proposal=proposal)
    proposal.refresh_from_db()
    paper.refresh_from_db()
    assert proposal.status == ProposalStatus.CONSENTED
    assert (paper.confirmed_by, services.consent_counts(paper)) == (owner, True)
    services.proposal_send(actor=administrator, request=None, proposal=proposal)
    assert Disclosure.objects.get().consent == paper
    # Who recorded the paper does not confirm it: another owner must.
    second = services.proposal_paper_record(
        actor=owner, request=None, proposal=prepare(owner, coachee, doctor, purpose))
    assert "Another person" in refused(services.proposal_paper_confirm, actor=owner,
                                       request=None, proposal=second)
    services.proposal_paper_confirm(actor=make_user("owner"), request=None, proposal=second)
    assert Proposal.objects.get(pk=second.pk).status == ProposalStatus.CONSENTED


@pytest.mark.article("9.1")
def test_nothing_is_prepared_or_sent_for_a_restricted_coachee(
    owner: User, coachee: Coachee, doctor: Recipient, purpose: ProcessingPurpose
) -> None:
    ready = prepare(owner, coachee, doctor, purpose, basis="legal_duty", legal_ground="Wet X")
    Coachee.objects.filter(pk=coachee.pk).update(restricted=True)
    assert "restricted" in refused(prepare, owner, coachee, doctor, purpose,
                                   basis="legal_duty", legal_ground="Wet X")
    assert "restricted" in refused(services.proposal_send, actor=owner, request=None,
                                   proposal=ready)
    assert not Disclosure.objects.exists()


@pytest.mark.article("9.1")
def test_only_the_register_runners_prepare_and_send(
    coach: User, owner: User, coachee: Coachee, doctor: Recipient, purpose: ProcessingPurpose
) -> None:
    with pytest.raises(PermissionDenied):
        prepare(coach, coachee, doctor, purpose)
    ready = prepare(owner, coachee, doctor, purpose, basis="legal_duty", legal_ground="Wet X")
    with pytest.raises(PermissionDenied):
        services.proposal_send(actor=coach, request=None, proposal=ready)


# --- art. 2.1, 2.2: only purposes on the list -----------------------------------------------


@pytest.mark.article("2.1")
def test_a_disclosure_chooses_an_active_purpose_from_the_list(
    owner: User, coachee: Coachee, doctor: Recipient, purpose: ProcessingPurpose
) -> None:
    from coachregister.practice.services import purpose_retire

    purpose_retire(actor=owner, request=None, purpose=purpose)
    assert "list of purposes" in refused(prepare, owner, coachee, doctor, purpose)
    assert "list of purposes" in refused(
        services.consent_record, actor=None, request=None, coachee=coachee, recipient=doctor,
        processing_purpose=purpose, text="Ik stem in.", text_version="1", method="portal")
    assert not Proposal.objects.exists()


# --- art. 9.2: the coachee sees, corrects, consents ------------------------------------------


@pytest.mark.article("9.2")
def test_the_coachee_is_told_in_a_mail_without_the_data(
    owner: User, coachee: Coachee, doctor: Recipient, purpose: ProcessingPurpose
) -> None:
    proposal = prepare(owner, coachee, doctor, purpose, categories=CATEGORIES)
    assert proposal.status == ProposalStatus.ASKED
    message = OutboxMessage.objects.get(kind="proposal_notice")
    to, body = open_message(message)
    assert to == factories.ANNE.email and message.coachee_pseudonym == coachee.pseudonym
    assert factories.ANNE.first_name in body and "/portal/" in body
    for secret in (factories.ANNE.phone, factories.ANNE.last_name, doctor.name, purpose.name):
        assert secret not in body and secret not in message.subject
    event = Event.objects.get(action="disclosures.proposal.prepared")
    assert event.object_id == coachee.pseudonym
    assert factories.ANNE.phone not in json.dumps(event.detail)


@pytest.mark.article("9.2")
def test_the_preview_shows_exactly_the_content_to_whom_and_why(
    owner: User, coachee: Coachee, doctor: Recipient, purpose: ProcessingPurpose
) -> None:
    proposal = prepare(owner, coachee, doctor, purpose, categories=["contact", "trajectory"])
    content = services.proposal_content(proposal)
    assert content["contact"]["phone"] == factories.ANNE.phone
    assert content["recipient"] == doctor.name and content["purpose"] == purpose.name
    assert "sessions" not in content  # only the categories prepared
    page = portal_client(coachee).get(reverse("disclosures:portal_proposal",
                                              args=[proposal.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    for shown in (phone_display(factories.ANNE.phone), factories.ANNE.email, doctor.name,
                  purpose.name,
                  content["trajectories"][0]["pseudonym"],
                  services.content_digest(content)):
        assert shown in html, shown
    home = portal_client(coachee).get(reverse("rights:portal_home")).content.decode()
    assert reverse("disclosures:portal_proposal", args=[proposal.pk]) in home


@pytest.mark.article("9.2")
def test_another_coachees_proposal_is_not_found(
    owner: User, coach: User, coachee: Coachee, doctor: Recipient, purpose: ProcessingPurpose
) -> None:
    proposal = prepare(owner, coachee, doctor, purpose)
    other = factories.trajectory(owner, coach, contact=factories.person(1)).coachee
    client = portal_client(other)
    url = reverse("disclosures:portal_proposal", args=[proposal.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"answer": "consent"}).status_code == 404
    assert Proposal.objects.get().status == ProposalStatus.ASKED


@pytest.mark.article("9.2")
def test_consenting_in_the_portal_records_the_consent_and_seals_the_content(
    owner: User, coachee: Coachee, doctor: Recipient, purpose: ProcessingPurpose
) -> None:
    proposal = prepare(owner, coachee, doctor, purpose)
    content = services.proposal_content(proposal)
    digest = services.content_digest(content)
    url = reverse("disclosures:portal_proposal", args=[proposal.pk])
    response = portal_client(coachee).post(url, {"answer": "consent", "digest": digest})
    assert response.status_code == 302
    proposal.refresh_from_db()
    given = proposal.consent
    assert proposal.status == ProposalStatus.CONSENTED and proposal.answered_at
    assert (given.purpose, given.method, given.recipient, given.processing_purpose) == (
        "disclosure", "portal", doctor, purpose)
    assert given.recorded_by is None and services.consent_counts(given)
    assert given.text_version == f"P{proposal.pk}-{digest[:10]}"
    assert doctor.name in given.text  # to whom and why, without the coachee's data
    for personal in (factories.ANNE.phone, factories.ANNE.email, factories.ANNE.last_name):
        assert personal not in given.text
    assert factories.ANNE.phone.encode() not in bytes(proposal.content_enc)
    assert services.consented_content(proposal) == content
    assert Event.objects.filter(action="disclosures.proposal.consented",
                                object_id=coachee.pseudonym).count() == 1


@pytest.mark.article("9.2")
def test_a_consent_to_an_outdated_preview_is_refused(
    owner: User, coachee: Coachee, doctor: Recipient, purpose: ProcessingPurpose
) -> None:
    proposal = prepare(owner, coachee, doctor, purpose)
    shown = services.content_digest(services.proposal_content(proposal))
    correct_phone(owner, coachee, NEW_PHONE)
    assert "changed" in refused(services.proposal_answer, request=None, coachee=coachee,
                                proposal=proposal, consent=True, digest=shown)
    assert Proposal.objects.get().status == ProposalStatus.ASKED


@pytest.mark.article("9.2")
def test_a_refusal_is_final_and_nothing_is_sent(
    owner: User, coachee: Coachee, doctor: Recipient, purpose: ProcessingPurpose
) -> None:
    proposal = prepare(owner, coachee, doctor, purpose)
    portal_client(coachee).post(reverse("disclosures:portal_proposal", args=[proposal.pk]),
                                {"answer": "refuse"})
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.REFUSED and proposal.consent is None
    assert "consented" in refused(services.proposal_send, actor=owner, request=None,
                                  proposal=proposal)
    assert "no longer waits" in refused(consent, proposal)
    assert not Disclosure.objects.exists()


@pytest.mark.article("9.2")
def test_a_correction_asked_from_the_preview_shows_there_once_granted(
    owner: User, coachee: Coachee, doctor: Recipient, purpose: ProcessingPurpose
) -> None:
    proposal = prepare(owner, coachee, doctor, purpose)
    client = portal_client(coachee)
    url = reverse("disclosures:portal_proposal", args=[proposal.pk])
    client.post(url, {"correction-phone": NEW_PHONE})
    data_request = DataRequest.objects.get()
    assert (data_request.kind, data_request.channel, data_request.proposal) == (
        "rectification", "portal", proposal)
    assert rights.requested_changes(data_request) == {"phone": NEW_PHONE}
    assert Proposal.objects.get().status == ProposalStatus.ASKED  # it waits
    rights.request_decide(actor=owner, request=None, data_request=data_request,
                          decision="granted")
    html = client.get(url).content.decode()
    assert phone_display(NEW_PHONE) in html
    assert phone_display(factories.ANNE.phone) not in html


@pytest.mark.article("9.2")
def test_withdrawing_before_sending_makes_it_unsendable(
    owner: User, coachee: Coachee, doctor: Recipient, purpose: ProcessingPurpose
) -> None:
    proposal = consent(prepare(owner, coachee, doctor, purpose))
    portal_client(coachee).post(reverse("rights:portal_withdraw", args=[proposal.consent.pk]),
                                {"confirmed": "yes"})
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.CANCELLED
    assert "consented" in refused(services.proposal_send, actor=owner, request=None,
                                  proposal=proposal)
    assert not Disclosure.objects.exists()


@pytest.mark.article("9.2")
def test_data_changed_after_consent_is_not_sent_and_the_coachee_is_asked_again(
    owner: User, coachee: Coachee, doctor: Recipient, purpose: ProcessingPurpose
) -> None:
    proposal = consent(prepare(owner, coachee, doctor, purpose))
    correct_phone(owner, coachee, NEW_PHONE)
    notices = OutboxMessage.objects.filter(kind="proposal_notice").count()
    assert "asked again" in refused(services.proposal_send, actor=owner, request=None,
                                    proposal=proposal)
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.ASKED and proposal.consent is None
    assert proposal.content_enc is None
    assert OutboxMessage.objects.filter(kind="proposal_notice").count() == notices + 1
    assert not Disclosure.objects.exists()
    consent(proposal)  # the coachee sees the new number and consents again
    _disclosure, content = services.proposal_send(actor=owner, request=None,
                                                  proposal=proposal)
    assert content["contact"]["phone"] == NEW_PHONE


# --- art. 1.10: the register entry and the file ----------------------------------------------


@pytest.mark.article("1.10")
def test_sending_makes_the_register_entry_and_the_file_is_the_preview(
    owner: User, administrator: User, coachee: Coachee, doctor: Recipient,
    purpose: ProcessingPurpose, client_for: Callable[[User], Client]
) -> None:
    proposal = consent(prepare(administrator, coachee, doctor, purpose,
                               categories=["contact", "keywords"]))
    preview = services.proposal_content(proposal)
    response = client_for(administrator).post(
        reverse("disclosures:proposal_action", args=[proposal.pk, "send"]))
    assert response["Content-Type"].startswith("application/json")
    assert json.loads(response.content) == preview
    entry = Disclosure.objects.get()
    proposal.refresh_from_db()
    assert (proposal.status, proposal.disclosure) == (ProposalStatus.SENT, entry)
    assert (entry.processing_purpose, entry.consent, entry.basis, entry.category_list()) == (
        purpose, proposal.consent, "consent", ["contact", "keywords"])
    assert entry.purpose == purpose.name and entry.disclosed_by == administrator
    exported = accesses_of(coachee).filter(action="disclosures.proposal.exported").get()
    assert exported.actor == administrator
    assert "sent" in refused(services.proposal_send, actor=owner, request=None,
                             proposal=proposal)
    assert Disclosure.objects.count() == 1


@pytest.mark.article("1.10")
def test_staff_prepare_on_the_coachee_page(
    administrator: User, coachee: Coachee, doctor: Recipient, purpose: ProcessingPurpose,
    client_for: Callable[[User], Client]
) -> None:
    url = reverse("disclosures:coachee", args=[coachee.pseudonym])
    client = client_for(administrator)
    page = client.get(url)
    assert "consent-text" not in page.content.decode()  # no typed consent texts any more
    client.post(url, {"proposal-recipient": doctor.pk, "proposal-processing_purpose": purpose.pk,
                      "proposal-categories": ["contact"], "proposal-basis": "consent"})
    proposal = Proposal.objects.get()
    assert (proposal.status, proposal.prepared_by) == (ProposalStatus.ASKED, administrator)
    assert doctor.name in client.get(url).content.decode()
