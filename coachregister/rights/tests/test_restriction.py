"""Restriction restricts (art. 8.1, afscherming; GDPR art. 18): the ground of 18(1) is asked
on the request and recorded on the coachee with the moment; from then on the data is only
stored: no contact moments, sessions, disclosures or mail about the coachee, except the mail
the law requires. The dossier and the contact page say since when and why."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import override

from coachregister.accounts.models import User
from coachregister.coachees.models import Coachee, ContactMoment, RestrictionGround
from coachregister.outbox.models import OutboxMessage
from coachregister.practice.models import PracticeSettings
from coachregister.retention import journal, others
from coachregister.rights import portal, services
from coachregister.rights.models import DataRequest
from coachregister.rights.tests.test_portal import ask, link_from_outbox
from coachregister.testing import factories
from coachregister.trajectories import services as trajectories
from coachregister.trajectories.models import Invitation, Trajectory

pytestmark = [pytest.mark.django_db, pytest.mark.article("8.1")]


@pytest.fixture
def trajectory(owner: User, coach: User) -> Trajectory:
    return factories.trajectory(owner, coach)


def ask_restriction(owner: User, coachee: Coachee, ground: str = "a") -> DataRequest:
    return services.request_register(
        actor=owner, request=None, coachee=coachee, kind="restriction", channel="letter",
        verification="signed letter", restriction_ground=ground,
    )


def restrict(owner: User, coachee: Coachee, ground: str = "a") -> Coachee:
    services.request_decide(actor=owner, request=None,
                            data_request=ask_restriction(owner, coachee, ground),
                            decision="granted")
    return Coachee.objects.get(pk=coachee.pk)


def test_a_restriction_request_states_its_ground(owner: User, trajectory: Trajectory) -> None:
    for ground in ("", "x"):
        with pytest.raises(ValidationError):
            ask_restriction(owner, trajectory.coachee, ground)
    assert not DataRequest.objects.exists()
    assert ask_restriction(owner, trajectory.coachee, "c").restriction_ground == "c"
    access = services.request_register(  # another kind keeps no ground
        actor=owner, request=None, coachee=trajectory.coachee, kind="access", channel="letter",
        verification="x", restriction_ground="c",
    )
    assert access.restriction_ground == ""


def test_deciding_records_ground_and_moment_and_lifting_clears_them(
    owner: User, trajectory: Trajectory
) -> None:
    before = timezone.now()
    coachee = restrict(owner, trajectory.coachee, "b")
    assert coachee.restricted and coachee.restriction_ground == "b"
    assert before <= coachee.restricted_at <= timezone.now()
    entry = [e for e in journal.entries() if e.effect == journal.Effect.RESTRICTED][-1]
    assert entry.pseudonym == coachee.pseudonym and entry.data["ground"] == "b"
    services.restriction_lift(actor=owner, request=None, coachee=coachee)
    coachee.refresh_from_db()
    assert not coachee.restricted and coachee.restricted_at is None
    assert coachee.restriction_ground == ""


def test_a_refused_restriction_restricts_nothing(owner: User, trajectory: Trajectory) -> None:
    services.request_decide(actor=owner, request=None,
                            data_request=ask_restriction(owner, trajectory.coachee),
                            decision="refused", justification="Gegevens zijn juist.")
    coachee = Coachee.objects.get(pk=trajectory.coachee_id)
    assert not coachee.restricted and coachee.restricted_at is None


def test_an_earlier_request_without_a_ground_gets_it_when_decided(
    owner: User, trajectory: Trajectory, client_for: Callable[[User], Client]
) -> None:
    data_request = ask_restriction(owner, trajectory.coachee)
    DataRequest.objects.filter(pk=data_request.pk).update(restriction_ground="")
    data_request.refresh_from_db()
    with pytest.raises(ValidationError):
        services.request_decide(actor=owner, request=None, data_request=data_request,
                                decision="granted")
    url = reverse("rights:detail", args=[data_request.pk])
    client = client_for(owner)
    assert "restriction_ground" in client.get(url).context["decide"].fields
    client.post(url, {"decision": "granted", "restriction_ground": "c", "confirmed": "yes"})
    coachee = Coachee.objects.get(pk=trajectory.coachee_id)
    assert coachee.restricted and coachee.restriction_ground == "c"
    data_request.refresh_from_db()
    assert data_request.restriction_ground == "c"


def test_the_staff_form_asks_the_ground_for_a_restriction(
    owner: User, trajectory: Trajectory, client_for: Callable[[User], Client]
) -> None:
    url = reverse("rights:new", args=[trajectory.coachee.pseudonym])
    data = {"kind": "restriction", "channel": "letter", "received_at": "2026-11-20T10:00",
            "verification": "ondertekende brief"}
    client = client_for(owner)
    refused = client.post(url, data)
    assert refused.status_code == 200 and refused.context["form"].non_field_errors()
    assert client.post(url, {**data, "restriction_ground": "d"}).status_code == 302
    assert DataRequest.objects.get().restriction_ground == "d"


def test_the_portal_form_asks_the_ground_for_a_restriction(trajectory: Trajectory) -> None:
    ask(factories.ANNE.email)
    client = Client()
    client.get(link_from_outbox())
    home = reverse("rights:portal_home")
    sent = {"kind": "restriction", "confirmed": "yes"}
    assert client.post(home, sent).context["form"].non_field_errors()
    assert client.post(home, {**sent, "restriction_ground": "a"}).status_code == 302
    assert DataRequest.objects.get().restriction_ground == "a"


def test_no_new_contact_moments(owner: User, coach: User, trajectory: Trajectory,
                                client_for: Callable[[User], Client]) -> None:
    restrict(owner, trajectory.coachee)
    count = ContactMoment.objects.count()
    with pytest.raises(ValidationError, match="restricted"), override("en"):
        trajectories.contact_moment_record(actor=coach, request=None, trajectory=trajectory,
                                           kind="call", occurred_on=timezone.localdate())
    client = client_for(coach)
    page = client.get(reverse("trajectories:detail", args=[trajectory.pseudonym]))
    html = page.content.decode()
    assert 'data-testid="restricted-moments"' in html and "'contact-moment'" not in html
    assert "contact-moment/" not in html
    client.post(reverse("trajectories:action", args=[trajectory.pseudonym, "contact-moment"]),
                {"kind": "call", "occurred_on": timezone.localdate().isoformat()})
    assert ContactMoment.objects.count() == count


def test_dossier_and_contact_page_say_since_when_and_why(
    owner: User, coach: User, trajectory: Trajectory, client_for: Callable[[User], Client]
) -> None:
    coachee = restrict(owner, trajectory.coachee, "c")
    with override("en"):
        label = str(RestrictionGround.CLAIMS.label)
        since = "Restricted since " + date_format(timezone.localtime(coachee.restricted_at),
                                                  "j F Y")
    client = client_for(coach)
    with override("en"):
        dossier = client.get(reverse("notes:dossier", args=[trajectory.pseudonym]),
                             HTTP_ACCEPT_LANGUAGE="en").content.decode()
    part = dossier.split('data-testid="restricted-since"')[1].split("</p>")[0]
    assert since in part and label in part
    assert reverse("notes:session_new", args=[trajectory.pseudonym]) not in dossier
    contact = client_for(owner).get(reverse("coachees:contact", args=[coachee.pseudonym]),
                                    HTTP_ACCEPT_LANGUAGE="en").content.decode()
    part = contact.split('data-testid="restricted-since"')[1].split("</p>")[0]
    assert since in part and label in part


def test_no_mail_about_a_restricted_coachee_but_what_the_law_requires(
    owner: User, coach: User, trajectory: Trajectory
) -> None:
    """Every kind of mail the code queues, checked against a restricted coachee: a coach
    notice of a new trajectory and the paper-dossier reminders do not go; the answers the
    law requires (extension, letter, portal link, restriction lifted) do."""
    from coachregister.disclosures import services as disclosures

    proposal = disclosures.proposal_prepare(  # asked before the restriction
        actor=owner, request=None, coachee=trajectory.coachee,
        recipient=disclosures.recipient_save(actor=owner, request=None, name="Arts",
                                             kind="doctor"),
        processing_purpose=factories.purpose(owner), categories=["contact"], basis="consent")
    coachee = restrict(owner, trajectory.coachee)
    task = trajectories.trajectory_end(actor=owner, request=None, trajectory=trajectory,
                                       broken_off=False)
    OutboxMessage.objects.all().delete()
    # A prepared disclosure is not asked again of a restricted coachee.
    disclosures._notice_send(proposal)
    assert not OutboxMessage.objects.filter(kind="proposal_notice").exists()
    # The coachee joins a second trajectory through its intake: no coach mail, no moment.
    second, _token, _code = trajectories.trajectory_open(
        actor=owner, request=None, client=factories.client(owner), coach=coach)
    from coachregister.coachees.services import intake_complete

    intake_complete(request=None, invitation=Invitation.objects.get(trajectory=second),
                    contact=factories.ANNE, regulation=factories.regulation(),
                    keyword_consent=True)
    second.refresh_from_db()
    assert second.coachee_id == coachee.pk
    assert not ContactMoment.objects.filter(trajectory=second).exists()
    assert not OutboxMessage.objects.filter(kind="coach_new_coachee").exists()
    # Paper-dossier reminders about the restricted coachee's trajectory wait.
    with time_machine.travel(task.created_at + timedelta(days=40)):
        assert others.paper_tasks_remind() == {"reminded": 0, "escalated": 0}
    assert not OutboxMessage.objects.filter(kind__startswith="retention_paper").exists()
    # What the law requires still goes.
    PracticeSettings.load()
    PracticeSettings.objects.update(extension_allowed=True)
    access = services.request_register(actor=owner, request=None, coachee=coachee,
                                       kind="access", channel="letter", verification="x")
    services.request_extend(actor=owner, request=None, data_request=access, months=1,
                            reasons="Veel gegevens")
    services.request_decide(actor=owner, request=None, data_request=access, decision="granted")
    assert access.letters.count() == 1
    ask(factories.ANNE.email)
    portal.lookups_process()
    services.restriction_lift(actor=owner, request=None, coachee=coachee)
    kinds = set(OutboxMessage.objects.values_list("kind", flat=True))
    assert kinds == {"rights_extension", "rights_decision_notice", "portal_link",
                     "rights_restriction_lifted"}
    # Lifted: the reminders resume.
    with time_machine.travel(task.created_at + timedelta(days=40)):
        assert others.paper_tasks_remind()["reminded"] == 1


def test_a_restricted_coachees_keywords_are_only_stored(
    owner: User, coach: User, trajectory: Trajectory, client_for: Callable[[User], Client]
) -> None:
    from coachregister.notes.services import session_record

    session = session_record(actor=coach, request=None, trajectory=trajectory,
                             held_on=timezone.localdate(), kind="video", duration_minutes=30,
                             keywords="slaapritme")
    restrict(owner, trajectory.coachee)
    for user in (coach, owner):
        page = client_for(user).get(reverse("notes:dossier", args=[trajectory.pseudonym]))
        assert page.status_code == 200 and "slaapritme" not in page.content.decode()
        versions = client_for(user).get(reverse("notes:session_versions", args=[session.pk]))
        assert versions.status_code == 403 and "slaapritme" not in versions.content.decode()
