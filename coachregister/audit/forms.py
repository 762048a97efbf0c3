from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from coachregister.accounts.models import User
from coachregister.audit.models import Outcome


class EventFilterForm(forms.Form):
    action = forms.CharField(
        label=_("Action starts with"),
        required=False,
        max_length=100,
        help_text=_("For example accounts.login"),
    )
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
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class EngagementForm(forms.Form):
    auditor = forms.ModelChoiceField(
        label=_("Auditor"), queryset=User.objects.filter(role="auditor", is_active=True)
    )
    window_from = forms.DateTimeField(
        label=_("From"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    window_until = forms.DateTimeField(
        label=_("Until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    sample_size = forms.IntegerField(label=_("Sample size"), min_value=1, max_value=500, initial=10)
