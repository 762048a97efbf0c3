"""Who may read a coachee's contact details (art. 5.1), and the audit of every read.

Owner and administrator see all; a coach, a third party and an auditor see the coachees of
the trajectories they may see (trajectories/access.py: own, contract scope, audit sample).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest

from coachregister.accounts.models import Role
from coachregister.audit.models import Outcome
from coachregister.audit.services import event_record, events_record
from coachregister.coachees import vault

if TYPE_CHECKING:
    from coachregister.coachees.models import Coachee, CoacheeQuerySet

COACHEE = "coachee"


def visible_coachees(queryset: CoacheeQuerySet, user: object) -> CoacheeQuerySet:
    role = getattr(user, "role", None)
    if role in (Role.OWNER, Role.ADMINISTRATOR):
        return queryset
    if role in (Role.COACH, Role.THIRD_PARTY, Role.AUDITOR):
        from coachregister.trajectories.models import Trajectory

        trajectories = Trajectory.objects.visible_to(user)
        return queryset.filter(trajectories__in=trajectories).distinct()
    return queryset.none()


def can_view(user: object, coachee: Coachee) -> bool:
    from coachregister.coachees.models import Coachee

    return Coachee.objects.visible_to(user).filter(pk=coachee.pk).exists()


def contact_details_of(*, request: HttpRequest, pseudonym: str) -> tuple[Coachee, vault.Contact]:
    """Look the coachee up within what the user may see; an unknown pseudonym is a 404, a
    known one outside the user's scope a refusal (audited)."""
    from django.http import Http404

    from coachregister.coachees.models import Coachee

    coachee = Coachee.objects.visible_to(request.user).filter(pseudonym=pseudonym).first()
    if coachee is None:
        outside = Coachee.objects.filter(pseudonym=pseudonym).only("pk", "pseudonym").first()
        if outside is None:
            raise Http404
        return outside, contact_details(request=request, coachee=outside)
    return coachee, contact_details(request=request, coachee=coachee)


def contact_details(*, request: HttpRequest, coachee: Coachee) -> vault.Contact:
    """Decrypt one coachee's details for the signed-in user, or refuse; both are audited."""
    if not can_view(request.user, coachee):
        event_record(
            action="coachees.contact.viewed",
            request=request,
            outcome=Outcome.DENIED,
            object_type=COACHEE,
            object_id=coachee.pseudonym,
        )
        raise PermissionDenied
    with transaction.atomic():
        event_record(
            action="coachees.contact.viewed",
            request=request,
            object_type=COACHEE,
            object_id=coachee.pseudonym,
        )
    return vault.open_contact(coachee)


def names_for_list(*, request: HttpRequest, coachees: list[Coachee]) -> dict[int, vault.Contact]:
    """Names for a list page: the caller passes rows from `visible_to`; each coachee shown is
    one audit event, written in one statement so the page's query count stays flat."""
    with transaction.atomic():
        events_record(
            [
                {"action": "coachees.name.listed", "object_type": COACHEE, "object_id": c.pseudonym}
                for c in coachees
            ],
            request=request,
        )
    return {c.pk: vault.open_contact(c) for c in coachees}
