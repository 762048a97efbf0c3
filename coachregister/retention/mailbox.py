"""Copies outside the register (art. 12.1): the coach's mailbox.

The practice keeps coachees' mails and contacts in the coaches' mailboxes (Outlook). When a
coachee is erased or purged, the coach — the administrator if the coach has left — gets a
task: remove this coachee's mails and contact. The task must say whom it concerns after the
vault is gone, so it keeps the name encrypted under a key of its own, wrapped by the current
key epoch; that key is destroyed when the task is confirmed or after 30 days, with the same
physical care as an erasure. Either way the outcome is audited and on the retention page.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coachregister.audit.services import event_record, events_record
from coachregister.keys import keyring
from coachregister.lib import crypto, physical
from coachregister.retention.models import MailboxTask

if TYPE_CHECKING:
    from django.http import HttpRequest

    from coachregister.accounts.models import User
    from coachregister.coachees.models import Coachee

KEEP_NAME = timedelta(days=30)


def _purpose(task: MailboxTask) -> str:
    return f"mailbox:{task.pseudonym}"


def _assignee(coach: User) -> User | None:
    from coachregister.accounts.models import Role, User

    if coach.is_active:
        return coach
    return (
        User.objects.filter(role=Role.ADMINISTRATOR, is_active=True).first()
        or User.objects.filter(role=Role.OWNER, is_active=True).order_by("pk").first()
    )


def mailbox_tasks_create(*, coachee: Coachee) -> list[MailboxTask]:
    """One task per coach of the coachee's trajectories; called by the shredder before the
    vault is destroyed."""
    return mailbox_tasks_create_many([coachee])


def mailbox_tasks_create_many(coachees: list[Coachee]) -> list[MailboxTask]:
    """`mailbox_tasks_create` for a batch of coachees: one query for their coaches, one
    INSERT for the tasks, one for their audit events."""
    from coachregister.coachees import vault
    from coachregister.trajectories.models import Trajectory

    coaches: dict[int, set[User]] = {}
    for trajectory in Trajectory.objects.filter(coachee__in=coachees).select_related("coach"):
        assert trajectory.coachee_id is not None  # filtered on it
        coaches.setdefault(trajectory.coachee_id, set()).add(trajectory.coach)
    tasks = []
    for coachee in coachees:
        assignees = {u for u in (_assignee(c) for c in coaches.get(coachee.pk, ())) if u}
        if not assignees:
            continue
        name = vault.open_contact(coachee).full_name
        for user in sorted(assignees, key=lambda u: u.pk):
            task = MailboxTask(pseudonym=coachee.pseudonym, assigned_to=user)
            key = crypto.new_data_key()
            task.wrapped_key, task.key_id = keyring.wrap(key, _purpose(task))
            task.name_enc = crypto.encrypt_text(key, name, f"{_purpose(task)}:name")
            tasks.append(task)
    tasks = MailboxTask.objects.bulk_create(tasks)
    events_record([{"action": "retention.mailbox_task.created", "object_type": "coachee",
                    "object_id": task.pseudonym, "detail": {"task": task.pk}}
                   for task in tasks])
    return tasks


def task_name(task: MailboxTask) -> str | None:
    """The name the task concerns, while its key exists; None after."""
    if task.wrapped_key is None or task.name_enc is None:
        return None
    try:
        key = keyring.unwrap(task.wrapped_key, task.key_id, _purpose(task))
        return crypto.decrypt_text(key, task.name_enc, f"{_purpose(task)}:name")
    except crypto.DecryptionError:
        return None


def _destroy_key(task: MailboxTask) -> None:
    MailboxTask.objects.filter(pk=task.pk).update(
        wrapped_key=None, name_enc=None, key_id="", key_destroyed_at=timezone.now()
    )
    physical.checkpoint()


def mailbox_task_confirm(*, actor: User, request: HttpRequest | None, task: MailboxTask) -> None:
    if task.assigned_to_id != actor.pk:
        raise PermissionDenied(_("This task is not yours."))
    with transaction.atomic():
        task = MailboxTask.objects.select_for_update().get(pk=task.pk)
        if task.confirmed_at is not None:
            raise ValidationError(_("This task has already been confirmed."))
        task.confirmed_at = timezone.now()
        task.save(update_fields=["confirmed_at"])
        _destroy_key(task)
        event_record(action="retention.mailbox_task.confirmed", request=request, actor=actor,
                     object_type="coachee", object_id=task.pseudonym, detail={"task": task.pk})


def mailbox_tasks_expire() -> int:
    """The worker: after 30 days an unconfirmed task loses its key (audited as unconfirmed)."""
    cutoff = timezone.now() - KEEP_NAME
    expired = 0
    for task in MailboxTask.objects.filter(created_at__lt=cutoff, key_destroyed_at__isnull=True):
        with transaction.atomic():
            _destroy_key(task)
            event_record(action="retention.mailbox_task.expired", object_type="coachee",
                         object_id=task.pseudonym, detail={"task": task.pk})
        expired += 1
    return expired


def epochs_in_use() -> set[str]:
    return keyring.epochs_of(MailboxTask.objects.all())


def rekey() -> int:
    return keyring.rekey_rows(MailboxTask.objects.all(), _purpose)
