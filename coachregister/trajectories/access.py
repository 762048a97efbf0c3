"""Which trajectories a user may see (art. 5.1, 5.3, 5.4): the register's runners all, a coach
their own, a third party its contract's scope, an auditor the sample during the window."""

from __future__ import annotations

from typing import TYPE_CHECKING

from coachregister.accounts.models import Role

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from coachregister.trajectories.models import Trajectory


def visible_trajectories(queryset: QuerySet[Trajectory], user: object) -> QuerySet[Trajectory]:
    role = getattr(user, "role", None)
    if role in (Role.OWNER, Role.ADMINISTRATOR):
        return queryset
    if role == Role.COACH:
        return queryset.filter(coach=user)
    if role == Role.THIRD_PARTY:  # art. 5.3: only its contract's scope, until its end date
        if user.contract_expired():  # type: ignore[attr-defined]
            return queryset.none()
        return queryset.filter(third_party_scope__user=user)
    if role == Role.AUDITOR:  # art. 5.4: the sample, during the audit window only
        from coachregister.audit.engagements import sampled_pseudonyms

        return queryset.filter(pseudonym__in=sampled_pseudonyms(user))
    return queryset.none()


def may_manage(user: object) -> bool:
    """Opening trajectories, clients and reassigning: the register's runners."""
    return getattr(user, "role", None) in (Role.OWNER, Role.ADMINISTRATOR)


def require_manager(user: object) -> None:
    """For services: refuse anyone but the register's runners."""
    from django.core.exceptions import PermissionDenied
    from django.utils.translation import gettext as _

    if not may_manage(user):
        raise PermissionDenied(_("Only the owner or the administrator may do this."))


def may_work_on(user: object, trajectory: Trajectory) -> bool:
    """Recording contact moments and ending: the trajectory's coach, or the runners."""
    return may_manage(user) or (
        getattr(user, "role", None) == Role.COACH and trajectory.coach_id == user.pk  # type: ignore[attr-defined]
    )
