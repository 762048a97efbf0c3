from __future__ import annotations

from django.http import HttpRequest

from coachregister.practice.models import PracticeSettings


def practice(request: HttpRequest) -> dict[str, object]:
    """The practice name for the page header. `load` reads the row once per request (the
    request memo), shared with the sign-in policy and the views."""
    return {"practice": PracticeSettings.load()}
