"""Registering incidents and the 72-hour clock (art. 4.1c, 13.6; GDPR art. 33).

Owners and the administrator register and describe an incident and assess its risk; an
owner records the notification to the supervisory authority (the owner submits it on the
authority's website). The free texts are encrypted under the register key "incidents".
Every write has its audit event in the same transaction; a change of the moment the
practice became aware records the old and new moments, so the clock is never moved quietly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from coachregister.accounts.models import Role
from coachregister.audit.services import event_record
from coachregister.incidents.models import (
    NOTIFY_WITHIN,
    AuthorityNotification,
    DataCategory,
    Incident,
    Reporter,
    Risk,
)
from coachregister.keys import keyring
from coachregister.lib import crypto

if TYPE_CHECKING:
    from coachregister.accounts.models import User
    from coachregister.practice.models import Processor

KEY_PURPOSE = "incidents"
OBJECT = "incident"
MAX_TEXT = 8000
# GDPR art. 33(1): the owners are warned this long after awareness, and when overdue.
WARNINGS = (("warned_24_at", timedelta(hours=24)), ("warned_48_at", timedelta(hours=48)),
            ("warned_overdue_at", NOTIFY_WITHIN))
MANAGERS = (Role.OWNER, Role.ADMINISTRATOR)


# --- encrypted texts -------------------------------------------------------------------------


def _aad(model: str, field: str) -> str:
    return f"{KEY_PURPOSE}:{model}:{field}"


def seal(model: str, field: str, text: str) -> tuple[str, bytes | None]:
    """Encrypt one free text under the register key; empty text is stored as None."""
    key_id, key = keyring.register_key(KEY_PURPOSE)
    if not text:
        return key_id, None
    return key_id, crypto.encrypt_text(key, text, _aad(model, field))


def text(row: Incident | AuthorityNotification, field: str) -> str:
    """A decrypted free text of an incident or a notification ("" when empty)."""
    blob = getattr(row, f"{field}_enc")
    if not blob:
        return ""
    key = keyring.register_key_by_id(row.key_id)
    return crypto.decrypt_text(key, bytes(blob), _aad(type(row).__name__.lower(), field))


def iso(moment: datetime) -> str:
    """A moment as an ISO time in UTC, for audit details (comparable whatever the zone)."""
    return moment.astimezone(UTC).isoformat()


# --- checks ----------------------------------------------------------------------------------


def require_manager(actor: User) -> None:
    if actor.role not in MANAGERS:
        raise PermissionDenied(_("Only an owner or the administrator handles incidents."))


def _clean_text(value: str, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(_("Describe what happened."))
    if len(value) > MAX_TEXT:
        raise ValidationError(_("A text can hold at most 8000 characters."))
    return value


def _check_estimate(records_estimate: int | None) -> None:
    if records_estimate is not None and not 0 <= records_estimate <= 2_000_000_000:
        raise ValidationError(_("Give the approximate number of records as a whole number."))


def _check_moments(started_at: datetime | None, aware_at: datetime, now: datetime) -> None:
    if aware_at > now:
        raise ValidationError(_("The practice cannot become aware of an incident in the future."))
    if started_at is not None and started_at > aware_at:
        raise ValidationError(_("An incident cannot start after the practice became aware of it."))


def _check_reporter(
    reported_by: str, processor_name: str, processor: Processor | None = None,
    current: Processor | None = None,
) -> tuple[str, Processor | None]:
    """Who reported it. Art. 13: a processor from the register is linked and its name kept
    with the incident as well (the authority's form names it); a processor not in the
    register is named in words. A retired processor is linked only where it already was."""
    if reported_by not in Reporter.values:
        raise ValidationError(_("Choose who reported the incident."))
    if reported_by != Reporter.PROCESSOR:
        return "", None
    if processor is not None:
        if not processor.active and (current is None or processor.pk != current.pk):
            raise ValidationError(_("This processor has been retired."))
        return processor.name[:100], processor
    processor_name = " ".join((processor_name or "").split())
    if not processor_name:
        raise ValidationError(_("Name the processor that reported the incident."))
    return processor_name, None


def _check_categories(categories: list[str]) -> list[str]:
    if not set(categories) <= set(DataCategory.values):
        raise ValidationError(_("Choose the categories of data from the list."))
    return sorted(set(categories))


# --- writes ----------------------------------------------------------------------------------


def incident_register(
    *, actor: User, request: HttpRequest | None, summary: str, aware_at: datetime,
    reported_by: str, started_at: datetime | None = None, processor_name: str = "",
    data_categories: list[str] | None = None, containment: str = "",
    records_estimate: int | None = None, consequences: str = "",
    processor: Processor | None = None,
) -> Incident:
    """Register an incident, also one that needs no notification (GDPR 33(5)). The
    registration time is the system's; the 72-hour clock runs from `aware_at`."""
    require_manager(actor)
    now = timezone.now()
    _check_moments(started_at, aware_at, now)
    _check_estimate(records_estimate)
    processor_name, processor = _check_reporter(reported_by, processor_name, processor)
    categories = _check_categories(data_categories or [])
    texts = {"summary": _clean_text(summary, required=True),
             "containment": _clean_text(containment),
             "consequences": _clean_text(consequences)}
    sealed = {f"{field}_enc": seal("incident", field, value)[1]
              for field, value in texts.items()}
    key_id = keyring.register_key(KEY_PURPOSE)[0]
    with transaction.atomic():
        incident = Incident.objects.create(
            registered_at=now, registered_by=actor, key_id=key_id, started_at=started_at,
            aware_at=aware_at, reported_by=reported_by, processor_name=processor_name,
            processor=processor, data_categories=categories,
            records_estimate=records_estimate, **sealed,
        )
        detail = {"aware_at": iso(aware_at), "reported_by": reported_by}
        if processor is not None:  # the register's id, never a name
            detail["processor"] = str(processor.pk)
        event_record(
            action="incidents.incident.registered", request=request, actor=actor,
            object_type=OBJECT, object_id=str(incident.pk), detail=detail,
        )
    return incident


def _open_for_change(incident: Incident) -> Incident:
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.closed_at is not None:
        raise ValidationError(_("This incident is closed."))
    return incident


def incident_update(
    *, actor: User, request: HttpRequest | None, incident: Incident, summary: str,
    aware_at: datetime, reported_by: str, started_at: datetime | None = None,
    processor_name: str = "", data_categories: list[str] | None = None,
    containment: str = "", records_estimate: int | None = None, consequences: str = "",
    processor: Processor | None = None,
) -> Incident:
    """Change the description of an open incident. A new awareness moment gets its own
    event with the old and the new moment (ISO times), and the warnings of the clock follow
    the new moment."""
    require_manager(actor)
    now = timezone.now()
    _check_moments(started_at, aware_at, now)
    _check_estimate(records_estimate)
    categories = _check_categories(data_categories or [])
    texts = {"summary": _clean_text(summary, required=True),
             "containment": _clean_text(containment),
             "consequences": _clean_text(consequences)}
    with transaction.atomic():
        incident = _open_for_change(incident)
        processor_name, processor = _check_reporter(
            reported_by, processor_name, processor, incident.processor)
        old_aware = incident.aware_at
        changed = [field for field, value in texts.items() if text(incident, field) != value]
        for field in changed:  # the register key is one per purpose: `key_id` stays valid
            incident.key_id, blob = seal("incident", field, texts[field])
            setattr(incident, f"{field}_enc", blob)
        plain = {"started_at": started_at, "reported_by": reported_by,
                 "processor_name": processor_name, "data_categories": categories,
                 "records_estimate": records_estimate,
                 "processor_id": processor.pk if processor is not None else None}
        for field, value in plain.items():
            if getattr(incident, field) != value:
                setattr(incident, field, value)
                changed.append(field)
        if aware_at != old_aware:
            # The practice knew at the latest when it registered the incident: the clock
            # cannot be moved past that, nor once the authority has been notified.
            if aware_at > incident.registered_at:
                raise ValidationError(_("The practice was aware of the incident at the latest "
                                        "when it registered it."))
            if incident.initial_notification() is not None:
                raise ValidationError(_("The authority has been notified: the moment of "
                                        "awareness no longer changes."))
            incident.aware_at = aware_at
            for field, after in WARNINGS:  # a warning not yet due again is sent again
                if aware_at + after > now:
                    setattr(incident, field, None)
            event_record(
                action="incidents.incident.aware_changed", request=request, actor=actor,
                object_type=OBJECT, object_id=str(incident.pk),
                detail={"old": iso(old_aware), "new": iso(aware_at)},
            )
        if changed:
            event_record(
                action="incidents.incident.changed", request=request, actor=actor,
                object_type=OBJECT, object_id=str(incident.pk),
                detail={"fields": ",".join(sorted(changed))},
            )
        incident.save()
    return incident


def incident_assess(
    *, actor: User, request: HttpRequest | None, incident: Incident, risk: str, reasons: str,
) -> Incident:
    """GDPR 33(1), 34(1): unlikely to result in a risk, a risk, or a high risk, with the
    reasons. A risk or a high risk means the authority is notified within 72 hours."""
    require_manager(actor)
    if risk not in Risk.values:
        raise ValidationError(_("Choose the risk."))
    reasons = _clean_text(reasons)
    if not reasons:
        raise ValidationError(_("Give the reasons for the assessment."))
    with transaction.atomic():
        incident = _open_for_change(incident)
        previous = incident.risk
        incident.risk = risk
        incident.risk_reasons_enc = seal("incident", "risk_reasons", reasons)[1]
        incident.key_id = keyring.register_key(KEY_PURPOSE)[0]
        incident.risk_assessed_at = timezone.now()
        incident.risk_assessed_by = actor
        incident.save(update_fields=["risk", "risk_reasons_enc", "key_id", "risk_assessed_at",
                                     "risk_assessed_by"])
        event_record(
            action="incidents.incident.assessed", request=request, actor=actor,
            object_type=OBJECT, object_id=str(incident.pk),
            detail={"risk": risk, "previous": previous},
        )
    return incident


def authority_notification_record(
    *, actor: User, request: HttpRequest | None, incident: Incident, submitted_at: datetime,
    reference: str, delay_reasons: str = "", follow_up: bool = False,
) -> AuthorityNotification:
    """GDPR 33(1), 33(4): the owner submitted the notification (or a later phase of it) on
    the authority's website; the register keeps when and the reference number. A first
    notification after 72 hours is refused without the reasons for the delay."""
    if actor.role != Role.OWNER:
        raise PermissionDenied(_("Only an owner records a notification to the authority."))
    reference = " ".join((reference or "").split())
    delay_reasons = _clean_text(delay_reasons)
    if not reference:
        raise ValidationError(_("Fill in the reference number the authority gave."))
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        initial = incident.initial_notification()
        if submitted_at > timezone.now() or submitted_at < incident.aware_at:
            raise ValidationError(
                _("The submission lies between the awareness and now.")
            )
        if follow_up and initial is None:
            raise ValidationError(_("Record the first notification before a follow-up."))
        if not follow_up:
            if initial is not None:
                raise ValidationError(_("The first notification has been recorded already."))
            if not incident.needs_authority:
                raise ValidationError(
                    _("Assess the risk first: only a risk is notified to the authority.")
                )
            late = submitted_at > incident.notify_due
            if late and not delay_reasons:
                raise ValidationError(
                    _("The notification is later than 72 hours: give the reasons for the delay."),
                    code="delay_reasons",
                )
        key_id, blob = seal("authoritynotification", "delay_reasons", delay_reasons)
        notification = AuthorityNotification.objects.create(
            incident=incident, follow_up=follow_up, submitted_at=submitted_at,
            reference=reference, delay_reasons_enc=blob, key_id=key_id, recorded_by=actor,
        )
        event_record(
            action="incidents.authority.notified", request=request, actor=actor,
            object_type=OBJECT, object_id=str(incident.pk),
            detail={"follow_up": follow_up, "submitted_at": iso(submitted_at),
                    "late": submitted_at > incident.notify_due},
        )
    return notification


def _coachees_dealt_with(incident: Incident) -> bool:
    """GDPR 34: the affected coachees were told, or an exception of 34(3) is recorded."""
    from coachregister.incidents.models import CoacheeNotice, NoticeException

    return (CoacheeNotice.objects.filter(incident=incident).exists()
            or NoticeException.objects.filter(incident=incident).exists()
            or not incident.affected.exists())


def incident_close(*, actor: User, request: HttpRequest | None, incident: Incident) -> Incident:
    """Close an incident once its risk is assessed and, where needed, the authority has been
    notified. The record stays (GDPR 33(5))."""
    require_manager(actor)
    with transaction.atomic():
        incident = _open_for_change(incident)
        if not incident.risk:
            raise ValidationError(_("Assess the risk before closing the incident."))
        if incident.needs_authority and incident.initial_notification() is None:
            raise ValidationError(_("Record the notification to the authority first."))
        if incident.risk == Risk.HIGH and not _coachees_dealt_with(incident):
            raise ValidationError(_("A high risk: send the notices to the affected coachees, "
                                    "or record the exception of GDPR art. 34(3), first."))
        incident.closed_at = timezone.now()
        incident.closed_by = actor
        incident.save(update_fields=["closed_at", "closed_by"])
        event_record(action="incidents.incident.closed", request=request, actor=actor,
                     object_type=OBJECT, object_id=str(incident.pk))
    return incident


# --- the clock -------------------------------------------------------------------------------


def clock_running(incident: Incident, notified: bool | None = None) -> bool:
    """The 72-hour clock runs while the risk is unassessed or a risk, and the authority has
    not been notified (`notified`: already known, e.g. annotated on a list)."""
    if notified is None:
        notified = incident.authority_notifications.filter(follow_up=False).exists()
    return incident.closed_at is None and incident.risk != Risk.UNLIKELY and not notified


def hours_left(incident: Incident, now: datetime | None = None) -> int:
    """Whole hours until the 72 hours end (negative: overdue by that many hours)."""
    seconds = (incident.notify_due - (now or timezone.now())).total_seconds()
    return int(seconds // 3600)


def warn_deadlines(now: datetime | None = None) -> int:
    """The worker: mail the owners once 24 hours and once 48 hours after the practice became
    aware of an incident whose clock runs, and once when the 72 hours have passed. Each
    warning is claimed by one worker. The mail names the incident code, nothing else."""
    from django.conf import settings as django_settings
    from django.urls import reverse

    from coachregister.accounts.models import User
    from coachregister.outbox.services import message_enqueue

    now = now or timezone.now()
    owners = list(User.objects.filter(role=Role.OWNER, is_active=True)
                  .values_list("email", flat=True))
    sent = 0
    candidates = Incident.objects.filter(
        closed_at__isnull=True, aware_at__lte=now - WARNINGS[0][1],
    ).exclude(risk=Risk.UNLIKELY).exclude(authority_notifications__follow_up=False)
    for incident in candidates:
        elapsed = now - incident.aware_at
        field = next(
            (name for name, after in reversed(WARNINGS) if elapsed >= after), None
        )
        if field is None or getattr(incident, field) is not None:
            continue
        link = django_settings.COACHREGISTER_BASE_URL.rstrip("/") + reverse(
            "incidents:detail", args=[incident.pk])
        with transaction.atomic():
            claimed = Incident.objects.filter(
                pk=incident.pk, **{f"{field}__isnull": True}
            ).update(**{field: now})
            if not claimed:
                continue  # another worker sent it
            overdue = field == "warned_overdue_at"
            with override("nl"):
                subject = (
                    _("Overdue: the authority has not been notified of %(code)s")
                    if overdue
                    else _("%(code)s: notify the authority within 72 hours")
                ) % {"code": incident.code}
                body = render_to_string("incidents/mail_warning.txt", {
                    "incident": incident, "overdue": overdue, "link": link,
                    "hours_left": hours_left(incident, now),
                })
            for email in owners:
                message_enqueue(kind="incident_warning", to=email, subject=subject, body=body)
            event_record(action="incidents.clock.warned", object_type=OBJECT,
                         object_id=str(incident.pk), detail={"warning": field[7:-3]})
        sent += 1
    return sent
