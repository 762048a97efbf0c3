"""Telling the people concerned (art. 4.1c, 13.6; GDPR art. 33(3), 34).

Two documents come out of an incident:

- the content of the supervisory authority's notification form (GDPR 33(3)): nature,
  categories and approximate numbers of people and records, likely consequences, measures,
  contact point. The owner submits it on the authority's website; `authority_content` is what
  the page and its PDF show (no pseudonyms, only counts);
- at high risk, a notice to each affected coachee (GDPR 34(1)) in their own language, from a
  template the owner writes per language. `template_missing` refuses a template without what
  34(2) requires. A recorded exception of 34(3) stops the notices; 34(3)(a) (the data are
  unintelligible) holds only if neither the master key nor an epoch key was exposed,
  because with those keys every encrypted field of the register opens.

Sending takes two steps (four eyes): `sending_prepare` records the number of recipients,
`sending_confirm` by a second person (or by the owner again after a fresh second factor)
repeats that number and queues one mail per coachee through the outbox; the unique
`CoacheeNotice` row per coachee makes "exactly once" hold even if someone presses twice.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from coachregister.accounts.models import Role, User
from coachregister.audit.models import Event
from coachregister.audit.services import event_record
from coachregister.incidents.affected import INCIDENT, approximate
from coachregister.incidents.models import (
    AffectedCoachee,
    CoacheeNotice,
    DataCategory,
    Incident,
    NoticeException,
    NoticeExceptionGround,
    NoticeSending,
    NoticeTemplate,
    Risk,
)

NOTICE_KIND = "incident_notice"
PARTS = ("nature", "consequences", "measures", "contact_point")
MIN_PART = 20  # characters: a word or two is not an explanation "in clear and plain language"
_REACHABLE = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+|\+?\d[\d ()./-]{7,}\d|https?://\S+")


def _require_owner(actor: User) -> None:
    if actor.role != Role.OWNER:
        raise PermissionDenied(_("Only an owner may do this."))


def _require_manager(actor: User) -> None:
    if actor.role not in (Role.OWNER, Role.ADMINISTRATOR):
        raise PermissionDenied(_("Only the owner or the administrator may do this."))


def _audit(action: str, request: HttpRequest | None, actor: User, incident: Incident,
           **detail: object) -> None:
    event_record(action=action, request=request, actor=actor, object_type=INCIDENT,
                 object_id=str(incident.pk), detail=detail)


# --- the authority's form (GDPR 33(3)) ---------------------------------------------------


def _incident_text(incident: Incident, name: str) -> str:
    """One of the incident's sealed texts, opened by the incident services."""
    from coachregister.incidents import services

    return services.text(incident, name)


def records_estimate(incident: Incident) -> int:
    """The records of the affected coachees, when the owner has not estimated them: their
    trajectories, sessions and contact moments (each a record on the authority's form)."""
    from coachregister.coachees.models import ContactMoment
    from coachregister.notes.models import CoachingSession
    from coachregister.trajectories.models import Trajectory

    pseudonyms = list(incident.affected.values_list("pseudonym", flat=True))
    trajectories = Trajectory.objects.filter(coachee_pseudonym__in=pseudonyms)
    return (trajectories.count()
            + CoachingSession.objects.filter(trajectory__in=trajectories).count()
            + ContactMoment.objects.filter(trajectory__in=trajectories).count())


def containment_actions(incident: Incident) -> list[Event]:
    """The containment shortcuts taken from the incident page (containment.py)."""
    return list(Event.objects.filter(object_type=INCIDENT, object_id=str(incident.pk),
                                     action__startswith="incidents.containment.")
                .order_by("seq"))


def authority_content(incident: Incident) -> dict[str, object]:
    """What the authority's notification form asks (GDPR 33(3)(a)-(d)), from the register."""
    from coachregister.practice.models import PracticeSettings

    labels = dict(DataCategory.choices)
    people = incident.affected.count()
    return {
        "incident": incident,
        "practice": PracticeSettings.load(),
        "nature": _incident_text(incident, "summary"),
        "categories": [str(labels.get(c, c)) for c in incident.data_categories],
        "people": people,
        "people_approximate": approximate(incident),
        "records": (incident.records_estimate if incident.records_estimate is not None
                    else records_estimate(incident)),
        "records_estimated_by_owner": incident.records_estimate is not None,
        "consequences": _incident_text(incident, "consequences"),
        "measures": _incident_text(incident, "containment"),
        "containment_actions": containment_actions(incident),
        "notifications": list(incident.authority_notifications.all()),
        "now": timezone.now(),
    }


def authority_pdf(*, actor: User, request: HttpRequest | None, incident: Incident) -> bytes:
    """The form's content as a PDF for the owner's file; the download is audited."""
    from coachregister.lib.pdf import render_pdf

    _require_manager(actor)
    pdf = render_pdf("incidents/authority_form_pdf.html", authority_content(incident), "nl")
    with transaction.atomic():
        _audit("incidents.authority_form.downloaded", request, actor, incident)
    return pdf


# --- the coachee notice's template (GDPR 34(2)) ------------------------------------------


def template_missing(parts: dict[str, str]) -> list[str]:
    """What GDPR 34(2) requires and the template lacks, in words (empty: complete): the
    nature of the breach in clear language, the contact point (with a way to reach it), the
    likely consequences and the measures taken or proposed."""
    missing = []
    labels = {
        "nature": _("what happened, in clear language"),
        "consequences": _("the likely consequences"),
        "measures": _("the measures taken or proposed"),
        "contact_point": _("a contact point for more information"),
    }
    for part in PARTS:
        if len((parts.get(part) or "").strip()) < MIN_PART:
            missing.append(labels[part])
    contact = parts.get("contact_point") or ""
    if contact.strip() and not _REACHABLE.search(contact):
        missing.append(_("an email address, telephone number or web address in the contact "
                         "point"))
    return missing


def template_save(
    *, actor: User, request: HttpRequest | None, incident: Incident, language: str,
    nature: str, consequences: str, measures: str, contact_point: str,
) -> NoticeTemplate:
    """The owner writes the notice per language (art. 4.1c: the owner answers for it)."""
    _require_owner(actor)
    if language not in dict(settings.LANGUAGES):
        raise ValidationError(_("Choose a language."))
    parts = {"nature": nature, "consequences": consequences, "measures": measures,
             "contact_point": contact_point}
    missing = template_missing(parts)
    if missing:
        raise ValidationError(
            [_("The notice lacks what GDPR art. 34(2) requires: %(part)s.") % {"part": part}
             for part in missing]
        )
    if _sent(incident):
        raise ValidationError(_("The notices have been sent; the template can no longer "
                                "change."))
    with transaction.atomic():
        template, _created = NoticeTemplate.objects.update_or_create(
            incident=incident, language=language,
            defaults={**{k: v.strip() for k, v in parts.items()}, "edited_by": actor,
                      "edited_at": timezone.now()},
        )
        NoticeSending.objects.filter(incident=incident, confirmed_at__isnull=True).delete()
        _audit("incidents.notice_template.saved", request, actor, incident, language=language)
    return template


# --- the exception of GDPR 34(3) ---------------------------------------------------------


def exception_record(
    *, actor: User, request: HttpRequest | None, incident: Incident, ground: str,
    reasons: str, keys_exposed: bool | None,
) -> NoticeException:
    """Record why the coachees are not told one by one (GDPR 34(3)); the reasons are sealed
    under the incidents register key. 34(3)(a) needs the answer "no" to "were the master key
    or an epoch key exposed?": with them, the encrypted data is intelligible."""
    _require_owner(actor)
    if ground not in NoticeExceptionGround.values:
        raise ValidationError(_("Choose the exception that applies."))
    if ground == NoticeExceptionGround.UNINTELLIGIBLE and keys_exposed is not False:
        raise ValidationError(_("Art. 34(3)(a) applies only if neither the master key nor an "
                                "epoch key was exposed."))
    if len(reasons.strip()) < MIN_PART:
        raise ValidationError(_("Give the reasons for the exception."))
    if _sent(incident):
        raise ValidationError(_("The notices have already been sent."))
    from coachregister.incidents.services import seal

    key_id, reasons_enc = seal("noticeexception", "reasons", reasons.strip())
    with transaction.atomic():
        NoticeException.objects.filter(incident=incident).delete()
        exception = NoticeException.objects.create(
            incident=incident, ground=ground, keys_exposed=keys_exposed, recorded_by=actor,
            key_id=key_id, reasons_enc=reasons_enc,
        )
        NoticeSending.objects.filter(incident=incident, confirmed_at__isnull=True).delete()
        _audit("incidents.notice_exception.recorded", request, actor, incident, ground=ground,
               keys_exposed=keys_exposed)
    return exception


def exception_reasons(exception: NoticeException) -> str:
    from coachregister.incidents.services import text

    return text(exception, "reasons")  # type: ignore[arg-type]


# --- sending ----------------------------------------------------------------------------


def _sent(incident: Incident) -> bool:
    return CoacheeNotice.objects.filter(incident=incident).exists()


def recipients(incident: Incident) -> list[AffectedCoachee]:
    """The affected coachees a notice can reach: still in the register (an erased coachee
    has no address left), each once."""
    return list(incident.affected.filter(coachee__isnull=False).select_related("coachee"))


def languages_lacking(incident: Incident) -> list[str]:
    """The languages of the recipients for which the owner has not written the notice."""
    needed = {a.coachee.language for a in recipients(incident)}
    have = set(incident.notice_templates.values_list("language", flat=True))
    return sorted(needed - have)


def refusals(incident: Incident) -> list[str]:
    """Why the notices cannot be prepared now (empty: they can)."""
    reasons = []
    if incident.risk != Risk.HIGH:
        reasons.append(_("Coachees are told one by one only at a high risk (GDPR art. 34(1))."))
    if hasattr(incident, "notice_exception"):
        reasons.append(_("An exception of GDPR art. 34(3) is recorded: no notices are sent."))
    if _sent(incident):
        reasons.append(_("The notices have been sent."))
    if not recipients(incident):
        reasons.append(_("Select the affected coachees first."))
    lacking = languages_lacking(incident)
    if lacking:
        reasons.append(_("Write the notice in: %(languages)s.") % {
            "languages": ", ".join(str(dict(settings.LANGUAGES)[code]) for code in lacking)})
    return reasons


def sending_prepare(*, actor: User, request: HttpRequest | None, incident: Incident) -> int:
    """First step: record how many coachees will get the notice. Returns that number."""
    _require_manager(actor)
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        problems = refusals(incident)
        if problems:
            raise ValidationError(problems)
        count = len(recipients(incident))
        NoticeSending.objects.filter(incident=incident).delete()
        NoticeSending.objects.create(incident=incident, recipients=count, prepared_by=actor)
        _audit("incidents.notices.prepared", request, actor, incident, recipients=count)
    return count


def second_factor_fresh(request: HttpRequest) -> bool:
    """The user confirmed it is them with their second factor within REAUTH_MINUTES
    (accounts/reauth.py), in this session: a password alone is not a second factor."""
    from coachregister.accounts import reauth

    if not reauth.is_fresh(request):
        return False
    since = timezone.now() - timedelta(minutes=settings.REAUTH_MINUTES)
    return Event.objects.filter(
        action="accounts.reauth.succeeded", actor=request.user, created_at__gte=since,
        detail__method__in=["second_factor", "password_and_second_factor"],
    ).exists()


def sending_confirm(
    *, actor: User, request: HttpRequest | None, incident: Incident, count: int,
    second_factor: bool,
) -> int:
    """Second step: a second person (owner or administrator), or the owner who prepared after
    a fresh second factor, repeats the number of recipients; then each coachee gets exactly
    one mail in their own language. Returns the number queued."""
    _require_manager(actor)
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        sending = (NoticeSending.objects.select_for_update()
                   .filter(incident=incident, confirmed_at__isnull=True).first())
        if sending is None:
            raise ValidationError(_("Prepare the sending first."))
        if sending.prepared_by_id == actor.pk:
            if actor.role != Role.OWNER or not second_factor:
                raise PermissionDenied(_("A second person confirms, or the owner after "
                                         "confirming with the second factor."))
            how = "owner_second_factor"
        else:
            how = "second_person"
        problems = refusals(incident)
        if problems:
            raise ValidationError(problems)
        people = recipients(incident)
        if count != sending.recipients or count != len(people):
            raise ValidationError(_("The number does not match the recipients: prepare the "
                                    "sending again."))
        queued = _queue(incident, people)
        sending.confirmed_at, sending.confirmed_by, sending.confirmed_how = (
            timezone.now(), actor, how)
        sending.save(update_fields=["confirmed_at", "confirmed_by", "confirmed_how"])
        _audit("incidents.notices.sent", request, actor, incident, recipients=queued, how=how,
               prepared_by=sending.prepared_by_id)
    return queued


def _queue(incident: Incident, people: list[AffectedCoachee]) -> int:
    """One mail per coachee through the outbox, in the coachee's language; the mail names
    the coachee's pseudonym so an erasure finds it."""
    from coachregister.coachees import vault
    from coachregister.outbox.services import message_enqueue
    from coachregister.practice.models import PracticeSettings

    templates = {t.language: t for t in incident.notice_templates.all()}
    practice = PracticeSettings.load()
    for affected in people:
        coachee = affected.coachee
        contact = vault.open_contact(coachee)
        template = templates[coachee.language]
        with override(coachee.language):
            body = render_to_string(
                "incidents/mail_coachee_notice.txt",
                {"contact": contact, "template": template, "practice": practice},
            )
            subject = _("Important: an incident concerning your personal data")
        message = message_enqueue(kind=NOTICE_KIND, to=contact.email, subject=subject,
                                  body=body, coachee_pseudonym=coachee.pseudonym)
        CoacheeNotice.objects.create(incident=incident, pseudonym=coachee.pseudonym,
                                     language=coachee.language, message_id=message.pk)
    return len(people)
