"""Receiving requests and extending their deadline (art. 7, 8; GDPR art. 12(3)).

Every date comes from lib/deadlines.py. Requests are free of charge and no ID copy is
stored: identity is checked by the email on file (portal) or as recorded by staff.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from coachregister.audit.services import event_record
from coachregister.coachees import vault
from coachregister.coachees.models import Coachee
from coachregister.lib import deadlines
from coachregister.outbox.services import message_enqueue
from coachregister.rights.models import Channel, DataRequest, Kind
from coachregister.trajectories.access import require_manager

if TYPE_CHECKING:
    from coachregister.accounts.models import User

COACHEE = "coachee"
CORRECTABLE = ("first_name", "last_name", "email", "phone")
MAX_EXTENSION_MONTHS = 2


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
) -> DataRequest:
    """A request as received: by staff from a letter, call or email (actor set), or by the
    coachee in the portal (actor None, channel portal)."""
    if actor is not None:
        require_manager(actor)
    elif channel != Channel.PORTAL:
        raise ValidationError(_("Only the portal registers requests without a staff member."))
    if kind not in Kind.values or channel not in Channel.values:
        raise ValidationError(_("Choose the kind of request and how it was received."))
    if not verification.strip():
        raise ValidationError(_("Record how the requester's identity was checked."))
    changes = {k: v.strip() for k, v in (changes or {}).items() if v and v.strip()}
    if any(field not in CORRECTABLE for field in changes):
        raise ValidationError(_("Only name, email address and telephone can be corrected."))
    if kind == Kind.RECTIFICATION and not changes:
        raise ValidationError(_("A correction request states the changes asked for (art. 8.1)."))
    received_at = received_at or timezone.now()
    if received_at > timezone.now():
        raise ValidationError(_("A request cannot be received in the future."))
    with transaction.atomic():
        data_request = DataRequest.objects.create(
            coachee=coachee,
            coachee_pseudonym=coachee.pseudonym,
            kind=kind,
            channel=channel,
            verification=verification.strip(),
            received_at=received_at,
            answer_due=deadlines.answer_due(received_at),
            legal_due=deadlines.legal_ceiling(received_at),
            changes_enc=vault.encrypt_for(coachee, "request_changes", json.dumps(changes))
            if changes
            else None,
            created_by=actor,
        )
        event_record(
            action="rights.request.received",
            request=request,
            actor=actor,
            object_type=COACHEE,
            object_id=coachee.pseudonym,
            detail={"request": data_request.pk, "kind": kind, "channel": channel},
        )
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
    """GDPR art. 12(3): up to two more months, only with reasons, told to the requester
    before the first deadline runs out. The mail with the reasons goes into the outbox in the
    same transaction, so an extension is never recorded without being told."""
    require_manager(actor)
    if not 1 <= months <= MAX_EXTENSION_MONTHS:
        raise ValidationError(_("An extension is one or two months."))
    if not reasons.strip():
        raise ValidationError(_("Give the reasons for the extension; the requester is told."))
    if data_request.decided_at is not None:
        raise ValidationError(_("This request has already been answered."))
    if data_request.extended_until is not None:
        raise ValidationError(_("This request has already been extended."))
    if timezone.localdate() > min(data_request.answer_due, data_request.legal_due):
        raise ValidationError(_("Too late: an extension must be told before the first deadline."))
    coachee = data_request.coachee
    if coachee is None:
        raise ValidationError(_("The coachee's data no longer exists."))
    with transaction.atomic():
        data_request.extended_until = deadlines.legal_ceiling(
            data_request.received_at, months=1 + months
        )
        data_request.extension_reasons = reasons.strip()
        data_request.extension_told_at = timezone.now()
        data_request.save(
            update_fields=["extended_until", "extension_reasons", "extension_told_at"]
        )
        contact = vault.open_contact(coachee)
        with override("nl"):
            body = render_to_string(
                "rights/mail_extension.txt",
                {
                    "contact": contact,
                    "request": data_request,
                },
            )
            subject = _("Your request: more time needed")
        message_enqueue(kind="rights_extension", to=contact.email, subject=subject, body=body)
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
