"""The compliance overview: one row per promise of the regulation, red, amber or green.

The regulation's promises are kept by the system itself (deadlines, purges, the breach clock,
the audit trail); this overview is where the owners, the administrator and the certification
auditor (art. 5.4) see at a glance whether they were kept. Every row is a count read from the
app that owns the promise, in a fixed number of queries (the page does not grow with the
register). The rows hold counts only, never a name or a pseudonym, so the auditor sees the
same rows; only the links into the records are left out for the auditor.

The other apps are imported inside the functions: practice is imported by nearly every app
(the settings, the processors) and must not import them at load time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Min, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from coachregister.lib.display import longdate

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.db.models import QuerySet
    from django.http import HttpRequest

    from coachregister.accounts.models import User

RED, AMBER, GREEN = "red", "amber", "green"
SOON_DAYS = 5  # requests and complaints: the reminders' "within five days" (art. 4.1d)
CONTRACT_DAYS = 30  # art. 5.3: third-party contracts ending within this many days
DENIED_DAYS = 30  # art. 5.1: denied accesses of the last month
MAILBOX_EXPIRED_DAYS = 90  # art. 12.1: tasks that expired unconfirmed, recently
VERIFY_STALE = timedelta(days=2)  # art. 6: the daily verify should have run since
OBJECT = "compliance"


@dataclass
class Row:
    """One promise: its article, what it is, how it stands in words and in colour, and where
    its records are (a URL name; None: no page)."""

    article: str
    label: str
    value: str
    status: str
    link: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    key: str = ""  # a stable name (tests, the PDF's reader), set by `rows`

    @property
    def url(self) -> str | None:
        """The page of the records, when it exists (a part may not be installed yet)."""
        if self.link is None:
            return None
        try:
            return reverse(self.link)
        except NoReverseMatch:
            return None

    @property
    def status_text(self) -> str:
        """The status in words: colour alone does not say it (WCAG 1.4.1)."""
        return {RED: _("Action needed"), AMBER: _("Attention"), GREEN: _("In order")}[self.status]


def _when(moment: datetime) -> str:
    return longdate(moment)  # in running text: "27 november 2026, 08:51" (issue 14)


def _due_before(day: date) -> Q:
    """Requests whose date (rights.models.DataRequest.due) lies before `day`: the extended
    date when extended, else the earlier of the four weeks and the legal month."""
    return (Q(extended_until__isnull=False, extended_until__lt=day)
            | Q(extended_until__isnull=True) & (Q(answer_due__lt=day) | Q(legal_due__lt=day)))


def _deadlines(open_items: QuerySet[Any], before: Callable[[date], Q], today: date,
               article: str, label: str, url: str) -> Row:
    """Open items counted against their dates: red when one is past it, amber when one
    falls due within SOON_DAYS."""
    counts = open_items.aggregate(
        open=Count("pk"), overdue=Count("pk", filter=before(today)),
        soon=Count("pk", filter=before(today + timedelta(days=SOON_DAYS))),
    )
    status = RED if counts["overdue"] else AMBER if counts["soon"] else GREEN
    return Row(article, label, _("%(open)d open, %(overdue)d past their date") % counts,
               status, url, counts)


def _requests(today: date) -> Row:
    """Art. 7, 8: every request answered by its date (rights.services.open_requests)."""
    from coachregister.rights.models import DataRequest

    return _deadlines(DataRequest.objects.filter(decided_at__isnull=True), _due_before, today,
                      "7, 8", _("Requests answered in time"), "rights:list")


def _purge(today: date) -> Row:
    """Art. 10.2: nobody kept past their purge day without a standing hold (the purge's own
    list, retention.services.due_for_purge, which leaves out whom a hold keeps)."""
    from coachregister.retention.services import past_purge_day

    count = past_purge_day(today)
    return Row("10.2", _("Coachees purged on their day"),
               ngettext("%(count)d coachee past their purge day",
                        "%(count)d coachees past their purge day", count) % {"count": count},
               RED if count else GREEN, "retention:overview", {"count": count})


def _paper(now: datetime) -> Row:
    """Art. 10.1: the paper dossier destroyed after the trajectory ended; the worker escalates
    an unconfirmed one to the administrator after 30 days (retention/others.py)."""
    from coachregister.retention.models import PaperDossierTask
    from coachregister.retention.others import ESCALATE_AFTER

    counts = PaperDossierTask.objects.filter(confirmed_at__isnull=True).aggregate(
        open=Count("pk"), late=Count("pk", filter=Q(created_at__lt=now - ESCALATE_AFTER)))
    return Row("10.1", _("Paper dossiers destroyed"),
               _("%(open)d not confirmed, %(late)d of them for more than 30 days") % counts,
               AMBER if counts["late"] else GREEN, "retention:overview", counts)


def _mailbox(now: datetime) -> Row:
    """Art. 12.1: the copies in the coaches' mailboxes removed after an erasure or purge. A
    task that expired without confirmation (retention.mailbox.mailbox_tasks_expire) is red
    for a while: nobody said the copy is gone."""
    from coachregister.retention.models import MailboxTask

    counts = MailboxTask.objects.filter(confirmed_at__isnull=True).aggregate(
        open=Count("pk", filter=Q(key_destroyed_at__isnull=True)),
        expired=Count("pk", filter=Q(
            key_destroyed_at__gte=now - timedelta(days=MAILBOX_EXPIRED_DAYS))),
    )
    status = RED if counts["expired"] else AMBER if counts["open"] else GREEN
    return Row("12.1", _("Copies in mailboxes removed"),
               _("%(open)d not confirmed, %(expired)d expired without confirmation in the "
                 "last 90 days") % counts, status, "retention:overview", counts)


def _complaints(today: date) -> Row:
    """Art. 11: acknowledged and decided by their dates (complaints.models.Complaint.due)."""
    from coachregister.complaints.models import Complaint

    def before(day: date) -> Q:
        return (Q(acknowledged_at__isnull=True, acknowledge_due__lt=day)
                | Q(acknowledged_at__isnull=False, decide_due__lt=day))

    return _deadlines(Complaint.objects.filter(decided_at__isnull=True), before, today,
                      "11", _("Complaints handled in time"), "complaints:list")


def _incidents(now: datetime) -> Row:
    """Art. 4.1c, GDPR 33(1): the authority notified within 72 hours of awareness. The clock
    runs as in incidents.services.clock_running: open, not assessed as unlikely, no first
    notification yet. Red once overdue, amber under 24 hours left."""
    from coachregister.incidents.models import NOTIFY_WITHIN, Incident, Risk

    open_incidents = Incident.objects.filter(closed_at__isnull=True)
    running = (open_incidents.exclude(risk=Risk.UNLIKELY)
               .exclude(authority_notifications__follow_up=False)
               .aggregate(running=Count("pk"), first=Min("aware_at")))
    counts = {"open": open_incidents.count(), "running": running["running"]}
    if running["first"] is None:
        return Row("4.1c", _("Data breaches notified within 72 hours"),
                   _("%(open)d open, none waiting for the notification") % counts, GREEN,
                   "incidents:list", counts)
    hours = int((running["first"] + NOTIFY_WITHIN - now).total_seconds() // 3600)
    counts["hours_left"] = hours
    waiting = ngettext("%(open)d open, %(running)d waiting for the notification",
                       "%(open)d open, %(running)d waiting for the notification",
                       counts["running"]) % counts
    clock = (ngettext("overdue by %(hours)d hour", "overdue by %(hours)d hours", -hours)
             % {"hours": -hours} if hours < 0 else
             ngettext("%(hours)d hour left", "%(hours)d hours left", hours) % {"hours": hours})
    text = waiting + "; " + clock
    return Row("4.1c", _("Data breaches notified within 72 hours"), text,
               RED if hours < 0 else AMBER if hours < 24 else GREEN, "incidents:list", counts)


def _processors(today: date) -> Row:
    """Art. 13: each processing agreement reviewed by its date (Processor.review_due)."""
    from coachregister.practice.models import Processor

    counts = Processor.objects.filter(active=True).aggregate(
        total=Count("pk"), due=Count("pk", filter=Q(next_review__lt=today)))
    return Row("13", _("Processing agreements reviewed"),
               ngettext("%(due)d of %(total)d processor past its review date",
                        "%(due)d of %(total)d processors past their review date",
                        counts["total"]) % counts,
               AMBER if counts["due"] else GREEN, "practice:processors", counts)


def _two_factor() -> Row:
    """Art. 12.2: outside the office networks the second factor is required; a staff member
    without one can only work from the office (or not at all when it is required
    everywhere)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from coachregister.accounts.models import User
    from coachregister.practice.models import PracticeSettings

    practice = PracticeSettings.load()
    without = User.objects.filter(is_active=True).exclude(
        pk__in=TOTPDevice.objects.filter(confirmed=True).values("user_id")).count()
    networks = bool(practice.office_networks.strip())
    text = (ngettext("%(count)d staff member without a second factor; office networks are set",
                     "%(count)d staff members without a second factor; office networks are set",
                     without)
            if networks else
            ngettext("%(count)d staff member without a second factor; no office networks are "
                     "set",
                     "%(count)d staff members without a second factor; no office networks are "
                     "set", without)
            ) % {"count": without}
    return Row("12.2", _("Two-step verification"), text, AMBER if without else GREEN,
               "accounts:user_list", {"count": without, "networks": int(networks)})


def _confidentiality() -> Row:
    """Art. 5.2: every staff member accepted the current confidentiality statement."""
    from coachregister.accounts.models import ConfidentialityStatement, User

    statement = ConfidentialityStatement.current()
    active = User.objects.filter(is_active=True)
    if statement is not None:
        active = active.exclude(acceptances__statement=statement)
    count = active.count()
    return Row("5.2", _("Confidentiality statement accepted"),
               ngettext("%(count)d staff member has not accepted the current statement",
                        "%(count)d staff members have not accepted the current statement",
                        count) % {"count": count}, AMBER if count or statement is None else GREEN,
               "accounts:confidentiality", {"count": count})


def _contracts(today: date) -> Row:
    """Art. 5.3: a third party works until its contract's end; one ending soon is renewed or
    its account ends with it (accounts.models.User.contract_end)."""
    from coachregister.accounts.models import Role, User

    count = User.objects.filter(
        role=Role.THIRD_PARTY, is_active=True, contract_end__gte=today,
        contract_end__lte=today + timedelta(days=CONTRACT_DAYS)).count()
    return Row("5.3", _("Third-party contracts"),
               ngettext("%(count)d contract ends within 30 days",
                        "%(count)d contracts end within 30 days", count) % {"count": count},
               AMBER if count else GREEN, "accounts:user_list", {"count": count})


def _verify(now: datetime) -> Row:
    """Art. 6: the daily `audit verify` (audit/daily.py) passed, recently, and the latest
    signed anchor outside the database; no event waits longer than ten minutes to be sealed
    and none waits without a valid MAC (audit/services.py)."""
    from coachregister.audit import anchors
    from coachregister.audit.daily import last_outcome
    from coachregister.audit.services import SEAL_LIMIT, pending

    last = last_outcome()
    counts: dict[str, int] = {"findings": last["findings"] if last else 0}
    if last is None:
        text = _("the daily verify has not run yet")
    elif last["ok"]:
        text = _("last verify %(time)s: intact") % {"time": _when(last["at"])}
    else:
        text = ngettext("last verify %(time)s: %(findings)d finding",
                        "last verify %(time)s: %(findings)d findings", last["findings"]) % {
            "time": _when(last["at"]), "findings": last["findings"]}
    status = RED if last is None or not last["ok"] or now - last["at"] > VERIFY_STALE else GREEN
    try:
        found = anchors.anchors(anchors.in_force(anchors.read_records())[0])
    except anchors.EvidenceError:
        text += "; " + _("the evidence file cannot be read")
        status = RED
    else:
        if found:
            counts["anchor_seq"] = found[-1]["seq"]
            text += "; " + _("latest anchor: event %(seq)d, %(time)s") % {
                "seq": found[-1]["seq"],
                "time": _when(datetime.fromisoformat(found[-1]["time"]))}
        else:
            text += "; " + _("no anchor yet")
    waiting = pending()
    counts["waiting"], counts["forged"] = waiting.count, waiting.forged
    if waiting.forged:
        text += "; " + ngettext(
            "%(count)d event without a valid MAC: not written by this register",
            "%(count)d events without a valid MAC: not written by this register",
            waiting.forged) % {"count": waiting.forged}
        status = RED
    if waiting.overdue(now):
        text += "; " + _("an event has waited more than %(minutes)d minutes to be sealed: is "
                         "the worker running?") % {"minutes": SEAL_LIMIT.seconds // 60}
        status = RED
    return Row("6", _("Audit trail verified daily"), text, status, "audit:event_list", counts)


def _keys(now: datetime) -> Row:
    """Art. 6: the oldest key epoch still alive. Older than one epoch plus the backup age,
    the worker is not destroying epochs and erased data may still open from a copy."""
    from coachregister.keys import keyring

    epochs = keyring.living_epochs()
    bound = keyring.epoch_days() + keyring.backup_age_days()
    if not epochs:
        return Row("6", _("Key epochs destroyed in time"), _("no key epoch yet"), GREEN,
                   None, {"days": 0, "bound": bound})
    days = (now - epochs[0].created_at).days
    return Row("6", _("Key epochs destroyed in time"),
               ngettext("the oldest living key epoch is %(days)d day old (bound: %(bound)d days)",
                        "the oldest living key epoch is %(days)d days old (bound: %(bound)d "
                        "days)", days) % {"days": days, "bound": bound},
               AMBER if days > bound else GREEN, None, {"days": days, "bound": bound})


def _denied(now: datetime) -> Row:
    """Art. 5.1: who tried to see what was not theirs (accounts.access.deny)."""
    from coachregister.audit.models import Event

    count = Event.objects.filter(action="accounts.access.denied",
                                 created_at__gte=now - timedelta(days=DENIED_DAYS)).count()
    return Row("5.1", _("Denied accesses"),
               ngettext("%(count)d denied access in the last 30 days",
                        "%(count)d denied accesses in the last 30 days", count)
               % {"count": count},
               AMBER if count else GREEN, "audit:event_list", {"count": count})


def rows(today: date | None = None) -> list[Row]:
    """Every row, in the order of the regulation's concerns. A fixed number of queries."""
    now = timezone.now()
    today = today or timezone.localdate()
    result = {
        "requests": _requests(today), "complaints": _complaints(today),
        "incidents": _incidents(now), "purge": _purge(today), "paper": _paper(now),
        "mailbox": _mailbox(now), "processors": _processors(today),
        "two_factor": _two_factor(), "confidentiality": _confidentiality(),
        "contracts": _contracts(today), "verify": _verify(now), "keys": _keys(now),
        "denied": _denied(now),
    }
    for key, row in result.items():
        row.key = key
    return list(result.values())


def may_read(user: User) -> bool:
    """Owners and the administrator; the certification auditor during an open engagement
    window only (art. 5.4)."""
    from coachregister.practice.services import _audit_window_open

    role = getattr(user, "role", None)
    if role in ("owner", "administrator"):
        return True
    return role == "auditor" and _audit_window_open(user)


def compliance_read(*, actor: User, request: HttpRequest | None, download: bool = False
                    ) -> list[Row]:
    """The rows for `actor`, the reading audited with the counts per colour only."""
    from coachregister.audit.services import event_record

    if not may_read(actor):
        raise PermissionDenied(_("You cannot read the compliance overview."))
    result = rows()
    detail: dict[str, Any] = {colour: sum(r.status == colour for r in result)
                              for colour in (RED, AMBER, GREEN)}
    with transaction.atomic():
        event_record(action="practice.compliance.downloaded" if download
                     else "practice.compliance.viewed",
                     request=request, actor=actor, object_type=OBJECT, detail=detail)
    return result
