"""Form fields shared by the register's forms."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError


class MomentField(forms.DateTimeField):
    """A date and time, as DateTimeField, that also exists in UTC: a moment like 0001-01-01
    00:00 in Amsterdam has no UTC equivalent and cannot be stored, so it is a form error,
    not a server error (art. 6)."""

    def to_python(self, value: Any) -> datetime | None:
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            moment.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        return moment
