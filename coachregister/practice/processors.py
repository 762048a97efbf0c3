"""The processors register (art. 13; GDPR art. 28, 30(1)(d)-(e), 44-46).

The practice uses processors for its email and files, for sending mail, for hosting the
register and for its backups. Each is written down here with its processing agreement, where
it stores the data, and, when data go to a country outside the EEA, the basis of that
transfer. Only an owner changes this list (art. 1.4: the owners decide how the practice
processes data); the administrator reads it. Every change is one transaction with its audit
event (the processor's id only, never a name) and refreshes the dated record of processing
activities (practice/record.py), because that record lists the processors and transfers.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from coachregister.audit.services import event_record
from coachregister.practice.models import Processor, ProcessorService, TransferBasis

if TYPE_CHECKING:
    from coachregister.accounts.models import User

OBJECT = "processor"
REQUIRED = ("name", "agreement_name", "storage_location", "data_categories", "breach_contact")
FIELDS = (
    "name", "service", "agreement_name", "agreement_version", "agreement_date",
    "storage_location", "third_country", "transfer_basis", "data_categories",
    "breach_contact", "next_review",
)


def require_owner(actor: User | None) -> None:
    """Art. 1.4: the owners decide on processors. `None` is the operator's setup command."""
    if actor is not None and actor.role != "owner":
        raise PermissionDenied(_("Only an owner changes the processors register."))


def _clean(values: dict[str, Any], *, review_changed: bool) -> dict[str, Any]:
    """Normalise and check the values; every problem at once, each at its field.

    GDPR art. 44-46: data may go to a country outside the EEA only on a basis (an adequacy
    decision, the Data Privacy Framework, standard contractual clauses, binding corporate
    rules); a processor that keeps the data inside the EEA has no transfer to justify."""
    cleaned = dict(values)
    for field in ("name", "agreement_name", "agreement_version", "storage_location",
                  "third_country", "breach_contact"):
        if field in cleaned:
            cleaned[field] = " ".join(str(cleaned[field] or "").split())
    cleaned["data_categories"] = str(cleaned.get("data_categories") or "").strip()
    errors: dict[str, str] = {}
    for field in REQUIRED:
        if not cleaned.get(field):
            errors[field] = _("This field is required.")
    if cleaned.get("service") not in ProcessorService.values:
        errors["service"] = _("Choose the service the processor provides.")
    basis = cleaned.get("transfer_basis") or TransferBasis.NONE
    cleaned["transfer_basis"] = basis
    if basis not in TransferBasis.values:
        errors["transfer_basis"] = _("Choose the transfer basis from the list.")
    elif cleaned.get("third_country") and basis == TransferBasis.NONE:
        errors["transfer_basis"] = _(
            "Data go to a country outside the EEA: choose the basis of that transfer."
        )
    elif not cleaned.get("third_country") and basis != TransferBasis.NONE:
        errors["transfer_basis"] = _(
            "No country outside the EEA is named: choose \"no transfer outside the EEA\", "
            "or name the country."
        )
    review = cleaned.get("next_review")
    if not isinstance(review, date):
        errors["next_review"] = _("Give the date of the next review.")
    elif review_changed and review < timezone.localdate():
        errors["next_review"] = _("The next review cannot be in the past.")
    if errors:
        raise ValidationError(errors)
    return cleaned


def _record_refresh() -> None:
    from coachregister.practice.record import snapshot_if_changed

    snapshot_if_changed()


def processor_add(
    *, actor: User | None, request: HttpRequest | None, name: str, service: str,
    agreement_name: str, storage_location: str, data_categories: str, breach_contact: str,
    next_review: date, agreement_version: str = "", agreement_date: date | None = None,
    third_country: str = "", transfer_basis: str = TransferBasis.NONE,
) -> Processor:
    """Art. 13: a processor the practice starts using, with its agreement as data."""
    require_owner(actor)
    values = _clean({
        "name": name, "service": service, "agreement_name": agreement_name,
        "agreement_version": agreement_version, "agreement_date": agreement_date,
        "storage_location": storage_location, "third_country": third_country,
        "transfer_basis": transfer_basis, "data_categories": data_categories,
        "breach_contact": breach_contact, "next_review": next_review,
    }, review_changed=True)
    with transaction.atomic():
        processor = Processor(**values)
        processor.full_clean()
        processor.save()
        event_record(
            action="practice.processor.added", request=request, actor=actor,
            object_type=OBJECT, object_id=str(processor.pk),
            detail={"service": processor.service, "transfer_basis": processor.transfer_basis},
        )
        _record_refresh()
    return processor


def processor_update(
    *, actor: User | None, request: HttpRequest | None, processor: Processor, **values: Any
) -> Processor:
    """Change a processor's details (a new agreement version, another storage location, a
    review done). The audit event names the fields changed, not their values. A review
    date already passed may stay as it is, but is not set anew to a day in the past."""
    require_owner(actor)
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown processor fields: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        processor = Processor.objects.select_for_update().get(pk=processor.pk)
        if not processor.active:
            raise ValidationError(_("This processor has been retired."))
        merged = {field: getattr(processor, field) for field in FIELDS}
        merged.update(values)
        cleaned = _clean(merged, review_changed=merged["next_review"] != processor.next_review)
        changed = [f for f in FIELDS if getattr(processor, f) != cleaned[f]]
        if changed:
            for field in changed:
                setattr(processor, field, cleaned[field])
            processor.full_clean()
            processor.save()
            event_record(
                action="practice.processor.changed", request=request, actor=actor,
                object_type=OBJECT, object_id=str(processor.pk),
                detail={"fields": ",".join(sorted(changed))},
            )
            _record_refresh()
    return processor


def processor_retire(
    *, actor: User | None, request: HttpRequest | None, processor: Processor
) -> Processor:
    """The practice stops using a processor. It stays in the database: incidents it reported
    and earlier records of processing activities keep naming it."""
    require_owner(actor)
    with transaction.atomic():
        processor = Processor.objects.select_for_update().get(pk=processor.pk)
        if processor.active:
            processor.active = False
            processor.save(update_fields=["active", "updated_at"])
            event_record(
                action="practice.processor.retired", request=request, actor=actor,
                object_type=OBJECT, object_id=str(processor.pk),
            )
            _record_refresh()
    return processor
