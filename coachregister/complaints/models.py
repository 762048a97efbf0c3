"""Complaints (art. 4.1d, 11): the one home of a coachee's complaint that the regulation was
not followed (4.1d, "bezwaar") and of any other complaint (11), handled under the practice's
complaints procedure (11.2), which is a setting here (`ComplaintProcedure`)."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coachregister.disclosures import sealed

# The vault field name (bound into each ciphertext) of every sealed free text of a complaint.
SEALED = {"text": "complaint_text", "decision_text": "complaint_decision"}


class ComplaintProcedure(models.Model):
    """The practice's complaints procedure (art. 11.2): one row, set by an owner. It holds no
    personal data."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    acknowledge_days = models.PositiveSmallIntegerField(
        _("days to acknowledge a complaint"), default=5,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
    )
    decide_weeks = models.PositiveSmallIntegerField(
        _("weeks to decide on a complaint"), default=6,
        validators=[MinValueValidator(1), MaxValueValidator(26)],
    )
    external_body = models.CharField(
        _("external body after the practice's decision"), max_length=200, blank=True,
        help_text=_("Where a coachee can turn when they disagree with the decision, e.g. a "
                    "disputes committee."),
    )
    external_body_url = models.URLField(_("its website"), blank=True)
    authority = models.CharField(
        _("supervisory authority for privacy complaints"), max_length=200,
        default="Autoriteit Persoonsgegevens",
    )
    authority_url = models.URLField(
        _("its website"), default="https://autoriteitpersoonsgegevens.nl"
    )
    # GDPR art. 17(3)(e): after an erasure a complaint file is kept this long after the
    # complaint was closed, for legal claims (Dutch limitation periods: BW 3:307-3:310).
    claims_years = models.PositiveSmallIntegerField(
        _("years a complaint file is kept for legal claims after an erasure"), default=5,
        validators=[MinValueValidator(0), MaxValueValidator(20)],
    )
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )

    def __str__(self) -> str:
        return "complaints procedure"

    @classmethod
    def load(cls) -> ComplaintProcedure:
        """The one row; created with defaults the first time."""
        obj, _created = cls.objects.get_or_create(singleton=True)
        return obj


class Topic(models.TextChoices):
    REGULATION = "regulation", _("the privacy regulation was not followed (art. 4.1d)")
    OTHER = "other", _("another complaint (art. 11)")


class Channel(models.TextChoices):
    PORTAL = "portal", _("coachee portal")
    PHONE = "phone", _("telephone")
    EMAIL = "email", _("email")
    LETTER = "letter", _("letter")
    IN_PERSON = "in_person", _("in person")


class Outcome(models.TextChoices):
    UPHELD = "upheld", _("upheld")
    PARTLY = "partly", _("partly upheld")
    REJECTED = "rejected", _("not upheld")


class Complaint(models.Model):
    coachee = models.ForeignKey(
        "coachees.Coachee", null=True, on_delete=models.SET_NULL, related_name="complaints"
    )
    coachee_pseudonym = models.CharField(max_length=20, db_index=True)
    topic = models.CharField(_("about"), max_length=20, choices=Topic.choices)
    channel = models.CharField(_("received by"), max_length=20, choices=Channel.choices)
    # The complaint and the decision's reasons, sealed under the coachee's data key; after an
    # erasure under the complaint's own key (`wrapped_key`). Read through the properties.
    text_enc = models.BinaryField(null=True, blank=True)
    received_at = models.DateTimeField(_("received"))
    acknowledge_due = models.DateField(_("acknowledgement due"))
    decide_due = models.DateField(_("decision due"))
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    outcome = models.CharField(_("decision"), max_length=10, choices=Outcome.choices,
                               blank=True)
    decision_text_enc = models.BinaryField(null=True, blank=True)
    # The automatic hold on the coachee's retention while the complaint is open (art. 10.1).
    hold = models.ForeignKey(
        "retention.LegalHold", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    reminded_soon_at = models.DateTimeField(null=True, blank=True)
    reminded_overdue_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # GDPR art. 17(3)(e): a file kept apart after its coachee was erased, under its own data
    # key wrapped by the current key epoch, until `kept_until` (set when it is closed).
    wrapped_key = models.BinaryField(null=True, blank=True)
    key_id = models.CharField(max_length=32, blank=True)
    kept_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["received_at"]
        indexes = [models.Index(fields=["decided_at", "decide_due"])]

    def __str__(self) -> str:
        return f"complaint {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.decided_at is None

    @property
    def kept_apart(self) -> bool:
        return self.wrapped_key is not None

    @property
    def due(self) -> date:
        """The next date owed: the acknowledgement, then the decision."""
        return self.acknowledge_due if self.acknowledged_at is None else self.decide_due

    def _read(self, name: str) -> str:
        blob = getattr(self, f"{name}_enc")
        if self.kept_apart and blob:
            from coachregister.complaints.services import file_unseal

            return file_unseal(self, SEALED[name], blob)
        return sealed.unseal(self.coachee, SEALED[name], blob)

    @property
    def text(self) -> str:
        return self._read("text")

    @property
    def decision_text(self) -> str:
        return self._read("decision_text")

    def days_left(self, today: date | None = None) -> int:
        return (self.due - (today or timezone.localdate())).days

    def urgency(self, today: date | None = None) -> str:
        """Dashboard colour (art. 4.1d), as for requests: red under 5 days, amber under 10."""
        left = self.days_left(today)
        return "red" if left < 5 else "amber" if left < 10 else "green"


class LetterKind(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", _("acknowledgement")
    DECISION = "decision", _("decision")


class ComplaintLetter(models.Model):
    """A letter to the coachee about their complaint, as a PDF under its own data key wrapped
    by the current key epoch (like `rights.models.Letter`): it survives the coachee's erasure
    with the complaint file and goes when the file goes."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="letters")
    kind = models.CharField(max_length=20, choices=LetterKind.choices)
    pdf_enc = models.BinaryField()
    wrapped_key = models.BinaryField()
    key_id = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"complaint letter {self.pk}"
