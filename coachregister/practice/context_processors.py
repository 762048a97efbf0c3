from __future__ import annotations

from django.http import HttpRequest

from coachregister.practice.models import PracticeSettings


def practice(request: HttpRequest) -> dict[str, object]:
    """The practice name for the page header; one cached query per request."""
    if not hasattr(request, "_practice_settings"):
        request._practice_settings = PracticeSettings.load()  # type: ignore[attr-defined]
    return {"practice": request._practice_settings}  # type: ignore[attr-defined]
