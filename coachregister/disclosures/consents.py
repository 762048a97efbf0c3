"""Reading consent state (GDPR art. 7): the latest record for a purpose decides."""

from __future__ import annotations

from django.utils.translation import gettext as _

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


def consent_line(consent: Consent) -> str:
    """The consent in words: its purpose and, for a disclosure, to whom."""
    if consent.recipient_id:
        return _("Consent: %(purpose)s, for %(recipient)s.") % {
            "purpose": consent.get_purpose_display(), "recipient": consent.recipient.name}
    return _("Consent: %(purpose)s.") % {"purpose": consent.get_purpose_display()}
