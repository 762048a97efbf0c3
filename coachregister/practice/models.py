"""The practice's settings: one row. Behaviour and generated documents both read it."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coachregister.lib import net, request_memo

# The request memo's key for the settings row (PracticeSettings.load).
MEMO_KEY = "practice.settings"


def validate_networks(value: str) -> None:
    try:
        net.parse_networks(value.splitlines())
    except ValueError:
        raise ValidationError(
            _("Each line must be an IP address or network, like 192.0.2.0/24.")
        ) from None


class PracticeSettings(models.Model):
    singleton = models.BooleanField(default=True, unique=True, editable=False)
    name = models.CharField(_("practice name"), max_length=200, default="Coachpraktijk")
    address = models.TextField(_("postal address"), blank=True)
    email = models.EmailField(_("email address"), blank=True)
    phone = models.CharField(_("telephone"), max_length=40, blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    chamber_of_commerce = models.CharField(
        _("Chamber of Commerce number"), max_length=20, blank=True
    )
    # Art. 12.2: from these networks a password suffices, unless 2FA is required everywhere.
    office_networks = models.TextField(
        _("office networks"),
        blank=True,
        validators=[validate_networks],
        help_text=_("One IP address or network per line, e.g. 192.0.2.0/24."),
    )
    two_factor_everywhere = models.BooleanField(
        _("require two-step verification everywhere"),
        default=False,
        help_text=_("Also require the second step inside the office."),
    )
    # Art. 3.1: the coach is told of a new coachee. By default the mail carries no personal
    # data, only a link into the register; the practice may choose to include the details.
    coach_mail_includes_contact_details = models.BooleanField(
        _("include contact details in the mail to the coach"),
        default=False,
        help_text=_("Off: the mail only links to the register, where viewing is recorded."),
    )
    # GDPR art. 12(3): the answer term may be extended only where the practice's regulation
    # says so; off by default, and the generated regulation text follows this setting.
    extension_allowed = models.BooleanField(
        _("the regulation allows extending the answer term"),
        default=False,
        help_text=_(
            "On: a complex request may be extended to at most three months from receipt, "
            "with the reasons told within four weeks."
        ),
    )
    # GDPR art. 15(3): the first copy is free; a further copy may carry a fee based on
    # administrative costs. Zero: further copies are free too.
    further_copy_fee = models.DecimalField(
        _("fee for a further copy (euro)"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00")), MaxValueValidator(Decimal("100.00"))],
        help_text=_("Administrative costs only. The first copy is always free."),
    )
    # Art. 7.1: the details of someone who asked and is not in the register are destroyed
    # this many days after the answer; a pseudonymous record of receipt and answer stays.
    unknown_requester_days = models.PositiveSmallIntegerField(
        _("days to keep an unknown requester's details after the answer"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("practice settings")

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Also clears the request memo, so the rest of the request reads the saved row."""
        super().save(*args, **kwargs)
        request_memo.forget(MEMO_KEY)

    @classmethod
    def load(cls) -> PracticeSettings:
        """The one row; created with defaults the first time (it holds no personal data).

        Within a request the row is read once (lib/request_memo.py, never across requests)
        and every caller gets a copy of its own, so a form that writes posted values onto
        its copy changes nobody else's. A save clears the memo (`save`), so the rest of the
        request reads the new values. Outside a request every call reads the database."""
        memo = request_memo.current()
        if memo is None:
            obj, _created = cls.objects.get_or_create(singleton=True)
            return obj
        if MEMO_KEY not in memo:
            memo[MEMO_KEY], _created = cls.objects.get_or_create(singleton=True)
        return copy.copy(memo[MEMO_KEY])

    def office_network_list(self) -> list[net.IPNetwork]:
        return net.parse_networks(self.office_networks.splitlines())


class RegulationVersion(models.Model):
    """A published version of the privacy regulation, as shown to clients with a quote and to
    coachees at intake (Werkwijze). Kept as shown, so consent proves what was read: the text
    in Dutch (binding) and English, generated from the settings at publication, and the
    settings it was generated from."""

    version = models.CharField(_("version"), max_length=20, unique=True)
    text = models.TextField(_("text"))
    text_en = models.TextField(_("text in English"), blank=True)
    published_at = models.DateTimeField(_("published"), auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    # A material change is mailed to the coachees and shown in their portal.
    material = models.BooleanField(_("material change"), default=False)
    # The promises the text was generated from (practice.promises), for the diff and the
    # record of processing activities.
    promises = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("privacy regulation version")

    def __str__(self) -> str:
        return self.version

    @classmethod
    def current(cls) -> RegulationVersion | None:
        return cls.objects.order_by("-published_at", "-id").first()


class PurposeBasis(models.TextChoices):
    AGREEMENT = "agreement", _("the coaching agreement (GDPR art. 6(1)(b))")
    CONSENT = "consent", _("consent (GDPR art. 6(1)(a))")
    EXPLICIT_CONSENT = "explicit_consent", _("explicit consent (GDPR art. 9(2)(a))")
    LEGAL_DUTY = "legal_duty", _("a legal duty (GDPR art. 6(1)(c))")


class ProcessingPurpose(models.Model):
    """A purpose the register allows (art. 2.1, 2.2). The practice's own purpose (coaching for
    physical and mental balance) is built in; the owner adds others, each with its basis.
    Consents and disclosures choose from this list; nothing is processed for a purpose that
    is not on it. A purpose in use is retired (inactive), never deleted."""

    BUILTIN_COACHING = "coaching"

    code = models.CharField(max_length=30, blank=True, editable=False)
    name = models.CharField(_("purpose"), max_length=200, blank=True)
    basis = models.CharField(_("basis"), max_length=20, choices=PurposeBasis.choices)
    active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-code", "name", "id"]
        verbose_name = _("purpose")
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=~models.Q(code=""), name="one_builtin_purpose_per_code"
            )
        ]

    def __str__(self) -> str:
        return str(self.label)

    @property
    def label(self) -> str:
        """The built-in purpose is named in the reader's language; others as the owner wrote."""
        if self.code == self.BUILTIN_COACHING:
            return str(_("coaching for a good physical and mental balance"))
        return self.name

    @classmethod
    def coaching(cls) -> ProcessingPurpose:
        obj, _created = cls.objects.get_or_create(
            code=cls.BUILTIN_COACHING, defaults={"basis": PurposeBasis.AGREEMENT}
        )
        return obj


class DecisionEntry(models.Model):
    """Art. 4.1e: a decision of the owners in a case the regulation does not foresee.

    The texts are encrypted under the register key "decisions" (keyring.register_key): the
    name guard keeps out contact data and the names of the coachees concerned, but it cannot
    know every other name (a client, a family member), so the log is not free of personal
    data by construction. Entries are read-only once saved: no service updates them and a
    database trigger refuses any UPDATE (migration 0004). Kept for the retention period
    (art. 10.1: seven years), then removed by `practice.services.decisions_purge`."""

    decided_on = models.DateField(_("date of the decision"))
    key_id = models.CharField(max_length=40)
    question_enc = models.BinaryField()
    decision_enc = models.BinaryField()
    reasoning_enc = models.BinaryField()
    # Pseudonyms only (no names), comma separated, so they are stored as they are.
    pseudonyms = models.CharField(_("pseudonyms concerned"), max_length=400, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-decided_on", "-id"]
        verbose_name = _("decision in an unforeseen case")
        verbose_name_plural = _("decisions in unforeseen cases")

    def __str__(self) -> str:
        return f"D-{self.pk}"

    @property
    def pseudonym_list(self) -> list[str]:
        return [p for p in self.pseudonyms.split(",") if p]


class PendingChange(models.Model):
    """A setting change that would weaken a promise of the regulation (a longer retention,
    fewer places where a second factor is asked, an extension of the answer term, a fee). It
    takes effect only when the regulation that states it is published; until then the
    dashboard shows it and the old promise holds. `target` names the settings it changes:
    "practice" (PracticeSettings) or "retention" (retention.RetentionPolicy)."""

    target = models.CharField(max_length=20)
    values = models.JSONField(default=dict)
    proposed_at = models.DateTimeField(default=timezone.now, editable=False)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    applied_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    regulation = models.ForeignKey(
        RegulationVersion, null=True, blank=True, on_delete=models.PROTECT,
        related_name="applied_changes",
    )

    class Meta:
        ordering = ["proposed_at", "id"]

    def __str__(self) -> str:
        return f"pending change {self.pk} ({self.target})"

    @property
    def is_open(self) -> bool:
        return self.applied_at is None and self.withdrawn_at is None


class ProcessorService(models.TextChoices):
    MAIL_STORAGE = "mail_storage", _("email and file storage (for instance Microsoft 365)")
    SMTP = "smtp", _("sending email (SMTP provider)")
    HOSTING = "hosting", _("hosting of the register")
    BACKUP = "backup", _("backup location")
    OTHER = "other", _("other service")


class TransferBasis(models.TextChoices):
    NONE = "none", _("no transfer outside the EEA")
    ADEQUACY = "adequacy", _("an adequacy decision (GDPR art. 45)")
    DPF = "dpf", _("the EU-US Data Privacy Framework (adequacy decision of 10 July 2023)")
    SCC = "scc", _("standard contractual clauses (GDPR art. 46(2)(c))")
    BCR = "bcr", _("binding corporate rules (GDPR art. 47)")


class Processor(models.Model):
    """Art. 13: a processor the practice uses (Microsoft 365, the SMTP provider, the hosting
    provider, the backup location), with its processing agreement as data, where it stores,
    the transfer basis for a third country, and when the agreement is next reviewed. It holds
    business data only, no coachee's. The record of processing activities (GDPR art. 30)
    and the regulation list these; incidents link to the processor that reported them."""

    name = models.CharField(_("name"), max_length=200)
    service = models.CharField(_("service"), max_length=20, choices=ProcessorService.choices)
    agreement_name = models.CharField(_("processing agreement"), max_length=200)
    agreement_version = models.CharField(_("agreement version"), max_length=50, blank=True)
    agreement_date = models.DateField(_("agreement date"), null=True, blank=True)
    storage_location = models.CharField(_("where the data are stored"), max_length=200)
    third_country = models.CharField(
        _("country outside the EEA that data go to"), max_length=100, blank=True
    )
    transfer_basis = models.CharField(
        _("transfer basis"), max_length=20, choices=TransferBasis.choices,
        default=TransferBasis.NONE,
    )
    data_categories = models.TextField(_("categories of data"))
    breach_contact = models.CharField(_("contact for breach notices"), max_length=200)
    next_review = models.DateField(_("next review"))
    active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("processor")
        verbose_name_plural = _("processors")

    def __str__(self) -> str:
        return self.name

    def review_due(self, today: object = None) -> bool:
        """Amber on the pages when the review date has passed."""
        return self.next_review < (today or timezone.localdate())


class ProcessingRecordSnapshot(models.Model):
    """GDPR art. 30(1): the record of processing activities is generated from the settings and
    registers; each time its content changes a dated snapshot is kept, so the record as it
    stood on any day can be shown."""

    made_at = models.DateTimeField(default=timezone.now, editable=False)
    digest = models.CharField(max_length=64)
    content = models.JSONField()

    class Meta:
        ordering = ["-made_at", "-id"]
        verbose_name = _("record of processing activities")

    def __str__(self) -> str:
        return f"record {self.made_at:%Y-%m-%d %H:%M}"
