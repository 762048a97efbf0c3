"""Consent records (GDPR art. 7, 9(2)(a)): what was agreed to, in which text, when and how."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coachregister.disclosures import sealed

# The vault field names (bound into each ciphertext) of the sealed free texts.
SEALED_CONSENT_PURPOSE = "consent_disclosure_purpose"
SEALED_DISCLOSURE = {"purpose": "disclosure_purpose", "legal_ground": "disclosure_legal_ground"}


class Purpose(models.TextChoices):
    SESSION_KEYWORDS = "session_keywords", _("session keywords (health data)")
    REGULATION = "regulation", _("privacy regulation read and confirmed")
    DISCLOSURE = "disclosure", _("disclosure to a recipient")
    # GDPR art. 7(3): after withdrawing keyword consent the coachee may let the existing
    # keywords stay for the rest of the trajectory: a narrower consent, no new keywords.
    KEYWORDS_KEPT = "keywords_kept", _("existing session keywords kept, no new ones")


class Method(models.TextChoices):
    INTAKE_FORM = "intake_form", _("online intake form")
    PORTAL = "portal", _("coachee portal")
    PAPER = "paper", _("on paper")
    RECORDED_BY_STAFF = "staff", _("recorded by staff")


class Consent(models.Model):
    coachee = models.ForeignKey(
        "coachees.Coachee", on_delete=models.CASCADE, related_name="consents"
    )
    trajectory = models.ForeignKey(
        "trajectories.Trajectory",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    purpose = models.CharField(_("purpose"), max_length=30, choices=Purpose.choices)
    recipient = models.ForeignKey(
        "disclosures.Recipient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consents",
        verbose_name=_("recipient"),
    )
    # Art. 2.1: the purpose from the practice's list (disclosure consents).
    processing_purpose = models.ForeignKey(
        "practice.ProcessingPurpose", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", verbose_name=_("purpose"),
    )
    # Records before the list of purposes: free text sealed under the coachee's data key
    # (art. 6); read through `disclosure_purpose`. No longer written.
    disclosure_purpose_enc = models.BinaryField(null=True, blank=True)
    given = models.BooleanField(_("given"))
    text_version = models.CharField(_("text version"), max_length=20)
    text = models.TextField(_("text shown"))
    method = models.CharField(_("how"), max_length=20, choices=Method.choices)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # Art. 9.1: a signed paper consent, recorded by the administrator, counts only once an
    # owner has confirmed it.
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return f"{self.purpose} ({'given' if self.given else 'refused'})"

    @property
    def in_force(self) -> bool:
        return self.given and self.withdrawn_at is None

    @property
    def disclosure_purpose(self) -> str:
        if self.processing_purpose_id:
            return self.processing_purpose.label
        return sealed.unseal(self.coachee, SEALED_CONSENT_PURPOSE, self.disclosure_purpose_enc)


class RecipientKind(models.TextChoices):
    AUTHORITY = "authority", _("authority")
    THIRD_PARTY = "third_party", _("hired third party")
    DOCTOR = "doctor", _("doctor or care provider")
    CLIENT = "client", _("client organisation")
    OTHER = "other", _("other")


class Recipient(models.Model):
    """Someone outside the practice who may receive personal data (art. 1.10)."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=RecipientKind.choices)
    # Art. 8.4: where notices of corrections go (a business address, not a person's data).
    email = models.EmailField(_("email for notices"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Basis(models.TextChoices):
    LEGAL_DUTY = "legal_duty", _("a legal duty")
    CONSENT = "consent", _("the coachee's consent")


class Category(models.TextChoices):
    CONTACT = "contact", _("contact details")
    TRAJECTORY = "trajectory", _("trajectory data")
    KEYWORDS = "keywords", _("session keywords")


class Disclosure(models.Model):
    """The disclosure register (art. 1.10, 9.1): what left the practice, to whom, on what basis.
    The source for telling recipients of corrections (art. 8.4) and for the access answer."""

    coachee = models.ForeignKey(
        "coachees.Coachee", null=True, on_delete=models.SET_NULL, related_name="disclosures"
    )
    coachee_pseudonym = models.CharField(max_length=20, db_index=True)
    recipient = models.ForeignKey(Recipient, on_delete=models.PROTECT, related_name="disclosures")
    categories = models.CharField(_("categories"), max_length=100)
    processing_purpose = models.ForeignKey(
        "practice.ProcessingPurpose", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", verbose_name=_("purpose"),
    )
    # Free text about the coachee, sealed under their data key (art. 6); read through the
    # properties `purpose` and `legal_ground`, which show "(erased)" after an erasure.
    # `purpose_enc` is only in records from before the list of purposes.
    purpose_enc = models.BinaryField(null=True, blank=True)
    basis = models.CharField(_("basis"), max_length=20, choices=Basis.choices)
    legal_ground_enc = models.BinaryField(null=True, blank=True)
    # SET_NULL: erasing a coachee removes their consent records; the entry keeps its basis.
    consent = models.ForeignKey(Consent, null=True, blank=True, on_delete=models.SET_NULL)
    disclosed_at = models.DateTimeField(default=timezone.now)
    disclosed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-disclosed_at"]

    def __str__(self) -> str:
        return f"{self.coachee_pseudonym} -> {self.recipient_id}"

    @property
    def purpose(self) -> str:
        if self.processing_purpose_id:
            return self.processing_purpose.label
        return sealed.unseal(self.coachee, SEALED_DISCLOSURE["purpose"], self.purpose_enc)

    @property
    def legal_ground(self) -> str:
        return sealed.unseal(
            self.coachee, SEALED_DISCLOSURE["legal_ground"], self.legal_ground_enc
        )

    def category_list(self) -> list[str]:
        return [c for c in self.categories.split(",") if c]


class ProposalStatus(models.TextChoices):
    ASKED = "asked", _("waiting for the coachee")
    PAPER = "paper", _("paper consent recorded, waiting for an owner's confirmation")
    CONSENTED = "consented", _("consented")
    READY = "ready", _("ready (legal duty)")
    REFUSED = "refused", _("refused by the coachee")
    SENT = "sent", _("sent")
    CANCELLED = "cancelled", _("cancelled")


class Proposal(models.Model):
    """A disclosure prepared by staff (art. 9.1, 9.2): recipient, purpose, categories. Unless a
    legal duty requires it, the coachee sees exactly what would be sent in the portal, may
    ask for a correction first, and consents or refuses; only then is it sent, and the sent
    disclosure enters the register (`Disclosure`). The content consented to is kept sealed
    under the coachee's key, so what is sent is provably what was shown."""

    coachee = models.ForeignKey(
        "coachees.Coachee", on_delete=models.CASCADE, related_name="proposals"
    )
    recipient = models.ForeignKey(Recipient, on_delete=models.PROTECT, related_name="+")
    processing_purpose = models.ForeignKey(
        "practice.ProcessingPurpose", on_delete=models.PROTECT, related_name="+",
        verbose_name=_("purpose"),
    )
    categories = models.CharField(_("categories"), max_length=100)
    basis = models.CharField(_("basis"), max_length=20, choices=Basis.choices)
    legal_ground_enc = models.BinaryField(null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=ProposalStatus.choices)
    content_enc = models.BinaryField(null=True, blank=True)
    consent = models.ForeignKey(
        Consent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    disclosure = models.ForeignKey(
        Disclosure, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    prepared_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-prepared_at", "-id"]

    def __str__(self) -> str:
        return f"proposal {self.pk} ({self.status})"

    @property
    def legal_ground(self) -> str:
        return sealed.unseal(self.coachee, "proposal_legal_ground", self.legal_ground_enc)

    def category_list(self) -> list[str]:
        return [c for c in self.categories.split(",") if c]
