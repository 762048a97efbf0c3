"""An answer for everyone (art. 7.1, "een ieder"): anyone may ask whether their data is
processed; the page and the work never tell whether the address is known; the worker matches
it; "we hold no data" only after the mailboxes and paper files were checked; the details are
destroyed some days after the answer."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, override

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.keys import keyring
from coachregister.outbox.models import OutboxMessage
from coachregister.outbox.services import open_message
from coachregister.practice.models import PracticeSettings
from coachregister.rights import inquiries, services
from coachregister.rights.models import DataRequest
from coachregister.rights.tests.test_portal_lookup import shape
from coachregister.testing import factories
from coachregister.trajectories.models import Trajectory

if TYPE_CHECKING:
    from pytest_django.fixtures import Settings

pytestmark = [pytest.mark.django_db, pytest.mark.article("7.1")]

START = reverse("rights:portal_start")
ASK = reverse("rights:portal_inquiry")
ANNE = factories.ANNE.email
UNKNOWN = "iemand.anders@voorbeeld.example"


@pytest.fixture
def trajectory(owner: User, coach: User) -> Trajectory:
    return factories.trajectory(owner, coach)


def ask(email: str, name: str = "Iemand Anders", question: str = "", **client: str) -> object:
    return Client(**client).post(
        ASK, {"ask-name": name, "ask-email": email, "ask-question": question}
    )


def unknown_request() -> DataRequest:
    inquiries.inquiry_receive(request=None, name="Iemand Anders", email=UNKNOWN,
                              question="Hebben jullie iets van mij?")
    inquiries.inquiries_process()
    return DataRequest.objects.get(coachee_pseudonym="")


def test_the_start_page_offers_the_question_to_everyone() -> None:
    page = Client().get(START).content.decode()
    assert f'action="{ASK}"' in page
    assert 'name="ask-email"' in page and 'name="ask-name"' in page
    assert 'name="email"' in page  # the sign-in link form stays


def test_asking_looks_and_works_the_same_for_known_and_unknown(trajectory: Trajectory) -> None:
    ask("opwarmen@voorbeeld.example")  # first-use work (buckets, chain key)

    def statements(email: str) -> tuple[list[str], str]:
        with CaptureQueriesContext(connection) as captured:
            response = ask(email, question="Wat weten jullie?")
        assert response.status_code == 200
        page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
        return [shape(q["sql"]) for q in captured.captured_queries], page

    known, known_page = statements(ANNE.upper())
    unknown, unknown_page = statements(UNKNOWN)
    assert known == unknown and known_page == unknown_page
    assert not any("coachees_coachee" in sql for sql in known)
    stored = list(DataRequest.objects.order_by("id"))[1:]
    assert [(r.coachee_id, r.coachee_pseudonym, r.kind, r.channel) for r in stored] == [
        (None, "", "access", "portal")
    ] * 2
    for data_request in stored:
        assert data_request.requester_key and data_request.requester_key_id
        assert data_request.answer_due == min(data_request.answer_due, data_request.legal_due)
        assert UNKNOWN.encode() not in bytes(data_request.requester_enc)
        assert inquiries.details(data_request).question == "Wat weten jullie?"
    received = Event.objects.filter(action="rights.inquiry.received").order_by("seq")
    assert [e.object_type for e in received] == ["request"] * 3
    assert all(e.detail == {} for e in received)


def test_the_worker_links_a_known_address_and_keeps_an_unknown_one(
    trajectory: Trajectory, owner: User
) -> None:
    ask(ANNE.upper(), name="Anne", question="Welke sessies staan er?")
    ask(UNKNOWN)
    call_command("worker", "--once", stdout=io.StringIO())

    known = DataRequest.objects.get(coachee=trajectory.coachee)
    assert known.coachee_pseudonym == trajectory.coachee.pseudonym
    assert known.requester_key is None  # the typed name and address are gone
    assert known.verification == inquiries.MATCHED_VERIFICATION
    assert inquiries.question(known) == "Welke sessies staan er?"
    assert inquiries.is_unknown(known) is False
    unknown = DataRequest.objects.get(coachee_pseudonym="")
    assert unknown.coachee is None and unknown.looked_up_at is not None
    assert inquiries.details(unknown).email == UNKNOWN
    assert inquiries.inquiries_process() == 0  # each is looked up once

    # The linked request follows the normal access road: the letter goes to the coachee.
    services.request_decide(actor=owner, request=None, data_request=known, decision="granted")
    assert known.letters.count() == 1
    assert not OutboxMessage.objects.filter(kind="rights_inquiry_answer").exists()


def test_no_data_is_answered_only_after_the_mailboxes_were_checked(administrator: User) -> None:
    data_request = unknown_request()
    with pytest.raises(ValidationError):
        inquiries.inquiry_answer(actor=administrator, request=None, data_request=data_request)
    assert not OutboxMessage.objects.exists()

    inquiries.inquiry_mailboxes_checked(actor=administrator, request=None,
                                        data_request=data_request)
    data_request.refresh_from_db()
    assert data_request.mailboxes_checked_by == administrator
    assert data_request.mailboxes_checked_at is not None
    with pytest.raises(ValidationError):
        inquiries.inquiry_mailboxes_checked(actor=administrator, request=None,
                                            data_request=data_request)

    inquiries.inquiry_answer(actor=administrator, request=None, data_request=data_request)
    data_request.refresh_from_db()
    assert data_request.decided_at is not None and data_request.decided_by == administrator
    to, body = open_message(OutboxMessage.objects.get(kind="rights_inquiry_answer"))
    assert to == UNKNOWN
    with override("nl"):
        no_data = gettext("We searched our register, the coaches' mailboxes and our paper "
                          "files. We hold no personal data about you.")
    assert "Iemand Anders" in body and no_data in body
    with pytest.raises(ValidationError):
        inquiries.inquiry_answer(actor=administrator, request=None, data_request=data_request)
    assert Event.objects.filter(action="rights.inquiry.answered", object_id=str(data_request.pk),
                                actor=administrator).exists()


def test_a_coach_cannot_answer(coach: User) -> None:
    data_request = unknown_request()
    with pytest.raises(Exception) as refused:
        inquiries.inquiry_mailboxes_checked(actor=coach, request=None, data_request=data_request)
    assert type(refused.value).__name__ == "PermissionDenied"


def test_the_details_are_destroyed_after_the_set_days(administrator: User) -> None:
    PracticeSettings.objects.filter(pk=PracticeSettings.load().pk).update(
        unknown_requester_days=10
    )
    data_request = unknown_request()
    inquiries.inquiry_mailboxes_checked(actor=administrator, request=None,
                                        data_request=data_request)
    inquiries.inquiry_answer(actor=administrator, request=None, data_request=data_request)

    with time_machine.travel(timezone.now() + timedelta(days=9)):
        inquiries.inquiries_process()
    data_request.refresh_from_db()
    assert data_request.requester_key is not None

    with time_machine.travel(timezone.now() + timedelta(days=11)):
        call_command("worker", "--once", stdout=io.StringIO())
    data_request.refresh_from_db()
    assert data_request.requester_enc is None and data_request.requester_key is None
    assert data_request.details_destroyed_at is not None
    assert inquiries.details(data_request) is None
    # The pseudonymous record stays: received, answered, by whom.
    assert data_request.received_at and data_request.decided_at
    assert data_request.decided_by == administrator
    assert inquiries.epochs_in_use() == set()
    assert Event.objects.filter(action="rights.inquiry.details_destroyed").count() == 1


def test_request_keys_move_to_a_new_epoch(settings: Settings, own_keys: object) -> None:
    data_request = unknown_request()
    first = data_request.requester_key_id
    assert inquiries.epochs_in_use() == {first}
    later = timezone.now() + timedelta(days=settings.COACHREGISTER_EPOCH_DAYS)
    assert keyring.epoch_start_if_due(later) is not None

    assert inquiries.rekey() == 1 and inquiries.rekey() == 0
    data_request.refresh_from_db()
    assert inquiries.epochs_in_use() == {keyring.current_epoch().id} != {first}
    assert inquiries.details(data_request).email == UNKNOWN


def test_one_address_is_limited_from_any_client_address_known_or_not(
    trajectory: Trajectory,
) -> None:
    for email in (ANNE, UNKNOWN):
        codes = [ask(email, REMOTE_ADDR=f"198.51.100.{n}").status_code for n in range(1, 5)]
        assert codes == [200, 200, 200, 429]
    codes = [ask(f"p{n}@voorbeeld.example", REMOTE_ADDR="203.0.113.7").status_code
             for n in range(6)]
    assert codes == [200] * 5 + [429]  # and per client
    assert DataRequest.objects.count() == 11


def test_staff_pages_cope_with_a_request_without_coachee(
    administrator: User, trajectory: Trajectory, client_for: object
) -> None:
    data_request = unknown_request()
    staff = client_for(administrator)
    for url in (reverse("rights:list"), reverse("accounts:dashboard")):
        page = staff.get(url)
        assert page.status_code == 200
        assert reverse("rights:detail", args=[data_request.pk]) in page.content.decode()
    detail_url = reverse("rights:detail", args=[data_request.pk])
    page = staff.get(detail_url).content.decode()
    assert UNKNOWN in page and "Iemand Anders" in page
    assert reverse("rights:inquiry_checked", args=[data_request.pk]) in page
    assert reverse("rights:inquiry_answer", args=[data_request.pk]) not in page
    assert Event.objects.filter(action="rights.inquiry.viewed").count() == 1

    staff.post(reverse("rights:inquiry_checked", args=[data_request.pk]))
    assert reverse("rights:inquiry_answer", args=[data_request.pk]) in staff.get(
        detail_url).content.decode()
    staff.post(reverse("rights:inquiry_answer", args=[data_request.pk]))
    data_request.refresh_from_db()
    assert data_request.decided_at is not None
    assert staff.get(detail_url).status_code == 200


def test_deadline_reminders_cover_a_request_without_coachee(owner: User) -> None:
    data_request = unknown_request()
    with time_machine.travel(timezone.now() + timedelta(days=26)):
        assert services.remind_deadlines() == 1
    _to, body = open_message(OutboxMessage.objects.filter(kind="rights_reminder").first())
    assert f"R-{data_request.pk}" in body


@pytest.mark.article("7.1")
def test_someone_who_entered_the_register_meanwhile_is_not_told_we_hold_nothing(
    owner: User, coach: User, administrator: User
) -> None:
    """The worker found nobody; the person then did an intake; the answer looks again and
    turns the request into theirs instead of saying "no data"."""
    data_request = inquiries.inquiry_receive(request=None, name="Bram Later",
                                             email="bram.later@voorbeeld.example")
    inquiries.inquiries_process()
    inquiries.inquiry_mailboxes_checked(actor=administrator, request=None,
                                        data_request=data_request)
    trajectory = factories.trajectory(owner, coach, contact=factories.Contact(
        "Bram", "Later", "bram.later@voorbeeld.example", "+31612345699"))
    with pytest.raises(ValidationError):
        inquiries.inquiry_answer(actor=administrator, request=None, data_request=data_request)
    data_request.refresh_from_db()
    assert data_request.coachee == trajectory.coachee and data_request.decided_at is None
    assert not OutboxMessage.objects.filter(kind="rights_inquiry_answer").exists()
