"""An answer for everyone (art. 7.1, "een ieder"): anyone may ask whether the practice
processes their data, also someone who is not in the register.

The public form on the portal's start page stores a request and nothing else, whatever the
address: a `DataRequest` (access, portal, no coachee) whose requester details (name, email
address, what they ask) are sealed under a fresh key of the request itself, wrapped by the
current key epoch (keys/keyring.py), like a portal look-up. The page and the SQL of the
request are the same for a known and an unknown address (art. 6); the worker matches it
(`inquiries_process`):

* the address belongs to a coachee: the request is linked to them and follows the normal
  access road; the answer goes only to the address on file. The typed name and address are
  dropped; what they asked is sealed under the coachee's own key.
* nobody: it stays an unknown-requester request. Before the answer "we hold no data about
  you", the administrator confirms the coaches' mailboxes and paper files were checked
  (art. 10.1, 12.1; `inquiry_mailboxes_checked`); only then `inquiry_answer` mails it.
  `PracticeSettings.unknown_requester_days` after the answer the worker destroys the details
  and their key, leaving the pseudonymous record: received, answered, by whom.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from coachregister.audit.services import event_record
from coachregister.coachees import vault
from coachregister.disclosures import sealed
from coachregister.keys import keyring
from coachregister.lib import crypto, deadlines, physical
from coachregister.outbox.services import message_enqueue
from coachregister.rights.models import SEALED, Channel, DataRequest, Decision, Kind
from coachregister.trajectories.access import require_manager

if TYPE_CHECKING:
    from coachregister.accounts.models import User
    from coachregister.coachees.models import Coachee
    from coachregister.practice.models import PracticeSettings

log = logging.getLogger(__name__)

PURPOSE = "rights:inquiry"
OBJECT = "request"  # audit object type of a request without a coachee: named by its id
# The vault field (under the coachee's key) of what a matched requester asked.
QUESTION_FIELD = "request_question"
# How identity is checked once matched: recorded in the request like any other (art. 12(6)).
MATCHED_VERIFICATION = (
    "asked through the public form; matched by the email address on file, "
    "to which alone the answer goes"
)


@dataclass(frozen=True)
class Details:
    name: str
    email: str
    question: str

    def __repr__(self) -> str:  # keep personal data out of tracebacks and logs
        return "Details(…)"


def _aad(what: str) -> str:
    return f"{PURPOSE}:{what}"


def is_unknown(data_request: DataRequest) -> bool:
    """A request from someone the worker found nowhere in the register (or not yet looked
    up). An erased coachee's requests keep their pseudonym, so they are not this."""
    return data_request.coachee_id is None and data_request.coachee_pseudonym == ""


def inquiry_receive(
    *, request: HttpRequest | None, name: str, email: str, question: str = ""
) -> DataRequest:
    """Store the question of anyone (art. 7.1). The same statements run whatever the address:
    one request row, sealed under its own key, and one event naming only the request."""
    data_key = crypto.new_data_key()
    wrapped, epoch_id = keyring.wrap(data_key, PURPOSE)
    details = json.dumps({"name": name.strip(), "email": email.strip(),
                          "question": question.strip()})
    now = timezone.now()
    with transaction.atomic():
        data_request = DataRequest.objects.create(
            coachee=None,
            coachee_pseudonym="",
            kind=Kind.ACCESS,
            channel=Channel.PORTAL,
            received_at=now,
            answer_due=deadlines.answer_due(now),
            legal_due=deadlines.legal_ceiling(now),
            requester_enc=crypto.encrypt_text(data_key, details, _aad("details")),
            requester_key=wrapped,
            requester_key_id=epoch_id,
        )
        event_record(action="rights.inquiry.received", request=request, object_type=OBJECT,
                     object_id=str(data_request.pk))
    return data_request


def details(data_request: DataRequest) -> Details | None:
    """The requester's details while their key exists; None after (or when linked)."""
    if data_request.coachee_id is not None or not data_request.requester_key:
        return None
    try:
        key = keyring.unwrap(bytes(data_request.requester_key), data_request.requester_key_id,
                             PURPOSE)
        values = json.loads(
            crypto.decrypt_text(key, bytes(data_request.requester_enc), _aad("details"))
        )
    except crypto.DecryptionError:
        return None
    return Details(values["name"], values["email"], values.get("question", ""))


def question(data_request: DataRequest) -> str:
    """What the requester asked: under the coachee's key once linked, else in the details."""
    if data_request.coachee_id is not None:
        return sealed.unseal(data_request.coachee, QUESTION_FIELD, data_request.requester_enc)
    found = details(data_request)
    return found.question if found else ""


# --- the worker: matching and destroying ------------------------------------------------------


def _waiting() -> QuerySet[DataRequest]:
    """Requests from the public form the worker has not looked up yet."""
    return DataRequest.objects.filter(
        coachee__isnull=True, coachee_pseudonym="", requester_key__isnull=False,
        looked_up_at__isnull=True, decided_at__isnull=True,
    )


def _link(data_request: DataRequest, coachee: Coachee, asked: str) -> None:
    """The requester is a coachee: the request becomes theirs (the normal access road). The
    typed name and address are dropped with their key; the answer goes to the address on
    file."""
    data_request.coachee = coachee
    data_request.coachee_pseudonym = coachee.pseudonym
    data_request.verification_enc = sealed.seal(coachee, SEALED["verification"],
                                                MATCHED_VERIFICATION)
    data_request.requester_enc = sealed.seal(coachee, QUESTION_FIELD, asked)
    data_request.requester_key = None
    data_request.requester_key_id = ""
    data_request.looked_up_at = timezone.now()
    data_request.save(update_fields=["coachee", "coachee_pseudonym", "verification_enc",
                                     "requester_enc", "requester_key", "requester_key_id",
                                     "looked_up_at"])
    event_record(action="rights.inquiry.matched", object_type="coachee",
                 object_id=coachee.pseudonym, detail={"request": data_request.pk})


def _match(pk: int) -> bool:
    with transaction.atomic():
        data_request = _waiting().select_for_update().filter(pk=pk).first()
        if data_request is None:
            return False  # another worker has it
        found = details(data_request)
        if found is None:
            log.warning("request %s: the requester's details cannot be opened", pk)
            return False
        coachee = vault.with_email(found.email).first()
        if coachee is not None:
            _link(data_request, coachee, found.question)
        else:
            data_request.looked_up_at = timezone.now()
            data_request.save(update_fields=["looked_up_at"])
            event_record(action="rights.inquiry.unknown", object_type=OBJECT,
                         object_id=str(pk))
    return True


def details_destroy_due(now: object = None) -> int:
    """Destroy the details of unknown requesters answered `unknown_requester_days` ago: the
    sealed text and its key go, the pseudonymous record stays (art. 7.1, 10)."""
    from coachregister.practice.models import PracticeSettings

    now = now or timezone.now()
    cutoff = now - timedelta(days=PracticeSettings.load().unknown_requester_days)
    due = list(DataRequest.objects.filter(
        coachee__isnull=True, coachee_pseudonym="", requester_key__isnull=False,
        decided_at__lt=cutoff,
    ).values_list("pk", flat=True))
    for pk in due:
        with transaction.atomic():
            DataRequest.objects.filter(pk=pk).update(
                requester_enc=None, requester_key=None, requester_key_id="",
                details_destroyed_at=timezone.now(),
            )
            event_record(action="rights.inquiry.details_destroyed", object_type=OBJECT,
                         object_id=str(pk))
    if due:
        physical.checkpoint_quietly()  # the deleted bytes leave the SQLite WAL too (art. 6)
    return len(due)


def inquiries_process(limit: int = 100) -> int:
    """The worker's pass (art. 7.1): match new questions to the register, destroy details
    whose time has come. Returns how many questions were looked up."""
    matched = 0
    for pk in _waiting().order_by("id").values_list("pk", flat=True)[:limit]:
        try:
            matched += _match(pk)
        except Exception as exc:  # one bad row does not stop the worker
            log.warning("request %s not looked up: %s", pk, type(exc).__name__)
    details_destroy_due()
    return matched


# --- the administrator's answer ---------------------------------------------------------------


def _open_unknown(data_request: DataRequest) -> DataRequest:
    """Locked, and still an open unknown-requester request."""
    locked = DataRequest.objects.select_for_update().get(pk=data_request.pk)
    if not is_unknown(locked):
        raise ValidationError(_("This request is from someone in the register."))
    if locked.decided_at is not None:
        raise ValidationError(_("This request has already been answered."))
    if locked.looked_up_at is None:
        raise ValidationError(_("The register has not been searched for this address yet; "
                                "try again in a minute."))
    return locked


def inquiry_mailboxes_checked(
    *, actor: User, request: HttpRequest | None, data_request: DataRequest
) -> DataRequest:
    """The administrator confirms the coaches' mailboxes and paper files were checked for
    this person (art. 10.1, 12.1): only then may "we hold no data" be answered."""
    require_manager(actor)
    with transaction.atomic():
        locked = _open_unknown(data_request)
        if locked.mailboxes_checked_at is not None:
            raise ValidationError(_("The mailboxes and paper files were already confirmed."))
        locked.mailboxes_checked_at = timezone.now()
        locked.mailboxes_checked_by = actor
        locked.save(update_fields=["mailboxes_checked_at", "mailboxes_checked_by"])
        event_record(action="rights.inquiry.mailboxes_checked", request=request, actor=actor,
                     object_type=OBJECT, object_id=str(locked.pk))
    return locked


def inquiry_answer(
    *, actor: User, request: HttpRequest | None, data_request: DataRequest
) -> DataRequest:
    """Answer "we hold no data about you" to the address given (art. 7.1), through the
    outbox in the same transaction as the decision."""
    from coachregister.practice.models import PracticeSettings

    require_manager(actor)
    with transaction.atomic():
        locked = _open_unknown(data_request)
        if locked.mailboxes_checked_at is None:
            raise ValidationError(_("First confirm that the coaches' mailboxes and paper "
                                    "files were checked."))
        found = details(locked)
        if found is None:
            raise ValidationError(_("The requester's details can no longer be read."))
        # Searched again now: someone who did an intake since the worker's pass is in the
        # register and must not be told otherwise; their request joins the access road.
        coachee = vault.with_email(found.email).first()
        if coachee is not None:
            _link(locked, coachee, found.question)
        else:
            _answer_none(actor, request, locked, found, PracticeSettings.load())
    if coachee is not None:
        raise ValidationError(_("This person is in the register now: the request has "
                                "become theirs. Answer it as an access request."))
    return locked


def _answer_none(actor: User, request: HttpRequest | None, locked: DataRequest,
                 found: Details, practice: PracticeSettings) -> None:
    """Mail "we hold no data about you" and decide the request, in the caller's transaction."""
    with override("nl"):
        body = render_to_string("rights/mail_inquiry_answer.txt", {
            "details": found, "request": locked, "practice": practice,
            "days": practice.unknown_requester_days,
        })
        subject = _("Your question about your personal data")
    message_enqueue(kind="rights_inquiry_answer", to=found.email, subject=subject,
                    body=body)
    locked.decision = Decision.GRANTED
    locked.decided_at = timezone.now()
    locked.decided_by = actor
    locked.save(update_fields=["decision", "decided_at", "decided_by"])
    event_record(action="rights.inquiry.answered", request=request, actor=actor,
                 object_type=OBJECT, object_id=str(locked.pk))


def for_detail(request: HttpRequest, data_request: DataRequest) -> dict[str, object] | None:
    """What the request's staff page shows of a question from the public form; opening the
    requester's details is a read of personal data, so it is audited."""
    if is_unknown(data_request):
        found = details(data_request)
        if found is not None:
            event_record(action="rights.inquiry.viewed", request=request, object_type=OBJECT,
                         object_id=str(data_request.pk))
        return {
            "unknown": True,
            "details": found,
            "looked_up": data_request.looked_up_at is not None,
        }
    asked = question(data_request) if data_request.requester_enc else ""
    return {"unknown": False, "question": asked} if asked else None


# --- key epochs (art. 6): the worker moves the request keys along -----------------------------


def rekey(batch_size: int = 200) -> int:
    """Move the keys of unknown requesters' details to the current epoch (the worker)."""
    return keyring.rekey_rows(DataRequest.objects.exclude(requester_key_id=""),
                              lambda _row: PURPOSE, key_field="requester_key",
                              id_field="requester_key_id", batch_size=batch_size)


def epochs_in_use() -> set[str]:
    return keyring.epochs_of(DataRequest.objects.exclude(requester_key_id=""),
                             key_field="requester_key", id_field="requester_key_id")
