"""Receiving requests and extending their deadline (art. 7, 8; GDPR art. 12(3)).

Every date comes from lib/deadlines.py. Requests are free of charge and no ID copy is
stored: identity is checked by the email on file (portal) or as recorded by staff.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from coachregister.audit.services import event_record
from coachregister.coachees import vault
from coachregister.coachees.models import Coachee, RestrictionGround
from coachregister.disclosures import sealed
from coachregister.keys import keyring
from coachregister.lib import crypto, deadlines
from coachregister.outbox.services import message_enqueue
from coachregister.practice import promises
from coachregister.retention import journal
from coachregister.retention.services import erasure_held
from coachregister.rights.models import SEALED, Channel, DataRequest, Kind, Letter
from coachregister.trajectories.access import require_manager

if TYPE_CHECKING:
    from coachregister.accounts.models import User
    from coachregister.disclosures.models import Proposal, Recipient
    from coachregister.notes.models import CoachingSession

COACHEE = "coachee"
CORRECTABLE = ("first_name", "last_name", "email", "phone")
# The field name a journalled correction is sealed under (the coachee's own key).
JOURNAL_CORRECTION = "journal_correction"
MAX_EXTENSION_MONTHS = 2
# GDPR art. 12(3): with an extension, at most three months from receipt in total.
MAX_TERM_MONTHS = 3


def request_checked(
    *,
    actor: User | None,
    coachee: Coachee,
    kind: str,
    channel: str,
    verification: str,
    received_at: datetime | None = None,
    changes: dict[str, str] | None = None,
    restriction_ground: str = "",
    session: CoachingSession | None = None,
    keyword_action: str = "",
    keywords: str = "",
) -> tuple[dict[str, str], str, datetime]:
    """Every check of `request_register` before it writes, so the portal can run them before
    it asks for confirmation (issue 14): the changes, the ground and the moment as they will
    be stored, or a ValidationError with the reason."""
    if actor is not None:
        require_manager(actor)
    elif channel != Channel.PORTAL:
        raise ValidationError(_("Only the portal registers requests without a staff member."))
    if kind not in Kind.values or channel not in Channel.values:
        raise ValidationError(_("Choose the kind of request and how it was received."))
    if kind == Kind.OBJECTION:
        raise ValidationError(
            _("An objection (GDPR art. 21) does not apply here: the register processes no "
              "data on a public task or a legitimate interest. To withdraw a consent, or to "
              "have data corrected, erased or restricted, choose that request; a complaint "
              "goes to the practice or to the Autoriteit Persoonsgegevens.")
        )
    restriction_ground = restriction_ground if kind == Kind.RESTRICTION else ""
    if kind == Kind.RESTRICTION and restriction_ground not in RestrictionGround.values:
        raise ValidationError(_("Choose why restriction is asked (GDPR art. 18(1) a to d)."))
    if not verification.strip():
        raise ValidationError(_("Record how the requester's identity was checked."))
    changes = {k: v.strip() for k, v in (changes or {}).items() if v and v.strip()}
    if any(field not in CORRECTABLE for field in changes):
        raise ValidationError(_("Only name, email address and telephone can be corrected."))
    from coachregister.coachees.validation import CLEANERS

    changes = {field: CLEANERS[field](value) for field, value in changes.items()}
    if session is not None or keyword_action:
        # Art. 8.1: one session's keywords; the new text travels sealed under "keywords".
        changes["keywords"] = _keywords_asked(coachee, kind, session, keyword_action, keywords)
    if kind == Kind.RECTIFICATION and not changes:
        raise ValidationError(_("A correction request states the changes asked for (art. 8.1)."))
    received_at = received_at or timezone.now()
    if received_at > timezone.now():
        raise ValidationError(_("A request cannot be received in the future."))
    return changes, restriction_ground, received_at


def request_register(
    *,
    actor: User | None,
    request: HttpRequest | None,
    coachee: Coachee,
    kind: str,
    channel: str,
    verification: str,
    received_at: datetime | None = None,
    changes: dict[str, str] | None = None,
    restriction_ground: str = "",
    proposal: Proposal | None = None,
    session: CoachingSession | None = None,
    keyword_action: str = "",
    keywords: str = "",
) -> DataRequest:
    """A request as received: by staff from a letter, call or email (actor set), or by the
    coachee in the portal (actor None, channel portal). `proposal`: a correction asked from
    the preview of a prepared disclosure (art. 9.2), which waits for it.

    A restriction request states its ground of GDPR art. 18(1) (art. 8.1, afscherming). An
    objection is no longer registered: GDPR art. 21 covers processing on art. 6(1)(e) or (f),
    which the register has none of (earlier objections stay readable). A further access copy
    carries the practice's fee, if it set one (art. 7.3; GDPR art. 15(3))."""
    changes, restriction_ground, received_at = request_checked(
        actor=actor, coachee=coachee, kind=kind, channel=channel, verification=verification,
        received_at=received_at, changes=changes, restriction_ground=restriction_ground,
        session=session, keyword_action=keyword_action, keywords=keywords,
    )
    with transaction.atomic():
        data_request = DataRequest.objects.create(
            coachee=coachee,
            coachee_pseudonym=coachee.pseudonym,
            kind=kind,
            channel=channel,
            verification_enc=sealed.seal(coachee, SEALED["verification"], verification),
            received_at=received_at,
            answer_due=deadlines.answer_due(received_at),
            legal_due=deadlines.legal_ceiling(received_at),
            changes_enc=vault.encrypt_for(coachee, "request_changes", json.dumps(changes))
            if changes
            else None,
            created_by=actor,
            session=session if "keywords" in changes else None,
            keyword_action=keyword_action if "keywords" in changes else "",
            restriction_ground=restriction_ground,
            fee=further_copy_fee(coachee) if kind == Kind.ACCESS else None,
            proposal=proposal if proposal is not None and proposal.coachee_id == coachee.pk
            else None,
        )
        detail = {"request": data_request.pk, "kind": kind, "channel": channel}
        if data_request.fee is not None:
            detail["fee"] = str(data_request.fee)
        event_record(
            action="rights.request.received",
            request=request,
            actor=actor,
            object_type=COACHEE,
            object_id=coachee.pseudonym,
            detail=detail,
        )
    return data_request


def further_copy_fee(coachee: Coachee) -> Decimal | None:
    """Art. 7.3, GDPR art. 15(3): the first copy is free. Once the coachee received an
    answered access copy (granted or partly), a further one carries the practice's fee for
    administrative costs, if it set one above zero."""
    from coachregister.practice.models import PracticeSettings
    from coachregister.rights.models import Decision

    fee = PracticeSettings.load().further_copy_fee
    if not fee or fee <= 0:
        return None
    had_copy = DataRequest.objects.filter(
        coachee=coachee, kind=Kind.ACCESS, decision__in=[Decision.GRANTED, Decision.PARTLY]
    ).exists()
    return fee if had_copy else None


def request_fee_paid(
    *, actor: User, request: HttpRequest | None, data_request: DataRequest
) -> DataRequest:
    """Record that the fee for a further copy was paid (art. 7.3, GDPR art. 15(3))."""
    require_manager(actor)
    with transaction.atomic():
        locked = DataRequest.objects.select_for_update().get(pk=data_request.pk)
        if locked.fee is None:
            raise ValidationError(_("No fee applies to this request."))
        if locked.fee_paid_at is not None:
            raise ValidationError(_("The fee has already been recorded as paid."))
        locked.fee_paid_at = timezone.now()
        locked.save(update_fields=["fee_paid_at"])
        event_record(
            action="rights.request.fee_paid",
            request=request,
            actor=actor,
            object_type=COACHEE,
            object_id=locked.coachee_pseudonym,
            detail={"request": locked.pk, "fee": str(locked.fee)},
        )
    data_request.fee_paid_at = locked.fee_paid_at
    return data_request


def requested_changes(data_request: DataRequest) -> dict[str, str]:
    if not data_request.changes_enc or data_request.coachee is None:
        return {}
    return json.loads(
        vault.decrypt_for(data_request.coachee, "request_changes", data_request.changes_enc)
    )


def request_extend(
    *,
    actor: User,
    request: HttpRequest | None,
    data_request: DataRequest,
    months: int,
    reasons: str,
) -> DataRequest:
    """GDPR art. 12(3), art. 7.1/7.2/8.2: only where the regulation allows it (the practice
    setting `extension_allowed`, which the generated regulation text follows), up to two more
    months, so at most three months from receipt in total, only with reasons, told to the
    requester within the four weeks the regulation promises. The mail with the reasons goes
    into the outbox in the same transaction, so an extension is never recorded without being
    told. A request extended earlier keeps its dates whatever the setting is now."""
    from coachregister.practice.models import PracticeSettings

    require_manager(actor)
    if not PracticeSettings.load().extension_allowed:
        raise ValidationError(
            _("The privacy regulation does not allow extending the answer term: answer "
              "within four weeks.")
        )
    if not 1 <= months <= MAX_EXTENSION_MONTHS:
        raise ValidationError(_("An extension is one or two months."))
    if not reasons.strip():
        raise ValidationError(_("Give the reasons for the extension; the requester is told."))
    if data_request.decided_at is not None:
        raise ValidationError(_("This request has already been answered."))
    if data_request.extended_until is not None:
        raise ValidationError(_("This request has already been extended."))
    # The reasons are told within the four weeks (answer_due), not only within the legal month.
    if timezone.localdate() > min(data_request.answer_due, data_request.legal_due):
        raise ValidationError(
            _("Too late: an extension must be told within four weeks of receipt.")
        )
    extended_until = deadlines.legal_ceiling(data_request.received_at, months=1 + months)
    if extended_until > deadlines.legal_ceiling(data_request.received_at, months=MAX_TERM_MONTHS):
        raise ValidationError(_("The answer term is at most three months from receipt."))
    coachee = data_request.coachee
    if coachee is None:
        raise ValidationError(_("The coachee's data no longer exists."))
    with transaction.atomic():
        data_request.extended_until = extended_until
        data_request.extension_reasons_enc = sealed.seal(
            coachee, SEALED["extension_reasons"], reasons
        )
        data_request.extension_told_at = timezone.now()
        data_request.save(
            update_fields=["extended_until", "extension_reasons_enc", "extension_told_at"]
        )
        contact = vault.open_contact(coachee)
        with override(coachee.language):  # GDPR art. 12(1): in the coachee's language
            body = render_to_string(
                "rights/mail_extension.txt",
                {
                    "contact": contact,
                    "request": data_request,
                },
            )
            subject = _("Your request: more time needed")
        message_enqueue(
            kind="rights_extension", to=contact.email, subject=subject, body=body,
            coachee_pseudonym=coachee.pseudonym,
        )
        event_record(
            action="rights.request.extended",
            request=request,
            actor=actor,
            object_type=COACHEE,
            object_id=data_request.coachee_pseudonym,
            detail={"request": data_request.pk, "months": months},
        )
    return data_request


def open_requests() -> list[DataRequest]:
    """Unanswered requests, soonest due first (dashboard, art. 4.1d)."""
    pending = DataRequest.objects.filter(decided_at__isnull=True)
    return sorted(pending, key=lambda r: (r.due, r.pk))


# --- deciding and carrying out (art. 7.5, 8.2-8.4) ------------------------------------------


def decision_checked(
    *,
    actor: User,
    data_request: DataRequest,
    decision: str,
    justification: str = "",
    grounds: list[str] | None = None,
    granted_changes: dict[str, str] | None = None,
    restriction_ground: str = "",
) -> tuple[list[str], dict[str, str]]:
    """Every check of `request_decide` before it acts, so the page can run them before it
    asks for confirmation (issue 14): the grounds and the changes to grant, as they will be
    applied, or a ValidationError with the reason."""
    from coachregister.rights.models import Decision, RefusalGround

    require_manager(actor)
    # Grounds belong to a refusal: a granted decision never carries them into its letter.
    grounds = [] if decision == Decision.GRANTED else sorted(set(grounds or []))
    if decision not in Decision.values:
        raise ValidationError(_("Choose the decision."))
    if data_request.decided_at is not None:
        raise ValidationError(_("This request has already been answered."))
    coachee = data_request.coachee
    if coachee is None:
        raise ValidationError(_("The coachee's data no longer exists."))
    if (
        data_request.kind == Kind.ERASURE and decision == Decision.GRANTED
        and erasure_held(coachee)
    ):
        raise ValidationError(
            _("A legal hold stands for this coachee: lift it first, or refuse the erasure "
              "with the reason (GDPR art. 17(3)).")
        )
    if data_request.kind == Kind.ERASURE and decision == Decision.PARTLY:
        raise ValidationError(
            _(
                "Erasure is carried out in full. Where a legal duty requires "
                "keeping data, refuse with the reason and the statute."
            )
        )
    if any(g not in RefusalGround.values for g in grounds):
        raise ValidationError(_("Refusal grounds are a to e of article 7.5."))
    if data_request.kind == Kind.RESTRICTION and decision != Decision.REFUSED:
        if not data_request.restriction_ground:
            data_request.restriction_ground = restriction_ground
        if data_request.restriction_ground not in RestrictionGround.values:
            raise ValidationError(_("Choose why restriction is asked (GDPR art. 18(1) a to d)."))
    if decision != Decision.GRANTED:
        if not justification.strip():
            raise ValidationError(_("Give the reasons for refusing, also in part (art. 8.2)."))
        if data_request.kind in (Kind.ACCESS, Kind.PORTABILITY) and not grounds:
            raise ValidationError(
                _("Access may only be refused on one of the grounds a to e of article 7.5.")
            )
    requested = requested_changes(data_request)
    if data_request.kind == Kind.RECTIFICATION:
        if decision == Decision.GRANTED:
            granted_changes = requested
        elif decision == Decision.PARTLY:
            granted_changes = {
                k: v for k, v in (granted_changes or {}).items() if requested.get(k) == v
            }
            if not granted_changes:
                raise ValidationError(_("Choose which of the requested changes are granted."))
        else:
            granted_changes = {}
    new_email = (granted_changes or {}).get("email")
    if new_email and vault.with_email(new_email).exclude(pk=coachee.pk).exists():
        raise ValidationError(_("Another coachee is registered with this email address; "
                                "resolve that first."))
    return grounds, granted_changes or {}



def request_decide(
    *,
    actor: User,
    request: HttpRequest | None,
    data_request: DataRequest,
    decision: str,
    justification: str = "",
    grounds: list[str] | None = None,
    granted_changes: dict[str, str] | None = None,
    other_form: str = "",
    restriction_ground: str = "",
) -> DataRequest:
    """Decide, carry out what was granted, tell the recipients (art. 8.4), write the letter.
    One transaction: a decision never stands without its effect, its letter and its audit.
    A restriction registered before requests stated their ground gets it here
    (`restriction_ground`, GDPR art. 18(1)); a ground on the request is never replaced."""
    grounds, granted_changes = decision_checked(
        actor=actor, data_request=data_request, decision=decision, justification=justification,
        grounds=grounds, granted_changes=granted_changes, restriction_ground=restriction_ground,
    )
    from coachregister.rights.models import Decision

    coachee = data_request.coachee
    assert coachee is not None  # decision_checked refuses a request whose coachee is gone
    requested = requested_changes(data_request)
    contact = vault.open_contact(coachee)
    with transaction.atomic():
        # Two people deciding at once: the row lock lets only the first one through.
        if DataRequest.objects.select_for_update().get(pk=data_request.pk).decided_at:
            raise ValidationError(_("This request has already been answered."))
        data_request.decision = decision
        data_request.decided_at = timezone.now()
        data_request.decided_by = actor
        data_request.refusal_grounds = ",".join(grounds)
        data_request.justification_enc = sealed.seal(
            coachee, SEALED["justification"], justification
        )
        data_request.other_form_enc = sealed.seal(coachee, SEALED["other_form"], other_form)
        data_request.save()
        told = []
        carried = decision != Decision.REFUSED
        keywords_session = None
        if carried and data_request.kind == Kind.RECTIFICATION:
            granted_changes = dict(granted_changes or {})
            keywords = granted_changes.pop("keywords", None)
            if granted_changes:
                with journal.effect(
                    journal.Effect.CORRECTION, coachee.pseudonym,
                    {"values": vault.encrypt_for(
                        coachee, JOURNAL_CORRECTION, json.dumps(granted_changes)
                    ).hex()},
                ):
                    contact = _rectify(coachee, contact, granted_changes)
            if keywords is not None:
                keywords_session = _keywords_carry_out(actor, request, data_request, keywords)
            told = _tell_recipients(coachee, data_request)
        elif carried and data_request.kind == Kind.RESTRICTION:
            _restrict(coachee, data_request)
            told = _tell_recipients(coachee, data_request)
        event_record(
            action="rights.request.decided",
            request=request,
            actor=actor,
            object_type=COACHEE,
            object_id=data_request.coachee_pseudonym,
            detail={
                "request": data_request.pk,
                "decision": decision,
                "grounds": ",".join(grounds),
                "recipients_told": len(told),
            },
        )
        if carried and data_request.kind == Kind.ERASURE:
            _erase(
                actor=actor,
                request=request,
                coachee=coachee,
                data_request=data_request,
                contact=contact,
            )
        else:
            corrections = None
            if data_request.kind == Kind.RECTIFICATION:
                done = granted_changes if carried else {}
                corrections = (
                    {k: v for k, v in (done or {}).items() if k in CORRECTABLE},
                    [k for k in requested if k in CORRECTABLE and k not in (done or {})],
                )
            letter = _write_letter(
                data_request, coachee, contact, told, keywords_session, corrections
            )
            if not other_form.strip():
                decision_notice(coachee=coachee, contact=contact, letter=letter)
    return data_request


def decision_notice(*, coachee: Coachee, contact: vault.Contact, letter: Letter) -> None:
    """Art. 7.1, 8.2; GDPR art. 12(1), 12(3), 12(4): the coachee is told of every decision,
    in their language, through the outbox, with a single-use portal link that opens on the
    letter. Whatever the channel the request came by (a phone call or a letter as well), and
    also while their data is restricted: the answer is what the law requires, not a use of
    the data (GDPR art. 18(2) does not stop it). Not sent when the coachee asked for another
    form (art. 7.4): the decision records that form instead. Inside the decision's
    transaction, so no decision stands untold."""
    from coachregister.rights import portal

    link = portal.letter_link(coachee, letter)
    data_request = letter.request
    with override(coachee.language):
        body = render_to_string(
            "rights/mail_decision_notice.txt",
            {
                "contact": contact,
                "request": data_request,
                "link": link,
                "days": portal.NOTICE_LINK_VALID.days,
                "start": portal.start_url(),
            },
        )
        subject = _("Our decision on your request")
    message_enqueue(
        kind="rights_decision_notice", to=contact.email, subject=subject, body=body,
        coachee_pseudonym=coachee.pseudonym,
    )


def _keywords_asked(
    coachee: Coachee,
    kind: str,
    session: CoachingSession | None,
    action: str,
    keywords: str,
) -> str:
    """Art. 8.1: a correction request may concern one session's keywords (correct,
    supplement or delete); checked as the notes service will check it when carried out."""
    from coachregister.notes.services import keywords_request_check

    if kind != Kind.RECTIFICATION:
        raise ValidationError(
            _("Keywords are corrected, supplemented or deleted by a correction request.")
        )
    return keywords_request_check(
        coachee=coachee, session=session, action=action, keywords=keywords
    )


def _keywords_carry_out(
    actor: User, request: HttpRequest | None, data_request: DataRequest, keywords: str
) -> CoachingSession | None:
    """Art. 8.3: a granted request about keywords is carried out at once, by the notes
    service (a new version; a deletion destroys the earlier ones). Returns the session whose
    keywords changed, for the letter."""
    from coachregister.notes.services import keywords_on_request

    session = data_request.session
    if session is None:  # the session went with an erasure in the meantime
        return None
    keywords_on_request(
        actor=actor, request=request, session=session, action=data_request.keyword_action,
        keywords=keywords, data_request_id=data_request.pk,
    )
    return session


def _restrict(coachee: Coachee, data_request: DataRequest) -> None:
    """Art. 8.1 (afscherming), GDPR art. 18: from now on the coachee's data is only stored.
    The coachee records since when and on which ground of art. 18(1); the journal carries the
    ground, so a restored backup restricts again on the same ground (retention/backup.py)."""
    ground = data_request.restriction_ground  # checked by request_decide
    now = timezone.now()
    with journal.effect(
        journal.Effect.RESTRICTED, coachee.pseudonym, {"ground": ground, "at": now.isoformat()}
    ):
        coachee.restricted = True
        coachee.restricted_at = now
        coachee.restriction_ground = ground
        coachee.save(update_fields=["restricted", "restricted_at", "restriction_ground"])


def _rectify(coachee: Coachee, contact: vault.Contact, changes: dict[str, str]) -> vault.Contact:
    """Art. 8.3: the granted corrections are carried out at once, in the vault."""
    values = {field: getattr(contact, field) for field in CORRECTABLE}
    values.update(changes)
    new = vault.Contact(**values)
    vault.seal(coachee, new)
    coachee.save(
        update_fields=["first_name_enc", "last_name_enc", "email_enc", "phone_enc", "email_index"]
    )
    return new


def _tell_recipients(
    coachee: Coachee, data_request: DataRequest, queued: list[int] | None = None
) -> list[Recipient]:
    """Art. 8.4: every recipient in the disclosure register gets a notice through the
    outbox, naming our reference for their earlier disclosure (no personal data re-sent)."""
    from coachregister.disclosures.models import Disclosure

    told: list[Recipient] = []
    disclosures = Disclosure.objects.filter(coachee=coachee).select_related("recipient")
    by_recipient: dict[int, list[Disclosure]] = {}
    for disclosure in disclosures:
        by_recipient.setdefault(disclosure.recipient_id, []).append(disclosure)
    for items in by_recipient.values():
        recipient = items[0].recipient
        told.append(recipient)
        if not recipient.email:
            continue
        with override("nl"):
            body = render_to_string(
                "rights/mail_recipient_notice.txt",
                {"recipient": recipient, "disclosures": items, "request": data_request},
            )
            subject = _("Change in personal data you received from us")
        message = message_enqueue(
            kind="rights_recipient_notice", to=recipient.email, subject=subject, body=body,
            coachee_pseudonym=coachee.pseudonym,
        )
        if queued is not None:
            queued.append(message.pk)
    return told


FIELD_LABELS = {
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "email": gettext_lazy("Email address"),
    "phone": gettext_lazy("Telephone number"),
}


def _write_letter(
    data_request: DataRequest,
    coachee: Coachee,
    contact: vault.Contact,
    told: list[Recipient],
    keywords_session: CoachingSession | None = None,
    corrections: tuple[dict[str, str], list[str]] | None = None,
) -> Letter:
    """The decision letter (art. 7, 8.2, 8.3) in the coachee's language. Every label in it,
    the copy's included, is made in that language; a correction letter says field by field
    what was changed (the new value only) and what was not; every remedy is named (GDPR
    art. 12(4)): the practice's complaints procedure, the supervisory authority, the court."""
    from coachregister.complaints.models import ComplaintProcedure
    from coachregister.lib.pdf import render_pdf
    from coachregister.practice.models import PracticeSettings
    from coachregister.rights.models import Letter, RefusalGround

    answer = None
    with override(coachee.language):
        grounds = [
            str(label)
            for value, label in RefusalGround.choices
            if value in data_request.refusal_grounds.split(",")
        ]
        if (
            data_request.kind in (Kind.ACCESS, Kind.PORTABILITY)
            and data_request.decision != "refused"
        ):
            from coachregister.rights.portal import overview

            answer = overview(coachee)  # art. 7.1-7.3: the overview and the complete copy
        changed, unchanged = corrections or ({}, [])
        corrected = [(str(FIELD_LABELS[k]), v) for k, v in changed.items()]
        not_corrected = [str(FIELD_LABELS[k]) for k in unchanged]
    pdf = render_pdf(
        "rights/letter_decision.html",
        {
            "practice": PracticeSettings.load(),
            "contact": contact,
            "request": data_request,
            "grounds": grounds,
            "recipients": told,
            "today": timezone.localdate(),
            "answer": answer,
            "keywords_session": keywords_session,  # art. 8.1: which session changed
            # Art. 7.3, 10.1: the retention and fee the letter states are the settings'.
            "promises": promises.current(),
            "procedure": ComplaintProcedure.load(),
            "corrected": corrected,
            "not_corrected": not_corrected,
        },
        coachee.language,
    )
    key = crypto.new_data_key()
    purpose = letter_purpose(data_request.pk)
    wrapped, epoch_id = keyring.wrap(key, purpose)
    return Letter.objects.create(
        request=data_request, wrapped_key=wrapped, key_id=epoch_id,
        pdf_enc=crypto.encrypt_text(key, pdf_b64(pdf), f"{purpose}:pdf"),
    )


def letter_purpose(request_pk: int) -> str:
    """What a letter's own key is bound to: the letters of this request only."""
    return f"letter:request:{request_pk}"


def pdf_b64(pdf: bytes) -> str:
    import base64

    return base64.b64encode(pdf).decode("ascii")


def letter_pdf(letter: object) -> bytes:
    """Decrypt a stored letter; callers audit the read."""
    import base64

    if letter.wrapped_key is not None:  # type: ignore[attr-defined]
        purpose = letter_purpose(letter.request_id)  # type: ignore[attr-defined]
        key = keyring.unwrap(bytes(letter.wrapped_key), letter.key_id, purpose)  # type: ignore[attr-defined]
        return base64.b64decode(
            crypto.decrypt_text(key, bytes(letter.pdf_enc), f"{purpose}:pdf")  # type: ignore[attr-defined]
        )
    coachee = letter.request.coachee  # type: ignore[attr-defined]
    return base64.b64decode(vault.decrypt_for(coachee, "letter", letter.pdf_enc))  # type: ignore[attr-defined]


def letters_rekey() -> int:
    """Move the letters' keys to the current epoch (the worker, art. 6)."""
    from coachregister.rights.models import Letter

    return keyring.rekey_rows(Letter.objects.all(), lambda row: letter_purpose(row.request_id))


def letters_epochs_in_use() -> set[str]:
    from coachregister.rights.models import Letter

    return keyring.epochs_of(Letter.objects.all())


def copies_destroy(coachee: Coachee) -> int:
    """Keywords were destroyed on the coachee's word (art. 8.1, GDPR 7(3)): the practice's
    own copies of them go too. The stored access and portability letters (the coachee has
    what was sent) are deleted; the requests keep their decisions. Inside the caller's
    transaction. Returns how many letters were destroyed."""
    from coachregister.rights.models import Letter

    destroyed = Letter.objects.filter(
        request__coachee=coachee, request__kind__in=[Kind.ACCESS, Kind.PORTABILITY]
    ).delete()[0]
    if destroyed:
        from coachregister.lib import physical

        physical.checkpoint()
    return destroyed


def _erase(
    *,
    actor: User,
    request: HttpRequest | None,
    coachee: Coachee,
    data_request: DataRequest,
    contact: vault.Contact,
) -> None:
    """Crypto-shredding (art. 6, 8.3): the confirmation goes to the requester first (through
    the outbox, under its own key), then the shredder's erasure scope destroys the data key
    and everything under it, leaving a tombstone; journalled, so a restore cannot undo it.
    The audit events stay; they hold only pseudonyms."""
    from coachregister.complaints.models import ComplaintProcedure
    from coachregister.practice.models import PracticeSettings

    queued: list[int] = []
    told = _tell_recipients(coachee, data_request, queued)
    # No portal remains to hold a letter: the confirmation mail is the letter, with the
    # remedies of GDPR art. 12(4), in the coachee's language.
    with override(coachee.language):
        body = render_to_string(
            "rights/mail_erasure_done.txt",
            {"contact": contact, "recipients": told, "request": data_request,
             "practice": PracticeSettings.load(), "procedure": ComplaintProcedure.load(),
             "today": timezone.now()},
        )
        subject = _("Your data has been erased")
    confirmation = message_enqueue(
        kind="rights_erasure_done", to=contact.email, subject=subject, body=body,
        coachee_pseudonym=coachee.pseudonym,
    )
    from coachregister.retention.models import DestructionReason, Scope
    from coachregister.retention.services import expiry_date
    from coachregister.retention.shredder import shred

    # The pseudonymous rows that stay expire when the retention period would have ended.
    expiry = expiry_date(coachee)
    with journal.effect(journal.Effect.ERASURE, coachee.pseudonym):
        shred(
            pseudonym=coachee.pseudonym, scope=Scope.ERASURE, reason=DestructionReason.REQUEST,
            expiry=expiry, keep_mail=[confirmation.pk, *queued], actor=actor, request=request,
        )
    event_record(
        action="rights.erasure.carried_out",
        request=request,
        actor=actor,
        object_type=COACHEE,
        object_id=data_request.coachee_pseudonym,
        detail={"request": data_request.pk, "recipients_told": len(told)},
    )


# --- reminders (art. 4.1d): run by `coachregister worker` ----------------------------------

REMIND_DAYS = 5


def remind_deadlines() -> int:
    """Mail the administrator (and owners) once when an open request comes within five days
    of its date, and once when it is overdue. The mail names the request, not the person."""
    from django.conf import settings as django_settings
    from django.urls import reverse

    from coachregister.accounts.models import Role, User

    today = timezone.localdate()
    staff = list(
        User.objects.filter(role__in=[Role.ADMINISTRATOR, Role.OWNER], is_active=True).values_list(
            "email", flat=True
        )
    )
    sent = 0
    for data_request in open_requests():
        left = data_request.days_left(today)
        field = (
            "reminded_overdue_at"
            if left < 0
            else "reminded_soon_at"
            if left < REMIND_DAYS
            else None
        )
        if field is None or getattr(data_request, field) is not None:
            continue
        link = django_settings.COACHREGISTER_BASE_URL.rstrip("/") + reverse(
            "rights:detail", args=[data_request.pk]
        )
        with transaction.atomic():
            claimed = DataRequest.objects.filter(
                pk=data_request.pk, **{f"{field}__isnull": True}
            ).update(**{field: timezone.now()})
            if not claimed:
                continue  # another worker sent it
            with override("nl"):
                subject = (
                    _("Overdue: a request has passed its date")
                    if left < 0
                    else _("A request is due within five days")
                )
                body = render_to_string(
                    "rights/mail_reminder.txt",
                    {"request": data_request, "left": left, "link": link},
                )
            for email in staff:
                message_enqueue(kind="rights_reminder", to=email, subject=subject, body=body)
            sent += 1
    return sent


def restriction_lift(*, actor: User, request: HttpRequest | None, coachee: Coachee) -> None:
    """GDPR art. 18(3): the coachee is told before the restriction is lifted; the mail goes
    into the outbox in the same transaction as the lifting."""
    require_manager(actor)
    if not coachee.restricted:
        raise ValidationError(_("This coachee's data is not restricted."))
    contact = vault.open_contact(coachee)
    with transaction.atomic():
        with override(coachee.language):
            body = render_to_string("rights/mail_restriction_lifted.txt", {"contact": contact})
            subject = _("The restriction of your data ends")
        message_enqueue(
            kind="rights_restriction_lifted", to=contact.email, subject=subject, body=body,
            coachee_pseudonym=coachee.pseudonym,
        )
        with journal.effect(journal.Effect.RESTRICTION_LIFTED, coachee.pseudonym):
            coachee.restricted = False
            coachee.restricted_at = None
            coachee.restriction_ground = ""
            coachee.save(update_fields=["restricted", "restricted_at", "restriction_ground"])
        event_record(
            action="rights.restriction.lifted",
            request=request,
            actor=actor,
            object_type=COACHEE,
            object_id=coachee.pseudonym,
        )
