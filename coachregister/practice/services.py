"""Writes for the practice settings, each with its audit event (art. 2, 12.2)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from coachregister.audit.services import event_record
from coachregister.practice.models import (
    PracticeSettings,
    ProcessingPurpose,
    PurposeBasis,
    RegulationVersion,
)

if TYPE_CHECKING:
    from coachregister.accounts.models import User


def practice_update(
    *, actor: User | None, request: HttpRequest | None, **values: Any
) -> PracticeSettings:
    """Change settings. Only owners set policy (art. 1.4, 10.1); `actor=None` is the setup
    command run by the operator on the server."""
    if actor is not None and actor.role != "owner":
        raise PermissionDenied(_("Only an owner changes the practice settings."))
    with transaction.atomic():
        practice = PracticeSettings.load()
        practice = PracticeSettings.objects.select_for_update().get(pk=practice.pk)
        changed = []
        for field, value in values.items():
            if getattr(practice, field) != value:
                setattr(practice, field, value)
                changed.append(field)
        if changed:
            practice.full_clean()
            practice.save()
            event_record(
                action="practice.settings.changed",
                request=request,
                actor=actor,
                object_type="practice",
                object_id=str(practice.pk),
                detail={"fields": ",".join(sorted(changed))},
            )
    return practice


def regulation_text(practice: PracticeSettings) -> str:
    """The regulation as generated from the settings (Dutch, the binding language)."""
    from django.template.loader import render_to_string
    from django.utils.translation import override

    with override("nl"):
        return render_to_string("practice/regulation.txt", {"practice": practice}).strip()


def regulation_publish(
    *, actor: User | None, request: HttpRequest | None, version: str
) -> RegulationVersion:
    """Publish the regulation as generated now, under a new version label."""
    if actor is not None and actor.role != "owner":
        raise PermissionDenied(_("Only an owner publishes the privacy regulation."))
    with transaction.atomic():
        if RegulationVersion.objects.filter(version=version).exists():
            raise ValidationError(_("This version already exists."))
        regulation = RegulationVersion.objects.create(
            version=version, text=regulation_text(PracticeSettings.load())
        )
        event_record(
            action="practice.regulation.published", request=request, actor=actor,
            object_type="regulation", object_id=version,
        )
    return regulation


def purpose_add(
    *, actor: User, request: HttpRequest | None, name: str, basis: str
) -> ProcessingPurpose:
    """Add a purpose the register allows, with its basis (art. 2.1, 2.2). Only owners decide
    what the practice processes data for (art. 1.4)."""
    if actor.role != "owner":
        raise PermissionDenied(_("Only an owner changes the purposes the register allows."))
    name = " ".join(name.split())
    if not name:
        raise ValidationError(_("Name the purpose."))
    if basis not in PurposeBasis.values:
        raise ValidationError(_("Choose the basis of the purpose."))
    with transaction.atomic():
        if ProcessingPurpose.objects.filter(name__iexact=name, active=True).exists():
            raise ValidationError(_("This purpose is already on the list."))
        purpose = ProcessingPurpose.objects.create(name=name, basis=basis)
        event_record(
            action="practice.purpose.added", request=request, actor=actor,
            object_type="purpose", object_id=str(purpose.pk), detail={"basis": basis},
        )
    return purpose


def purpose_retire(
    *, actor: User, request: HttpRequest | None, purpose: ProcessingPurpose
) -> ProcessingPurpose:
    """Take a purpose off the list for new consents and disclosures (art. 2.1). It stays in
    the database: earlier records keep naming it. The practice's own purpose stays."""
    if actor.role != "owner":
        raise PermissionDenied(_("Only an owner changes the purposes the register allows."))
    with transaction.atomic():
        purpose = ProcessingPurpose.objects.select_for_update().get(pk=purpose.pk)
        if purpose.code == ProcessingPurpose.BUILTIN_COACHING:
            raise ValidationError(_("The practice's own purpose cannot be retired."))
        if purpose.active:
            purpose.active = False
            purpose.save(update_fields=["active"])
            event_record(
                action="practice.purpose.retired", request=request, actor=actor,
                object_type="purpose", object_id=str(purpose.pk),
            )
    return purpose
