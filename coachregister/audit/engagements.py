"""The certification audit (art. 5.4): a fair, reproducible random sample of dossiers.

The population (the pseudonyms of all trajectories with a coachee, sorted) and a random seed
are recorded; the sample is `random.Random(seed).sample(population, size)`. Anyone can redraw
it from the report and see that it was neither chosen nor changed.
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from coachregister.accounts.models import Role, User
from coachregister.audit.models import Engagement, Event
from coachregister.audit.services import LISTING, event_record

ENGAGEMENT = "engagement"


def draw(population: list[str], size: int, seed: str) -> list[str]:
    """The sample: uniform without replacement, determined by the seed alone."""
    return sorted(random.Random(seed).sample(sorted(population), min(size, len(population))))


def engagement_open(
    *, actor: User, request: HttpRequest | None, auditor: User, window_from: datetime,
    window_until: datetime, sample_size: int, include_contact_details: bool = False,
) -> Engagement:
    from coachregister.trajectories.models import Trajectory

    if actor.role not in (Role.OWNER, Role.ADMINISTRATOR):
        raise PermissionDenied(_("Only the owner or the administrator may do this."))
    if auditor.role != Role.AUDITOR or not auditor.is_active:
        raise ValidationError(_("Choose an active auditor account."))
    if window_until <= window_from:
        raise ValidationError(_("The window must end after it starts."))
    if sample_size < 1:
        raise ValidationError(_("The sample needs at least one dossier."))
    with transaction.atomic():
        population = sorted(
            Trajectory.objects.filter(coachee__isnull=False).values_list("pseudonym", flat=True)
        )
        if not population:
            raise ValidationError(_("There are no dossiers to sample yet."))
        seed = secrets.token_hex(16)
        engagement = Engagement.objects.create(
            auditor=auditor, window_from=window_from, window_until=window_until,
            sample_size=sample_size, seed=seed, population=population,
            sample=draw(population, sample_size, seed), created_by=actor,
            include_contact_details=include_contact_details,
        )
        event_record(action="audit.engagement.opened", request=request, actor=actor,
                     object_type=ENGAGEMENT, object_id=str(engagement.pk),
                     detail={"auditor": auditor.pk, "sample": len(engagement.sample),
                             "contact_details": include_contact_details})
    return engagement


def sampled_pseudonyms(user: User, now: datetime | None = None) -> list[str]:
    """The trajectories an auditor may read now: those in the sample of an open window."""
    now = now or timezone.now()
    samples = Engagement.objects.filter(
        auditor=user, window_from__lte=now, window_until__gt=now
    ).values_list("sample", flat=True)
    return sorted({pseudonym for sample in samples for pseudonym in sample})


def opened_by_auditor(engagement: Engagement) -> list[Event]:
    """What the auditor opened during the window: the report's second half. A list page that
    showed names is one event; its pseudonyms come with it (`event.listed`, one query)."""
    return list(
        Event.objects.filter(
            Q(object_type__in=["trajectory", "coachee"]) | Q(object_type=LISTING, object_id=""),
            actor=engagement.auditor,
            created_at__gte=engagement.window_from,
            created_at__lt=engagement.window_until,
        ).prefetch_related("listed").order_by("seq")
    )
