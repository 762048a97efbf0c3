"""Audit events as a reader sees them (art. 6; GDPR art. 15 for "who saw my data"): the
action, role and object in words from `labels`, the time in the practice's zone, and a link
to the object only where this viewer may open it (a link that answers 403 or 404 helps
nobody). The existence checks are one query per kind of object on the page, whatever its
length."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.urls import reverse

from coachregister.audit import labels

if TYPE_CHECKING:
    from coachregister.accounts.models import User
    from coachregister.audit.models import Event


@dataclass(frozen=True)
class EventRow:
    event: Event
    action: str
    role: str
    object: str
    url: str | None


def _coachees(user: User, ids: set[str]) -> set[str]:
    from coachregister.coachees.models import Coachee

    return set(Coachee.objects.visible_to(user).filter(pseudonym__in=ids)
               .values_list("pseudonym", flat=True))


def _trajectories(user: User, ids: set[str]) -> set[str]:
    from coachregister.trajectories.models import Trajectory

    return set(Trajectory.objects.visible_to(user).filter(pseudonym__in=ids)
               .values_list("pseudonym", flat=True))


def _by_pk(model_path: str) -> Callable[[User, set[str]], set[str]]:
    def existing(user: User, ids: set[str]) -> set[str]:
        from django.apps import apps

        model = apps.get_model(model_path)
        pks = [int(i) for i in ids if i.isdigit() and len(i) < 18]
        return {str(pk) for pk in model.objects.filter(pk__in=pks).values_list("pk", flat=True)}

    return existing


def _register(user: User) -> bool:
    from coachregister.accounts.access import REGISTER_ROLES

    return user.role in REGISTER_ROLES


def _engagement_ids(user: User, ids: set[str]) -> set[str]:
    from coachregister.audit.models import Engagement

    engagements = Engagement.objects.all() if _register(user) else Engagement.objects.filter(
        auditor=user)
    pks = [int(i) for i in ids if i.isdigit() and len(i) < 18]
    return {str(pk) for pk in engagements.filter(pk__in=pks).values_list("pk", flat=True)}


# object_type -> (who may follow the link, which of the ids exist for them, the URL name)
LINKS: dict[str, tuple[Callable[[User], bool], Callable[[User, set[str]], set[str]], str]] = {
    "coachee": (_register, _coachees, "disclosures:who_saw"),
    "trajectory": (lambda user: True, _trajectories, "trajectories:detail"),
    "incident": (_register, _by_pk("incidents.Incident"), "incidents:detail"),
    "request": (_register, _by_pk("rights.DataRequest"), "rights:detail"),
    "engagement": (lambda user: True, _engagement_ids, "audit:engagement"),
}


def rows(events: Iterable[Event], user: User) -> list[EventRow]:
    events = list(events)
    wanted: dict[str, set[str]] = {}
    for event in events:
        if event.object_type in LINKS and event.object_id:
            wanted.setdefault(event.object_type, set()).add(event.object_id)
    openable: dict[str, set[str]] = {}
    for object_type, ids in wanted.items():
        allowed, existing, _name = LINKS[object_type]
        openable[object_type] = existing(user, ids) if allowed(user) else set()
    result = []
    for event in events:
        url = None
        if event.object_id in openable.get(event.object_type, ()):
            url = reverse(LINKS[event.object_type][2], args=[event.object_id])
        result.append(EventRow(
            event=event,
            action=labels.action_label(event.action),
            role=labels.role_label(event.actor_role),
            object=labels.object_label(event.object_type),
            url=url,
        ))
    return result
