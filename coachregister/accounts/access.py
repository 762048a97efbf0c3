"""Who may see what: the one place that decides (art. 5.1).

Every view is closed by default (AccessPolicyMiddleware). A view opens itself only by saying
so here: `public` for pages meant for anonymous visitors, `before_gate` for the few pages a
signed-in user needs before accepting the confidentiality statement, `roles_required` for
pages limited to some roles. A refusal is an audit event.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from coachregister.accounts.models import Role
from coachregister.audit.models import Outcome
from coachregister.audit.services import event_record

View = TypeVar("View", bound=Callable[..., HttpResponse])

REGISTER_ROLES = (Role.OWNER, Role.ADMINISTRATOR)


def public(view: View) -> View:
    """Reachable without signing in. The URL-walk test lists every such view by name."""
    view.coachregister_public = True  # type: ignore[attr-defined]
    return view


def before_gate(view: View) -> View:
    """Reachable when signed in but before the confidentiality statement is accepted.
    Such a view must show no personal data of anyone but the user themselves."""
    view.coachregister_before_gate = True  # type: ignore[attr-defined]
    return view


def deny(request: HttpRequest, *, object_type: str = "view", object_id: str = "") -> HttpResponse:
    """Refuse, record the refusal, and say so plainly."""
    match = getattr(request, "resolver_match", None)
    event_record(
        action="accounts.access.denied",
        request=request,
        outcome=Outcome.DENIED,
        object_type=object_type,
        object_id=object_id or (match.view_name if match else ""),
    )
    return render(
        request,
        "accounts/denied.html",
        {"message": _("You do not have access to this page.")},
        status=403,
    )


def roles_required(*roles: str) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if getattr(request.user, "role", None) not in roles:
                return deny(request)
            return view(request, *args, **kwargs)

        wrapper.coachregister_roles = tuple(roles)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def can_manage_users(user: Any) -> bool:
    return getattr(user, "role", None) in REGISTER_ROLES


def assignable_roles(actor: Any) -> list[str]:
    """Owners appoint owners and the administrator (art. 4.1b); the administrator manages
    coaches, third parties and auditors."""
    if actor.role == Role.OWNER:
        return list(Role.values)
    if actor.role == Role.ADMINISTRATOR:
        return [Role.COACH, Role.THIRD_PARTY, Role.AUDITOR]
    return []
