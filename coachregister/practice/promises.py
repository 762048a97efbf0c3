"""The promises the practice makes, read from the settings that the code enforces.

One function, `current()`, gives every value a text of the practice states to coachees and
clients: the privacy regulation, the intake page, the letters and the record of processing
activities all render from it, so a promise cannot say what the software does not do. A
setting that changes here changes every document and the behaviour together.

`current()` reads the settings in force; `with_pending()` reads them as they will be once the
pending (weakening) changes are published (practice.models.PendingChange), for the preview.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings

from coachregister.lib import deadlines


def _values(practice: Any, policy: Any) -> dict[str, Any]:
    from coachregister.keys import keyring

    networks = [str(n) for n in practice.office_network_list()]
    return {
        "practice_name": practice.name,
        "address": practice.address,
        "email": practice.email,
        "phone": practice.phone,
        "website": practice.website,
        "chamber_of_commerce": practice.chamber_of_commerce,
        # Art. 7, 8: the answer term, and whether it can be extended (GDPR 12(3)).
        "answer_weeks": deadlines.ANSWER_WEEKS,
        "extension_allowed": bool(practice.extension_allowed),
        "extension_months": 3,
        # GDPR 15(3): the first copy is free; a further copy may carry this fee.
        "further_copy_fee": Decimal(practice.further_copy_fee or 0),
        "unknown_requester_days": practice.unknown_requester_days,
        # Art. 10.1, 10.2: the retention period, counted from the last contact, and the
        # window within which the data are destroyed after it.
        "retention_years": policy.years,
        "retention_statute": policy.statute,
        "purge_window_years": 1,
        "client_contact_years": policy.client_contact_years,
        "staff_years": policy.staff_years,
        "audit_years": policy.audit_years,
        # Art. 6, 10.2: backups and key epochs bound how long an erased person's data can be
        # opened from any copy.
        "backup_age_days": keyring.backup_age_days(),
        "epoch_days": keyring.epoch_days(),
        # Art. 12.2: where a second factor is asked.
        "office_networks": networks,
        "two_factor_everywhere": bool(practice.two_factor_everywhere) or not networks,
        # Art. 3.1: whether the coach's mail carries contact details.
        "coach_mail_includes_contact_details": bool(
            practice.coach_mail_includes_contact_details
        ),
        # Sessions and lockout, as configured for this installation.
        "idle_minutes": settings.SESSION_COOKIE_AGE // 60,
        "absolute_hours": settings.SESSION_ABSOLUTE_SECONDS // 3600,
        "lockout_failures": settings.AXES_FAILURE_LIMIT,
        "lockout_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }


def current() -> dict[str, Any]:
    """The promises as the settings in force make them."""
    from coachregister.practice.models import PracticeSettings
    from coachregister.retention.models import RetentionPolicy

    return _values(PracticeSettings.load(), RetentionPolicy.current())


def with_pending() -> dict[str, Any]:
    """The promises as they will be once the open pending changes are published: the settings
    in force with the pending values laid over them, nothing saved."""
    from coachregister.practice.models import PendingChange, PracticeSettings
    from coachregister.retention.models import RetentionPolicy

    practice = PracticeSettings.load()
    policy = RetentionPolicy.current()
    for change in PendingChange.objects.filter(applied_at=None, withdrawn_at=None):
        target = practice if change.target == "practice" else policy
        for field, value in change.values.items():
            setattr(target, field, value)
    return _values(practice, policy)
