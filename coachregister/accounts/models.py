"""Staff users with one role each, and the confidentiality statements they accept."""

from __future__ import annotations

import secrets

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The roles of article 1 of the regulation. Coachees and clients have no staff account."""

    OWNER = "owner", _("Owner (controller)")
    ADMINISTRATOR = "administrator", _("Administrator")
    COACH = "coach", _("Coach")
    THIRD_PARTY = "third_party", _("Third party")
    AUDITOR = "auditor", _("Certification auditor")


def new_security_stamp() -> str:
    return secrets.token_hex(16)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(username__iexact=username)


class User(AbstractBaseUser):
    """A staff member. No superuser flag: what a user may do follows from `role` alone."""

    username = models.CharField(
        _("username"), max_length=150, unique=True, validators=[UnicodeUsernameValidator()]
    )
    full_name = models.CharField(_("full name"), max_length=200)
    email = models.EmailField(_("email address"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    # Art. 10.1: the staff retention period runs from here (retention/others.py).
    deactivated_at = models.DateTimeField(_("deactivated"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    # Art. 5.3: a third party works under a contract, until its end date.
    contract_reference = models.CharField(_("contract reference"), max_length=100, blank=True)
    contract_end = models.DateField(_("contract end date"), null=True, blank=True)
    # A password someone else has seen (made by an owner, the administrator or createowner)
    # is changed by its user at the first sign-in, before anything else (art. 12.2).
    must_change_password = models.BooleanField(default=False, editable=False)
    # Rotated by "sign out everywhere": every session's auth hash then stops matching.
    security_stamp = models.CharField(max_length=32, default=new_security_stamp, editable=False)

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name", "email", "role"]

    objects = UserManager()

    class Meta:
        ordering = ["full_name"]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="third_party") | models.Q(contract_end__isnull=False),
                name="third_party_has_contract_end",
            )
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    def get_session_auth_hash(self) -> str:
        return salted_hmac(
            "coachregister.accounts.User.get_session_auth_hash",
            f"{self.password}:{self.security_stamp}",
            algorithm="sha256",
        ).hexdigest()

    def contract_expired(self, today: object = None) -> bool:
        if self.role != Role.THIRD_PARTY:
            return False
        today = today or timezone.localdate()
        return self.contract_end is None or self.contract_end < today

    @property
    def runs_register(self) -> bool:
        """Owner and administrator run the register (art. 1.4, 1.5)."""
        return self.role in (Role.OWNER, Role.ADMINISTRATOR)


class ConfidentialityStatement(models.Model):
    """A published version of the confidentiality statement (art. 4.1f, 5.2, 5.3).

    The text is generated from the practice settings when published and kept as it was shown,
    so an acceptance proves what exactly was accepted."""

    version = models.PositiveIntegerField(unique=True)
    text = models.TextField()
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"v{self.version}"

    @classmethod
    def current(cls) -> ConfidentialityStatement | None:
        return cls.objects.order_by("-version").first()


class ConfidentialityAcceptance(models.Model):
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="acceptances")
    statement = models.ForeignKey(ConfidentialityStatement, on_delete=models.PROTECT)
    accepted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "statement"], name="one_acceptance_per_version")
        ]


class ThrottleBucket(models.Model):
    """A fixed-window counter for public pages (intake codes, portal links). The key is a
    hash of scope and client address, so no address is stored in readable form."""

    key = models.CharField(max_length=64, unique=True)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.key[:12]


class ThirdPartyScope(models.Model):
    """Art. 5.3: the trajectories a third party may see (e.g. a substitute coach). None: no
    personal data at all (e.g. IT support)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="scope")
    trajectory = models.ForeignKey(
        "trajectories.Trajectory", on_delete=models.CASCADE, related_name="third_party_scope"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "trajectory"], name="one_scope_row")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} -> {self.trajectory_id}"
