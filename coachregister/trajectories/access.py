"""Which trajectories a user may see (art. 5.1): the register's runners all, a coach their own."""

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
    return queryset.none()


def may_manage(user: object) -> bool:
    """Opening trajectories, clients and reassigning: the register's runners."""
    return getattr(user, "role", None) in (Role.OWNER, Role.ADMINISTRATOR)


def may_work_on(user: object, trajectory: Trajectory) -> bool:
    """Recording contact moments and ending: the trajectory's coach, or the runners."""
    return may_manage(user) or (
        getattr(user, "role", None) == Role.COACH and trajectory.coach_id == user.pk  # type: ignore[attr-defined]
    )
