"""Telling staff how a POST went: the success, or every reason the service refused it."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest


def carry_out(request: HttpRequest, action: Callable[[], object], success: str) -> bool:
    """Run `action` (a service call); show `success`, or each message of the refusal it
    raised. Returns whether it was carried out."""
    try:
        action()
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return False
    messages.success(request, success)
    return True
