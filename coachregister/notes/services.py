"""Writing sessions and keywords (art. 3.1), each in one transaction with its audit event.

The keywords pass the name guard first; a restricted coachee (art. 8, afscherming) gets no new
sessions or edits; without the coachee's consent for keywords (GDPR art. 9(2)(a)) a session
is recorded without them. Audit events never contain keywords.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from coachregister.accounts.models import Role, User
from coachregister.audit.services import event_record
from coachregister.coachees import vault
from coachregister.coachees.models import Coachee, ContactKind, ContactMoment
from coachregister.disclosures import consents
from coachregister.disclosures.models import Purpose
from coachregister.lib import nameguard
from coachregister.notes.models import CoachingSession, KeywordVersion
from coachregister.trajectories.models import Trajectory

TRAJECTORY = "trajectory"
MAX_KEYWORDS = 2000

GUARD_MESSAGES = {
    nameguard.NAME: gettext_lazy("The text contains the coachee's name. Leave names out."),
    nameguard.EMAIL: gettext_lazy("The text contains an email address. Leave it out."),
    nameguard.PHONE: gettext_lazy("The text contains a phone number. Leave it out."),
}


def _person(coachee: Coachee) -> nameguard.Person:
    contact = vault.open_contact(coachee)
    return nameguard.Person(contact.first_name, contact.last_name, contact.email, contact.phone)


def guard(coachee: Coachee, text: str, code: str = "name_guard") -> None:
    """Refuse text that names the coachee or holds contact data; the message names the kind
    of data, never the matching text."""
    found = nameguard.check(text, _person(coachee))
    if found:
        raise ValidationError([ValidationError(GUARD_MESSAGES[kind], code=code) for kind in found])


def _check_writable(actor: User, trajectory: Trajectory) -> Coachee:
    if actor.role != Role.COACH or trajectory.coach_id != actor.pk:
        raise PermissionDenied(_("Only the coach of this trajectory writes its sessions."))
    coachee = trajectory.coachee
    if coachee is None:
        raise ValidationError(_("The coachee has not completed the intake yet."))
    if coachee.restricted:
        raise ValidationError(
            _("Processing of this coachee's data is restricted: no new sessions or changes.")
        )
    return coachee


def _clean_keywords(coachee: Coachee, keywords: str) -> str:
    keywords = keywords.strip()
    if len(keywords) > MAX_KEYWORDS:
        raise ValidationError(_("Keep it to a few keywords (at most 2000 characters)."))
    if keywords and not consents.in_force(coachee, Purpose.SESSION_KEYWORDS):
        raise ValidationError(
            _(
                "The coachee has not given (or has withdrawn) consent for keywords. Record the "
                "session without them."
            )
        )
    if keywords:
        guard(coachee, keywords)
    return keywords


def _aad_field(session: CoachingSession, number: int, what: str) -> str:
    return f"session:{session.pk}:v{number}:{what}"


def session_record(
    *,
    actor: User,
    request: HttpRequest | None,
    trajectory: Trajectory,
    held_on: date,
    kind: str,
    duration_minutes: int,
    keywords: str,
) -> CoachingSession:
    coachee = _check_writable(actor, trajectory)
    if not trajectory.is_open:
        raise ValidationError(_("This trajectory has ended."))
    if held_on > timezone.localdate():
        raise ValidationError(_("A session cannot be in the future."))
    keywords = _clean_keywords(coachee, keywords)
    with transaction.atomic():
        moment = ContactMoment.objects.create(
            trajectory=trajectory,
            kind=ContactKind.SESSION,
            occurred_on=held_on,
            recorded_by=actor,
        )
        session = CoachingSession.objects.create(
            trajectory=trajectory,
            held_on=held_on,
            kind=kind,
            duration_minutes=duration_minutes,
            author=actor,
            contact_moment=moment,
        )
        KeywordVersion.objects.create(
            session=session,
            number=1,
            written_by=actor,
            keywords_enc=vault.encrypt_for(coachee, _aad_field(session, 1, "keywords"), keywords),
        )
        event_record(
            action="notes.session.recorded",
            request=request,
            actor=actor,
            object_type=TRAJECTORY,
            object_id=trajectory.pseudonym,
            detail={"session": session.pk, "with_keywords": bool(keywords)},
        )
    return session


def keywords_edit(
    *, actor: User, request: HttpRequest | None, session: CoachingSession, keywords: str
) -> KeywordVersion:
    """The author's own correction before the lock: the current text is replaced."""
    coachee = _check_writable(actor, session.trajectory)
    if session.author_id != actor.pk:
        raise PermissionDenied(_("Only the author edits these keywords."))
    if session.is_locked():
        raise ValidationError(_("These keywords are locked. Add an amendment with a reason."))
    keywords = _clean_keywords(coachee, keywords)
    with transaction.atomic():
        version = KeywordVersion.objects.select_for_update().get(session=session, number=1)
        if session.versions.count() > 1:
            raise ValidationError(_("These keywords already have an amendment."))
        version.keywords_enc = vault.encrypt_for(
            coachee, _aad_field(session, 1, "keywords"), keywords
        )
        version.written_at = timezone.now()
        version.save(update_fields=["keywords_enc", "written_at"])
        event_record(
            action="notes.keywords.edited",
            request=request,
            actor=actor,
            object_type=TRAJECTORY,
            object_id=session.trajectory.pseudonym,
            detail={"session": session.pk},
        )
    return version


def keywords_amend(
    *,
    actor: User,
    request: HttpRequest | None,
    session: CoachingSession,
    keywords: str,
    reason: str,
) -> KeywordVersion:
    """After the lock: a new version with a reason; the earlier text stays as it was."""
    coachee = _check_writable(actor, session.trajectory)
    if session.author_id != actor.pk:
        raise PermissionDenied(_("Only the author amends these keywords."))
    if not session.is_locked():
        raise ValidationError(_("These keywords can still be edited directly."))
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Give the reason for the amendment."))
    keywords = _clean_keywords(coachee, keywords)
    guard(coachee, reason, code="name_guard_reason")
    with transaction.atomic():
        number = (session.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = KeywordVersion.objects.create(
            session=session,
            number=number,
            written_by=actor,
            keywords_enc=vault.encrypt_for(
                coachee, _aad_field(session, number, "keywords"), keywords
            ),
            reason_enc=vault.encrypt_for(coachee, _aad_field(session, number, "reason"), reason),
        )
        event_record(
            action="notes.keywords.amended",
            request=request,
            actor=actor,
            object_type=TRAJECTORY,
            object_id=session.trajectory.pseudonym,
            detail={"session": session.pk, "version": number},
        )
    return version


def read_version(coachee: Coachee, version: KeywordVersion) -> tuple[str, str]:
    """Decrypt one version: (keywords, reason). Callers are the audited views in notes."""
    session = version.session
    keywords = vault.decrypt_for(
        coachee, _aad_field(session, version.number, "keywords"), version.keywords_enc
    )
    reason = ""
    if version.reason_enc:
        reason = vault.decrypt_for(
            coachee, _aad_field(session, version.number, "reason"), version.reason_enc
        )
    return keywords, reason
