"""Retention of the other personal data the register holds (art. 10.1), the paper-dossier
reminders, and the worker's daily retention pass.

Besides coachees the register holds two kinds of personal data:

* a client's **business contact** (name, email, telephone), needed for quotes and invoices
  while the practice works for that client: cleared in place `client_contact_years` after
  the client's last trajectory ended, unless the client has an open trajectory. A client
  without any trajectory (a quote that led to nothing, or trajectories already purged)
  counts from its quote date;
* **staff accounts**: a deactivated account keeps its name and address `staff_years` after
  its deactivation, then is anonymised in place. The row stays, because the audit trail and
  the trajectories refer to it: the trail keeps showing *that* account acted, no longer *who*.

Each change is one transaction with its audit event (ids only, never the old values). The
periods end like the coachees' (lib/deadlines.py): the change happens on the Dutch day after
the anniversary. Paper dossiers still to be destroyed after a trajectory ended (art. 10.1)
are reminded weekly to the coach and, after 30 days, to the administrator.
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from coachregister.accounts.models import Role, User, new_security_stamp
from coachregister.audit.services import event_record
from coachregister.lib import claims, deadlines
from coachregister.retention.models import PaperDossierTask, RetentionPolicy
from coachregister.trajectories.models import ClientOrganisation, Status

# Stored, not shown through gettext: it replaces a person's name in the data itself.
ANONYMISED_NAME = "Geanonimiseerd account"
REMIND_EVERY = timedelta(days=7)
ESCALATE_AFTER = timedelta(days=30)
_DAILY_LOCK_KEY = 0x0C0A_10D1  # pg advisory lock of the daily pass; not the audit chain's key

_OPEN = (Status.INVITED, Status.ACTIVE)


def anonymised_username(user: User) -> str:
    return f"anonymised-{user.pk}"


def _local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


# --- the client's business contact (art. 10.1) ------------------------------------------------


def _has_contact() -> Q:
    return ~Q(contact_name="") | ~Q(contact_email="") | ~Q(contact_phone="")


def client_contact_expiry(client: ClientOrganisation, policy: RetentionPolicy | None = None
                          ) -> date | None:
    """The last day the client's business contact may be kept, or None while the client has
    an open trajectory (the contact is still needed)."""
    policy = policy or RetentionPolicy.current()
    trajectories = client.trajectories.all()
    if trajectories.filter(status__in=_OPEN).exists():
        return None
    last = trajectories.aggregate(last=Max("ended_on"))["last"] or client.quote_date
    return deadlines.add_years(last, policy.client_contact_years)


def clients_anonymise_due(today: date | None = None) -> int:
    """Clear the business contact of every client whose period has passed. Returns how many
    were cleared; running it again the same day finds nothing."""
    today = today or timezone.localdate()
    policy = RetentionPolicy.current()
    latest = deadlines.add_years(today, -policy.client_contact_years) + timedelta(days=1)
    candidates = (
        ClientOrganisation.objects.filter(_has_contact())
        .annotate(open=Count("trajectories", filter=Q(trajectories__status__in=_OPEN)),
                  last=Max("trajectories__ended_on"))
        .filter(open=0)
        .filter(Q(last__lt=latest) | Q(last__isnull=True, quote_date__lt=latest))
        .order_by("pk")
    )
    cleared = 0
    for candidate in candidates:
        with transaction.atomic():
            client = ClientOrganisation.objects.select_for_update().get(pk=candidate.pk)
            expiry = client_contact_expiry(client, policy)  # again, under the lock
            if expiry is None or expiry >= today:
                continue
            if not (client.contact_name or client.contact_email or client.contact_phone):
                continue
            client.contact_name = client.contact_email = client.contact_phone = ""
            client.save(update_fields=["contact_name", "contact_email", "contact_phone"])
            event_record(
                action="retention.client_contact.anonymised", object_type="client",
                object_id=str(client.pk),
                detail={"expiry": expiry.isoformat(), "policy_version": policy.version},
            )
        cleared += 1
    return cleared


# --- staff accounts (art. 10.1) ---------------------------------------------------------------


def staff_expiry(user: User, policy: RetentionPolicy | None = None) -> date | None:
    """The last day a deactivated account keeps its name and address; None while active."""
    if user.is_active or user.deactivated_at is None:
        return None
    policy = policy or RetentionPolicy.current()
    return deadlines.add_years(_local_day(user.deactivated_at), policy.staff_years)


def staff_anonymise_due(today: date | None = None) -> int:
    """Anonymise every account deactivated longer than the period: name, username and email
    replaced, password unusable, second factors deleted, sessions ended. Returns how many."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    today = today or timezone.localdate()
    policy = RetentionPolicy.current()
    margin = deadlines.add_years(today, -policy.staff_years) + timedelta(days=1)
    candidates = User.objects.filter(
        is_active=False, deactivated_at__isnull=False,
        deactivated_at__lt=timezone.make_aware(datetime.combine(margin, time())),
    ).order_by("pk")
    done = 0
    for candidate in candidates:
        if candidate.username == anonymised_username(candidate):
            continue
        with transaction.atomic():
            user = User.objects.select_for_update().get(pk=candidate.pk)
            expiry = staff_expiry(user, policy)  # again, under the lock (reactivated?)
            if expiry is None or expiry >= today or user.username == anonymised_username(user):
                continue
            user.username = anonymised_username(user)
            user.full_name = ANONYMISED_NAME
            user.email = ""
            user.set_unusable_password()
            user.security_stamp = new_security_stamp()  # any session left ends
            user.save(update_fields=["username", "full_name", "email", "password",
                                     "security_stamp"])
            TOTPDevice.objects.filter(user=user).delete()
            StaticDevice.objects.filter(user=user).delete()  # the backup codes with it
            event_record(
                action="retention.staff.anonymised", object_type="user", object_id=str(user.pk),
                detail={"expiry": expiry.isoformat(), "policy_version": policy.version},
            )
        done += 1
    return done


# --- paper dossiers still to destroy (art. 10.1) ----------------------------------------------


def _managers() -> list[str]:
    """The administrator; the owners when there is none (art. 1.4, 1.5)."""
    for role in (Role.ADMINISTRATOR, Role.OWNER):
        emails = [e for e in User.objects.filter(role=role, is_active=True)
                  .order_by("pk").values_list("email", flat=True) if e]
        if emails:
            return emails
    return []


def _link(task: PaperDossierTask) -> str:
    return settings.COACHREGISTER_BASE_URL.rstrip("/") + reverse(
        "trajectories:detail", kwargs={"pseudonym": task.trajectory.pseudonym}
    )


def _claim(task: PaperDossierTask, field: str, now: datetime) -> bool:
    """Claim this week's reminder: one worker, once per week per task."""
    due = Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lte": now - REMIND_EVERY})
    return bool(
        PaperDossierTask.objects.filter(due, pk=task.pk, confirmed_at__isnull=True)
        .update(**{field: now})
    )


def paper_tasks_remind(now: datetime | None = None) -> dict[str, int]:
    """Weekly to the coach once a task is a week old; weekly to the administrator (the owners
    if there is none) once it is older than 30 days. The mail names the trajectory's
    pseudonym and links to it: no personal data."""
    from coachregister.outbox.services import message_enqueue

    now = now or timezone.now()
    counts = {"reminded": 0, "escalated": 0}
    # Art. 8.1, GDPR art. 18: nothing goes about a restricted coachee, and their data is only
    # stored, not destroyed; the reminders resume when the restriction is lifted.
    open_tasks = PaperDossierTask.objects.filter(confirmed_at__isnull=True).exclude(
        trajectory__coachee__restricted=True
    ).select_related("trajectory__coach")
    week_ago = now - REMIND_EVERY
    for field, old_enough, kind in (
        ("reminded_at", Q(created_at__lte=week_ago), "reminded"),  # a week old
        ("escalated_at", Q(created_at__lt=now - ESCALATE_AFTER), "escalated"),  # older than 30
    ):
        due = Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lte": week_ago})
        for task in open_tasks.filter(due, old_enough).order_by("pk"):
            coach = task.trajectory.coach
            if kind == "reminded":
                to = [coach.email] if coach.is_active and coach.email else _managers()
            else:
                to = _managers()
            with transaction.atomic():
                if not _claim(task, field, now):
                    continue  # another worker sent it, or it was just confirmed
                days = (now - task.created_at).days
                with override("nl"):
                    subject = (
                        _("A paper dossier still has to be destroyed")
                        if kind == "reminded"
                        else _("A paper dossier has waited more than 30 days for destruction")
                    )
                    body = _(
                        "The destruction of the paper dossier of trajectory %(pseudonym)s has "
                        "not been confirmed yet (waiting %(days)d days). Confirm how it was "
                        "destroyed on the trajectory page:"
                    ) % {"pseudonym": task.trajectory.pseudonym, "days": days}
                for email in to:
                    message_enqueue(kind=f"retention_paper_{kind}", to=email, subject=subject,
                                    body=f"{body}\n\n{_link(task)}\n")
            counts[kind] += 1
    return counts


# --- the worker's daily pass ------------------------------------------------------------------


def _daily_lock() -> contextlib.AbstractContextManager[bool]:
    """One run at a time over all workers (lib/claims.py)."""
    return claims.claimed(_DAILY_LOCK_KEY, "daily")


def daily_run(today: date | None = None) -> dict[str, Any] | None:
    """The worker's retention pass, once per Dutch day (art. 10.1, 10.2, 12.1): the purge of
    everyone past their day, mailbox tasks past 30 days, business contacts and staff accounts
    past their period, and the paper-dossier reminders. Every step is idempotent (a second
    run the same day finds nothing), so a crash is repaired by the next run. None when
    another worker holds the pass."""
    from coachregister.practice.services import decisions_purge
    from coachregister.retention.mailbox import mailbox_tasks_expire
    from coachregister.retention.services import purge_run

    with _daily_lock() as got:
        if not got:
            return None
        purge = purge_run(today=today)
        return {
            "purged": purge.purged,
            "mailbox_expired": mailbox_tasks_expire(),
            "clients": clients_anonymise_due(today),
            "staff": staff_anonymise_due(today),
            "decisions": decisions_purge(today),  # art. 4.1e: the log's seven years
            **paper_tasks_remind(),
        }
