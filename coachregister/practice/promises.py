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

# The promises whose change is material (art. 2, GDPR 13(3), 14(4)): the coachees are told by
# mail and the portal shows the change. Contact details of the practice, session timeouts
# and the like are not: they change no right and no risk of the coachee.
MATERIAL_KEYS = (
    "answer_weeks", "extension_allowed", "extension_months", "further_copy_fee",
    "unknown_requester_days", "retention_years", "retention_statute", "purge_window_years",
    "client_contact_years", "staff_years", "audit_years", "backup_age_days", "epoch_days",
    "erasure_bound_days", "office_networks", "two_factor_everywhere",
    "coach_mail_includes_contact_details", "processors", "purposes", "complaints",
)

# What a PendingChange may carry per target (art. 2: only promises wait for publication).
PENDING_FIELDS = {
    "practice": ("office_networks", "two_factor_everywhere", "extension_allowed",
                 "further_copy_fee", "unknown_requester_days",
                 "coach_mail_includes_contact_details"),
    "retention": ("years", "statute", "client_contact_years", "staff_years", "audit_years"),
    # Art. 2.1, 2.2: purposes added after publication, activated by the next version.
    "purposes": ("activate",),
    # Art. 11.2: longer terms for acknowledging and deciding on a complaint.
    "complaints": ("acknowledge_days", "decide_weeks"),
}


def _processors() -> list[dict[str, str]]:
    """Art. 13, GDPR 28, 44-49: the processors in use, with where they store and on what
    basis data leave the EEA."""
    from coachregister.practice.models import Processor

    return [
        {"name": p.name, "service": p.service, "storage_location": p.storage_location,
         "third_country": p.third_country, "transfer_basis": p.transfer_basis}
        for p in Processor.objects.filter(active=True).order_by("name", "id")
    ]


def _purposes(activate: list[int] | tuple[int, ...] = ()) -> list[dict[str, str]]:
    """Art. 2.1, 2.2: the purposes the register allows, each with its basis; `activate` adds
    the waiting purposes (for the preview of the next version)."""
    from django.db.models import Q

    from coachregister.practice.models import ProcessingPurpose, PurposeBasis

    rows = [{"code": p.code, "name": p.name, "basis": p.basis}
            for p in ProcessingPurpose.objects.filter(Q(active=True) | Q(pk__in=activate))]
    if not any(row["code"] == ProcessingPurpose.BUILTIN_COACHING for row in rows):
        # The practice's own purpose is always on the list (read without writing it).
        rows.insert(0, {"code": ProcessingPurpose.BUILTIN_COACHING, "name": "",
                        "basis": PurposeBasis.AGREEMENT.value})
    return rows


def _complaints(pending: dict[str, Any] | None = None) -> dict[str, Any]:
    """Art. 11: the complaints procedure the owner set, with `pending` (waiting longer terms)
    laid over it for the preview."""
    from coachregister.complaints.models import ComplaintProcedure

    procedure = ComplaintProcedure.load()
    for field, value in (pending or {}).items():
        setattr(procedure, field, value)
    return {
        "acknowledge_days": procedure.acknowledge_days,
        "decide_weeks": procedure.decide_weeks,
        "external_body": procedure.external_body,
        "external_body_url": procedure.external_body_url,
        "authority": procedure.authority,
        "authority_url": procedure.authority_url,
    }


def _values(
    practice: Any, policy: Any, *, activate: list[int] | tuple[int, ...] = (),
    complaints: dict[str, Any] | None = None,
) -> dict[str, Any]:
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
        "erasure_bound_days": keyring.erasure_bound_days(),
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
        # Art. 13, 2, 11: processors, purposes and the complaints procedure.
        "processors": _processors(),
        "purposes": _purposes(activate),
        "complaints": _complaints(complaints),
    }


def from_settings(practice: Any, policy: Any = None) -> dict[str, Any]:
    """The promises of given (possibly unsaved) settings: for a text generated from settings
    that are not in force yet."""
    from coachregister.retention.models import RetentionPolicy

    return _values(practice, policy if policy is not None else RetentionPolicy.current())


def as_json(promises: dict[str, Any]) -> dict[str, Any]:
    """The promises as stored with a regulation version (JSON: the fee as a string)."""
    return {key: (str(value) if isinstance(value, Decimal) else value)
            for key, value in promises.items()}


def material_difference(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The material promises that differ between two sets (either may be stored JSON)."""
    old_json, new_json = as_json(old), as_json(new)
    return [key for key in MATERIAL_KEYS if old_json.get(key) != new_json.get(key)]


def differ(stored: dict[str, Any], promises: dict[str, Any]) -> bool:
    """Whether the stored promises of a version differ from these in any value that the
    text states (the dashboard's "unpublished changes")."""
    return as_json(stored) != as_json(promises)


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
    activate: list[int] = []
    complaints: dict[str, Any] = {}
    for change in PendingChange.objects.filter(applied_at=None, withdrawn_at=None):
        if change.target == "purposes":
            activate.extend(int(pk) for pk in change.values.get("activate", []))
            continue
        if change.target == "complaints":
            complaints.update(change.values)
            continue
        target = practice if change.target == "practice" else policy
        for field, value in change.values.items():
            setattr(target, field, value)
    return _values(practice, policy, activate=activate, complaints=complaints)


def weakening(target: str, field: str, old: Any, new: Any) -> bool:
    """Whether changing `field` from `old` to `new` weakens a promise (art. 2, 10.1, 12.2):
    more places where a password alone suffices, the second step no longer asked
    everywhere, an answer term that may be extended, a fee up, details kept longer, contact
    details in the coach's mail, a longer term in the complaints procedure (art. 11.2). Such
    a change waits until the regulation stating it is published; every other change acts at
    once."""
    from coachregister.lib import net

    if target == "practice":
        if field == "office_networks":
            before = {str(n) for n in net.parse_networks(str(old or "").splitlines())}
            after = {str(n) for n in net.parse_networks(str(new or "").splitlines())}
            return bool(after - before)
        if field in ("two_factor_everywhere",):
            return bool(old) and not bool(new)
        if field in ("extension_allowed", "coach_mail_includes_contact_details"):
            return bool(new) and not bool(old)
        if field == "further_copy_fee":
            return Decimal(str(new or 0)) > Decimal(str(old or 0))
        if field == "unknown_requester_days":
            return int(new) > int(old)
        return False
    if target == "retention" and field in ("years", "client_contact_years", "staff_years",
                                          "audit_years"):
        return int(new) > int(old)
    if target == "complaints" and field in PENDING_FIELDS["complaints"]:
        # Art. 11.2: a longer term to acknowledge or decide is a weaker promise.
        return int(new) > int(old)
    return False


def regulation_unpublished() -> bool:
    """Art. 2: the settings in force or the waiting ones say something the latest published
    version does not (or nothing is published yet): the owner's dashboard says so."""
    from coachregister.practice.models import RegulationVersion

    latest = RegulationVersion.current()
    if latest is None:
        return True
    return differ(latest.promises, current()) or differ(latest.promises, with_pending())
