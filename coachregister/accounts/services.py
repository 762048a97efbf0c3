"""Writes for accounts: each in one transaction with its audit event (art. 1.4–1.7, 4.1b,
4.1f, 5.2, 5.3, 12.2). Views, forms and commands call these; nothing else writes users."""

from __future__ import annotations

import secrets
import string
import time
from datetime import date
from typing import TYPE_CHECKING

from django.contrib.auth import login as django_login
from django.contrib.auth import logout as django_logout
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Subquery
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from coachregister.accounts import access, twofactor
from coachregister.accounts.middleware import SESSION_LOGIN_AT
from coachregister.accounts.models import (
    ConfidentialityAcceptance,
    ConfidentialityStatement,
    Role,
    User,
)
from coachregister.audit.models import Outcome
from coachregister.audit.services import event_record
from coachregister.lib import request_memo
from coachregister.practice.models import PracticeSettings

if TYPE_CHECKING:
    from django_otp.models import Device

    from coachregister.trajectories.models import Trajectory

USER = "user"


class SessionEnd:
    ABSOLUTE_TIMEOUT = "absolute_timeout"
    IDLE_TIMEOUT = "idle_timeout"
    SECOND_FACTOR_REQUIRED = "second_factor_required"


class LoginFailure:
    BAD_CREDENTIALS = "bad_credentials"
    LOCKED_OUT = "locked_out"
    NO_SECOND_FACTOR = "second_factor_missing"
    BAD_SECOND_FACTOR = "bad_second_factor"
    # The failure that reached the limit for the account (not for the address).
    ACCOUNT_LOCKED = "account_locked"
    # While the account is locked: the password and code together were not right.
    LOCKED_WRONG_PROOF = "locked_wrong_proof"


class ProofPart:
    """Which part of a sign-in or confirmation was wrong; only in the audit trail, which the
    one trying cannot read (a right password with a wrong code means the password is known)."""

    PASSWORD = "password"  # noqa: S105 (the name of a part, not a password)
    SECOND_FACTOR = "second_factor"
    SECOND_FACTOR_MISSING = "second_factor_missing"


def generate_password() -> str:
    """A readable random password for a new or reset account (about 95 bits)."""
    alphabet = string.ascii_letters + string.digits
    groups = ["".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4)]
    return "-".join(groups)


def _check_role_change(actor: User, role: str) -> None:
    if role not in access.assignable_roles(actor):
        raise PermissionDenied(_("You may not give this role."))


# --- users -------------------------------------------------------------------------------


def user_create(
    *,
    actor: User,
    request: HttpRequest | None,
    username: str,
    full_name: str,
    email: str,
    role: str,
    contract_reference: str = "",
    contract_end: date | None = None,
    password: str | None = None,
) -> tuple[User, str]:
    """Create a staff account; returns the user and the initial password (shown once)."""
    _check_role_change(actor, role)
    if role == Role.THIRD_PARTY and (not contract_reference or contract_end is None):
        raise ValidationError(_("A third party needs a contract reference and an end date."))
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(_("This username is already taken."))
    password = password or generate_password()
    with transaction.atomic():
        if role == Role.ADMINISTRATOR:
            _demote_current_administrator(actor=actor, request=request)
        user = User(
            username=username,
            full_name=full_name,
            email=email,
            role=role,
            contract_reference=contract_reference if role == Role.THIRD_PARTY else "",
            contract_end=contract_end if role == Role.THIRD_PARTY else None,
        )
        validate_password(password, user)
        user.set_password(password)
        user.must_change_password = True
        user.save()
        event_record(
            action="accounts.user.created",
            request=request,
            actor=actor,
            object_type=USER,
            object_id=str(user.pk),
            detail={"role": role},
        )
    return user, password


def owner_bootstrap(*, username: str, full_name: str, email: str) -> tuple[User, str]:
    """The first owner, created by the operator on the server (`coachregister createowner`).
    Refused once an owner exists: from then on owners appoint owners in the application."""
    password = generate_password()
    with transaction.atomic():
        if User.objects.filter(role=Role.OWNER).exists():
            raise ValidationError(_("The practice already has an owner."))
        user = User(username=username, full_name=full_name, email=email, role=Role.OWNER)
        user.set_password(password)
        user.must_change_password = True
        user.full_clean()
        user.save()
        event_record(
            action="accounts.user.created", object_type=USER, object_id=str(user.pk),
            detail={"role": Role.OWNER, "via": "command"},
        )
    return user, password


def _demote_current_administrator(*, actor: User, request: HttpRequest | None) -> None:
    """There is one administrator (art. 4.1b: the owners appoint *a* staff member)."""
    for previous in User.objects.select_for_update().filter(role=Role.ADMINISTRATOR):
        previous.role = Role.COACH
        previous.save(update_fields=["role"])
        event_record(
            action="accounts.role.changed",
            request=request,
            actor=actor,
            object_type=USER,
            object_id=str(previous.pk),
            detail={"from_role": Role.ADMINISTRATOR, "to_role": Role.COACH},
        )


def user_update(
    *,
    actor: User,
    request: HttpRequest | None,
    user: User,
    full_name: str,
    email: str,
    role: str,
    contract_reference: str = "",
    contract_end: date | None = None,
) -> User:
    if not access.can_manage_users(actor):
        raise PermissionDenied(_("You may not change accounts."))
    if user.role not in access.assignable_roles(actor):
        raise PermissionDenied(_("You may not change this account."))
    if role == Role.THIRD_PARTY and (not contract_reference or contract_end is None):
        raise ValidationError(_("A third party needs a contract reference and an end date."))
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        old_role = user.role
        if role != old_role:
            _check_role_change(actor, role)
            if old_role == Role.OWNER and _last_active_owner(user):
                raise ValidationError(_("The practice must keep at least one owner."))
            if role == Role.ADMINISTRATOR:
                _demote_current_administrator(actor=actor, request=request)
        changed = []
        for field, value in (
            ("full_name", full_name),
            ("email", email),
            ("role", role),
            ("contract_reference", contract_reference if role == Role.THIRD_PARTY else ""),
            ("contract_end", contract_end if role == Role.THIRD_PARTY else None),
        ):
            if getattr(user, field) != value:
                setattr(user, field, value)
                changed.append(field)
        if not changed:
            return user
        user.save(update_fields=changed)
        if "role" in changed:
            event_record(
                action="accounts.role.changed",
                request=request,
                actor=actor,
                object_type=USER,
                object_id=str(user.pk),
                detail={"from_role": old_role, "to_role": role},
            )
        other = [field for field in changed if field != "role"]
        if other:
            event_record(
                action="accounts.user.updated",
                request=request,
                actor=actor,
                object_type=USER,
                object_id=str(user.pk),
                detail={"fields": ",".join(other)},
            )
    return user


def _last_active_owner(user: User) -> bool:
    return not User.objects.filter(role=Role.OWNER, is_active=True).exclude(pk=user.pk).exists()


def user_set_active(*, actor: User, request: HttpRequest | None, user: User, active: bool) -> User:
    if user.role not in access.assignable_roles(actor):
        raise PermissionDenied(_("You may not change this account."))
    if user.pk == actor.pk:
        raise ValidationError(_("You cannot deactivate your own account."))
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not active and user.role == Role.OWNER and _last_active_owner(user):
            raise ValidationError(_("The practice must keep at least one owner."))
        if user.is_active == active:
            return user
        user.is_active = active
        # Art. 10.1: the staff retention period counts from the deactivation.
        user.deactivated_at = None if active else timezone.now()
        user.save(update_fields=["is_active", "deactivated_at"])
        user.security_stamp = _rotate_stamp(user)  # a deactivated user's sessions end now
        event_record(
            action="accounts.user.activated" if active else "accounts.user.deactivated",
            request=request,
            actor=actor,
            object_type=USER,
            object_id=str(user.pk),
        )
    return user


def _rotate_stamp(user: User) -> str:
    from coachregister.accounts.models import new_security_stamp

    stamp = new_security_stamp()
    User.objects.filter(pk=user.pk).update(security_stamp=stamp)
    return stamp


def user_reset_password(*, actor: User, request: HttpRequest | None, user: User) -> str:
    """A new random password, shown once to the one who reset it; all sessions end."""
    if user.role not in access.assignable_roles(actor):
        raise PermissionDenied(_("You may not change this account."))
    password = generate_password()
    with transaction.atomic():
        user.set_password(password)
        user.must_change_password = True
        user.save(update_fields=["password", "must_change_password"])
        user.security_stamp = _rotate_stamp(user)
        event_record(
            action="accounts.password.reset",
            request=request,
            actor=actor,
            object_type=USER,
            object_id=str(user.pk),
        )
    return password


def user_change_password(*, request: HttpRequest, user: User, new_password: str) -> None:
    """The user's own change; other sessions end, this one continues."""
    validate_password(new_password, user)
    with transaction.atomic():
        user.set_password(new_password)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
        user.security_stamp = _rotate_stamp(user)
        event_record(
            action="accounts.password.changed", request=request, object_type=USER,
            object_id=str(user.pk),
        )
    from django.contrib.auth import update_session_auth_hash

    update_session_auth_hash(request, user)


def user_self_service_refused(*, request: HttpRequest) -> None:
    """A manager tried to change their own account through user management (art. 12.2: the
    account page, with the current password, is the way)."""
    with transaction.atomic():
        event_record(
            action="accounts.access.denied",
            request=request,
            outcome=Outcome.DENIED,
            object_type=USER,
            object_id=str(request.user.pk),
            detail={"reason": "self_service"},
        )


def user_sign_out_everywhere(*, actor: User, request: HttpRequest | None, user: User) -> None:
    if actor.pk != user.pk and user.role not in access.assignable_roles(actor):
        raise PermissionDenied(_("You may not change this account."))
    with transaction.atomic():
        user.security_stamp = _rotate_stamp(user)
        event_record(
            action="accounts.sessions.revoked",
            request=request,
            actor=actor,
            object_type=USER,
            object_id=str(user.pk),
        )


# --- signing in and out --------------------------------------------------------------------


def login_failed(
    *, request: HttpRequest, user: User | None, reason: str, part: str = ""
) -> None:
    """A refused sign-in. The typed username is not recorded (it may be anything, even a
    coachee's email address typed into the wrong box); the account is, when it exists."""
    detail = {"reason": reason}
    if part:
        detail["part"] = part
    with transaction.atomic():
        event_record(
            action="accounts.login.locked_out"
            if reason in (LoginFailure.LOCKED_OUT, LoginFailure.ACCOUNT_LOCKED)
            else "accounts.login.failed",
            request=request,
            actor=user,
            outcome=Outcome.DENIED,
            object_type=USER if user else "",
            object_id=str(user.pk) if user else "",
            detail=detail,
        )


def login_attempt_count_failure(*, request: HttpRequest, username: str) -> None:
    """Count a failure that `authenticate` did not see (a right password with a wrong code, a
    wrong confirmation code) towards the account's and the address's lockout (art. 12.2), the
    same way django-axes counts a wrong password."""
    from django.contrib.auth.signals import user_login_failed

    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


def login_complete(
    *, request: HttpRequest, user: User, device: Device | None, account_locked: bool = False
) -> None:
    """Sign in. The account's failure count starts again (a right password, with the code
    where one is needed, ends a lock), and the sign-in counts as a fresh confirmation for
    sensitive actions (accounts/reauth.py)."""
    from axes.models import AccessAttempt

    from coachregister.accounts import reauth

    detail: dict[str, object] = {"second_factor": device is not None}
    if account_locked:
        detail["account_locked"] = True
    with transaction.atomic():
        django_login(request, user, backend="coachregister.accounts.backends.StaffBackend")
        if device is not None:
            otp_login(request, device)
        request.session[SESSION_LOGIN_AT] = time.time()
        reauth.mark(request)
        AccessAttempt.objects.filter(username__iexact=user.get_username()).delete()
        event_record(
            action="accounts.login.succeeded",
            request=request,
            actor=user,
            object_type=USER,
            object_id=str(user.pk),
            detail=detail,
        )


def reauth_confirmed(*, request: HttpRequest, method: str) -> None:
    """The signed-in user proved again who they are (art. 12.2): sensitive actions are open
    for the next few minutes."""
    from coachregister.accounts import reauth

    with transaction.atomic():
        reauth.mark(request)
        event_record(
            action="accounts.reauth.succeeded",
            request=request,
            object_type=USER,
            object_id=str(request.user.pk),
            detail={"method": method},
        )


def reauth_failed(*, request: HttpRequest, part: str, account_locked: bool) -> None:
    """A wrong confirmation: audited, and counted towards the account's lockout like a wrong
    sign-in, so an open session cannot be used to guess the password (art. 12.2)."""
    from coachregister.accounts import reauth

    detail: dict[str, object] = {"part": part}
    if account_locked:
        detail["account_locked"] = True
    with transaction.atomic():
        reauth.forget(request)
        event_record(
            action="accounts.reauth.failed",
            request=request,
            outcome=Outcome.DENIED,
            object_type=USER,
            object_id=str(request.user.pk),
            detail=detail,
        )


def logout(*, request: HttpRequest) -> None:
    with transaction.atomic():
        if request.user.is_authenticated:
            event_record(
                action="accounts.logout",
                request=request,
                object_type=USER,
                object_id=str(request.user.pk),
            )
        django_logout(request)


def session_end(*, request: HttpRequest, reason: str) -> None:
    event_record(
        action="accounts.session.ended",
        request=request,
        object_type=USER,
        object_id=str(request.user.pk),
        detail={"reason": reason},
    )


# --- two-factor ------------------------------------------------------------------------------


def totp_enrol_start(*, user: User) -> TOTPDevice:
    """An unconfirmed device; it counts only once the user has typed a code from it."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name=twofactor.TOTP_NAME, confirmed=False)


def totp_enrol_confirm(
    *, request: HttpRequest | None, user: User, token: str
) -> list[str] | None:
    """Confirm the pending device with a code from the app. Returns fresh backup codes, or
    None when the code is wrong. `request=None` is `coachregister createowner` on the server
    (art. 12.2: the first owner has a second factor before the first sign-in)."""
    device = twofactor.pending_totp(user)
    if device is None or not device.verify_token(token):
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _replace_backup_codes(user)
        event_record(
            action="accounts.two_factor.enrolled", request=request, object_type=USER,
            object_id=str(user.pk),
        )
        if request is not None:
            otp_login(request, device)
    return codes


def _replace_backup_codes(user: User) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(user=user, name=twofactor.BACKUP_NAME)
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(twofactor.BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def backup_codes_regenerate(*, request: HttpRequest, user: User) -> list[str]:
    with transaction.atomic():
        codes = _replace_backup_codes(user)
        event_record(
            action="accounts.two_factor.backup_codes_renewed", request=request,
            object_type=USER, object_id=str(user.pk),
        )
    return codes


def two_factor_reset(*, actor: User, request: HttpRequest | None, user: User) -> None:
    """For a lost phone: removes the user's devices; they enrol again from the office."""
    if actor.pk != user.pk and user.role not in access.assignable_roles(actor):
        raise PermissionDenied(_("You may not change this account."))
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        user.security_stamp = _rotate_stamp(user)
        event_record(
            action="accounts.two_factor.reset", request=request, actor=actor,
            object_type=USER, object_id=str(user.pk),
        )


# --- confidentiality (art. 4.1f, 5.2, 5.3) ---------------------------------------------------


# The request memo's keys (lib/request_memo.py) for "this user accepted the current
# statement"; publishing or accepting forgets them all.
ACCEPTED_MEMO = "accounts.confidentiality_accepted:"


def confidentiality_accepted(user: User) -> bool:
    """Whether `user` accepted the current (latest) statement; False while none is published.
    One query, read once per request (the access gate and the views share it)."""
    memo = request_memo.current()
    key = f"{ACCEPTED_MEMO}{user.pk}"
    if memo is not None and key in memo:
        return bool(memo[key])
    latest = ConfidentialityStatement.objects.order_by("-version").values("pk")[:1]
    accepted = ConfidentialityAcceptance.objects.filter(
        user=user, statement=Subquery(latest)
    ).exists()
    if memo is not None:
        memo[key] = accepted
    return accepted


def statement_text(practice: PracticeSettings) -> str:
    """The statement generated from the practice settings, in Dutch (the binding text)."""
    with override("nl"):
        return render_to_string(
            "accounts/confidentiality_statement.txt", {"practice": practice}
        ).strip()


def statement_publish(
    *, actor: User | None, request: HttpRequest | None
) -> ConfidentialityStatement:
    """Publish the statement as generated now; everyone accepts the new version again."""
    if actor is not None and actor.role != Role.OWNER:
        raise PermissionDenied(_("Only an owner publishes the confidentiality statement."))
    with transaction.atomic():
        current = ConfidentialityStatement.objects.select_for_update().order_by("-version").first()
        statement = ConfidentialityStatement.objects.create(
            version=(current.version + 1) if current else 1,
            text=statement_text(PracticeSettings.load()),
            published_by=actor,
        )
        request_memo.forget_prefix(ACCEPTED_MEMO)
        event_record(
            action="accounts.confidentiality.published",
            request=request,
            actor=actor,
            object_type="statement",
            object_id=str(statement.version),
        )
    return statement


def confidentiality_accept(*, request: HttpRequest, user: User, version: int) -> None:
    statement = ConfidentialityStatement.current()
    if statement is None or statement.version != version:
        raise ValidationError(_("A newer statement has been published; please read it first."))
    with transaction.atomic():
        _acceptance, created = ConfidentialityAcceptance.objects.get_or_create(
            user=user, statement=statement
        )
        request_memo.forget_prefix(ACCEPTED_MEMO)
        if created:
            event_record(
                action="accounts.confidentiality.accepted",
                request=request,
                object_type="statement",
                object_id=str(statement.version),
            )


def third_party_scope_set(
    *, actor: User, request: HttpRequest | None, user: User, trajectories: list[Trajectory]
) -> None:
    """Art. 5.3: which trajectories a third party may see; an empty list means none."""
    from coachregister.accounts.models import ThirdPartyScope

    if not access.can_manage_users(actor):
        raise PermissionDenied(_("You may not change accounts."))
    if user.role != Role.THIRD_PARTY:
        raise ValidationError(_("Only a third party has a scope."))
    with transaction.atomic():
        ThirdPartyScope.objects.filter(user=user).delete()
        ThirdPartyScope.objects.bulk_create(
            ThirdPartyScope(user=user, trajectory=t) for t in trajectories
        )
        event_record(
            action="accounts.scope.changed", request=request, actor=actor, object_type=USER,
            object_id=str(user.pk),
            detail={"trajectories": ",".join(sorted(t.pseudonym for t in trajectories))[:200]},
        )
