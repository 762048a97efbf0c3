"""Who may read a coachee's contact details (Werkwijze, art. 5.1, 5.3, 5.4), and the audit of
every read.

The Werkwijze promises that name, email address and telephone number are shared only with
the coach who takes the coachee on. So:

* the coach of one of the coachee's trajectories, and a hired coach standing in for that
  trajectory under contract (art. 1.11, 5.3), open them directly;
* the owners and the administrator see the coachee's record (pseudonym, trajectories,
  requests) but open the contact details only **for a purpose**: inside the handling of that
  coachee's open request (or, from the next issues, complaint or incident), or with a stated
  reason (break-glass). The event records the reason code; the explanation is sealed under
  the coachee's key (`ContactAccess`). Both show in "who saw my data";
* the certification auditor (art. 5.4) opens them only when the engagement says so;
* while processing is restricted (art. 8.1, GDPR art. 18(2)) everyone, the coach included,
  needs one of the grounds of art. 18(2), chosen as a code, with an explanation.

`visible_coachees` decides who sees a coachee's record at all; `opening` decides how the
contact details of a visible coachee open. Every opening and every refusal is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from coachregister.accounts.models import Role
from coachregister.audit.models import Outcome
from coachregister.audit.services import event_record, listing_record
from coachregister.coachees import vault

if TYPE_CHECKING:
    from coachregister.coachees.models import Coachee, CoacheeQuerySet

COACHEE = "coachee"
SEALED_EXPLANATION = "contact_access_explanation"
MAX_EXPLANATION = 500

# How a visible coachee's contact details open for a user.
DIRECT = "direct"  # the coach, a stand-in third party in scope, an auditor whose engagement says so
PURPOSE = "purpose"  # owner and administrator: for a task of this coachee or a stated reason
RESTRICTED = "restricted"  # processing restricted: only with an art. 18(2) ground
NEVER = "never"  # an auditor whose engagement does not include contact details

# Task kinds an opening can belong to -> a check that the task is open and concerns the
# coachee, and a listing of the coachee's open tasks of that kind as (task, label) pairs.
# Apps register their own (rights: requests; complaints; incidents), so this module imports
# none of them.
TaskCheck = Callable[[int, "Coachee"], bool]
TaskListing = Callable[["Coachee"], list[tuple[str, str]]]
_TASKS: dict[str, TaskCheck] = {}
_LISTINGS: dict[str, TaskListing] = {}


def register_task(kind: str, check: TaskCheck, listing: TaskListing) -> None:
    _TASKS[kind] = check
    _LISTINGS[kind] = listing


def visible_coachees(queryset: CoacheeQuerySet, user: object) -> CoacheeQuerySet:
    role = getattr(user, "role", None)
    if role in (Role.OWNER, Role.ADMINISTRATOR):
        return queryset
    if role in (Role.COACH, Role.THIRD_PARTY, Role.AUDITOR):
        from django.db.models import Exists, OuterRef

        from coachregister.trajectories.models import Trajectory

        # A semi-join: a coachee with several visible trajectories is one row without a
        # DISTINCT over the wide (encrypted) columns, and the list page can paginate it.
        trajectories = Trajectory.objects.visible_to(user).filter(coachee=OuterRef("pk"))
        return queryset.filter(Exists(trajectories))
    return queryset.none()


def listable(user: object) -> CoacheeQuerySet:
    """The coachees of `visible_coachees`, for a list page that orders, counts and pages them.
    For a role scoped by trajectories the ids come first from the trajectories' coach (or
    scope) index: given the semi-join alone, PostgreSQL would rather hash every coachee row of
    the register than look up the coach's few thousand by key, and the page would grow with
    the practice (benchmarks/scale.py). Everyone else sees every coachee, in the pseudonym's
    own index order."""
    from coachregister.coachees.models import Coachee
    from coachregister.trajectories.models import Trajectory

    if getattr(user, "role", None) not in (Role.COACH, Role.THIRD_PARTY, Role.AUDITOR):
        return Coachee.objects.visible_to(user)
    ids = (Trajectory.objects.visible_to(user).filter(coachee__isnull=False)
           .values_list("coachee_id", flat=True))
    if connection.vendor != "postgresql":  # a subquery: no limit of SQL variables to meet
        return Coachee.objects.filter(pk__in=ids)
    return Coachee.objects.filter(pk__in=set(ids))


def can_view(user: object, coachee: Coachee) -> bool:
    from coachregister.coachees.models import Coachee

    return Coachee.objects.visible_to(user).filter(pk=coachee.pk).exists()


def _engagements_with_contact(user: object, coachee: Coachee) -> list[int]:
    """The open engagements of this auditor that include contact details and sample one of
    the coachee's trajectories."""
    from coachregister.audit.models import Engagement

    now = timezone.now()
    mine = set(coachee.trajectories.values_list("pseudonym", flat=True))
    return [
        engagement.pk
        for engagement in Engagement.objects.filter(
            auditor=user, window_from__lte=now, window_until__gt=now, include_contact_details=True
        ).only("pk", "sample")
        if mine.intersection(engagement.sample)
    ]


def _auditor_direct(user: object, coachees: list[Coachee]) -> set[int]:
    """The coachees (pks) among `coachees` whose details open for this auditor, in two
    queries whatever their number (the list page's query count stays flat)."""
    from coachregister.audit.models import Engagement
    from coachregister.trajectories.models import Trajectory

    now = timezone.now()
    sampled = {
        pseudonym
        for sample in Engagement.objects.filter(
            auditor=user, window_from__lte=now, window_until__gt=now, include_contact_details=True
        ).values_list("sample", flat=True)
        for pseudonym in sample
    }
    if not sampled:
        return set()
    return set(
        Trajectory.objects.filter(coachee__in=coachees, pseudonym__in=sampled)
        .values_list("coachee_id", flat=True)
    )


def opening(user: object, coachee: Coachee) -> str:
    """How the contact details of a coachee the user may see open for them."""
    role = getattr(user, "role", None)
    if coachee.restricted:
        return RESTRICTED if role in (Role.COACH, Role.OWNER, Role.ADMINISTRATOR) else NEVER
    if role in (Role.COACH, Role.THIRD_PARTY):
        return DIRECT  # `visible_coachees` already limits them to own / contract scope
    if role == Role.AUDITOR:
        return DIRECT if _engagements_with_contact(user, coachee) else NEVER
    if role in (Role.OWNER, Role.ADMINISTRATOR):
        return PURPOSE
    return NEVER


def stated_reasons() -> list[tuple[str, str]]:
    """The break-glass reasons an owner or administrator may state (no task)."""
    from coachregister.coachees.models import AccessReason

    return [(r.value, r.label) for r in (
        AccessReason.COACHEE_ASKED, AccessReason.COACH_UNAVAILABLE, AccessReason.LEGAL_DUTY)]


def restricted_reasons() -> list[tuple[str, str]]:
    from coachregister.coachees.models import RESTRICTED_GROUNDS

    return [(r.value, r.label) for r in RESTRICTED_GROUNDS]


def open_tasks(coachee: Coachee) -> list[tuple[str, str]]:
    """The coachee's open tasks an opening can belong to, as (task, label) pairs."""
    return [task for listing in _LISTINGS.values() for task in listing(coachee)]


@dataclass(frozen=True)
class Purpose:
    """Why the contact details are opened: a reason code, the task it belongs to (if any)
    and the explanation (sealed before it is stored)."""

    reason: str = ""
    task: str = ""
    explanation: str = ""


def _check_purpose(coachee: Coachee, how: str, purpose: Purpose) -> Purpose:
    """The purpose, cleaned, or a ValidationError saying what is missing."""
    from coachregister.coachees.models import RESTRICTED_GROUNDS

    explanation = purpose.explanation.strip()
    if len(explanation) > MAX_EXPLANATION:
        raise ValidationError(_("Keep the explanation short (at most 500 characters)."))
    if how == RESTRICTED:
        if purpose.reason not in RESTRICTED_GROUNDS:
            raise ValidationError(_(
                "Processing of this coachee's data is restricted: choose one of the grounds "
                "of GDPR art. 18(2)."))
        if not explanation:
            raise ValidationError(_("Explain why the ground applies."))
        return Purpose(purpose.reason, "", explanation)
    if purpose.task:
        kind, _sep, number = purpose.task.partition(":")
        check = _TASKS.get(kind)
        if check is None or not number.isdigit() or not check(int(number), coachee):
            raise ValidationError(_(
                "That task is closed or does not concern this coachee: state a reason "
                "instead."))
        return Purpose(kind, f"{kind}:{int(number)}", explanation)
    if purpose.reason not in {value for value, _label in stated_reasons()}:
        raise ValidationError(_("Choose why you open the contact details."))
    if not explanation:
        raise ValidationError(_("Explain why you need the contact details."))
    return Purpose(purpose.reason, "", explanation)


def _refuse(request: HttpRequest, coachee: Coachee, why: str) -> None:
    event_record(
        action="coachees.contact.viewed",
        request=request,
        outcome=Outcome.DENIED,
        object_type=COACHEE,
        object_id=coachee.pseudonym,
        detail={"refused": why},
    )
    raise PermissionDenied


def contact_details(
    *, request: HttpRequest, coachee: Coachee, purpose: Purpose | None = None
) -> vault.Contact:
    """Decrypt one coachee's details for the signed-in user, or refuse; both are audited.
    Without a purpose only a direct opening succeeds; a purpose that does not hold is a
    ValidationError (nothing is recorded but the refusal)."""
    from coachregister.coachees.models import AccessReason, ContactAccess
    from coachregister.disclosures import sealed

    user = request.user
    if not can_view(user, coachee):
        _refuse(request, coachee, "scope")
    how = opening(user, coachee)
    if how == NEVER:
        _refuse(request, coachee, "role")
    if how != DIRECT and purpose is None:
        _refuse(request, coachee, "purpose")
    if how != DIRECT:
        purpose = _check_purpose(coachee, how, purpose)  # type: ignore[arg-type]
    elif getattr(user, "role", None) == Role.AUDITOR:
        engagement = _engagements_with_contact(user, coachee)[0]
        purpose = Purpose(AccessReason.AUDIT, f"engagement:{engagement}", "")
    else:
        purpose = None
    with transaction.atomic():
        detail: dict[str, object] = {}
        if purpose is not None:
            access = ContactAccess.objects.create(
                coachee=coachee, user=user, reason=purpose.reason, task=purpose.task,
                explanation_enc=sealed.seal(coachee, SEALED_EXPLANATION, purpose.explanation),
            )
            detail = {"reason": purpose.reason, "access": access.pk}
            if purpose.task:
                detail["task"] = purpose.task
        event_record(
            action="coachees.contact.viewed",
            request=request,
            object_type=COACHEE,
            object_id=coachee.pseudonym,
            detail=detail or None,
        )
    return vault.open_contact(coachee)


def task_read(
    *, request: HttpRequest, coachee: Coachee, task: str, action: str, **detail: object
) -> None:
    """A read of the coachee's data that belongs to a task of theirs by its nature (a
    request's letter, the corrections it asks for): recorded like an opening for that task,
    so "who saw my data" shows it with its reason. Inside or outside a transaction."""
    from coachregister.coachees.models import AccessReason, ContactAccess

    kind = task.partition(":")[0]
    with transaction.atomic():
        opened = ContactAccess.objects.create(
            coachee=coachee, user=request.user, reason=AccessReason(kind), task=task
        )
        event_record(
            action=action, request=request, object_type=COACHEE, object_id=coachee.pseudonym,
            detail={"reason": kind, "access": opened.pk, "task": task, **detail},
        )


def names_for_list(*, request: HttpRequest, coachees: list[Coachee]) -> dict[int, vault.Contact]:
    """Names for a list page, only of the coachees whose details open directly for the user
    (the coach's own); the others are listed by pseudonym. The caller passes rows from
    `visible_to`; each name shown is one audit event, written in one statement so the page's
    query count stays flat."""
    role = getattr(request.user, "role", None)
    if role == Role.AUDITOR:
        direct = _auditor_direct(request.user, coachees)
        shown = [c for c in coachees if c.pk in direct and not c.restricted]
    elif role in (Role.COACH, Role.THIRD_PARTY):
        shown = [c for c in coachees if not c.restricted]
    else:
        shown = []
    listing_record(action="coachees.names.listed", request=request,
                   pseudonyms=[c.pseudonym for c in shown])
    return {c.pk: vault.open_contact(c) for c in shown}


@dataclass(frozen=True)
class Why:
    """The stated purpose of one opening, as "who saw my data" shows it."""

    code: str
    label: str
    explanation: str


def reasons_of(coachee: Coachee, events: list[object]) -> dict[int, Why]:
    """Event pk -> the reason and the unsealed explanation of the openings among `events`,
    in one query (the events' detail names the `ContactAccess` row)."""
    from coachregister.coachees.models import AccessReason, ContactAccess

    wanted = {
        e.detail["access"]: e.pk  # type: ignore[attr-defined]
        for e in events
        if isinstance(getattr(e, "detail", None), dict) and e.detail.get("access")  # type: ignore[attr-defined]
    }
    rows = ContactAccess.objects.filter(pk__in=wanted, coachee=coachee).select_related("coachee")
    labels = dict(AccessReason.choices)
    return {
        wanted[row.pk]: Why(row.reason, str(labels.get(row.reason, row.reason)), row.explanation)
        for row in rows
    }
