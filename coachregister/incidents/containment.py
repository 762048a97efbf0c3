"""Containment from the incident page (art. 4.1c, 13.6; GDPR art. 33(3)(d)).

A stolen password or a lost laptop is contained by the account services themselves: these
shortcuts call them and, in the same transaction, record an event on the incident, so the
incident's file shows what was done, when and by whom. The rotation of the master key is the
operator's command (`coachregister keys rotate`); the decision to rotate is recorded here, and
the page links each rotation event after the decision back to it (`rotations_since`).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from coachregister.accounts.models import Role, User
from coachregister.audit.services import event_record
from coachregister.incidents.affected import INCIDENT
from coachregister.incidents.models import Incident


def _check(actor: User, incident: Incident) -> None:
    if actor.role not in (Role.OWNER, Role.ADMINISTRATOR):
        raise PermissionDenied(_("Only the owner or the administrator may do this."))
    if incident.closed_at is not None:
        raise ValidationError(_("This incident is closed."))


def _record(action: str, request: HttpRequest | None, actor: User, incident: Incident,
            **detail: object) -> None:
    event_record(action=f"incidents.containment.{action}", request=request, actor=actor,
                 object_type=INCIDENT, object_id=str(incident.pk), detail=detail)


def user_sign_out(*, actor: User, request: HttpRequest | None, incident: Incident,
                  user: User) -> None:
    """End every session of `user` now (their security stamp changes)."""
    from coachregister.accounts.services import user_sign_out_everywhere

    _check(actor, incident)
    with transaction.atomic():
        user_sign_out_everywhere(actor=actor, request=request, user=user)
        _record("signed_out", request, actor, incident, user=user.pk)


def user_block(*, actor: User, request: HttpRequest | None, incident: Incident,
               user: User) -> None:
    """Deactivate `user`: no sign-in, and their sessions end (accounts.user_set_active)."""
    from coachregister.accounts.services import user_set_active

    _check(actor, incident)
    with transaction.atomic():
        user_set_active(actor=actor, request=request, user=user, active=False)
        _record("blocked", request, actor, incident, user=user.pk)


def master_rotation_decide(*, actor: User, request: HttpRequest | None,
                           incident: Incident) -> None:
    """The owner decides that the master key is to be rotated; the operator runs it."""
    if actor.role != Role.OWNER:
        raise PermissionDenied(_("Only an owner may do this."))
    _check(actor, incident)
    with transaction.atomic():
        _record("master_rotation_decided", request, actor, incident)


def rotations_since(incident: Incident) -> list[object]:
    """The operator's rotations (`keys.master.rotated`) after this incident's decision to
    rotate: the link between the decision and the rotation."""
    from coachregister.audit.models import Event

    decided = (Event.objects.filter(action="incidents.containment.master_rotation_decided",
                                    object_type=INCIDENT, object_id=str(incident.pk))
               .order_by("seq").values_list("seq", flat=True).first())
    if decided is None:
        return []
    return list(Event.objects.filter(action="keys.master.rotated", seq__gt=decided)
                .order_by("seq"))
