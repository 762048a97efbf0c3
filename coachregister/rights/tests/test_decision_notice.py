"""The coachee hears of every decision (art. 7.1, 7.4, 8.2, 8.3; GDPR art. 12(1), 12(3)):
a notice in their language through the outbox, over real SMTP here, with a single-use portal
link that opens on the letter; also for a request by phone and for a restricted coachee;
not when they asked for another form (7.4); after an erasure the mail is the letter."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.outbox import services as outbox
from coachregister.outbox.models import OutboxMessage
from coachregister.rights import services
from coachregister.rights.models import DataRequest
from coachregister.testing import factories
from coachregister.testing.e2e import Inbox, smtp
from coachregister.trajectories.models import Trajectory

pytestmark = pytest.mark.django_db

NOTICE_LINK = re.compile(r"http://\S+/portal/enter/\S+/\?letter=(\d+)")


@pytest.fixture
def trajectory(owner: User, coach: User) -> Trajectory:
    return factories.trajectory(owner, coach)


def register(owner: User, trajectory: Trajectory, kind: str, channel: str = "phone",
             **extra: object) -> DataRequest:
    return services.request_register(
        actor=owner, request=None, coachee=trajectory.coachee, kind=kind, channel=channel,
        verification="called back on the number on file", **extra,  # type: ignore[arg-type]
    )


def deliver(settings: object) -> Inbox:
    """Send what the outbox holds through a real SMTP server; return what it received."""
    with smtp() as (inbox, env):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # type: ignore[attr-defined]
        settings.EMAIL_HOST = env["EMAIL_HOST"]  # type: ignore[attr-defined]
        settings.EMAIL_PORT = int(env["EMAIL_PORT"])  # type: ignore[attr-defined]
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False  # type: ignore[attr-defined]
        outbox.send_due()
    return inbox


@pytest.mark.article("7.1")
def test_a_phone_request_gets_its_decision_notice_by_mail_with_a_link_to_the_letter(
    owner: User, trajectory: Trajectory, settings: object
) -> None:
    trajectory.coachee.language = "nl"  # as at a Dutch intake
    trajectory.coachee.save(update_fields=["language"])
    data_request = register(owner, trajectory, "access", channel="phone")
    OutboxMessage.objects.all().delete()
    services.request_decide(actor=owner, request=None, data_request=data_request,
                            decision="granted")
    inbox = deliver(settings)
    notices = [b for b in inbox.bodies if NOTICE_LINK.search(b)]
    assert len(notices) == 1
    body = notices[0]
    assert "Beste Anne," in body  # the coachee's language (Dutch), not the staff's
    assert f"R-{data_request.pk}" in body
    letter = data_request.letters.get()
    found = NOTICE_LINK.search(body)
    assert found is not None and int(found.group(1)) == letter.pk
    client = Client()
    opened = client.get(found.group(0))
    assert opened.status_code == 302
    assert opened["Location"] == reverse("rights:portal_home") + f"#letter-{letter.pk}"
    home = client.get(reverse("rights:portal_home"))
    assert f'id="letter-{letter.pk}"'.encode() in home.content
    pdf = client.get(reverse("rights:portal_letter", args=[letter.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    read = Event.objects.get(action="rights.portal.letter")  # reading it is audited
    assert (read.object_id, read.detail["letter"]) == (trajectory.coachee.pseudonym, letter.pk)
    # Single use: the same link opens nothing a second time.
    assert Client().get(found.group(0)).status_code == 410


@pytest.mark.article("8.2")
def test_a_restricted_coachee_is_told_of_the_decision_on_the_restriction_and_later_ones(
    owner: User, trajectory: Trajectory, settings: object
) -> None:
    restriction = register(owner, trajectory, "restriction", channel="letter",
                           restriction_ground="a")
    services.request_decide(actor=owner, request=None, data_request=restriction,
                            decision="granted")
    trajectory.coachee.refresh_from_db()
    assert trajectory.coachee.restricted
    access = register(owner, trajectory, "access", channel="letter")
    services.request_decide(actor=owner, request=None, data_request=access,
                            decision="granted")
    inbox = deliver(settings)
    told = sorted(int(m.group(1)) for b in inbox.bodies if (m := NOTICE_LINK.search(b)))
    assert told == sorted([restriction.letters.get().pk, access.letters.get().pk])
    assert all(
        "anne.devries@voorbeeld.example" not in b for b in inbox.bodies
    )  # the mail names the request, not the address


@pytest.mark.article("7.4")
def test_another_form_asked_for_means_no_mail_and_the_request_page_records_it(
    owner: User, trajectory: Trajectory, client_for: Callable[[User], Client]
) -> None:
    data_request = register(owner, trajectory, "access", channel="letter")
    OutboxMessage.objects.all().delete()
    services.request_decide(actor=owner, request=None, data_request=data_request,
                            decision="granted", other_form="on paper, by post")
    assert not OutboxMessage.objects.filter(kind="rights_decision_notice").exists()
    assert data_request.letters.count() == 1  # the letter to hand over in that form
    page = client_for(owner).get(reverse("rights:detail", args=[data_request.pk]))
    assert b'data-testid="other-form"' in page.content
    assert b"on paper, by post" in page.content
    assert b'data-testid="notice-mailed"' not in page.content


@pytest.mark.article("7.1")
def test_the_notice_is_in_the_coachees_language(
    owner: User, trajectory: Trajectory, settings: object
) -> None:
    trajectory.coachee.language = "en"
    trajectory.coachee.save(update_fields=["language"])
    data_request = register(owner, trajectory, "access")
    OutboxMessage.objects.all().delete()
    services.request_decide(actor=owner, request=None, data_request=data_request,
                            decision="refused", grounds=["d"], justification="Rights of others")
    message = OutboxMessage.objects.get(kind="rights_decision_notice")
    assert message.subject == "Our decision on your request"
    _to, body = outbox.open_message(message)
    assert body.startswith("Dear Anne,")
    assert "refused" in body


@pytest.mark.article("8.3")
def test_after_an_erasure_the_confirmation_mail_is_the_letter(
    owner: User, trajectory: Trajectory, settings: object
) -> None:
    from coachregister.complaints.models import ComplaintProcedure

    trajectory.coachee.language = "en"
    trajectory.coachee.save(update_fields=["language"])
    procedure = ComplaintProcedure.load()
    procedure.external_body = "Geschillencommissie Coaching"
    procedure.save()
    data_request = register(owner, trajectory, "erasure", channel="phone")
    services.request_decide(actor=owner, request=None, data_request=data_request,
                            decision="granted")
    assert not OutboxMessage.objects.filter(kind="rights_decision_notice").exists()
    inbox = deliver(settings)
    [body] = [b for b in inbox.bodies if "erased from our register" in b]
    text = " ".join(body.split())
    assert f"our reference R-{data_request.pk}" in text
    assert "Our decision: granted." in text
    assert "This mail is our letter" in text
    assert "complaints procedure" in text
    assert "Geschillencommissie Coaching" in text
    assert "Autoriteit Persoonsgegevens" in text
    assert "district court" in text
    assert "/portal/enter/" not in body  # no portal remains
