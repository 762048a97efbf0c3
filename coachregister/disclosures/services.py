"""Consents and disclosures (art. 1.10, 9.1; GDPR art. 7): personal data leaves the practice
only with a legal duty or a consent in force for that recipient and purpose, never for a
restricted coachee, and every disclosure is in the register with its basis."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from coachregister.audit.services import event_record
from coachregister.coachees.models import Coachee
from coachregister.disclosures import sealed
from coachregister.disclosures.models import (
    SEALED_CONSENT_PURPOSE,
    SEALED_DISCLOSURE,
    Basis,
    Category,
    Consent,
    Disclosure,
    Method,
    Purpose,
    Recipient,
)
from coachregister.trajectories.access import require_manager

if TYPE_CHECKING:
    from coachregister.accounts.models import User

COACHEE = "coachee"


def recipient_save(
    *,
    actor: User,
    request: HttpRequest | None,
    name: str,
    kind: str,
    email: str = "",
    recipient: Recipient | None = None,
) -> Recipient:
    require_manager(actor)
    with transaction.atomic():
        created = recipient is None
        recipient = recipient or Recipient()
        recipient.name, recipient.kind, recipient.email = name, kind, email
        recipient.full_clean()
        recipient.save()
        event_record(
            action="disclosures.recipient.saved",
            request=request,
            actor=actor,
            object_type="recipient",
            object_id=str(recipient.pk),
            detail={"created": created},
        )
    return recipient


def consent_record(
    *,
    actor: User | None,
    request: HttpRequest | None,
    coachee: Coachee,
    recipient: Recipient,
    disclosure_purpose: str,
    text: str,
    text_version: str,
    method: str,
) -> Consent:
    """Consent of the coachee to a disclosure: to whom, for what, in which words, how given."""
    if actor is not None:
        require_manager(actor)
    if not disclosure_purpose.strip() or not text.strip():
        raise ValidationError(_("Record the purpose and the exact text the coachee agreed to."))
    if method not in Method.values:
        raise ValidationError(_("Record how the consent was given."))
    with transaction.atomic():
        consent = Consent.objects.create(
            coachee=coachee,
            purpose=Purpose.DISCLOSURE,
            recipient=recipient,
            disclosure_purpose_enc=sealed.seal(
                coachee, SEALED_CONSENT_PURPOSE, disclosure_purpose
            ),
            given=True,
            text=text.strip(),
            text_version=text_version,
            method=method,
            recorded_by=actor,
        )
        event_record(
            action="disclosures.consent.given",
            request=request,
            actor=actor,
            object_type=COACHEE,
            object_id=coachee.pseudonym,
            detail={"consent": consent.pk, "recipient": recipient.pk},
        )
    return consent


def consent_withdraw(
    *, actor: User | None, request: HttpRequest | None, consent: Consent
) -> Consent:
    """As easy as giving: one step, by staff on the coachee's word or (later) in the portal.
    It stops future disclosures on this basis; what was disclosed stays in the register."""
    if actor is not None:
        require_manager(actor)
    with transaction.atomic():
        consent = Consent.objects.select_for_update().get(pk=consent.pk)
        if consent.withdrawn_at is None:
            from coachregister.retention import journal

            with journal.effect(
                journal.Effect.CONSENT_WITHDRAWN, consent.coachee.pseudonym,
                {"consent": consent.pk},
            ):
                consent.withdrawn_at = timezone.now()
                consent.save(update_fields=["withdrawn_at"])
            event_record(
                action="disclosures.consent.withdrawn",
                request=request,
                actor=actor,
                object_type=COACHEE,
                object_id=consent.coachee.pseudonym,
                detail={"consent": consent.pk, "purpose": consent.purpose},
            )
    return consent


def disclosure_record(
    *,
    actor: User,
    request: HttpRequest | None,
    coachee: Coachee,
    recipient: Recipient,
    categories: list[str],
    purpose: str,
    basis: str,
    legal_ground: str = "",
    consent: Consent | None = None,
) -> Disclosure:
    """Record (and so allow) one disclosure, or refuse it with the reason."""
    require_manager(actor)
    categories = sorted(set(categories))
    if not categories or any(c not in Category.values for c in categories):
        raise ValidationError(_("Choose which categories of data are disclosed."))
    if not purpose.strip():
        raise ValidationError(_("Record the purpose of the disclosure."))
    coachee = Coachee.objects.get(pk=coachee.pk)
    if coachee.restricted:
        raise ValidationError(
            _("Processing of this coachee's data is restricted: nothing may be disclosed.")
        )
    if basis == Basis.LEGAL_DUTY:
        if not legal_ground.strip():
            raise ValidationError(_("Name the statute or order that requires the disclosure."))
        consent = None
    elif basis == Basis.CONSENT:
        legal_ground = ""
        if consent is None:
            raise ValidationError(_("Choose the coachee's consent that covers this disclosure."))
        consent = Consent.objects.get(pk=consent.pk)
        if consent.withdrawn_at is not None or not consent.given:
            raise ValidationError(
                _("This consent has been withdrawn: it no longer allows a disclosure.")
            )
        if (
            consent.coachee_id != coachee.pk
            or consent.purpose != Purpose.DISCLOSURE
            or consent.recipient_id != recipient.pk
        ):
            raise ValidationError(_("This consent does not cover this recipient."))
    else:
        raise ValidationError(
            _("A disclosure needs a basis: a legal duty or the coachee's consent.")
        )
    with transaction.atomic():
        disclosure = Disclosure.objects.create(
            coachee=coachee,
            coachee_pseudonym=coachee.pseudonym,
            recipient=recipient,
            categories=",".join(categories),
            purpose_enc=sealed.seal(coachee, SEALED_DISCLOSURE["purpose"], purpose),
            basis=basis,
            legal_ground_enc=sealed.seal(coachee, SEALED_DISCLOSURE["legal_ground"], legal_ground),
            consent=consent,
            disclosed_by=actor,
        )
        event_record(
            action="disclosures.disclosure.recorded",
            request=request,
            actor=actor,
            object_type=COACHEE,
            object_id=coachee.pseudonym,
            detail={"disclosure": disclosure.pk, "recipient": recipient.pk, "basis": basis},
        )
    return disclosure


def recipients_of(coachee: Coachee) -> list[Recipient]:
    """Everyone the coachee's data went to (art. 8.4: they are told of corrections)."""
    return list(Recipient.objects.filter(disclosures__coachee=coachee).distinct().order_by("name"))
