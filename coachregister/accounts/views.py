"""Pages for signing in, the dashboard, one's own account and user management."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import match_token

from coachregister.accounts import policy, reauth, services, twofactor
from coachregister.accounts.access import (
    REGISTER_ROLES,
    assignable_roles,
    before_gate,
    deny,
    public,
    roles_required,
)
from coachregister.accounts.forms import (
    ConfidentialityForm,
    LockedLoginForm,
    LoginForm,
    ReauthForm,
    ScopeForm,
    TokenForm,
    UserForm,
)
from coachregister.accounts.models import ConfidentialityStatement, Role, User

PENDING_USER = "coachregister_pending_user"
PENDING_AT = "coachregister_pending_at"
PENDING_NEXT = "coachregister_pending_next"
PENDING_SECONDS = 300
# Where the first sign-in continues after the confidentiality statement (see `_signed_in`).
LANDING = "coachregister_landing"


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def _known_user(username: str) -> User | None:
    return User.objects.filter(username__iexact=username).first()


def _regulation_url() -> str | None:
    try:
        return reverse("practice:regulation")
    except NoReverseMatch:  # an installation without the regulation pages
        return None


def regulation_published() -> bool:
    from coachregister.practice.models import RegulationVersion

    return RegulationVersion.objects.exists()


def _signed_in(request: HttpRequest, user: User, next_url: str) -> HttpResponse:
    """Where a completed sign-in goes. An owner of a practice that has not published its
    privacy regulation yet (Werkwijze: the regulation goes with every quote and intake) is
    sent to the publish screen instead of the dashboard; when the confidentiality statement
    still waits (art. 4.1f), the gate comes first and sends the owner on from there."""
    if (
        next_url == reverse(settings.LOGIN_REDIRECT_URL)
        and user.role == Role.OWNER
        and not regulation_published()
        and (regulation := _regulation_url()) is not None
    ):
        next_url = regulation
        if not services.confidentiality_accepted(user):
            request.session[LANDING] = regulation
    return redirect(next_url)


def regulation_missing(request: HttpRequest) -> HttpResponse:
    """Shown instead of a page that needs a published regulation (a client gets it with the
    quote, Werkwijze) while the practice has none: who can publish it, and the way there."""
    return render(
        request, "accounts/regulation_missing.html",
        {"regulation_url": _regulation_url() if request.user.role == Role.OWNER else None},
    )


@public
@sensitive_post_parameters("password", "token")
def login(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    if request.method == "POST":
        typed = str(request.POST.get("username", "")).strip()
        # A NUL byte is no username (the form refuses it; PostgreSQL would refuse the query).
        if typed and "\x00" not in typed and policy.account_locked(typed):
            return _login_while_locked(request)
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        user = authenticate(request, username=username, password=form.cleaned_data["password"])
        if user is None:
            locked = getattr(request, "axes_locked_out", False)
            account_now_locked = not locked and policy.account_locked(username)
            services.login_failed(
                request=request,
                user=_known_user(username),
                reason=services.LoginFailure.LOCKED_OUT if locked
                else services.LoginFailure.ACCOUNT_LOCKED if account_now_locked
                else services.LoginFailure.BAD_CREDENTIALS,
            )
            if locked:
                return locked_out(request)
            if account_now_locked:
                return _locked_answer(request, username)
            form.add_error(None, _("The username or password is not correct."))
        elif policy.second_factor_required(request):
            if not twofactor.has_second_factor(user):
                services.login_failed(
                    request=request, user=user, reason=services.LoginFailure.NO_SECOND_FACTOR
                )
                return render(request, "accounts/second_factor_missing.html", status=403)
            request.session.cycle_key()
            request.session[PENDING_USER] = user.pk
            request.session[PENDING_AT] = time.time()
            request.session[PENDING_NEXT] = _safe_next(request, request.GET.get("next"))
            return redirect("accounts:login_verify")
        else:
            services.login_complete(request=request, user=user, device=None)
            return _signed_in(request, user, _safe_next(request, request.GET.get("next")))
    return render(request, "accounts/login.html", {"form": form})


def _locked_answer(request: HttpRequest, username: str) -> HttpResponse:
    """The one answer for every refused sign-in to a locked account: wrong password, wrong
    code, both, no second factor, or no such account. A fresh form (nothing typed is echoed
    back), the same template, status and message, so the answer says nothing about which
    part was right (art. 12.2)."""
    form = LockedLoginForm(initial={"username": username})
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request, "accounts/login.html", {"form": form, "locked": True, "minutes": minutes},
        status=429,
    )


def _login_while_locked(request: HttpRequest) -> HttpResponse:
    """Art. 12.2: a locked account is not closed to its owner. From the office, where a
    password suffices, the right password signs in; elsewhere the password and the code
    together. Anything else gets `_locked_answer` and counts as one more failure, so a wrong
    pair never resets the count and guessing stays limited per address (django-axes)."""
    form = LockedLoginForm(request.POST)
    if not form.is_valid():
        return _locked_answer(request, str(request.POST.get("username", "")).strip()[:150])
    username = form.cleaned_data["username"]
    token = form.cleaned_data["token"]
    user = authenticate(request, username=username, password=form.cleaned_data["password"])
    if getattr(request, "axes_locked_out", False):  # this address is locked: as before
        services.login_failed(
            request=request, user=_known_user(username), reason=services.LoginFailure.LOCKED_OUT
        )
        return locked_out(request)
    next_url = _safe_next(request, request.GET.get("next"))
    if user is None:
        part = services.ProofPart.PASSWORD  # authenticate() has counted this failure
    elif not policy.second_factor_required(request):
        services.login_complete(request=request, user=user, device=None, account_locked=True)
        return _signed_in(request, user, next_url)
    else:
        # Only with the right password is the code looked at, so a stranger can neither
        # spend a backup code nor slow down the user's device by guessing.
        device = match_token(user, token) if token and twofactor.has_second_factor(user) else None
        if device is not None:
            services.login_complete(
                request=request, user=user, device=device, account_locked=True
            )
            return _signed_in(request, user, next_url)
        part = (
            services.ProofPart.SECOND_FACTOR if twofactor.has_second_factor(user)
            else services.ProofPart.SECOND_FACTOR_MISSING
        )
        services.login_attempt_count_failure(request=request, username=username)
    services.login_failed(
        request=request, user=_known_user(username),
        reason=services.LoginFailure.LOCKED_WRONG_PROOF, part=part,
    )
    return _locked_answer(request, username)


@public
@sensitive_post_parameters("token")
def login_verify(request: HttpRequest) -> HttpResponse:
    """Step two: the code from the app, or a backup code."""
    user_pk = request.session.get(PENDING_USER)
    started = request.session.get(PENDING_AT, 0)
    if not user_pk or time.time() - started > PENDING_SECONDS:
        for key in (PENDING_USER, PENDING_AT, PENDING_NEXT):
            request.session.pop(key, None)
        messages.info(request, _("Please sign in again."))
        return redirect(settings.LOGIN_URL)
    user = get_object_or_404(User, pk=user_pk, is_active=True)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(user, form.cleaned_data["token"])
        if device is None:
            services.login_failed(
                request=request, user=user, reason=services.LoginFailure.BAD_SECOND_FACTOR
            )
            form.add_error("token", _("This code is not correct or has expired."))
        else:
            next_url = request.session.get(PENDING_NEXT) or reverse(settings.LOGIN_REDIRECT_URL)
            services.login_complete(request=request, user=user, device=device)
            return _signed_in(request, user, next_url)
    return render(request, "accounts/login_verify.html", {"form": form})


def locked_out(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Shown by django-axes after too many failed sign-ins (art. 12.2)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "accounts/locked_out.html", {"minutes": minutes}, status=429)


@before_gate
@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    services.logout(request=request)
    messages.info(request, _("You have been signed out."))
    return redirect(settings.LOGIN_URL)


def dashboard(request: HttpRequest) -> HttpResponse:
    from coachregister.outbox.models import MessageStatus, OutboxMessage
    from coachregister.retention.models import PaperDossierTask
    from coachregister.rights.services import open_requests
    from coachregister.trajectories.models import Trajectory

    user = request.user
    mine = Trajectory.objects.visible_to(user)
    context = {
        "runs_register": user.runs_register,
        "open_trajectories": mine.filter(status__in=["invited", "active"]).count(),
        # Only what the page shows (the pseudonym and the date); everyone's for those who run
        # the register (they see every trajectory), from the open tasks' index.
        "paper_tasks": (PaperDossierTask.objects.filter(confirmed_at__isnull=True) if
                        user.runs_register else PaperDossierTask.objects.filter(
                            confirmed_at__isnull=True, trajectory__in=mine))
        .select_related("trajectory").only("created_at", "trajectory__pseudonym"),
        "failed_mail": OutboxMessage.objects.filter(status=MessageStatus.FAILED).count()
        if user.runs_register else 0,
        "requests": open_requests() if user.runs_register else [],
    }
    if user.runs_register:  # art. 4.1d, 11: complaints' dates beside the requests'
        from coachregister.complaints.services import open_complaints

        context["complaints"] = open_complaints()
    if user.role == Role.OWNER:
        context["keys"] = _key_state()
        from coachregister.practice.promises import regulation_unpublished

        context["regulation_unpublished"] = regulation_unpublished()  # art. 2
    if user.runs_register:
        from coachregister.retention.services import past_purge_day

        context["past_purge_day"] = past_purge_day()  # art. 10.1: the number that must be 0
    if user.role == Role.AUDITOR:  # art. 5.4: the auditor's open (and coming) engagements
        from django.utils import timezone

        from coachregister.audit.models import Engagement

        now = timezone.now()
        coming = Engagement.objects.filter(auditor=user, window_until__gt=now).order_by(
            "window_from")
        context["engagements_open"] = [e for e in coming if e.window_from <= now]
        context["engagements_coming"] = [e for e in coming if e.window_from > now]
    from coachregister.retention.views import mailbox_tasks_for

    context["mailbox_tasks"] = mailbox_tasks_for(request)  # art. 12.1
    return render(request, "accounts/dashboard.html", context)


def _key_state() -> dict[str, object]:
    """Art. 6, 8.3: the erasure bound and the oldest epoch key still alive, for the owner. An
    oldest epoch older than the bound means the worker is not destroying keys."""
    from coachregister.keys import keyring

    epochs = keyring.living_epochs()
    bound = keyring.erasure_bound_days()
    oldest = epochs[0] if epochs else None
    age = (timezone.now() - oldest.created_at).days if oldest else 0
    return {"bound": bound, "oldest": oldest, "age": age, "overdue": age > bound}


@before_gate
def confidentiality(request: HttpRequest) -> HttpResponse:
    statement = ConfidentialityStatement.current()
    if statement is None:
        return render(request, "accounts/confidentiality_missing.html", status=503)
    accepted = services.confidentiality_accepted(request.user)
    form = ConfidentialityForm(request.POST or None, initial={"version": statement.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.confidentiality_accept(
                request=request, user=request.user, version=form.cleaned_data["version"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Thank you. You have accepted the statement."))
            return redirect(request.session.pop(LANDING, None) or settings.LOGIN_REDIRECT_URL)
    return render(
        request,
        "accounts/confidentiality.html",
        {"statement": statement, "form": form, "accepted": accepted},
    )


@before_gate
def account(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "accounts/account.html",
        {
            "has_second_factor": twofactor.has_second_factor(user),
            "backup": twofactor.backup_device(user),
            "from_office": policy.from_office(request),
        },
    )


@before_gate
@sensitive_post_parameters("token")
def two_factor_enrol(request: HttpRequest) -> HttpResponse:
    user = request.user
    device = twofactor.pending_totp(user)
    if device is None or request.method == "GET":
        device = services.totp_enrol_start(user=user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = services.totp_enrol_confirm(
            request=request, user=user, token=form.cleaned_data["token"]
        )
        if codes is not None:
            return render(request, "accounts/backup_codes.html", {"codes": codes}, status=200)
        form.add_error("token", _("This code is not correct. Check the time on your phone and "
                                  "try the next code."))
    return render(
        request,
        "accounts/two_factor_enrol.html",
        {"form": form, "qr": twofactor.qr_svg(device), "manual_key": twofactor.manual_key(device)},
    )


@before_gate
@require_POST
def backup_codes(request: HttpRequest) -> HttpResponse:
    if not twofactor.has_second_factor(request.user):
        return redirect("accounts:account")
    codes = services.backup_codes_regenerate(request=request, user=request.user)
    return render(request, "accounts/backup_codes.html", {"codes": codes})


@before_gate
@sensitive_post_parameters()
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        first = request.user.must_change_password
        services.user_change_password(
            request=request, user=request.user, new_password=form.cleaned_data["new_password1"]
        )
        messages.success(request, _("Your password has been changed."))
        # After the first password the sign-in goes on (statement, then the work).
        return redirect("accounts:dashboard" if first else "accounts:account")
    return render(request, "accounts/password_change.html", {"form": form})


@before_gate
@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    services.user_sign_out_everywhere(actor=request.user, request=request, user=request.user)
    services.logout(request=request)
    messages.info(request, _("You have been signed out on every device."))
    return redirect(settings.LOGIN_URL)


# --- user management (owner and administrator) ---------------------------------------------


@roles_required(*REGISTER_ROLES)
def user_list(request: HttpRequest) -> HttpResponse:
    users = User.objects.order_by("role", "full_name").only(
        "id", "username", "full_name", "role", "is_active", "contract_end"
    )
    # Art. 4.1b: only the accounts this viewer may manage link to their page (`user_edit`).
    return render(request, "accounts/user_list.html",
                  {"users": users, "manageable": assignable_roles(request.user)})


@roles_required(*REGISTER_ROLES)
def user_new(request: HttpRequest) -> HttpResponse:
    form = UserForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if (  # giving power over accounts: confirm first
            data["role"] in REGISTER_ROLES
            and (confirm := reauth.required(request, next_url=request.path)) is not None
        ):
            return confirm
        try:
            user, password = services.user_create(
                actor=request.user, request=request, **data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        except PermissionDenied:
            return deny(request)
        else:
            return render(
                request, "accounts/password_shown.html", {"shown_user": user, "password": password}
            )
    return render(request, "accounts/user_form.html", {"form": form, "new": True})


def _managed_user(request: HttpRequest, pk: int) -> User | None:
    user = get_object_or_404(User, pk=pk)
    if user.role not in assignable_roles(request.user):
        return None
    return user


def _self_service_refused(request: HttpRequest) -> HttpResponse:
    """Art. 12.2: one's own password, second factor and sessions are managed on the account
    page, which asks for the current password. Through user management an open session would
    be enough to give oneself a new password and see it: whoever finds an owner's unlocked
    screen would own the account."""
    services.user_self_service_refused(request=request)
    messages.error(
        request,
        _("You manage your own account on the “My account” page, not through user management."),
    )
    return redirect("accounts:account")


@roles_required(*REGISTER_ROLES)
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _managed_user(request, pk)
    if user is None:
        return deny(request, object_type=services.USER, object_id=str(pk))
    if user.pk == request.user.pk:
        return _self_service_refused(request)
    role_before = user.role  # the form writes the posted values onto `user` while validating
    form = UserForm(request.POST or None, instance=user, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "username"}
        if (
            data["role"] != role_before
            and (confirm := reauth.required(request, next_url=request.path)) is not None
        ):
            return confirm
        try:
            services.user_update(actor=request.user, request=request, user=user, **data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The account has been saved."))
            return redirect("accounts:user_list")
    scope_choices = None
    if user.role == "third_party":
        from coachregister.trajectories.models import Trajectory

        in_scope = set(user.scope.values_list("trajectory_id", flat=True))
        scope_choices = [
            (t, t.pk in in_scope)
            for t in Trajectory.objects.select_related("client").order_by("pseudonym")
        ]
    return render(
        request,
        "accounts/user_form.html",
        {"form": form, "new": False, "managed": user, "scope_choices": scope_choices,
         "has_second_factor": twofactor.has_second_factor(user)},
    )


# Art. 12.2: these ask for a fresh confirmation (accounts/reauth.py); a role change in
# `user_edit` and a new owner or administrator in `user_new` do too.
# Removing the second factor is as sensitive as a password reset: the two together are a
# take-over of the account.
SENSITIVE_USER_ACTIONS = frozenset({"reset-password", "deactivate", "reset-two-factor"})


@roles_required(*REGISTER_ROLES)
@require_POST
def user_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user = _managed_user(request, pk)
    if user is None:
        return deny(request, object_type=services.USER, object_id=str(pk))
    if user.pk == request.user.pk:
        return _self_service_refused(request)
    if action in SENSITIVE_USER_ACTIONS:
        back = reverse("accounts:user_edit", args=[user.pk])
        if (confirm := reauth.required(request, next_url=back)) is not None:
            return confirm
    try:
        if action == "deactivate":
            services.user_set_active(actor=request.user, request=request, user=user, active=False)
            messages.success(request, _("The account has been deactivated."))
        elif action == "activate":
            services.user_set_active(actor=request.user, request=request, user=user, active=True)
            messages.success(request, _("The account has been activated."))
        elif action == "reset-password":
            password = services.user_reset_password(actor=request.user, request=request, user=user)
            return render(
                request, "accounts/password_shown.html", {"shown_user": user, "password": password}
            )
        elif action == "reset-two-factor":
            services.two_factor_reset(actor=request.user, request=request, user=user)
            messages.success(request, _("Two-step verification has been removed. The user sets "
                                        "it up again from the office."))
        elif action == "scope":
            form = ScopeForm(request.POST)
            if form.is_valid():
                services.third_party_scope_set(
                    actor=request.user, request=request, user=user,
                    trajectories=list(form.cleaned_data["trajectories"]),
                )
                messages.success(request, _("The scope has been saved."))
            else:
                for errors in form.errors.values():
                    for error in errors:
                        messages.error(request, error)
        elif action == "sign-out-everywhere":
            services.user_sign_out_everywhere(actor=request.user, request=request, user=user)
            messages.success(request, _("The user has been signed out on every device."))
        else:
            return deny(request)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("accounts:user_edit", pk=user.pk)


@before_gate  # the gate page offers the first publication to an owner
@roles_required("owner")
@require_POST
def statement_publish(request: HttpRequest) -> HttpResponse:
    """Everyone accepts a new version again: a confirmed owner only (art. 4.1f, 12.2)."""
    back = reverse("accounts:confidentiality")
    if (confirm := reauth.required(request, next_url=back)) is not None:
        return confirm
    statement = services.statement_publish(actor=request.user, request=request)
    messages.success(
        request,
        _("Version %(version)d of the confidentiality statement has been published.")
        % {"version": statement.version},
    )
    return redirect("accounts:confidentiality")


@before_gate
@sensitive_post_parameters("password", "token")
def reauth_view(request: HttpRequest) -> HttpResponse:
    """"Confirm it is you" (art. 12.2): the password, or the second-factor code, before a
    sensitive action. Every failure is audited and counts towards the account's lockout; while
    the account is locked, a user with a second factor gives both."""
    user = request.user
    has_factor = twofactor.has_second_factor(user)
    locked = reauth.account_locked(request)
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = ReauthForm(request.POST or None, has_second_factor=has_factor, locked=locked)
    failed = False
    if request.method == "POST" and form.is_valid():
        proof = reauth.check(
            request,
            password=form.cleaned_data.get("password", ""),
            token=form.cleaned_data.get("token", ""),
            locked=locked,
        )
        if proof.method:
            services.reauth_confirmed(request=request, method=proof.method)
            return redirect(next_url)
        if not proof.counted:
            services.login_attempt_count_failure(request=request, username=user.get_username())
        services.reauth_failed(request=request, part=proof.part, account_locked=locked)
        form = ReauthForm(has_second_factor=has_factor, locked=locked)  # nothing echoed
        failed = True
    return render(
        request,
        "accounts/reauth.html",
        {"form": form, "next": next_url, "failed": failed, "has_second_factor": has_factor,
         "minutes": settings.REAUTH_MINUTES},
    )
