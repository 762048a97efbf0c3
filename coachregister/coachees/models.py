"""The identity vault: contact details encrypted per coachee (art. 6, 12.1), contact moments.

Nothing here holds a name, email address or phone number in plain text. Read them through
`coachees.vault` (which decrypts) and `coachees.access` (which decides who may, and audits).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CoacheeQuerySet(models.QuerySet["Coachee"]):
    def visible_to(self, user: object) -> CoacheeQuerySet:
        from coachregister.coachees.access import visible_coachees

        return visible_coachees(self, user)


class Coachee(models.Model):
    pseudonym = models.CharField(max_length=20, unique=True, editable=False)
    # The blind index of the email under the epoch `key_id` (keys/keyring.py): it changes
    # when the worker moves the coachee to a new epoch.
    email_index = models.CharField(max_length=64, unique=True)
    wrapped_key = models.BinaryField()
    key_id = models.CharField(max_length=32)  # the epoch whose key wraps `wrapped_key`
    first_name_enc = models.BinaryField()
    last_name_enc = models.BinaryField()
    email_enc = models.BinaryField()
    phone_enc = models.BinaryField()
    # Art. 8 (afscherming): a restricted coachee's data is only stored, not processed further.
    restricted = models.BooleanField(_("restricted"), default=False)
    restricted_at = models.DateTimeField(_("restricted since"), null=True, blank=True)
    # GDPR art. 18(1) a-d: why the coachee's data is restricted (RestrictionGround).
    restriction_ground = models.CharField(_("why restricted"), max_length=2, blank=True)
    # The language the coachee used at intake: letters to them are written in it.
    language = models.CharField(_("language"), max_length=8, default="nl")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = CoacheeQuerySet.as_manager()

    class Meta:
        ordering = ["pseudonym"]
        verbose_name = _("coachee")
        verbose_name_plural = _("coachees")

    def __str__(self) -> str:
        return self.pseudonym

    @property
    def restriction_ground_label(self) -> str:
        """Why the data is restricted, in words (art. 8.1, GDPR art. 18(1)); blank if not."""
        return str(dict(RestrictionGround.choices).get(self.restriction_ground, ""))


class ContactKind(models.TextChoices):
    CALL = "call", _("telephone call")
    EMAIL = "email", _("email")
    MEETING = "meeting", _("meeting")
    SESSION = "session", _("coaching session")
    INTAKE = "intake", _("intake")


class ContactMoment(models.Model):
    """A contact with the coachee. The last one starts the retention period (art. 10.1).
    Holds no free text: what was said belongs in session keywords, under the name guard."""

    trajectory = models.ForeignKey(
        "trajectories.Trajectory", on_delete=models.CASCADE, related_name="contact_moments"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ContactKind.choices)
    occurred_on = models.DateField(_("date"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-occurred_on", "-id"]
        indexes = [models.Index(fields=["trajectory", "occurred_on"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.occurred_on}"


class RestrictionGround(models.TextChoices):
    """GDPR art. 18(1): why processing is restricted."""

    ACCURACY = "a", _("the coachee contests the accuracy of the data (art. 18(1)(a))")
    UNLAWFUL = "b", _("processing is unlawful and the coachee asked for restriction instead "
                      "of erasure (art. 18(1)(b))")
    CLAIMS = "c", _("no longer needed, but the coachee needs it for legal claims "
                    "(art. 18(1)(c))")
    OBJECTION = "d", _("an objection is being considered (art. 18(1)(d))")


class AccessReason(models.TextChoices):
    """Why someone other than the coachee's coach opened the contact details (Werkwijze, 5.1).
    The audit event records the code; an explanation is stored sealed (`ContactAccess`)."""

    REQUEST = "request", _("handling this coachee's request")
    COMPLAINT = "complaint", _("handling this coachee's complaint")
    INCIDENT = "incident", _("handling an incident concerning this coachee")
    COACH_UNAVAILABLE = "coach_unavailable", _("the coach is unavailable and the coachee must "
                                               "be reached")
    COACHEE_ASKED = "coachee_asked", _("the coachee asked the practice to contact them")
    LEGAL_DUTY = "legal_duty", _("a legal duty or an order of an authority")
    AUDIT = "audit", _("the certification audit (engagement includes contact details)")
    # GDPR art. 18(2): the only grounds on which a restricted coachee's data is processed.
    R_CONSENT = "r_consent", _("restricted: with the coachee's consent (art. 18(2))")
    R_CLAIMS = "r_claims", _("restricted: for legal claims (art. 18(2))")
    R_PROTECT = "r_protect", _("restricted: to protect another person's rights (art. 18(2))")
    R_PUBLIC = "r_public", _("restricted: an important public interest (art. 18(2))")


RESTRICTED_GROUNDS = (AccessReason.R_CONSENT, AccessReason.R_CLAIMS, AccessReason.R_PROTECT,
                      AccessReason.R_PUBLIC)


class ContactAccess(models.Model):
    """One opening of a coachee's contact details for a purpose, by someone who is not their
    coach (or by the coach while processing is restricted). The audit event names the reason
    code and this row; the free-text explanation is sealed under the coachee's data key, so
    an erasure makes it unreadable with the rest. Both are shown in "who saw my data"."""

    coachee = models.ForeignKey(Coachee, on_delete=models.CASCADE, related_name="accesses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="+")
    reason = models.CharField(_("reason"), max_length=20, choices=AccessReason.choices)
    # The task it belongs to, as "request:12", "complaint:3" or "incident:4" (no import of
    # those apps here); blank for a stated reason.
    task = models.CharField(max_length=40, blank=True)
    explanation_enc = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"access {self.pk} ({self.reason})"

    @property
    def explanation(self) -> str:
        from coachregister.disclosures import sealed

        return sealed.unseal(self.coachee, "contact_access_explanation", self.explanation_enc)
