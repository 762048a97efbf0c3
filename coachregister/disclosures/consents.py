"""Reading consent state (GDPR art. 7): the latest record for a purpose decides."""

from __future__ import annotations

from coachregister.coachees.models import Coachee
from coachregister.disclosures.models import Consent


def latest(coachee: Coachee, purpose: str) -> Consent | None:
    return (
        Consent.objects.filter(coachee=coachee, purpose=purpose)
        .order_by("-recorded_at", "-id")
        .first()
    )


def in_force(coachee: Coachee, purpose: str) -> bool:
    consent = latest(coachee, purpose)
    return consent is not None and consent.in_force
