"""Request-level policy: the client address, and the closed-by-default access gate."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from coachregister.lib import net

SESSION_LOGIN_AT = "coachregister_login_at"
# The last recorded activity (time.time()). The session is not written on every request
# (SESSION_SAVE_EVERY_REQUEST is off): this is refreshed, and so the session and its cookie
# renewed, at most once per ACTIVITY_REFRESH_SECONDS. The idle limit counts from it, so a
# session may end up to that much earlier than the idle minutes after the last request,
# never later.
SESSION_SEEN_AT = "coachregister_seen_at"
ACTIVITY_REFRESH_SECONDS = 60
# Pages that need a published privacy regulation (AccessPolicyMiddleware._needs_regulation).
NEEDS_REGULATION = frozenset({"trajectories:client_new", "trajectories:new"})


def _trusted_proxies() -> list[net.IPNetwork]:
    return net.parse_networks(settings.TRUSTED_PROXIES)


def client_address(request: HttpRequest, *args: Any, **kwargs: Any) -> str | None:
    """The client's address as a string, also for django-axes (`AXES_CLIENT_IP_CALLABLE`).

    None when the address is unknown (a broken X-Forwarded-For chain from a trusted proxy):
    axes then files the attempt without an address and counts all such attempts together,
    apart from every well-formed client and from the proxy's own address (lib/net.py)."""
    if hasattr(request, "client_ip"):
        address = request.client_ip  # type: ignore[attr-defined]
    else:
        address = net.client_address(
            request.META.get("REMOTE_ADDR"),
            request.META.get("HTTP_X_FORWARDED_FOR"),
            _trusted_proxies(),
        )
    return str(address) if address is not None else None


class ClientAddressMiddleware:
    """Sets `request.client_ip` (None when unknown, see lib/net.py). Forwarding headers from an
    untrusted peer are removed, so neither our code nor Django (SECURE_PROXY_SSL_HEADER) can
    be fooled by them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.proxies = _trusted_proxies()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        peer = net.parse_address(meta.get("REMOTE_ADDR"))
        request.client_ip = net.client_address(  # type: ignore[attr-defined]
            meta.get("REMOTE_ADDR"), meta.get("HTTP_X_FORWARDED_FOR"), self.proxies
        )
        if not net.in_networks(peer, self.proxies):
            for header in (
                "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST"
            ):
                meta.pop(header, None)
        return self.get_response(request)


# What a user with a password someone else has seen may still open: the change itself and
# signing out.
FIRST_PASSWORD_OPEN = {"accounts:password_change", "accounts:logout"}


def seen_at(request: HttpRequest) -> float:
    """When the session last recorded activity; a signed-in session that has not yet done
    so counts from the sign-in."""
    session = request.session
    return float(session.get(SESSION_SEEN_AT, session.get(SESSION_LOGIN_AT, 0)))


def activity_refresh(request: HttpRequest) -> bool:
    """Record activity in a session that holds something (staff, the coachee portal, an
    intake), when the last record is at least a minute old: only then is the session
    written, which also renews its expiry and cookie (SESSION_COOKIE_AGE). An empty session
    is left alone, so no anonymous visit creates one. True when the session will be
    written."""
    session = request.session
    if session.is_empty() or not session.keys():
        return False
    now = time.time()
    if now - seen_at(request) < ACTIVITY_REFRESH_SECONDS:
        return False
    session[SESSION_SEEN_AT] = now
    return True


class AccessPolicyMiddleware:
    """Closed by default: a view is reachable anonymously only when marked `public`; a signed-in
    user passes the session limits, the sign-in policy and the confidentiality gate first.

    The idle limit (SESSION_COOKIE_AGE) holds twice: the stored session expires that long
    after its last write, and a signed-in session whose recorded activity (SESSION_SEEN_AT)
    is older than that is ended here, whatever wrote the session since."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if getattr(view_func, "coachregister_public", False):
            activity_refresh(request)
            return None
        if not request.user.is_authenticated:
            login_url = reverse(settings.LOGIN_URL)
            return redirect(f"{login_url}?{urlencode({'next': request.path})}")

        from coachregister.accounts import policy, services

        login_at = request.session.get(SESSION_LOGIN_AT, 0)
        if time.time() - login_at > settings.SESSION_ABSOLUTE_SECONDS:
            hours = settings.SESSION_ABSOLUTE_SECONDS // 3600
            return self._end(
                request,
                services.SessionEnd.ABSOLUTE_TIMEOUT,
                _("Your session has ended after %(hours)d hours. Please sign in again.")
                % {"hours": hours},
            )
        if time.time() - seen_at(request) > settings.SESSION_COOKIE_AGE:
            minutes = settings.SESSION_COOKIE_AGE // 60
            return self._end(
                request,
                services.SessionEnd.IDLE_TIMEOUT,
                _("Your session has ended after %(minutes)d minutes without activity. Please "
                  "sign in again.") % {"minutes": minutes},
            )
        activity_refresh(request)
        if policy.second_factor_required(request) and not request.user.is_verified():
            return self._end(
                request,
                services.SessionEnd.SECOND_FACTOR_REQUIRED,
                _("You are outside the office network now. Please sign in again with your "
                  "second step."),
            )
        if request.user.must_change_password and request.resolver_match is not None and (
            request.resolver_match.view_name not in FIRST_PASSWORD_OPEN
        ):
            # Art. 12.2: a password someone else has seen is changed before anything else.
            messages.info(request, _("Choose your own password first: the one you were given "
                                     "has been seen by someone else."))
            return redirect("accounts:password_change")
        if getattr(view_func, "coachregister_before_gate", False):
            return None
        if not services.confidentiality_accepted(request.user):
            return redirect("accounts:confidentiality")
        if self._needs_regulation(request):
            from coachregister.accounts.views import regulation_missing

            return regulation_missing(request)
        return None

    @staticmethod
    def _needs_regulation(request: HttpRequest) -> bool:
        """Werkwijze: a client gets the published regulation with the quote, so recording a
        client (and a trajectory for one) waits until there is one. Only for those who may
        record clients; everyone else gets the view's own refusal."""
        from coachregister.accounts.access import REGISTER_ROLES
        from coachregister.accounts.views import regulation_published

        match = request.resolver_match
        return (
            match is not None
            and match.view_name in NEEDS_REGULATION
            and request.user.role in REGISTER_ROLES
            and not regulation_published()
        )

    @staticmethod
    def _end(request: HttpRequest, reason: str, message: str) -> HttpResponse:
        from coachregister.accounts import services

        services.session_end(request=request, reason=reason)
        logout(request)
        messages.info(request, message)
        return redirect(settings.LOGIN_URL)
