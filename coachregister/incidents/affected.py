"""Which coachees an incident affects, found in the audit trail (art. 4.1c, 13.6; GDPR art.
33(3)(a), 34(1)).

A paper procedure can only guess whose data a lost laptop or a misused account touched. The
register knows: every read of personal data is an audit event (audit/queries.READS), every
assignment of a trajectory, every third party's scope and every auditor's sample is recorded.
Four scopes:

- `viewed_by`: everything a user viewed between two moments, from the read events;
- `could_see`: what a user could see in a period, from the history of trajectory assignments,
  third-party scopes and auditor samples; where no history exists, today's scope, and the
  selection says it is an approximation;
- `of_client` / `of_trajectory`: the coachees of a client or of one trajectory;
- `picked`: a hand-picked list of pseudonyms.

Each returns a `Selection` (pseudonyms only); `affected_add` stores it on the incident and
audits the scope, its parameters and the count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from coachregister.accounts.models import Role, User
from coachregister.audit.models import Engagement, Event, Listed, Outcome
from coachregister.audit.services import event_record
from coachregister.coachees.models import Coachee
from coachregister.incidents.models import AffectedCoachee, Incident
from coachregister.trajectories.models import ClientOrganisation, Trajectory

INCIDENT = "incident"
COACHEE = "coachee"
TRAJECTORY = "trajectory"


class Scope:
    VIEWED = "viewed"
    COULD_SEE = "could_see"
    CLIENT = "client"
    TRAJECTORY = "trajectory"
    PICKED = "picked"


@dataclass(frozen=True)
class Selection:
    """The outcome of one scope: the coachees' pseudonyms, sorted, and whether the scope had
    to fall back on today's state (`notes` say where)."""

    scope: str
    pseudonyms: tuple[str, ...]
    parameters: dict[str, object] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def approximate(self) -> bool:
        return bool(self.notes)

    @property
    def count(self) -> int:
        return len(self.pseudonyms)


def _coachees_of_trajectories(pseudonyms: set[str]) -> set[str]:
    """A trajectory's coachee, also after an erasure (`coachee_pseudonym` stays)."""
    return set(
        Trajectory.objects.filter(pseudonym__in=pseudonyms)
        .exclude(coachee_pseudonym="")
        .values_list("coachee_pseudonym", flat=True)
    )


def _check_window(since: datetime, until: datetime) -> None:
    if until <= since:
        raise ValidationError(_("The period must end after it starts."))


# --- (a) what a user viewed --------------------------------------------------------------


def viewed_by(user: User, since: datetime, until: datetime) -> Selection:
    """Every coachee whose data `user` read between `since` and `until` (both included): the
    allowed read events (audit/queries.READS) on a coachee or on one of their trajectories,
    and the lists that showed their names."""
    from coachregister.audit.queries import READS

    _check_window(since, until)
    reads = Event.objects.filter(
        actor=user, action__in=READS, outcome=Outcome.ALLOWED,
        created_at__gte=since, created_at__lte=until,
    ).values_list("object_type", "object_id")
    coachees: set[str] = set()
    trajectories: set[str] = set()
    for object_type, object_id in reads:
        if object_type == COACHEE:
            coachees.add(object_id)
        elif object_type == TRAJECTORY:
            trajectories.add(object_id)
    # The list pages that showed them their names: one event per page, the pseudonyms in
    # the trail's side table (audit/services.listing_record).
    coachees |= set(Listed.objects.filter(
        event__actor=user, event__outcome=Outcome.ALLOWED,
        event__created_at__gte=since, event__created_at__lte=until,
    ).values_list("pseudonym", flat=True))
    coachees |= _coachees_of_trajectories(trajectories)
    notes = ()
    if _pruned_before(since):
        notes = (_("The audit trail before this period has been pruned: reads older than "
                   "the oldest kept event are not in the list."),)
    return Selection(Scope.VIEWED, tuple(sorted(coachees)), _window(user, since, until), notes)


def _window(user: User, since: datetime, until: datetime) -> dict[str, object]:
    return {"user": user.pk, "from": since.isoformat(), "until": until.isoformat()}


def _pruned_before(moment: datetime) -> bool:
    """Whether events from before `moment` may be gone (audit/prune.py keeps the chain but
    drops old events): the oldest kept event is younger than `moment`."""
    oldest = (Event.objects.filter(seq__isnull=False).order_by("seq")
              .values_list("seq", "created_at").first())
    return oldest is not None and oldest[0] > 1 and oldest[1] > moment


# --- (b) what a user could see -----------------------------------------------------------


def could_see(user: User, since: datetime, until: datetime) -> Selection:
    """The coachees `user` could see at some moment between `since` and `until` (art. 5.1-5.4,
    trajectories/access.py), rebuilt from the recorded history where there is one."""
    _check_window(since, until)
    notes: list[str] = []
    role_changes = Event.objects.filter(action="accounts.role.changed", object_type="user",
                                        object_id=str(user.pk), created_at__gte=since)
    if role_changes.exists():
        notes.append(_("The user's role changed during or after the period: the list follows "
                       "today's role."))
    if user.role in (Role.OWNER, Role.ADMINISTRATOR):
        trajectories = set(
            Trajectory.objects.filter(created_at__lte=until).values_list("pseudonym", flat=True)
        )
    elif user.role == Role.COACH:
        trajectories, coach_notes = _coached(user, since, until)
        notes += coach_notes
    elif user.role == Role.THIRD_PARTY:
        trajectories, scope_notes = _third_party_scope(user, since, until)
        notes += scope_notes
    elif user.role == Role.AUDITOR:
        samples = Engagement.objects.filter(
            auditor=user, window_from__lt=until, window_until__gt=since
        ).values_list("sample", flat=True)
        trajectories = {pseudonym for sample in samples for pseudonym in sample}
    else:
        trajectories = set()
    coachees = _coachees_of_trajectories(trajectories)
    return Selection(Scope.COULD_SEE, tuple(sorted(coachees)), _window(user, since, until),
                     tuple(notes))


def _coached(user: User, since: datetime, until: datetime) -> tuple[set[str], list[str]]:
    """A coach sees the trajectories assigned to them (art. 5.1). Every reassignment is an
    audit event with the coach before and after, so each trajectory's coach at any moment
    follows from its current coach and its reassignments."""
    moves: dict[str, list[tuple[datetime, int, int]]] = {}
    for object_id, created_at, detail in Event.objects.filter(
        action="trajectories.trajectory.reassigned", object_type=TRAJECTORY
    ).order_by("seq").values_list("object_id", "created_at", "detail"):
        moves.setdefault(object_id, []).append(
            (created_at, detail.get("from_coach"), detail.get("to_coach"))
        )
    found = set()
    for pseudonym, coach_id, created_at in Trajectory.objects.filter(
        created_at__lte=until
    ).values_list("pseudonym", "coach_id", "created_at"):
        history = moves.get(pseudonym, [])
        # (start, coach) intervals: the first coach from the first move, else today's.
        start, coach = created_at, (history[0][1] if history else coach_id)
        for moved_at, _from, to in history:
            if coach == user.pk and start <= until and moved_at >= since:
                found.add(pseudonym)
            start, coach = moved_at, to
        if coach == user.pk and start <= until:
            found.add(pseudonym)
    notes = []
    if _pruned_before(since):
        notes.append(_("The audit trail before this period has been pruned: reassignments "
                       "older than the oldest kept event are not known."))
    return found, notes


def _third_party_scope(user: User, since: datetime, until: datetime) -> tuple[set[str], list[str]]:
    """A third party sees its contract's scope until the contract ends (art. 5.3). Each
    change of the scope is an audit event listing the trajectories; without any, today's
    scope is all there is."""
    from coachregister.accounts.models import ThirdPartyScope

    if user.contract_end is not None and user.contract_end < timezone.localtime(since).date():
        return set(), []
    changes = list(
        Event.objects.filter(action="accounts.scope.changed", object_type="user",
                             object_id=str(user.pk), created_at__lte=until)
        .order_by("seq").values_list("created_at", "detail")
    )
    today = set(ThirdPartyScope.objects.filter(user=user)
                .values_list("trajectory__pseudonym", flat=True))
    if not changes:
        return today, [_("No recorded history of this third party's scope: today's scope is "
                         "used, an approximation.")]
    found: set[str] = set()
    notes: list[str] = []
    before = [detail for created_at, detail in changes if created_at < since]
    during = [detail for created_at, detail in changes if created_at >= since]
    for detail in ([before[-1]] if before else []) + during:
        listed = str(detail.get("trajectories", ""))
        if len(listed) >= 200:  # the event keeps 200 characters: a long scope is cut off
            found |= today
            notes.append(_("A recorded scope was too long to keep whole: today's scope is "
                           "added, an approximation."))
        found |= {p for p in listed.split(",") if p}
    return found, notes


# --- (c) a client or a trajectory --------------------------------------------------------


def of_client(client: ClientOrganisation) -> Selection:
    pseudonyms = set(client.trajectories.exclude(coachee_pseudonym="")
                     .values_list("coachee_pseudonym", flat=True))
    return Selection(Scope.CLIENT, tuple(sorted(pseudonyms)), {"client": client.pk})


def of_trajectory(trajectory: Trajectory) -> Selection:
    pseudonyms = (trajectory.coachee_pseudonym,) if trajectory.coachee_pseudonym else ()
    return Selection(Scope.TRAJECTORY, pseudonyms, {"trajectory": trajectory.pseudonym})


# --- (d) a hand-picked list --------------------------------------------------------------

_SPLIT = re.compile(r"[\s,;]+")


def picked(text: str) -> Selection:
    """Coachee pseudonyms (or trajectory pseudonyms, for their coachee), separated by spaces,
    commas or new lines. An unknown pseudonym refuses the whole list."""
    wanted = {part.strip().upper() for part in _SPLIT.split(text) if part.strip()}
    if not wanted:
        raise ValidationError(_("Enter at least one pseudonym."))
    coachees = set(Coachee.objects.filter(pseudonym__in=wanted).values_list("pseudonym",
                                                                              flat=True))
    by_trajectory = dict(
        Trajectory.objects.filter(pseudonym__in=wanted - coachees)
        .exclude(coachee_pseudonym="").values_list("pseudonym", "coachee_pseudonym")
    )
    unknown = wanted - coachees - set(by_trajectory)
    if unknown:
        raise ValidationError(  # a count only: what was typed is not repeated (art. 6)
            _("%(count)s of the pseudonyms are not in the register.") % {"count": len(unknown)}
        )
    pseudonyms = coachees | set(by_trajectory.values())
    return Selection(Scope.PICKED, tuple(sorted(pseudonyms)), {"count": len(pseudonyms)})


# --- storing the selection on the incident -----------------------------------------------


def may_select(user: object) -> bool:
    """The register's runners handle incidents (art. 4.1c; DESIGN: the administrator runs
    them, the owner answers for them)."""
    return getattr(user, "role", None) in (Role.OWNER, Role.ADMINISTRATOR)


def _unconfirmed_cancel(incident: Incident) -> None:
    """A changed list of affected coachees makes a prepared, unconfirmed sending void: the
    second person confirms the recipients as they are (GDPR 34, four eyes)."""
    from coachregister.incidents.models import NoticeSending

    NoticeSending.objects.filter(incident=incident, confirmed_at__isnull=True).delete()


def affected_add(
    *, actor: User, request: HttpRequest | None, incident: Incident, selection: Selection
) -> int:
    """Add the selection's coachees to the incident (those already there stay once) and audit
    the scope, its parameters, the count and whether it is an approximation. Returns how
    many were new."""
    if not may_select(actor):
        raise PermissionDenied(_("Only the owner or the administrator may do this."))
    if incident.closed_at is not None:
        raise ValidationError(_("This incident is closed."))
    with transaction.atomic():
        _unconfirmed_cancel(incident)
        known = set(incident.affected.values_list("pseudonym", flat=True))
        new = [p for p in selection.pseudonyms if p not in known]
        coachees = dict(Coachee.objects.filter(pseudonym__in=new).values_list("pseudonym", "pk"))
        AffectedCoachee.objects.bulk_create(
            AffectedCoachee(incident=incident, pseudonym=p, coachee_id=coachees.get(p))
            for p in new
        )
        event_record(
            action="incidents.affected.added", request=request, actor=actor,
            object_type=INCIDENT, object_id=str(incident.pk),
            detail={"scope": selection.scope, "found": selection.count, "added": len(new),
                    "approximate": selection.approximate, **selection.parameters},
        )
    return len(new)


def affected_remove(
    *, actor: User, request: HttpRequest | None, incident: Incident, pseudonym: str
) -> None:
    """Take a coachee off the list (selected by mistake); audited with the pseudonym."""
    if not may_select(actor):
        raise PermissionDenied(_("Only the owner or the administrator may do this."))
    if incident.closed_at is not None:
        raise ValidationError(_("This incident is closed."))
    with transaction.atomic():
        _unconfirmed_cancel(incident)
        deleted, _rows = incident.affected.filter(pseudonym=pseudonym).delete()
        if deleted:
            event_record(
                action="incidents.affected.removed", request=request, actor=actor,
                object_type=INCIDENT, object_id=str(incident.pk),
                detail={"pseudonym": pseudonym},
            )


def approximate(incident: Incident) -> bool:
    """Whether any selection stored on the incident was an approximation (for the count on
    the authority's form: "approximately")."""
    return Event.objects.filter(
        action="incidents.affected.added", object_type=INCIDENT, object_id=str(incident.pk),
        detail__approximate=True,
    ).exists()
