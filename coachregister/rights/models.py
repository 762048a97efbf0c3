"""Data-subject requests (art. 7, 8; GDPR art. 12, 15-21), with their two dates."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coachregister.disclosures import sealed

# The vault field name (bound into each ciphertext) of every sealed free text of a request.
SEALED = {
    "verification": "request_verification",
    "extension_reasons": "request_extension_reasons",
    "justification": "request_justification",
    "other_form": "request_other_form",
}


class Kind(models.TextChoices):
    ACCESS = "access", _("access, with a copy")
    RECTIFICATION = "rectification", _("correction or supplement")
    ERASURE = "erasure", _("erasure")
    RESTRICTION = "restriction", _("restriction")
    # Retired for new requests (GDPR art. 21 covers processing on art. 6(1)(e) or (f), which
    # the register has none of); kept so earlier records stay readable.
    OBJECTION = "objection", _("objection")
    PORTABILITY = "portability", _("portability")


class KeywordAction(models.TextChoices):
    CORRECT = "correct", _("correct")
    SUPPLEMENT = "supplement", _("supplement")
    DELETE = "delete", _("delete")


class Channel(models.TextChoices):
    PORTAL = "portal", _("coachee portal")
    LETTER = "letter", _("letter")
    PHONE = "phone", _("telephone")
    EMAIL = "email", _("email")
    IN_PERSON = "in_person", _("in person")


class Decision(models.TextChoices):
    GRANTED = "granted", _("granted")
    PARTLY = "partly", _("partly granted")
    REFUSED = "refused", _("refused")


class RefusalGround(models.TextChoices):
    """Art. 7.5: the only grounds on which access may be refused."""

    A = "a", _("a. the security of the state")
    B = "b", _("b. the prevention, detection and prosecution of criminal offences")
    C = "c", _("c. important economic and financial interests of the state and other public bodies")
    D = "d", _("d. the protection of the data subject or of the rights and freedoms of others")
    E = "e", _("e. supervision of compliance with statutory rules for the interests in b or c")


class DataRequest(models.Model):
    coachee = models.ForeignKey(
        "coachees.Coachee", null=True, on_delete=models.SET_NULL, related_name="requests"
    )
    coachee_pseudonym = models.CharField(max_length=20, db_index=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    channel = models.CharField(_("received by"), max_length=20, choices=Channel.choices)
    # Art. 12(6): how identity was checked. No copy of an ID document is ever stored. This and
    # the other free texts below are sealed under the coachee's data key (art. 6): read them
    # through the properties of the same name, write them with `disclosures.sealed.seal`.
    verification_enc = models.BinaryField(null=True, blank=True)
    received_at = models.DateTimeField(_("received"))
    answer_due = models.DateField(_("answer due (regulation: four weeks)"))
    legal_due = models.DateField(_("legal ceiling (one month)"))
    extended_until = models.DateField(_("extended until"), null=True, blank=True)
    extension_reasons_enc = models.BinaryField(null=True, blank=True)
    extension_told_at = models.DateTimeField(null=True, blank=True)
    changes_enc = models.BinaryField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, blank=True)
    refusal_grounds = models.CharField(_("refusal grounds (art. 7.5)"), max_length=20, blank=True)
    justification_enc = models.BinaryField(null=True, blank=True)
    other_form_enc = models.BinaryField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    reminded_soon_at = models.DateTimeField(null=True, blank=True)
    reminded_overdue_at = models.DateTimeField(null=True, blank=True)
    # Art. 8.1: a correction of one session's keywords (correct, supplement or delete); the
    # new text is in `changes_enc` under "keywords".
    session = models.ForeignKey(
        "notes.CoachingSession", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    keyword_action = models.CharField(
        _("keywords"), max_length=10, choices=KeywordAction.choices, blank=True
    )
    # Art. 9.2: a correction asked from the preview of a prepared disclosure.
    proposal = models.ForeignKey(
        "disclosures.Proposal", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="corrections",
    )
    # GDPR art. 18(1): why restriction is asked (coachees.models.RestrictionGround).
    restriction_ground = models.CharField(_("why restricted"), max_length=2, blank=True)
    # GDPR art. 15(3): a further copy may carry a fee for administrative costs.
    fee = models.DecimalField(_("fee"), max_digits=6, decimal_places=2, null=True, blank=True)
    fee_paid_at = models.DateTimeField(_("fee paid"), null=True, blank=True)
    # Art. 7.1 ("een ieder"): a request from someone not found in the register. Their details
    # are sealed under a key of the request itself, wrapped by the current key epoch, and
    # destroyed some days after the answer (PracticeSettings.unknown_requester_days).
    requester_enc = models.BinaryField(null=True, blank=True)
    requester_key = models.BinaryField(null=True, blank=True)
    requester_key_id = models.CharField(max_length=32, blank=True)
    # When the worker searched the register for the requester's address.
    looked_up_at = models.DateTimeField(null=True, blank=True)
    mailboxes_checked_at = models.DateTimeField(null=True, blank=True)
    mailboxes_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    details_destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["received_at"]
        indexes = [models.Index(fields=["decided_at", "answer_due"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.coachee_pseudonym}"

    @property
    def due(self) -> date:
        """The date the answer is owed: the earlier of the regulation's four weeks and the
        legal month, or the extended date when an extension was told in time."""
        if self.extended_until:
            return self.extended_until
        return min(self.answer_due, self.legal_due)

    @property
    def verification(self) -> str:
        return sealed.unseal(self.coachee, SEALED["verification"], self.verification_enc)

    @property
    def extension_reasons(self) -> str:
        return sealed.unseal(
            self.coachee, SEALED["extension_reasons"], self.extension_reasons_enc
        )

    @property
    def justification(self) -> str:
        return sealed.unseal(self.coachee, SEALED["justification"], self.justification_enc)

    @property
    def other_form(self) -> str:
        return sealed.unseal(self.coachee, SEALED["other_form"], self.other_form_enc)

    @property
    def restriction_ground_label(self) -> str:
        """The ground of GDPR art. 18(1) a restriction request states, in words."""
        from coachregister.coachees.models import RestrictionGround

        return str(dict(RestrictionGround.choices).get(self.restriction_ground, ""))

    def days_left(self, today: date | None = None) -> int:
        return (self.due - (today or timezone.localdate())).days

    def urgency(self, today: date | None = None) -> str:
        """Dashboard colour (art. 4.1d): red under 5 days, amber under 10, else green."""
        left = self.days_left(today)
        return "red" if left < 5 else "amber" if left < 10 else "green"


class Letter(models.Model):
    """A letter to the requester, as a PDF encrypted under the coachee's data key: erasing the
    coachee makes it unreadable with everything else."""

    request = models.ForeignKey(DataRequest, on_delete=models.CASCADE, related_name="letters")
    pdf_enc = models.BinaryField()
    # Art. 6, 8.1: each letter's own data key, wrapped by the current key epoch. An access
    # letter copies the keywords; when they are destroyed on the coachee's word the letter
    # goes too, and its bytes then open from no copy once the epoch is destroyed, although
    # the coachee's key lives on. Letters written before this are under the coachee's key.
    wrapped_key = models.BinaryField(null=True, blank=True)
    key_id = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"letter {self.pk} for request {self.request_id}"


class PortalLink(models.Model):
    """A single-use, short-lived sign-in link for the coachee portal (art. 9.2). Only the
    token's hash is stored."""

    coachee = models.ForeignKey("coachees.Coachee", on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"portal link {self.pk}"


class PortalLookup(models.Model):
    """A queued request for a portal link (art. 9.2, 6). Asking for a link stores only this
    row, whatever the address, so the request does the same work for an address in the
    register and one that is not (no timing or query difference tells them apart); the
    worker finds the coachee, sends the link and deletes the row (`portal.lookups_process`).

    The typed address is encrypted under a fresh data key wrapped by the current key epoch
    (keys/keyring.py), like an outbox message: what a deleted row leaves in database pages,
    the WAL or a backup opens nothing once its epoch is destroyed."""

    email_enc = models.BinaryField()
    wrapped_key = models.BinaryField()
    key_id = models.CharField(max_length=32)  # the epoch of `wrapped_key`
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"portal look-up {self.pk}"
