"""Confirming the destruction of paper dossiers (art. 10.1)."""

from __future__ import annotations

from datetime import datetime

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


# --- key epochs (art. 6, 10): what an erasure leaves in copies opens nothing after the bound --


def epochs_maintain(now: datetime | None = None) -> dict[str, int]:
    """The worker's key-epoch pass: start a new epoch when the interval has passed, move the
    living coachees and unsent mail to the current epoch, and destroy epochs that nothing has
    used for the backup age (keys/keyring.py). Each start and destruction is audited."""
    from coachregister.coachees import vault
    from coachregister.keys import keyring
    from coachregister.outbox import services as outbox
    from coachregister.rights.portal import epochs_in_use as portal_epochs_in_use
    from coachregister.rights.portal import rekey as portal_rekey

    started = keyring.epoch_start_if_due(now)
    if started is not None:
        event_record(action="keys.epoch.started", object_type="epoch", object_id=started.id)
    moved = vault.rekey() + outbox.rekey() + portal_rekey()
    destroyed = keyring.epochs_retire(
        vault.epochs_in_use() | outbox.epochs_in_use() | portal_epochs_in_use(), now
    )
    for epoch_id in destroyed:
        event_record(action="keys.epoch.destroyed", object_type="epoch", object_id=epoch_id)
    return {"started": int(started is not None), "moved": moved, "destroyed": len(destroyed)}
