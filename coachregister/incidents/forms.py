from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from coachregister.incidents.models import DataCategory, Reporter, Risk
from coachregister.lib.formfields import MomentField
from coachregister.practice.models import Processor

MOMENT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class IncidentForm(forms.Form):
    """Art. 4.1c, 13.6: what happened, when, who reported it, which data, what was done."""

    summary = forms.CharField(label=_("What happened"), max_length=8000,
                              widget=forms.Textarea(attrs={"rows": 4}))
    started_at = MomentField(label=_("When it started (if known)"), required=False,
                                     widget=MOMENT)
    aware_at = MomentField(
        label=_("When the practice became aware of it"), widget=MOMENT,
        help_text=_("The 72 hours to notify the supervisory authority start here."),
    )
    reported_by = forms.ChoiceField(label=_("Reported by"), choices=Reporter.choices,
                                    widget=forms.RadioSelect)
    # Art. 13: the processor from the processors register; the name field stays for a
    # processor not (yet) in the register and for incidents registered before it existed.
    processor = forms.ModelChoiceField(
        label=_("Processor from the register"), queryset=Processor.objects.none(),
        required=False,
        help_text=_("The processor that reported the incident, if it is in the register."),
    )
    processor_name = forms.CharField(label=_("Which processor"), max_length=100,
                                     required=False,
                                     help_text=_("For example Microsoft."))
    data_categories = forms.MultipleChoiceField(
        label=_("Categories of data concerned"), choices=DataCategory.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    records_estimate = forms.IntegerField(label=_("Approximate number of records"),
                                          min_value=0, max_value=2_000_000_000,
                                          required=False)
    consequences = forms.CharField(label=_("Likely consequences"), max_length=8000,
                                   required=False, widget=forms.Textarea(attrs={"rows": 3}))
    containment = forms.CharField(label=_("Containment taken"), max_length=8000,
                                  required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """The active processors to choose from. When changing an incident linked to a
        processor, that one stays on the list, also once it has been retired, so saving keeps
        the link."""
        super().__init__(*args, **kwargs)
        linked = self.initial.get("processor")
        self.fields["processor"].queryset = Processor.objects.filter(  # type: ignore[attr-defined]
            Q(active=True) | Q(pk=linked or 0)
        )


class AssessForm(forms.Form):
    risk = forms.ChoiceField(label=_("Risk to the people concerned"), choices=Risk.choices,
                             widget=forms.RadioSelect)
    reasons = forms.CharField(label=_("Reasons"), max_length=8000,
                              widget=forms.Textarea(attrs={"rows": 3}))


class NotificationForm(forms.Form):
    submitted_at = MomentField(label=_("Submitted on the authority's website at"),
                                       widget=MOMENT)
    reference = forms.CharField(label=_("Reference number"), max_length=60)
    follow_up = forms.BooleanField(label=_("Follow-up notification (a later phase)"),
                                   required=False)
    delay_reasons = forms.CharField(
        label=_("Reasons for the delay"), max_length=8000, required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when the first notification is later than 72 hours."),
    )
