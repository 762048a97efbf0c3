"""Security headers that Django 5.2 does not set itself.

A strict Content-Security-Policy without 'unsafe-inline': the pages use no inline script or
style, so no nonces are needed and the policy is a constant.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if request.user.is_authenticated if hasattr(request, "user") else False:
            # Pages with personal data are never kept by the browser or a proxy.
            response["Cache-Control"] = "no-store"
        return response


def restore_pending() -> bool:
    """A restore is putting the database back (retention/backup.py): nothing may be served
    or done until it has re-applied the rights journal (check coachregister.E005)."""
    from pathlib import Path

    from django.conf import settings

    from coachregister.checks import RESTORE_MARKER

    return (Path(settings.COACHREGISTER_EVIDENCE_DIR) / RESTORE_MARKER).exists()


class RestorePendingMiddleware:
    """Processes that were already running when a restore began stop serving too: the system
    check only runs at start, and between the database being put back and the journal being
    re-applied, people erased after the backup would be visible again (art. 8.3)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if restore_pending():
            from django.utils.translation import gettext as _

            return HttpResponse(
                _("The register is being restored from a backup. Try again in a few minutes."),
                status=503, content_type="text/plain; charset=utf-8",
                headers={"Retry-After": "120"},
            )
        return self.get_response(request)
