"""Sensitive actions ask again who you are (art. 12.2).

An open session is not enough to reset someone's password, change a role, deactivate a user,
publish the confidentiality statement or the regulation, or change the office networks or the
two-step policy: whoever finds an unlocked screen could otherwise take accounts over or open
the register to everyone. The user confirms with their password, or with the code of their
second factor, and that confirmation holds for `settings.REAUTH_MINUTES` minutes (a sign-in
counts as one). A view calls `required(...)` *before* it changes anything; without a fresh
confirmation it gets a redirect to the confirmation page and carries nothing out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp import match_token

from coachregister.accounts import policy, twofactor

SESSION_KEY = "coachregister_reauth_at"


def mark(request: HttpRequest) -> None:
    request.session[SESSION_KEY] = time.time()


def forget(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)


def is_fresh(request: HttpRequest) -> bool:
    confirmed_at = request.session.get(SESSION_KEY)
    if not isinstance(confirmed_at, int | float):
        return False
    age = time.time() - confirmed_at
    return 0 <= age <= settings.REAUTH_MINUTES * 60


def confirm_url(next_url: str) -> str:
    return f"{reverse('accounts:reauth')}?{urlencode({'next': next_url})}"


def required(request: HttpRequest, *, next_url: str) -> HttpResponse | None:
    """None when the last confirmation is fresh; otherwise the redirect the view returns at
    once. `next_url` is the page to come back to (a POST cannot be repeated by a redirect,
    so the user presses the button again after confirming)."""
    if is_fresh(request):
        return None
    messages.info(request, _("Please confirm it is you before you do this."))
    return redirect(confirm_url(next_url))


@dataclass(frozen=True)
class Proof:
    """The outcome of one confirmation: `method` when it holds, else the `part` that failed
    (for the audit trail only; the page says the same for every failure)."""

    method: str = ""
    part: str = ""
    counted: bool = False  # the failure has already been counted (a wrong password)


def check(request: HttpRequest, *, password: str, token: str, locked: bool) -> Proof:
    """Check what the signed-in user typed. Each part given must be right; while the account
    is locked, a user with a second factor gives both (the same rule as signing in)."""
    from coachregister.accounts.services import ProofPart

    user = request.user
    has_factor = twofactor.has_second_factor(user)
    password_ok = False
    if password:
        found = authenticate(request, username=user.get_username(), password=password)
        if found is None or found.pk != user.pk:
            # authenticate() has counted this failure (django-axes), and has not looked at a
            # code: a wrong password never spends or throttles the user's device.
            return Proof(part=ProofPart.PASSWORD, counted=True)
        password_ok = True
    token_ok = False
    if token:
        if not has_factor or match_token(user, token) is None:
            return Proof(part=ProofPart.SECOND_FACTOR)
        token_ok = True
    if locked and has_factor and not (password_ok and token_ok):
        return Proof(part=ProofPart.SECOND_FACTOR if password_ok else ProofPart.PASSWORD)
    if password_ok and token_ok:
        return Proof(method="password_and_second_factor")
    if password_ok:
        return Proof(method="password")
    if token_ok:
        return Proof(method="second_factor")
    return Proof(part=ProofPart.PASSWORD)


def account_locked(request: HttpRequest) -> bool:
    return policy.account_locked(request.user.get_username())
