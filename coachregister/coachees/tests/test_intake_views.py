"""The public intake (Werkwijze, art. 3.1): only four fields, clear refusals, single use."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.coachees import vault
from coachregister.coachees.models import Coachee
from coachregister.coachees.services import InvitationUnusable, intake_complete
from coachregister.disclosures.models import Consent
from coachregister.outbox.models import OutboxMessage
from coachregister.testing import factories
from coachregister.trajectories import services
from coachregister.trajectories.models import Invitation, Status, Trajectory

pytestmark = [pytest.mark.django_db]

START = reverse("coachees:intake_start")
FORM = reverse("coachees:intake_form")
DONE = reverse("coachees:intake_done")


@pytest.fixture
def opened(owner: User, coach: User) -> tuple[Trajectory, str, str]:
    factories.regulation()
    return services.trajectory_open(actor=owner, request=None,
                                    client=factories.client(owner), coach=coach)


def valid(**changes: str) -> dict[str, str]:
    data = {"first_name": "Anne", "last_name": "de Vries",
            "email": "anne.devries@voorbeeld.example", "phone": "06 12345678",
            "regulation_read": "on", "keyword_consent": "on",
            "regulation": str(factories.regulation().pk)}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def enter_with_code(code: str) -> Client:
    client = Client()
    response = client.post(START, {"code": code})
    assert response.status_code == 302 and response["Location"] == FORM
    return client


def nothing_stored(trajectory: Trajectory) -> bool:
    trajectory.refresh_from_db()
    return (not Coachee.objects.exists() and not Consent.objects.exists()
            and not OutboxMessage.objects.exists() and trajectory.status == Status.INVITED
            and not Invitation.objects.filter(trajectory=trajectory,
                                              used_at__isnull=False).exists())


@pytest.mark.article("3.1")
def test_whole_intake_by_code(opened: tuple[Trajectory, str, str], coach: User) -> None:
    trajectory, _token, code = opened
    client = enter_with_code(code.lower())
    page = client.get(FORM)
    assert page.status_code == 200 and "Privacyreglement" in page.content.decode()
    response = client.post(FORM, valid())
    assert response.status_code == 302 and response["Location"] == DONE
    trajectory.refresh_from_db()
    assert trajectory.status == Status.ACTIVE and trajectory.started_on
    contact = vault.open_contact(trajectory.coachee)
    assert contact == vault.Contact("Anne", "de Vries", "anne.devries@voorbeeld.example",
                                    "+31612345678")
    consents = {c.purpose: c for c in Consent.objects.filter(coachee=trajectory.coachee)}
    assert set(consents) == {"regulation", "session_keywords"}
    keywords = consents["session_keywords"]
    assert keywords.given and keywords.text_version == "2026.1" and "steekwoorden" in keywords.text
    assert keywords.method == "intake_form" and keywords.recorded_at
    event = Event.objects.get(action="coachees.intake.completed")
    assert event.object_id == trajectory.coachee.pseudonym and event.client_ip is None
    assert "Anne" not in str(event.detail) and "voorbeeld" not in str(event.detail)
    assert OutboxMessage.objects.count() == 1


@pytest.mark.article("3.1")
def test_the_link_moves_the_token_out_of_the_address(opened: tuple[Trajectory, str, str]) -> None:
    _trajectory, token, _code = opened
    client = Client()
    response = client.get(reverse("coachees:intake_link", args=[token]))
    assert response.status_code == 302 and response["Location"] == FORM
    assert client.get(FORM).status_code == 200


@pytest.mark.article("3.1")
def test_keyword_consent_may_be_refused(opened: tuple[Trajectory, str, str]) -> None:
    client = enter_with_code(opened[2])
    client.post(FORM, valid(keyword_consent=None))
    consent = Consent.objects.get(purpose="session_keywords")
    assert consent.given is False


@pytest.mark.article("3.1")
@pytest.mark.parametrize(("field", "value"), [
    ("first_name", ""), ("first_name", "Anne2"), ("last_name", ""), ("last_name", "<b>x</b>"),
    ("email", "anne@"), ("email", "anne@@voorbeeld.nl"), ("email", "a b@voorbeeld.nl"),
    ("email", ""), ("phone", "12"), ("phone", "abc"), ("phone", "+31 6 1234"), ("phone", ""),
    ("regulation_read", None),
])
def test_bad_input_gets_a_message_and_stores_nothing(
    opened: tuple[Trajectory, str, str], field: str, value: str | None
) -> None:
    trajectory, _token, code = opened
    client = enter_with_code(code)
    response = client.post(FORM, valid(**{field: value}))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert response.context["form"].errors[field][0]
    assert nothing_stored(trajectory)


@pytest.mark.article("3.1")
def test_a_stale_regulation_version_asks_to_read_again(
    opened: tuple[Trajectory, str, str]
) -> None:
    client = enter_with_code(opened[2])
    response = client.post(FORM, valid(regulation="999999"))
    assert response.status_code == 200 and response.context["form"].non_field_errors()
    assert nothing_stored(opened[0])


@pytest.mark.article("3.1")
@pytest.mark.parametrize("typed", ["06 12345678", "06-12345678", "+31 6 12345678",
                                   "0031612345678", "(06) 1234 5678"])
def test_phone_notations_are_stored_as_e164(opened: tuple[Trajectory, str, str],
                                            typed: str) -> None:
    client = enter_with_code(opened[2])
    client.post(FORM, valid(phone=typed))
    assert vault.open_contact(Coachee.objects.get()).phone == "+31612345678"


@pytest.mark.article("3.1")
def test_used_expired_and_unknown_invitations_get_clear_pages(
    opened: tuple[Trajectory, str, str], owner: User, coach: User
) -> None:
    _trajectory, token, code = opened
    client = enter_with_code(code)
    client.post(FORM, valid())
    used = Client().post(START, {"code": code})
    assert used.status_code == 410 and "al gebruikt" in used.content.decode()
    assert Client().get(reverse("coachees:intake_link", args=[token])).status_code == 410
    unknown = Client().post(START, {"code": "ZZZZ-ZZZZ"})
    assert unknown.status_code == 404 and "kennen deze link of code niet" in unknown.content.decode()
    _t2, _token2, code2 = services.trajectory_open(actor=owner, request=None,
                                                   client=factories.client(owner), coach=coach)
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        expired = Client().post(START, {"code": code2})
    assert expired.status_code == 410 and "verlopen" in expired.content.decode()
    reasons = list(Event.objects.filter(action="trajectories.invitation.refused").order_by("seq")
                   .values_list("detail__reason", flat=True))
    assert reasons == ["used", "used", "unknown", "expired"]


@pytest.mark.article("3.1")
def test_an_invitation_used_meanwhile_is_refused_at_submit(
    opened: tuple[Trajectory, str, str]
) -> None:
    first, second = enter_with_code(opened[2]), enter_with_code(opened[2])
    assert first.post(FORM, valid()).status_code == 302
    late = second.post(FORM, valid(email="iemand.anders@voorbeeld.example"))
    assert late.status_code == 410
    assert Coachee.objects.count() == 1


@pytest.mark.article("3.1")
def test_guessing_codes_is_throttled_and_audited(opened: tuple[Trajectory, str, str]) -> None:
    client = Client()
    for n in range(10):
        assert client.post(START, {"code": f"AAAA-AAA{n}"}).status_code == 404
    blocked = client.post(START, {"code": opened[2]})  # even the right code, for now
    assert blocked.status_code == 429
    assert Event.objects.filter(action="trajectories.invitation.throttled",
                                outcome="denied").count() == 1
    other_address = Client(REMOTE_ADDR="192.0.2.99")
    assert other_address.post(START, {"code": opened[2]}).status_code == 302
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert client.post(START, {"code": opened[2]}).status_code == 302


@pytest.mark.article("1.8")
def test_an_existing_coachee_joins_the_new_trajectory(
    opened: tuple[Trajectory, str, str], owner: User, other_coach: User
) -> None:
    enter_with_code(opened[2]).post(FORM, valid())
    _t2, _token, code2 = services.trajectory_open(actor=owner, request=None,
                                                  client=factories.client(owner),
                                                  coach=other_coach)
    enter_with_code(code2).post(FORM, valid(email="  ANNE.DeVries@voorbeeld.example",
                                            phone="0687654321"))
    assert Coachee.objects.count() == 1
    coachee = Coachee.objects.get()
    assert coachee.trajectories.count() == 2
    assert vault.open_contact(coachee).phone == "+31612345678"  # not overwritten by the form
    assert Event.objects.filter(action="coachees.intake.completed",
                                detail__existing=True).count() == 1


@pytest.mark.article("3.1")
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submissions_only_one_wins(owner: User, coach: User) -> None:
    trajectory = factories.trajectory(owner, coach, contact=None)
    invitation = Invitation.objects.get(trajectory=trajectory)
    regulation = factories.regulation()
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def submit(n: int) -> None:
        try:
            start.wait()
            intake_complete(request=None, invitation=invitation, regulation=regulation,
                            keyword_consent=True,
                            contact=vault.Contact("Anne", "de Vries",
                                                  f"anne{n}@voorbeeld.example", "+31612345678"))
            outcomes.append("ok")
        except InvitationUnusable:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert Coachee.objects.count() == 1


field_text = st.text(max_size=300)


@pytest.mark.article("3.1")
@settings(max_examples=75, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(first=field_text, last=field_text, email=field_text, phone=field_text,
       code=st.text(max_size=40), tick=st.booleans())
def test_arbitrary_text_never_breaks_the_intake(
    opened: tuple[Trajectory, str, str], first: str, last: str, email: str, phone: str,
    code: str, tick: bool,
) -> None:
    from coachregister.accounts.models import ThrottleBucket

    ThrottleBucket.objects.all().delete()  # each example is a new visitor
    assert Client().post(START, {"code": code}).status_code in (200, 302, 404, 410)
    client = enter_with_code(opened[2]) if not Coachee.objects.exists() else None
    if client is None:
        return
    data = valid(first_name=first, last_name=last, email=email, phone=phone)
    if not tick:
        data.pop("regulation_read")
    response = client.post(FORM, data)
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        stored = vault.open_contact(Coachee.objects.get())
        assert stored.first_name == " ".join(first.split()) or stored.first_name


@pytest.mark.article("3.1")
def test_invitation_tokens_never_reach_the_log(
    opened: tuple[Trajectory, str, str], caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from coachregister.lib.logfilters import RedactSecretPaths

    _trajectory, token, code = opened
    enter_with_code(code).post(FORM, valid())
    handler_filter = RedactSecretPaths()
    with caplog.at_level(logging.WARNING, logger="django.request"):
        Client().get(reverse("coachees:intake_link", args=[token]))  # used: 410, logged
    from django.conf import settings as django_settings

    assert "redact" in django_settings.LOGGING["handlers"]["console"]["filters"]
    records = [r for r in caplog.records if r.name == "django.request"]
    assert records
    for record in records:
        handler_filter.filter(record)
        assert token not in record.getMessage() and "[redacted]" in record.getMessage()
