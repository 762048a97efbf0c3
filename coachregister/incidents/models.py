"""Calamities and data breaches (art. 4.1c, 13.6; GDPR art. 33-34).

Every incident is registered, also one that needs no notification (GDPR 33(5)). The free
texts are encrypted under the register key "incidents" (keys/keyring.register_key): an
incident is the practice's own record, not one coachee's, and it must outlive any one
coachee's erasure. Read and write them through `incidents.services` (`text`, `seal`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# GDPR art. 33(1): the authority is notified within 72 hours after becoming aware.
NOTIFY_WITHIN = timedelta(hours=72)


class Reporter(models.TextChoices):
    STAFF = "staff", _("a staff member")
    PROCESSOR = "processor", _("a processor")
    COACHEE = "coachee", _("a coachee")
    OTHER = "other", _("someone else")


class DataCategory(models.TextChoices):
    CONTACT = "contact", _("contact details (name, email address, telephone)")
    KEYWORDS = "keywords", _("keywords")
    NOTES = "notes", _("coaching notes")
    TRAJECTORIES = "trajectories", _("trajectories and clients")
    REQUESTS = "requests", _("requests, complaints and letters")
    ACCOUNTS = "accounts", _("staff accounts and sign-in data")
    AUDIT = "audit", _("audit trail")
    BACKUPS = "backups", _("backups")
    OTHER = "other", _("other data")


class Risk(models.TextChoices):
    UNLIKELY = "unlikely", _("unlikely to result in a risk")
    RISK = "risk", _("a risk to the people concerned")
    HIGH = "high", _("a high risk to the people concerned")


class Incident(models.Model):
    # Set by the system, never by a form (the clock cannot be backdated through it).
    registered_at = models.DateTimeField(_("registered"), default=timezone.now, editable=False)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Encrypted free texts (services.seal/services.text); `key_id` names the register key.
    key_id = models.CharField(max_length=40)
    summary_enc = models.BinaryField()  # what happened
    containment_enc = models.BinaryField(null=True, blank=True)  # containment taken
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    # GDPR 33(1): the 72-hour clock starts here. Every change is audited (old and new).
    aware_at = models.DateTimeField(_("practice became aware"))
    reported_by = models.CharField(_("reported by"), max_length=10, choices=Reporter.choices)
    # The processor (e.g. Microsoft) by name, as text before the processors register existed.
    processor_name = models.CharField(_("processor"), max_length=100, blank=True)
    # Art. 13: the processor that reported the incident, from the processors register.
    processor = models.ForeignKey(
        "practice.Processor", null=True, blank=True, on_delete=models.PROTECT,
        related_name="incidents", verbose_name=_("processor"),
    )
    data_categories = models.JSONField(_("categories of data"), default=list, blank=True)
    # Approximate number of records concerned, for the authority's form (33(3)(a)).
    records_estimate = models.PositiveIntegerField(_("approximate number of records"),
                                                   null=True, blank=True)
    consequences_enc = models.BinaryField(null=True, blank=True)  # likely consequences 33(3)(c)
    # Risk assessment (33(1), 34(1)).
    risk = models.CharField(_("risk"), max_length=10, choices=Risk.choices, blank=True)
    risk_reasons_enc = models.BinaryField(null=True, blank=True)
    risk_assessed_at = models.DateTimeField(null=True, blank=True)
    risk_assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    # The worker's warnings to the owners (24 h, 48 h after awareness, overdue): each once.
    warned_24_at = models.DateTimeField(null=True, blank=True)
    warned_48_at = models.DateTimeField(null=True, blank=True)
    warned_overdue_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-aware_at", "-id"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")

    def __str__(self) -> str:
        return f"INC-{self.pk}"

    @property
    def code(self) -> str:
        return f"INC-{self.pk}"

    @property
    def notify_due(self) -> datetime:
        return self.aware_at + NOTIFY_WITHIN

    @property
    def needs_authority(self) -> bool:
        return self.risk in (Risk.RISK, Risk.HIGH)

    @property
    def data_category_labels(self) -> list[str]:
        labels = dict(DataCategory.choices)
        return [str(labels.get(code, code)) for code in self.data_categories]

    def initial_notification(self) -> AuthorityNotification | None:
        return self.authority_notifications.filter(follow_up=False).first()


class AuthorityNotification(models.Model):
    """A notification submitted on the supervisory authority's website (33(1)) or a later
    phase of it (33(4)). The owner submits; the register records when and the reference."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE,
                                 related_name="authority_notifications")
    follow_up = models.BooleanField(_("follow-up notification"), default=False)
    submitted_at = models.DateTimeField(_("submitted"))
    reference = models.CharField(_("reference number"), max_length=60)
    # 33(1): a notification after 72 hours is accompanied by the reasons for the delay.
    delay_reasons_enc = models.BinaryField(null=True, blank=True)
    key_id = models.CharField(max_length=40)
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")

    class Meta:
        ordering = ["submitted_at", "id"]
        verbose_name = _("notification to the authority")
        constraints = [
            models.UniqueConstraint(fields=["incident"], condition=models.Q(follow_up=False),
                                    name="one_initial_notification_per_incident")
        ]


class AffectedCoachee(models.Model):
    """A coachee affected by an incident (filled by the selection, issue 12). The pseudonym
    stays when the coachee is erased (the link is then null)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="affected")
    coachee = models.ForeignKey("coachees.Coachee", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    pseudonym = models.CharField(max_length=20)
    added_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["pseudonym"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "pseudonym"],
                                    name="one_affected_row_per_pseudonym")
        ]


# --- the coachees' notice (GDPR art. 34), issue 12 point 3 ---------------------------------


class NoticeTemplate(models.Model):
    """The letter to the affected coachees in one language, written by the owner. Its four
    parts are what GDPR art. 34(2) requires (with 33(3)(b)-(d)); `notices.template_missing`
    refuses a template without one of them. Practice text, no personal data."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE,
                                 related_name="notice_templates")
    language = models.CharField(_("language"), max_length=8)
    nature = models.TextField(_("what happened, in clear language"))
    consequences = models.TextField(_("likely consequences"))
    measures = models.TextField(_("measures taken or proposed"))
    contact_point = models.TextField(_("contact point for more information"))
    edited_at = models.DateTimeField(default=timezone.now)
    edited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")

    class Meta:
        ordering = ["language"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "language"],
                                    name="one_notice_template_per_language")
        ]

    def __str__(self) -> str:
        return f"INC-{self.incident_id} notice ({self.language})"


class NoticeExceptionGround(models.TextChoices):
    UNINTELLIGIBLE = "a", _("34(3)(a): the data are unintelligible to anyone who got them")
    RISK_REMOVED = "b", _("34(3)(b): later measures ensure the high risk no longer materialises")
    DISPROPORTIONATE = "c", _(
        "34(3)(c): telling each one would take disproportionate effort; a public "
        "communication instead"
    )


class NoticeException(models.Model):
    """An exception of GDPR art. 34(3), recorded with its reasons: the coachees are not told
    one by one. 34(3)(a) holds only if the master and epoch keys were not exposed."""

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE,
                                    related_name="notice_exception")
    ground = models.CharField(_("exception"), max_length=1, choices=NoticeExceptionGround.choices)
    # The page's question for 34(3)(a): were the master key or an epoch key exposed?
    keys_exposed = models.BooleanField(_("the master key or an epoch key was exposed"),
                                       null=True)
    reasons_enc = models.BinaryField()  # sealed like the incident's other free texts
    key_id = models.CharField(max_length=40)
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")

    def __str__(self) -> str:
        return f"INC-{self.incident_id} exception 34(3)({self.ground})"


class NoticeSending(models.Model):
    """The four-eyes step before the notices go out: one person prepares with the number of
    recipients; a second person, or the owner again after a fresh second factor, confirms
    that number. Only then are the mails queued."""

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE,
                                    related_name="notice_sending")
    recipients = models.PositiveIntegerField(_("number of recipients"))
    prepared_at = models.DateTimeField(default=timezone.now)
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    # "second_person" or "owner_second_factor"
    confirmed_how = models.CharField(max_length=30, blank=True)

    def __str__(self) -> str:
        return f"INC-{self.incident_id} notices"


class CoacheeNotice(models.Model):
    """One notice to one affected coachee: the unique constraint makes "exactly once" a
    property of the database. The outbox message carries the mail; this row stays as proof."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="notices")
    pseudonym = models.CharField(max_length=20)
    language = models.CharField(max_length=8)
    message_id = models.BigIntegerField(null=True, blank=True)  # outbox.OutboxMessage
    queued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pseudonym"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "pseudonym"],
                                    name="one_notice_per_coachee")
        ]

    def __str__(self) -> str:
        return f"INC-{self.incident_id} notice to {self.pseudonym}"
