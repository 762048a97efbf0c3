"""Complaints (art. 4.1d, 11): filing, acknowledging and deciding, each in one transaction
with its audit event; the letters, the coachee's mails, the reminders, the automatic hold on
retention, and the complaint file that outlives an erasure (GDPR art. 17(3)(e)).

Every date comes from lib/deadlines.py and the practice's procedure (`ComplaintProcedure`).
Restricted coachees (art. 8.1, GDPR art. 18) still receive the letters and mails: telling the
coachee about their own complaint is not a use of their data that restriction stops.
"""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from coachregister.audit.services import event_record
from coachregister.coachees import vault
from coachregister.complaints.models import (
    SEALED,
    Channel,
    Complaint,
    ComplaintLetter,
    ComplaintProcedure,
    LetterKind,
    Outcome,
    Topic,
)
from coachregister.disclosures import sealed
from coachregister.keys import keyring
from coachregister.lib import crypto, deadlines
from coachregister.outbox.services import message_enqueue
from coachregister.trajectories.access import require_manager

if TYPE_CHECKING:
    from coachregister.accounts.models import User
    from coachregister.coachees.models import Coachee

COACHEE = "coachee"
MAX_TEXT = 5000
# The automatic hold stands until the complaint is closed, whatever its date (art. 10.1).
HOLD_UNTIL = date(9999, 12, 31)
REMIND_DAYS = 5
PROCEDURE_FIELDS = ("acknowledge_days", "decide_weeks", "external_body", "external_body_url",
                    "authority", "authority_url", "claims_years")


def reference(complaint: Complaint) -> str:
    return f"K-{complaint.pk}"


# --- the procedure (art. 11.2) --------------------------------------------------------------


def procedure_save(*, actor: User, request: HttpRequest | None, **values: Any) -> None:
    """The owner sets the practice's complaints procedure (art. 11.2: "door Ballance
    vastgesteld"); complaints received later follow it, earlier ones keep their dates.

    Art. 2, 11.2: the terms are promises of the regulation. Once a regulation is published, a
    longer term to acknowledge or decide (promises.weakening) waits as the open "complaints"
    PendingChange until the version stating it is published; shorter terms and the other
    fields act at once."""
    from django.core.exceptions import PermissionDenied

    from coachregister.accounts.models import Role
    from coachregister.practice import promises
    from coachregister.practice.models import RegulationVersion
    from coachregister.practice.services import pending_merge

    if getattr(actor, "role", None) != Role.OWNER:
        raise PermissionDenied(_("Only an owner sets the complaints procedure."))
    with transaction.atomic():
        procedure = ComplaintProcedure.objects.select_for_update().get(
            pk=ComplaintProcedure.load().pk)
        published = RegulationVersion.objects.exists()
        wanted = sorted(k for k in PROCEDURE_FIELDS
                        if k in values and getattr(procedure, k) != values[k])
        waiting = {k: values[k] for k in wanted if published and promises.weakening(
            "complaints", k, getattr(procedure, k), values[k])}
        if waiting:
            # Validate the waiting terms now: publishing must not fail on them later.
            trial = ComplaintProcedure(**{k: getattr(procedure, k) for k in PROCEDURE_FIELDS})
            for name, value in waiting.items():
                setattr(trial, name, value)
            trial.full_clean(exclude=["singleton", "updated_by"], validate_unique=False)
        changed = [k for k in wanted if k not in waiting]
        for name in changed:
            setattr(procedure, name, values[name])
        procedure.updated_at, procedure.updated_by = timezone.now(), actor
        procedure.full_clean()
        procedure.save()
        event_record(action="complaints.procedure.saved", request=request, actor=actor,
                     object_type="procedure", object_id=str(procedure.pk),
                     detail={"changed": ",".join(changed), "waiting": ",".join(waiting)})
        if published:
            pending_merge(actor=actor, request=request, target="complaints", waiting=waiting,
                          acting=set(changed))


# --- filing (art. 4.1d, 11.1) -----------------------------------------------------------------


def complaint_file(
    *,
    actor: User | None,
    request: HttpRequest | None,
    coachee: Coachee,
    topic: str,
    channel: str,
    text: str,
    received_at: datetime | None = None,
) -> Complaint:
    """A complaint as received: by the coachee in the portal (actor None, channel portal) or
    registered by staff from a call, mail or letter (the channel recorded). Its dates follow
    the procedure; an automatic hold keeps the coachee's data while it is open (art. 10.1)."""
    from coachregister.retention.models import HoldSource
    from coachregister.retention.services import hold_set

    if actor is not None:
        require_manager(actor)
        if channel == Channel.PORTAL:
            raise ValidationError(_("Choose how the complaint was received."))
    elif channel != Channel.PORTAL:
        raise ValidationError(_("Only the portal files complaints without a staff member."))
    if topic not in Topic.values or channel not in Channel.values:
        raise ValidationError(_("Choose what the complaint is about and how it was received."))
    text = text.strip()
    if not text:
        raise ValidationError(_("Describe the complaint."))
    if len(text) > MAX_TEXT:
        raise ValidationError(_("Keep the complaint under 5000 characters."))
    received_at = received_at or timezone.now()
    if received_at > timezone.now():
        raise ValidationError(_("A complaint cannot be received in the future."))
    procedure = ComplaintProcedure.load()
    with transaction.atomic():
        complaint = Complaint.objects.create(
            coachee=coachee, coachee_pseudonym=coachee.pseudonym, topic=topic, channel=channel,
            text_enc=sealed.seal(coachee, SEALED["text"], text), received_at=received_at,
            acknowledge_due=deadlines.complaint_acknowledge_due(
                received_at, procedure.acknowledge_days),
            decide_due=deadlines.complaint_decide_due(received_at, procedure.decide_weeks),
            created_by=actor,
        )
        with override("nl"):  # stored for staff, who read Dutch; names no one
            reason = _("Open complaint %(ref)s") % {"ref": reference(complaint)}
        complaint.hold = hold_set(actor=None, request=request, coachee=coachee, reason=reason,
                                  until=HOLD_UNTIL, source=HoldSource.COMPLAINT)
        complaint.save(update_fields=["hold"])
        event_record(
            action="complaints.complaint.received", request=request, actor=actor,
            object_type=COACHEE, object_id=coachee.pseudonym,
            detail={"complaint": complaint.pk, "topic": topic, "channel": channel,
                    "hold": complaint.hold.pk},
        )
    return complaint


def open_complaints() -> list[Complaint]:
    """Complaints not yet decided, soonest due first (dashboard, art. 4.1d)."""
    return sorted(Complaint.objects.filter(decided_at__isnull=True), key=lambda c: (c.due, c.pk))


# --- acknowledging and deciding (art. 11.2) ---------------------------------------------------


def complaint_acknowledge(
    *, actor: User, request: HttpRequest | None, complaint: Complaint
) -> Complaint:
    """The acknowledgement: a letter in the coachee's language and a mail with a link to the
    portal, where the letter waits (the outbox carries no attachments)."""
    require_manager(actor)
    coachee = complaint.coachee
    if coachee is None:
        raise ValidationError(_("The coachee's data no longer exists: there is no one to "
                                "write to."))
    with transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        if locked.acknowledged_at is not None or locked.decided_at is not None:
            raise ValidationError(_("This complaint has already been acknowledged."))
        complaint.acknowledged_at, complaint.acknowledged_by = timezone.now(), actor
        # The decision's date gets its own reminders.
        complaint.reminded_soon_at = complaint.reminded_overdue_at = None
        complaint.save(update_fields=["acknowledged_at", "acknowledged_by", "reminded_soon_at",
                                      "reminded_overdue_at"])
        letter = _write_letter(complaint, coachee, LetterKind.ACKNOWLEDGEMENT)
        _mail_coachee(complaint, coachee, LetterKind.ACKNOWLEDGEMENT)
        event_record(
            action="complaints.complaint.acknowledged", request=request, actor=actor,
            object_type=COACHEE, object_id=complaint.coachee_pseudonym,
            detail={"complaint": complaint.pk, "letter": letter.pk},
        )
    return complaint


def complaint_decide(
    *, actor: User, request: HttpRequest | None, complaint: Complaint, outcome: str,
    reasons: str,
) -> Complaint:
    """Decide and close: the decision letter (with where to turn next: the external body and
    the supervisory authority), the mail to the coachee, the hold lifted. A file kept apart
    after an erasure now counts down its legal-claims period (GDPR art. 17(3)(e))."""
    from coachregister.retention.models import LegalHold
    from coachregister.retention.services import hold_lift

    require_manager(actor)
    if outcome not in Outcome.values:
        raise ValidationError(_("Choose the decision."))
    if not reasons.strip():
        raise ValidationError(_("Give the reasons for the decision."))
    if len(reasons) > MAX_TEXT:
        raise ValidationError(_("Keep the reasons under 5000 characters."))
    with transaction.atomic():
        # Decided on the locked row as it is now (an erasure may have kept the file apart
        # meanwhile), saving only what the decision changes.
        complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
        if complaint.decided_at is not None:
            raise ValidationError(_("This complaint has already been decided."))
        coachee = complaint.coachee
        complaint.decided_at, complaint.decided_by = timezone.now(), actor
        complaint.outcome = outcome
        if complaint.kept_apart:
            complaint.decision_text_enc = _file_seal(complaint, SEALED["decision_text"], reasons)
            complaint.kept_until = deadlines.complaint_claims_end(
                complaint.decided_at, ComplaintProcedure.load().claims_years)
        else:
            assert coachee is not None  # a file not kept apart still has its coachee
            complaint.decision_text_enc = sealed.seal(coachee, SEALED["decision_text"], reasons)
        complaint.save(update_fields=["decided_at", "decided_by", "outcome",
                                      "decision_text_enc", "kept_until"])
        detail: dict[str, Any] = {"complaint": complaint.pk, "outcome": outcome}
        if coachee is not None:
            detail["letter"] = _write_letter(complaint, coachee, LetterKind.DECISION).pk
            _mail_coachee(complaint, coachee, LetterKind.DECISION)
        # pk=None (no hold) matches no row; Django's type hints refuse None for pk
        hold = LegalHold.objects.filter(
            pk=complaint.hold_id, lifted_at__isnull=True  # type: ignore[misc]
        ).first()
        if hold is not None:
            hold_lift(actor=actor, request=request, hold=hold)
        event_record(
            action="complaints.complaint.decided", request=request, actor=actor,
            object_type=COACHEE, object_id=complaint.coachee_pseudonym, detail=detail,
        )
    return complaint


def _write_letter(complaint: Complaint, coachee: Coachee, kind: str) -> ComplaintLetter:
    """The PDF under its own data key, wrapped by the current key epoch (like the request
    letters, rights/services.py `_write_letter`), so it outlives the coachee's key with the
    complaint file and opens from no copy once the file is gone and its epoch destroyed."""
    from coachregister.lib.pdf import render_pdf
    from coachregister.practice.models import PracticeSettings

    pdf = render_pdf(
        "complaints/letter.html",
        {
            "practice": PracticeSettings.load(),
            "procedure": ComplaintProcedure.load(),
            "contact": vault.open_contact(coachee),
            "complaint": complaint,
            "reference": reference(complaint),
            "kind": kind,
            "today": timezone.localdate(),
        },
        coachee.language,
    )
    key = crypto.new_data_key()
    letter = ComplaintLetter(complaint=complaint, kind=kind)
    letter.wrapped_key, letter.key_id = keyring.wrap(key, letter_purpose(complaint.pk))
    letter.pdf_enc = crypto.encrypt_text(
        key, base64.b64encode(pdf).decode("ascii"), f"{letter_purpose(complaint.pk)}:pdf")
    letter.save()
    return letter


def _mail_coachee(complaint: Complaint, coachee: Coachee, kind: str) -> None:
    """A mail in the coachee's language that a letter waits in the portal: no attachment,
    no complaint text, a link to the portal's start (the coachee signs in from there)."""
    link = django_settings.COACHREGISTER_BASE_URL.rstrip("/") + reverse("rights:portal_start")
    contact = vault.open_contact(coachee)
    with override(coachee.language):
        subject = (_("We received your complaint") if kind == LetterKind.ACKNOWLEDGEMENT
                   else _("Our decision on your complaint"))
        body = render_to_string("complaints/mail_letter.txt", {
            "contact": contact, "kind": kind, "reference": reference(complaint), "link": link})
    message_enqueue(kind=f"complaint_{kind}", to=contact.email, subject=subject, body=body,
                    coachee_pseudonym=coachee.pseudonym)


def letter_purpose(complaint_pk: int) -> str:
    """What a complaint letter's own key is bound to: the letters of this complaint only."""
    return f"letter:complaint:{complaint_pk}"


def letter_pdf(letter: ComplaintLetter) -> bytes:
    """Decrypt a stored letter; callers audit the read."""
    purpose = letter_purpose(letter.complaint_id)
    key = keyring.unwrap(bytes(letter.wrapped_key), letter.key_id, purpose)
    return base64.b64decode(crypto.decrypt_text(key, bytes(letter.pdf_enc), f"{purpose}:pdf"))


# --- reminders (art. 4.1d): run by `coachregister worker` ----------------------------------


def remind_deadlines() -> int:
    """Mail the administrator and the owners once when an open complaint comes within five
    days of its next date (acknowledgement, then decision), and once when it is overdue.
    The mail names the complaint's reference and the pseudonym, never the person."""
    from coachregister.accounts.models import Role, User

    today = timezone.localdate()
    staff = list(User.objects.filter(
        role__in=[Role.ADMINISTRATOR, Role.OWNER], is_active=True).values_list("email", flat=True))
    sent = 0
    for complaint in open_complaints():
        left = complaint.days_left(today)
        field = ("reminded_overdue_at" if left < 0
                 else "reminded_soon_at" if left < REMIND_DAYS else None)
        if field is None or getattr(complaint, field) is not None:
            continue
        link = django_settings.COACHREGISTER_BASE_URL.rstrip("/") + reverse(
            "complaints:detail", args=[complaint.pk])
        with transaction.atomic():
            claimed = Complaint.objects.filter(
                pk=complaint.pk, **{f"{field}__isnull": True}
            ).update(**{field: timezone.now()})
            if not claimed:
                continue  # another worker sent it
            with override("nl"):
                subject = (_("Overdue: a complaint has passed its date") if left < 0
                           else _("A complaint is due within five days"))
                body = render_to_string("complaints/mail_reminder.txt", {
                    "complaint": complaint, "reference": reference(complaint), "left": left,
                    "link": link})
            for email in staff:
                message_enqueue(kind="complaint_reminder", to=email, subject=subject, body=body)
            sent += 1
    return sent


# --- the file kept after an erasure (GDPR art. 17(3)(e)) ------------------------------------


def file_purpose(complaint_pk: int) -> str:
    return f"complaint:{complaint_pk}"


def _file_key(complaint: Complaint) -> bytes:
    assert complaint.wrapped_key is not None  # only for a file kept apart
    return keyring.unwrap(bytes(complaint.wrapped_key), complaint.key_id,
                          file_purpose(complaint.pk))


def _file_seal(complaint: Complaint, field: str, text: str) -> bytes | None:
    text = text.strip()
    if not text:
        return None
    return crypto.encrypt_text(_file_key(complaint), text,
                               f"{file_purpose(complaint.pk)}:{field}")


def file_unseal(complaint: Complaint, field: str, blob: bytes | memoryview) -> str:
    try:
        return crypto.decrypt_text(_file_key(complaint), bytes(blob),
                                   f"{file_purpose(complaint.pk)}:{field}")
    except crypto.DecryptionError:
        return str(sealed.ERASED)


def _still_needed(complaint: Complaint, today: date, years: int) -> bool:
    """Open, or closed less than the legal-claims period ago."""
    if complaint.decided_at is None:
        return True
    return deadlines.complaint_claims_end(complaint.decided_at, years) >= today


def files_on_shred(coachee: Coachee) -> dict[str, int]:
    """Called by the shredder (both scopes) while the coachee's key still opens. A complaint
    that is open, or closed within the legal-claims period, is kept apart: its texts move
    under a key of its own (GDPR art. 17(3)(e)); its letters already have their own keys.
    The others lose their free text and letters with everything else."""
    today = timezone.localdate()
    years = ComplaintProcedure.load().claims_years
    kept = letters = 0
    for complaint in Complaint.objects.filter(coachee=coachee, wrapped_key__isnull=True):
        if _still_needed(complaint, today, years):
            texts = {name: sealed.unseal(coachee, SEALED[name],
                                         getattr(complaint, f"{name}_enc"))
                     for name in SEALED}
            key = crypto.new_data_key()
            complaint.wrapped_key, complaint.key_id = keyring.wrap(
                key, file_purpose(complaint.pk))
            for name, text in texts.items():
                setattr(complaint, f"{name}_enc", _file_seal(complaint, SEALED[name], text))
            if complaint.decided_at is not None:
                complaint.kept_until = deadlines.complaint_claims_end(
                    complaint.decided_at, years)
            complaint.save(update_fields=["wrapped_key", "key_id", "text_enc",
                                          "decision_text_enc", "kept_until"])
            kept += 1
        else:
            letters += ComplaintLetter.objects.filter(complaint=complaint).delete()[0]
            Complaint.objects.filter(pk=complaint.pk).update(
                text_enc=b"" if complaint.text_enc is not None else None,
                decision_text_enc=b"" if complaint.decision_text_enc is not None else None,
            )
    return {"complaint_files_kept": kept, "complaint_letters": letters}


def records_purge(pseudonym: str) -> int:
    """The purge scope: the complaint records of `pseudonym`, except files kept apart whose
    period still runs (the worker shreds those on their day). Returns how many went."""
    today = timezone.localdate()
    done = 0
    for complaint in Complaint.objects.filter(coachee_pseudonym=pseudonym):
        if complaint.kept_apart and (complaint.kept_until is None
                                     or complaint.kept_until >= today):
            continue
        complaint.delete()
        done += 1
    return done


def files_shred_due(today: date | None = None) -> int:
    """The worker: complaint files kept after an erasure whose complaint is closed and whose
    legal-claims period has passed are destroyed with their letters (GDPR art. 17(3)(e)).
    The audit event names the pseudonym and the complaint's number only."""
    from coachregister.lib import physical

    today = today or timezone.localdate()
    done = 0
    due = Complaint.objects.filter(wrapped_key__isnull=False, decided_at__isnull=False,
                                   kept_until__lt=today)
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            complaint = Complaint.objects.select_for_update().filter(pk=pk).first()
            if complaint is None:
                continue  # another worker shredded it
            letters = complaint.letters.count()
            complaint.delete()
            event_record(
                action="complaints.file.shredded", object_type=COACHEE,
                object_id=complaint.coachee_pseudonym,
                detail={"complaint": pk, "letters": letters},
            )
            physical.checkpoint()
        done += 1
    return done


# --- key epochs (art. 6): the worker moves these keys to the current epoch -----------------


def rekey() -> int:
    moved = keyring.rekey_rows(ComplaintLetter.objects.all(),
                               lambda row: letter_purpose(row.complaint_id))
    return moved + keyring.rekey_rows(Complaint.objects.all(),
                                      lambda row: file_purpose(row.pk))


def epochs_in_use() -> set[str]:
    return keyring.epochs_of(ComplaintLetter.objects.all()) | keyring.epochs_of(
        Complaint.objects.all())
