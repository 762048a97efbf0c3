"""Writing sessions and keywords (art. 3.1), each in one transaction with its audit event.

The keywords pass the name guard first; a restricted coachee (art. 8, afscherming) gets no new
sessions or edits; without the coachee's consent for keywords (GDPR art. 9(2)(a)) a session
is recorded without them. Audit events never contain keywords.

Each version is encrypted under its own data key, wrapped by the current key epoch
(keys/keyring.py), so a version that is deleted (a withdrawn consent, a granted request to
delete, art. 8.1; GDPR art. 7(3), 17) opens from no copy once its epoch is destroyed, although
the coachee's data key lives on (art. 6). Versions written before that are under the
coachee's data key; `read_version` opens both.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from coachregister.accounts.models import Role, User
from coachregister.audit.services import event_record
from coachregister.coachees import vault
from coachregister.coachees.models import Coachee, ContactKind, ContactMoment
from coachregister.disclosures import consents
from coachregister.disclosures.models import Consent, Method, Purpose
from coachregister.keys import keyring
from coachregister.lib import crypto, nameguard, physical
from coachregister.notes.models import CoachingSession, KeywordVersion
from coachregister.retention import journal
from coachregister.rights.models import KeywordAction
from coachregister.trajectories.models import Trajectory

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

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


# The same refusals with the words that matched, for the coach's page only (issue 14): the
# coach typed them and knows the name, so saying which word it was helps and discloses nothing.
GUARD_MESSAGES_WORDS = {
    nameguard.NAME: gettext_lazy(
        "The text contains the coachee's name: “%(words)s”. Leave names out."
    ),
    nameguard.EMAIL: gettext_lazy(
        "The text contains an email address: “%(words)s”. Leave it out."
    ),
    nameguard.PHONE: gettext_lazy(
        "The text contains a phone number: “%(words)s”. Leave it out."
    ),
}


def guard(coachee: Coachee, text: str, code: str = "name_guard") -> None:
    """Refuse text that names the coachee or holds contact data (art. 3.1). The message of
    the error names the kind of data, never the matching text, so that nothing that logs an
    exception or writes an audit event can carry it; the words that matched ride along as
    the attribute `matched` of each error, for `guard_message` on the coach's page only."""
    found = nameguard.find(text, _person(coachee))
    if found:
        errors = []
        for finding in found:
            error = ValidationError(GUARD_MESSAGES[finding.kind], code=code)
            error.matched = (finding.kind, finding.text)  # type: ignore[attr-defined]
            errors.append(error)
        raise ValidationError(errors)


def guard_message(error: ValidationError) -> str | ValidationError:
    """The refusal as the coach who wrote the text sees it: with the word that matched, when
    the guard found one (issue 14). Only for rendering into that coach's form."""
    matched = getattr(error, "matched", None)
    if not matched or not matched[1]:
        return error
    kind, words = matched
    return str(GUARD_MESSAGES_WORDS[kind] % {"words": words})


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


def _version_purpose(version: KeywordVersion) -> str:
    """What the version's wrapped key is bound to: it opens this version only."""
    return f"keywords:session:{version.session_id}:v{version.number}"


def _seal_version(version: KeywordVersion, keywords: str, reason: str = "") -> None:
    """Encrypt under a fresh data key of the version's own, wrapped by the current epoch (art.
    6). A new key at every write: an overwritten text left in a dead tuple or the WAL is under
    a key that no living row holds."""
    key = crypto.new_data_key()
    purpose = _version_purpose(version)
    version.wrapped_key, version.key_id = keyring.wrap(key, purpose)
    version.keywords_enc = crypto.encrypt_text(key, keywords, f"{purpose}:keywords")
    version.reason_enc = crypto.encrypt_text(key, reason, f"{purpose}:reason") if reason else None


def _version_create(
    session: CoachingSession, number: int, actor: User, keywords: str, reason: str = ""
) -> KeywordVersion:
    version = KeywordVersion(session=session, number=number, written_by=actor)
    _seal_version(version, keywords, reason)
    version.save()
    return version


def _next_number(session: CoachingSession) -> int:
    return (session.versions.aggregate(n=Max("number"))["n"] or 0) + 1


def _versions_destroy(versions: object, coachee: Coachee) -> int:
    """Delete keyword versions for good (art. 6): the rows go, and on SQLite the WAL is
    truncated once the transaction commits (lib/physical.py), so the bytes leave the files;
    in other copies they are under an epoch that is destroyed in time (keys/keyring.py).
    The practice's own copies of them go too: the stored access letters and the content of
    prepared disclosures (`_copies_destroy`). Inside the caller's transaction. Returns how
    many versions were destroyed."""
    destroyed = versions.delete()[0]  # type: ignore[attr-defined]
    if destroyed:
        _copies_destroy(coachee)
        physical.checkpoint()
    return destroyed


def _copies_destroy(coachee: Coachee) -> None:
    """Art. 8.1, GDPR 7(3): where the destroyed keywords were copied. Stored access letters
    are deleted (rights), and a disclosure that carries keywords loses the content it kept:
    one waiting to be sent is asked of the coachee again, since what they saw is gone."""
    from coachregister.disclosures.models import Category, Proposal, ProposalStatus
    from coachregister.rights.services import copies_destroy

    copies_destroy(coachee)
    with_keywords = Proposal.objects.filter(
        coachee=coachee, categories__contains=Category.KEYWORDS, content_enc__isnull=False
    )
    with_keywords.filter(
        status__in=[ProposalStatus.CONSENTED, ProposalStatus.PAPER]
    ).update(status=ProposalStatus.ASKED, consent=None, answered_at=None)
    with_keywords.update(content_enc=None)


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
        _version_create(session, 1, actor, keywords)
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
        version = KeywordVersion.objects.select_for_update().filter(
            session=session, number=1
        ).first()
        if version is None:  # erased after a withdrawn consent or deleted on request
            raise ValidationError(_("These keywords have been erased."))
        if session.versions.count() > 1:
            raise ValidationError(_("These keywords already have an amendment."))
        _seal_version(version, keywords)
        version.written_at = timezone.now()
        version.save(
            update_fields=["keywords_enc", "reason_enc", "wrapped_key", "key_id", "written_at"]
        )
        physical.checkpoint()  # the replaced text leaves the SQLite files
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
        number = _next_number(session)
        version = _version_create(session, number, actor, keywords, reason)
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
    if version.wrapped_key is not None:
        purpose = _version_purpose(version)
        key = keyring.unwrap(version.wrapped_key, version.key_id, purpose)
        keywords = crypto.decrypt_text(key, version.keywords_enc, f"{purpose}:keywords")
        reason = ""
        if version.reason_enc:
            reason = crypto.decrypt_text(key, version.reason_enc, f"{purpose}:reason")
        return keywords, reason
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


def current_keywords(coachee: Coachee, session: CoachingSession) -> str:
    """The session's latest keywords, or "" when none are left (erased after a withdrawn
    consent). Uses prefetched versions when the caller prefetched them."""
    latest = max(session.versions.all(), key=lambda v: v.number, default=None)
    return read_version(coachee, latest)[0] if latest is not None else ""


# --- key epochs (art. 6): the worker re-wraps each version's key ---------------------------


def rekey(batch_size: int = 200) -> int:
    """Move the keys of keyword versions to the current epoch (the worker, art. 6); versions
    written before versions had keys of their own are sealed under one first."""
    return legacy_reseal(batch_size) + keyring.rekey_rows(
        KeywordVersion.objects.all(), _version_purpose, batch_size=batch_size
    )


def legacy_reseal(batch_size: int = 200) -> int:
    """Seal versions still under the coachee's data key under a key of their own, so that a
    later deletion is bounded by the epochs like every other version (art. 6). The earlier
    ciphertext then lives on only in copies that age out (dead tuples, WAL, backups)."""
    moved = 0
    while True:
        with transaction.atomic():
            rows = list(
                KeywordVersion.objects.select_for_update()
                .filter(wrapped_key__isnull=True, session__trajectory__coachee__isnull=False)
                .select_related("session__trajectory__coachee")[:batch_size]
            )
            for version in rows:
                coachee = version.session.trajectory.coachee
                assert coachee is not None  # the filter above: coachee__isnull=False
                _seal_version(version, *read_version(coachee, version))
                version.save(update_fields=["wrapped_key", "key_id", "keywords_enc",
                                            "reason_enc"])
                moved += 1
        if len(rows) < batch_size:
            return moved


def epochs_in_use() -> set[str]:
    return keyring.epochs_of(KeywordVersion.objects.all())


# --- withdrawing the consent for keywords (GDPR art. 7(3), 17(1)(b)) -----------------------


def kept_consent_text() -> str:
    """The words the coachee agrees to when keeping the existing keywords; shown on the page
    and stored with the consent as proof, in the language shown."""
    from django.template.loader import render_to_string

    return render_to_string("notes/consent_keywords_kept.txt").strip()


def _keyword_consents(coachee: Coachee) -> tuple[Consent | None, Consent | None]:
    """The keyword consent and the narrower keep-the-existing consent, each if in force."""
    given = consents.latest(coachee, Purpose.SESSION_KEYWORDS)
    kept = consents.latest(coachee, Purpose.KEYWORDS_KEPT)
    return (
        given if given is not None and given.in_force else None,
        kept if kept is not None and kept.in_force else None,
    )


def keyword_choices(coachee: Coachee) -> list[str]:
    """What the coachee may choose when withdrawing: "keep" only while the keyword consent
    itself is in force; "erase" while either consent is."""
    given, kept = _keyword_consents(coachee)
    if given is not None:
        return ["erase", "keep"]
    return ["erase"] if kept is not None else []


def keywords_consent_withdraw(
    *, request: HttpRequest | None, coachee: Coachee, erase: bool
) -> Consent | None:
    """The coachee withdraws the consent for keywords (in the portal). No new keywords either
    way. With `erase`, every version of every session is destroyed (the sessions and their
    dates stay: they are contact moments, art. 10), journalled so a restore cannot bring them
    back; otherwise the existing keywords stay for the rest of the trajectory under a new,
    narrower consent (KEYWORDS_KEPT) in the words shown. Withdrawing that narrower consent
    later is the erasure. Returns the narrower consent when one is recorded."""
    from coachregister.disclosures.services import consent_withdraw
    from coachregister.practice.models import RegulationVersion

    with transaction.atomic():
        coachee = Coachee.objects.select_for_update().get(pk=coachee.pk)
        given, kept = _keyword_consents(coachee)
        if given is None and (kept is None or not erase):
            raise ValidationError(_("There is no consent for keywords in force to withdraw."))
        for consent in (given, kept if erase else None):
            if consent is not None:
                consent_withdraw(actor=None, request=request, consent=consent)
        narrower = None
        destroyed = 0
        sessions = list(
            CoachingSession.objects.filter(trajectory__coachee=coachee).values_list(
                "pk", flat=True
            )
        )
        if erase:
            with journal.effect(
                journal.Effect.KEYWORDS_ERASED, coachee.pseudonym, {"sessions": sessions}
            ):
                destroyed = _versions_destroy(
                    KeywordVersion.objects.filter(session__in=sessions), coachee
                )
        else:
            regulation = RegulationVersion.current()
            version = regulation.version if regulation else ""
            with journal.effect(
                journal.Effect.KEYWORDS_KEPT, coachee.pseudonym, {"version": version}
            ):
                narrower = Consent.objects.create(
                    coachee=coachee,
                    trajectory=given.trajectory,  # type: ignore[union-attr]
                    purpose=Purpose.KEYWORDS_KEPT,
                    given=True,
                    text=kept_consent_text(),
                    text_version=version,
                    method=Method.PORTAL,
                )
        event_record(
            action="notes.keywords.consent_withdrawn",
            request=request,
            object_type="coachee",
            object_id=coachee.pseudonym,
            detail={
                "erased": erase,
                "sessions": len(sessions),
                "versions_destroyed": destroyed,
                "kept_consent": narrower.pk if narrower else None,
            },
        )
    return narrower


def keywords_kept_lapse(*, trajectory: Trajectory) -> int:
    """The trajectory ends (art. 10.1): keywords the coachee let stay "for the rest of the
    trajectory" after withdrawing consent (GDPR 7(3)) are now erased, journalled like the
    withdrawal's erasure, and the narrower consent has served. Inside the caller's
    transaction; nothing happens while the full keyword consent is in force again, or when
    the narrower consent belongs to another trajectory. Returns the versions destroyed."""
    coachee = trajectory.coachee
    if coachee is None:
        return 0
    given, kept = _keyword_consents(coachee)
    if kept is None or given is not None or kept.trajectory_id not in (None, trajectory.pk):
        return 0
    from coachregister.disclosures.services import consent_withdraw

    sessions = list(trajectory.sessions.values_list("pk", flat=True))
    with journal.effect(journal.Effect.KEYWORDS_ERASED, coachee.pseudonym,
                        {"sessions": sessions}):
        destroyed = _versions_destroy(
            KeywordVersion.objects.filter(session__in=sessions), coachee
        )
    consent_withdraw(actor=None, request=None, consent=kept)
    event_record(action="notes.keywords.kept_lapsed", object_type=TRAJECTORY,
                 object_id=trajectory.pseudonym,
                 detail={"sessions": len(sessions), "versions_destroyed": destroyed})
    return destroyed


def keywords_kept_reapply(coachee: Coachee, data: dict[str, Any], when: datetime) -> bool:
    """After a restore (retention/backup.py): the narrower consent under which the coachee
    let the existing keywords stay is recorded again if the backup predates it."""
    if Consent.objects.filter(coachee=coachee, purpose=Purpose.KEYWORDS_KEPT).exists():
        return False
    Consent.objects.create(
        coachee=coachee, purpose=Purpose.KEYWORDS_KEPT, given=True, text=kept_consent_text(),
        text_version=str(data.get("version", "")), method=Method.PORTAL, recorded_at=when,
    )
    return True


# --- keywords on request (art. 8.1, 8.3) ---------------------------------------------------

REQUEST_REASONS: dict[str, StrPromise] = {
    KeywordAction.CORRECT: gettext_lazy("Corrected at the coachee's request (art. 8.1)."),
    KeywordAction.SUPPLEMENT: gettext_lazy("Supplemented at the coachee's request (art. 8.1)."),
    KeywordAction.DELETE: gettext_lazy(
        "Deleted at the coachee's request (art. 8.1); the earlier versions are destroyed."
    ),
}


def keywords_request_check(
    *, coachee: Coachee, session: CoachingSession | None, action: str, keywords: str
) -> str:
    """A request about one session's keywords (art. 8.1): the session is the coachee's, the
    action one of correct, supplement, delete; a correction or supplement states its text,
    which passes the name guard and needs a keyword consent in force (the kept one will do).
    Returns the cleaned text ("" for a deletion). Run when the request is registered and
    again when it is carried out."""
    if session is None or session.trajectory.coachee_id != coachee.pk:
        raise ValidationError(
            _("Choose the session whose keywords are meant."), code="keyword_session"
        )
    if action not in KeywordAction.values:
        raise ValidationError(
            _("Choose what should happen to the keywords."), code="keyword_action"
        )
    if action == KeywordAction.DELETE:
        return ""
    keywords = keywords.strip()
    if not keywords:
        raise ValidationError(
            _("State the corrected keywords or what should be added."), code="keywords"
        )
    if len(keywords) > MAX_KEYWORDS:
        raise ValidationError(_("Keep it to a few keywords (at most 2000 characters)."))
    if not any(_keyword_consents(coachee)):
        raise ValidationError(
            _("Without consent for keywords, keywords can only be deleted."), code="keywords"
        )
    guard(coachee, keywords)
    return keywords


def keywords_on_request(
    *,
    actor: User,
    request: HttpRequest | None,
    session: CoachingSession,
    action: str,
    keywords: str,
    data_request_id: int | None = None,
) -> KeywordVersion:
    """Carry out a granted request about one session's keywords at once (art. 8.1, 8.3),
    whatever the lock: a new version by the deciding staff member with the reason "at the
    coachee's request". A correction replaces the text, a supplement adds to it; a deletion
    destroys every earlier version (rows deleted, journalled so a restore cannot bring them
    back) and leaves a version without keywords that says why. Inside the decision's
    transaction when called from it."""
    coachee = session.trajectory.coachee
    if coachee is None:
        raise ValidationError(_("The coachee's data no longer exists."))
    keywords = keywords_request_check(
        coachee=coachee, session=session, action=action, keywords=keywords
    )
    with transaction.atomic():
        session = CoachingSession.objects.select_for_update().get(pk=session.pk)
        number = _next_number(session)
        with override("nl"):  # stored in the register's language, like the letters' record
            reason = str(REQUEST_REASONS[action])
        destroyed = 0
        if action == KeywordAction.SUPPLEMENT:
            current = current_keywords(coachee, session)
            keywords = f"{current}\n{keywords}" if current else keywords
            if len(keywords) > MAX_KEYWORDS:
                raise ValidationError(_("Keep it to a few keywords (at most 2000 characters)."))
        if action == KeywordAction.DELETE:
            with journal.effect(
                journal.Effect.KEYWORDS_DELETED, coachee.pseudonym,
                {"session": session.pk, "number": number, "by": actor.pk},
            ):
                destroyed = _versions_destroy(session.versions.all(), coachee)
                version = _version_create(session, number, actor, "", reason)
        else:
            version = _version_create(session, number, actor, keywords, reason)
        event_record(
            action="notes.keywords.changed_on_request",
            request=request,
            actor=actor,
            object_type=TRAJECTORY,
            object_id=session.trajectory.pseudonym,
            detail={
                "session": session.pk,
                "version": number,
                "action": action,
                "request": data_request_id,
                "versions_destroyed": destroyed,
            },
        )
    return version


# --- the rights journal after a restore (retention/backup.py) -------------------------------


def keywords_erased_reapply(coachee: Coachee, data: dict[str, Any]) -> bool:
    """Destroy again what a restored backup brought back of an erasure after a withdrawn
    consent. Idempotent: False when nothing was left."""
    sessions = data.get("sessions") or []
    return bool(
        _versions_destroy(
            KeywordVersion.objects.filter(
                session__in=sessions, session__trajectory__coachee=coachee
            ),
            coachee,
        )
    )


def keywords_deleted_reapply(coachee: Coachee, data: dict[str, Any]) -> bool:
    """The same for a granted deletion: the versions before the deletion's own go again, and
    the version that says why comes back when the backup predates it."""
    # pk=None (a key missing from the entry) matches no row; Django's type hints refuse None for pk
    session = CoachingSession.objects.filter(
        pk=data.get("session"), trajectory__coachee=coachee  # type: ignore[misc]
    ).first()
    if session is None:
        return False
    number = int(data["number"])
    changed = bool(_versions_destroy(session.versions.filter(number__lt=number), coachee))
    author = User.objects.filter(pk=data.get("by")).first()  # type: ignore[misc]  # as above
    if author is not None and not session.versions.filter(number=number).exists():
        with override("nl"):
            reason = str(REQUEST_REASONS[KeywordAction.DELETE])
        _version_create(session, number, author, "", reason)
        changed = True
    return changed
