"""The authority's form and the coachee notices of a breach (art. 4.1c; GDPR art. 33(3), 34):
the template holds what 34(2) requires, a 34(3) exception stops the notices, the sending
needs four eyes, and each affected coachee gets exactly one mail, in their language, on a
real SMTP server."""

from __future__ import annotations

import email
import email.policy
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.audit.services import event_record
from coachregister.coachees.models import Coachee
from coachregister.incidents import affected, containment, notices
from coachregister.incidents.models import CoacheeNotice, Incident, NoticeException
from coachregister.incidents.services import incident_assess, incident_register
from coachregister.outbox.models import OutboxMessage
from coachregister.testing import factories
from coachregister.testing.server import free_port

pytestmark = [pytest.mark.django_db, pytest.mark.article("4.1c")]

NL = {"language": "nl",
      "nature": "Een laptop met toegang tot het register is gestolen uit een auto.",
      "consequences": "Iemand kan uw naam en e-mailadres hebben gezien.",
      "measures": "We hebben alle sessies beëindigd en de sleutels vervangen.",
      "contact_point": "Praktijk, privacy@praktijk.example of 020 123 4567"}
EN = {"language": "en",
      "nature": "A laptop with access to the register was stolen from a car.",
      "consequences": "Someone may have seen your name and email address.",
      "measures": "We ended every session and replaced the keys.",
      "contact_point": "The practice, privacy@praktijk.example"}


class Inbox:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.mails: list[tuple[list[str], Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.mails.append((list(envelope.rcpt_tos), email.message_from_bytes(
                envelope.content, policy=email.policy.default)))
        return "250 OK"


@pytest.fixture
def inbox(settings: Any) -> Iterator[Inbox]:
    """A real SMTP server (aiosmtpd) that the outbox worker delivers to."""
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=port, server_hostname="localhost")
    controller.start()
    yield box
    controller.stop()


@pytest.fixture
def incident(owner: User, coach: User) -> Incident:
    """A high-risk incident affecting three of four coachees; one of them writes English."""
    trajectories = [factories.trajectory(owner, coach, contact=factories.person(n))
                    for n in range(4)]
    Coachee.objects.filter(pk=trajectories[1].coachee_id).update(language="en")
    found = incident_register(actor=owner, request=None, summary="Laptop gestolen.",
                              aware_at=timezone.now() - timedelta(hours=2), reported_by="staff",
                              data_categories=["contact"], consequences="Namen ingezien.")
    found = incident_assess(actor=owner, request=None, incident=found, risk="high",
                    reasons="Contactgegevens van coachees onversleuteld zichtbaar.")
    affected.affected_add(actor=owner, request=None, incident=found, selection=affected.picked(
        " ".join(t.coachee_pseudonym for t in trajectories[:3])))
    return found


def _templates(owner: User, incident: Incident) -> None:
    for parts in (NL, EN):
        notices.template_save(actor=owner, request=None, incident=incident, **parts)


def _second_factor(user: User) -> None:
    event_record(action="accounts.reauth.succeeded", actor=user, object_type="user",
                 object_id=str(user.pk), detail={"method": "second_factor"})


def test_a_template_without_what_34_2_requires_is_refused(owner: User,
                                                           incident: Incident) -> None:
    for part in notices.PARTS:
        with pytest.raises(ValidationError, match="34\\(2\\)"):
            notices.template_save(actor=owner, request=None, incident=incident,
                                  **{**NL, part: ""})
    with pytest.raises(ValidationError, match="e-mailadres, telefoonnummer"):
        notices.template_save(actor=owner, request=None, incident=incident,
                              **{**NL, "contact_point": "Bel ons gerust, wij helpen graag."})
    assert not incident.notice_templates.exists()
    _templates(owner, incident)
    assert incident.notice_templates.count() == 2


def test_only_the_owner_writes_the_template(administrator: User, incident: Incident) -> None:
    with pytest.raises(PermissionDenied):
        notices.template_save(actor=administrator, request=None, incident=incident, **NL)


def test_the_notice_goes_to_exactly_the_affected_once_each_in_their_language(
    owner: User, administrator: User, incident: Incident, inbox: Inbox,
) -> None:
    _templates(owner, incident)
    assert notices.sending_prepare(actor=owner, request=None, incident=incident) == 3
    with pytest.raises(ValidationError):  # the wrong number
        notices.sending_confirm(actor=administrator, request=None, incident=incident, count=4,
                                second_factor=False)
    assert notices.sending_confirm(actor=administrator, request=None, incident=incident,
                                   count=3, second_factor=False) == 3
    with pytest.raises(ValidationError):  # a second press sends nothing more
        notices.sending_confirm(actor=administrator, request=None, incident=incident,
                                count=3, second_factor=False)
    call_command("worker", "--once")

    affected_rows = {a.pseudonym: a.coachee for a in incident.affected.all()}
    coachees = {factories.person(n).email for n in range(4)}
    to_coachees = [(to[0], mail) for to, mail in inbox.mails if to[0] in coachees]
    # Exactly the three affected, once each; the fourth coachee gets nothing.
    assert sorted(to for to, _mail in to_coachees) == sorted(
        factories.person(n).email for n in range(3))
    by_address = dict(to_coachees)
    english = by_address[factories.person(1).email].get_content()
    dutch = by_address[factories.person(0).email].get_content()
    assert "A laptop with access to the register" in english and "Een laptop" not in english
    assert "Een laptop met toegang tot het register" in dutch and "A laptop" not in dutch
    assert "Voornaamb" in english  # addressed to the coachee by name
    assert dict(CoacheeNotice.objects.filter(incident=incident)
                .values_list("pseudonym", "language")) == {
        p: c.language for p, c in affected_rows.items()}
    assert set(CoacheeNotice.objects.filter(incident=incident)
               .values_list("pseudonym", flat=True)) == set(affected_rows)
    assert set(OutboxMessage.objects.filter(kind=notices.NOTICE_KIND)
               .values_list("coachee_pseudonym", flat=True)) == set(affected_rows)
    event = Event.objects.get(action="incidents.notices.sent")
    assert event.detail == {"recipients": 3, "how": "second_person", "prepared_by": owner.pk}


def test_the_one_who_prepared_confirms_only_as_owner_after_a_second_factor(
    owner: User, administrator: User, incident: Incident,
) -> None:
    _templates(owner, incident)
    notices.sending_prepare(actor=administrator, request=None, incident=incident)
    with pytest.raises(PermissionDenied):  # an administrator is not "the owner again"
        notices.sending_confirm(actor=administrator, request=None, incident=incident, count=3,
                                second_factor=True)
    notices.sending_prepare(actor=owner, request=None, incident=incident)
    with pytest.raises(PermissionDenied):  # no fresh second factor
        notices.sending_confirm(actor=owner, request=None, incident=incident, count=3,
                                second_factor=False)
    assert not OutboxMessage.objects.filter(kind=notices.NOTICE_KIND).exists()
    assert notices.sending_confirm(actor=owner, request=None, incident=incident, count=3,
                                   second_factor=True) == 3
    assert Event.objects.get(action="incidents.notices.sent").detail["how"] == \
        "owner_second_factor"


def test_second_factor_means_a_fresh_confirmation_with_the_second_factor(
    owner: User, client_for: Any, rf: Any,
) -> None:
    from coachregister.accounts.reauth import SESSION_KEY
    from coachregister.conftest import confirm_recently

    client = confirm_recently(client_for(owner))
    request = rf.get("/")
    request.user, request.session = owner, client.session
    assert not notices.second_factor_fresh(request)  # fresh, but by password
    event_record(action="accounts.reauth.succeeded", actor=owner, object_type="user",
                 object_id=str(owner.pk), detail={"method": "password"})
    assert not notices.second_factor_fresh(request)
    _second_factor(owner)
    assert notices.second_factor_fresh(request)
    request.session.pop(SESSION_KEY)
    assert not notices.second_factor_fresh(request)  # another session's confirmation


def test_a_34_3_exception_stops_the_notice_and_is_recorded(
    owner: User, administrator: User, incident: Incident,
) -> None:
    _templates(owner, incident)
    for exposed in (True, None):  # (a) holds only if the keys were not exposed
        with pytest.raises(ValidationError, match="34\\(3\\)\\(a\\)"):
            notices.exception_record(actor=owner, request=None, incident=incident, ground="a",
                                     reasons="Alles was versleuteld opgeslagen.",
                                     keys_exposed=exposed)
    notices.exception_record(actor=owner, request=None, incident=incident, ground="a",
                             reasons="Alles was versleuteld; de sleutels stonden niet op de "
                                     "laptop.", keys_exposed=False)
    exception = NoticeException.objects.get(incident=incident)
    assert "sleutels stonden niet" in notices.exception_reasons(exception)
    assert b"sleutels" not in bytes(exception.reasons_enc)
    event = Event.objects.get(action="incidents.notice_exception.recorded")
    assert event.detail == {"ground": "a", "keys_exposed": False}
    with pytest.raises(ValidationError, match="34\\(3\\)"):
        notices.sending_prepare(actor=owner, request=None, incident=incident)
    assert not OutboxMessage.objects.filter(kind=notices.NOTICE_KIND).exists()
    assert not CoacheeNotice.objects.exists()


def test_an_exception_after_preparing_cancels_the_prepared_sending(
    owner: User, administrator: User, incident: Incident,
) -> None:
    _templates(owner, incident)
    notices.sending_prepare(actor=owner, request=None, incident=incident)
    notices.exception_record(actor=owner, request=None, incident=incident, ground="c",
                             reasons="Een openbare mededeling op de website volstaat hier.",
                             keys_exposed=None)
    with pytest.raises(ValidationError):
        notices.sending_confirm(actor=administrator, request=None, incident=incident, count=3,
                                second_factor=False)
    assert not OutboxMessage.objects.filter(kind=notices.NOTICE_KIND).exists()


def test_notices_only_at_high_risk(owner: User, incident: Incident) -> None:
    _templates(owner, incident)
    incident_assess(actor=owner, request=None, incident=incident, risk="risk",
                    reasons="Alleen pseudoniemen zichtbaar.")
    with pytest.raises(ValidationError, match="34\\(1\\)"):
        notices.sending_prepare(actor=owner, request=None, incident=incident)


def test_the_authority_form_holds_the_counts_and_its_pdf_too(
    owner: User, incident: Incident, client_for: Any,
) -> None:
    import subprocess
    import tempfile

    content = notices.authority_content(incident)
    assert content["people"] == 3
    # each affected coachee: one trajectory and the intake's contact moment
    assert content["records"] == notices.records_estimate(incident) > 3
    client = client_for(owner)
    page = client.get(f"/incidents/{incident.pk}/authority-form/").content.decode()
    assert "Laptop gestolen." in page and "Namen ingezien." in page
    response = client.get(f"/incidents/{incident.pk}/authority-form.pdf")
    assert response["Content-Type"] == "application/pdf"
    with tempfile.NamedTemporaryFile(suffix=".pdf") as pdf:
        pdf.write(response.content)
        pdf.flush()
        text = " ".join(subprocess.run(["pdftotext", pdf.name, "-"], capture_output=True,
                                       text=True, check=True).stdout.split())
    assert re.search(r"\b3 (personen|people)\b", text)
    assert re.search(rf"\b{content['records']} (registraties|records)\b", text)
    assert Event.objects.filter(action="incidents.authority_form.downloaded",
                                object_id=str(incident.pk)).exists()


def test_containment_shortcuts_are_audited_with_the_incident(
    owner: User, coach: User, incident: Incident,
) -> None:
    stamp = coach.security_stamp
    containment.user_sign_out(actor=owner, request=None, incident=incident, user=coach)
    coach.refresh_from_db()
    assert coach.security_stamp != stamp
    containment.user_block(actor=owner, request=None, incident=incident, user=coach)
    coach.refresh_from_db()
    assert not coach.is_active
    containment.master_rotation_decide(actor=owner, request=None, incident=incident)
    actions = list(Event.objects.filter(object_type="incident", object_id=str(incident.pk),
                                        action__startswith="incidents.containment.")
                   .order_by("seq").values_list("action", "detail"))
    assert actions == [("incidents.containment.signed_out", {"user": coach.pk}),
                       ("incidents.containment.blocked", {"user": coach.pk}),
                       ("incidents.containment.master_rotation_decided", {})]
    assert Event.objects.filter(action="accounts.sessions.revoked",
                                object_id=str(coach.pk)).exists()
    event_record(action="keys.master.rotated", object_type="master_key", object_id="k2")
    assert [e.object_id for e in containment.rotations_since(incident)] == ["k2"]


def test_the_pages_take_the_notice_from_template_to_mails_with_four_eyes(
    owner: User, administrator: User, coach: User, incident: Incident, client_for: Any,
) -> None:
    as_owner, as_admin = client_for(owner), client_for(administrator)
    detail = as_owner.get(f"/incidents/{incident.pk}/").content.decode()
    assert 'data-testid="incident-tools"' in detail and 'data-testid="containment"' in detail
    url = f"/incidents/{incident.pk}/notice/"
    refused = as_owner.post(url, {**NL, "measures": ""}).content.decode()
    assert "34(2)" in refused and not incident.notice_templates.exists()
    for parts in (NL, EN):
        assert as_owner.post(url, parts).status_code == 302
    as_owner.post(f"/incidents/{incident.pk}/notice/prepare/")
    as_owner.post(f"/incidents/{incident.pk}/notice/confirm/", {"count": 3})
    assert not CoacheeNotice.objects.exists()  # the owner alone, without a second factor
    as_admin.post(f"/incidents/{incident.pk}/notice/confirm/", {"count": 3})
    assert CoacheeNotice.objects.filter(incident=incident).count() == 3
    assert 'data-testid="notices-sent"' in as_owner.get(url).content.decode()

    as_admin.post(f"/incidents/{incident.pk}/containment/sign_out/", {"user": coach.pk})
    assert as_admin.post(f"/incidents/{incident.pk}/containment/rotate/").status_code == 403
    assert [e.action for e in notices.containment_actions(incident)] == [
        "incidents.containment.signed_out"]


def test_a_changed_list_voids_the_prepared_sending_and_a_high_risk_closes_only_when_told(
    owner: User, administrator: User, coach: User, incident: Incident,
) -> None:
    from coachregister.incidents.models import NoticeSending
    from coachregister.incidents.services import incident_close

    _templates(owner, incident)
    notices.sending_prepare(actor=owner, request=None, incident=incident)
    other = factories.trajectory(owner, coach, contact=factories.person(9)).coachee_pseudonym
    affected.affected_add(actor=owner, request=None, incident=incident,
                          selection=affected.picked(other))
    assert not NoticeSending.objects.filter(incident=incident).exists()
    from coachregister.incidents.services import authority_notification_record as notify

    notify(actor=owner, request=None, incident=incident, submitted_at=timezone.now(),
           reference="AP-2026-1")
    with pytest.raises(ValidationError, match="34"):
        incident_close(actor=owner, request=None, incident=incident)
    with pytest.raises(ValidationError) as refused:
        affected.picked("C-NOPE-0000 Jan Jansen")
    assert "Jansen" not in str(refused.value)
