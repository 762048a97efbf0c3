from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coachregister.accounts.models import User
from coachregister.audit.labels import action_choices
from coachregister.audit.models import Outcome
from coachregister.lib.formfields import MomentField


class DayRangeMixin:
    """`date_from` and `date_until` fields whose days must become moments: a day at the ends
    of the calendar (0001-01-01 is before UTC's first day in Amsterdam, the day after
    9999-12-31 does not exist) is a form error, not a server error (art. 6: a crafted address
    must not break the register)."""

    cleaned_data: dict[str, Any]  # as on forms.Form
    fields: dict[str, forms.Field]

    def _clean_day(self, name: str) -> date | None:
        day = self.cleaned_data.get(name)
        if not isinstance(day, date):
            return None
        try:
            for moment in (day_start(day), day_start(day + timedelta(days=1))):
                moment.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValidationError(
                self.fields[name].error_messages["invalid"], code="invalid"
            ) from None
        return day

    def clean_date_from(self) -> date | None:
        return self._clean_day("date_from")

    def clean_date_until(self) -> date | None:
        return self._clean_day("date_until")

    def day_range(self, field: str) -> dict[str, datetime]:
        """The lookups that keep `field` (a moment) within the chosen Dutch days."""
        lookups = {}
        if self.cleaned_data.get("date_from"):
            lookups[f"{field}__gte"] = day_start(self.cleaned_data["date_from"])
        if self.cleaned_data.get("date_until"):
            lookups[f"{field}__lt"] = day_start(
                self.cleaned_data["date_until"] + timedelta(days=1)
            )
        return lookups


class EventFilterForm(DayRangeMixin, forms.Form):
    # Chosen from the one table of labels (labels.py): an area ("accounts.") or one action.
    action = forms.ChoiceField(label=_("Action"), required=False, choices=action_choices)
    actor = forms.ModelChoiceField(
        label=_("Staff member"), queryset=User.objects.order_by("full_name"), required=False
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), required=False, choices=[("", _("all")), *Outcome.choices]
    )
    object_id = forms.CharField(label=_("Object"), required=False, max_length=64)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    before = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput
    )


def day_start(day: date) -> datetime:
    """The start of a day in the practice's time zone, as an aware moment."""
    return timezone.make_aware(datetime.combine(day, time.min))


class EngagementForm(forms.Form):
    auditor = forms.ModelChoiceField(
        label=_("Auditor"), queryset=User.objects.filter(role="auditor", is_active=True)
    )
    window_from = MomentField(
        label=_("From"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    window_until = MomentField(
        label=_("Until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    sample_size = forms.IntegerField(label=_("Sample size"), min_value=1, max_value=500, initial=10)
    include_contact_details = forms.BooleanField(
        label=_("The auditor may also open contact details"),
        required=False,
        help_text=_("Off: the auditor reads keywords and trajectory records of the sample, not "
                    "names, email addresses or telephone numbers. The coachee sees it if the "
                    "auditor opens them."),
    )
