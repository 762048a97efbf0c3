"""Confirming the destruction of paper dossiers (art. 10.1)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from coachregister.accounts.models import User
from coachregister.audit.services import event_record
from coachregister.retention.models import DestructionMethod, PaperDossierTask
from coachregister.trajectories.access import may_work_on


def paper_task_confirm(
    *, actor: User, request: HttpRequest | None, task: PaperDossierTask, method: str
) -> PaperDossierTask:
    if not may_work_on(actor, task.trajectory):
        raise PermissionDenied(_("This is not your trajectory."))
    if method not in DestructionMethod.values:
        raise ValidationError(_("Choose how the paper dossier was destroyed."))
    with transaction.atomic():
        task = PaperDossierTask.objects.select_for_update().get(pk=task.pk)
        if not task.is_open:
            raise ValidationError(_("This destruction has already been confirmed."))
        task.confirmed_at, task.confirmed_by, task.method = timezone.now(), actor, method
        task.save(update_fields=["confirmed_at", "confirmed_by", "method"])
        event_record(
            action="retention.paper_dossier.destroyed",
            request=request,
            actor=actor,
            object_type="trajectory",
            object_id=task.trajectory.pseudonym,
            detail={"method": method},
        )
    return task
