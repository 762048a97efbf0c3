"""The compliance overview (art. 5.4, and every article a row names) and its PDF for the
certification audit. Owners and the administrator see the rows with links to the records;
the auditor, during an open engagement window, sees the same rows with counts only and no
links (the sample is the auditor's way into records, audit/engagements.py)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from coachregister.accounts.access import deny, roles_required
from coachregister.accounts.models import Role
from coachregister.practice import compliance
from coachregister.practice.models import PracticeSettings

View = Callable[..., HttpResponse]


def _readers(view: View) -> View:
    """The roles first, then the auditor's window, then the method: an auditor outside a
    window is refused whatever the method."""

    @roles_required(Role.OWNER, Role.ADMINISTRATOR, Role.AUDITOR)
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not compliance.may_read(request.user):
            return deny(request, object_type=compliance.OBJECT)
        return require_safe(view)(request, *args, **kwargs)

    return wrapper


def _context(request: HttpRequest, *, download: bool = False) -> dict[str, Any]:
    rows = compliance.compliance_read(actor=request.user, request=request, download=download)
    return {
        "rows": rows,
        "links": request.user.role != Role.AUDITOR,
        "now": timezone.now(),
        "practice": PracticeSettings.load(),
    }


@_readers
def overview(request: HttpRequest) -> HttpResponse:
    return render(request, "practice/compliance.html", _context(request))


@_readers
def overview_pdf(request: HttpRequest) -> HttpResponse:
    """The same rows as a PDF for the certification audit's file (no links in it)."""
    from coachregister.lib.pdf import render_pdf

    context = _context(request, download=True)
    pdf = render_pdf("practice/compliance_pdf.html", {**context, "links": False},
                     request.LANGUAGE_CODE or "nl")
    response = HttpResponse(pdf, content_type="application/pdf")
    date = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="compliance-{date}.pdf"'
    return response
