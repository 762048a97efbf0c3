from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from coachregister.complaints.models import Channel, ComplaintProcedure, Outcome, Topic
from coachregister.complaints.services import MAX_TEXT
from coachregister.lib.formfields import MomentField


class ComplaintForm(forms.Form):
    """Staff register a complaint received outside the portal (art. 11.1)."""

    topic = forms.ChoiceField(label=_("About"), choices=Topic.choices)
    channel = forms.ChoiceField(
        label=_("Received by"), choices=[c for c in Channel.choices if c[0] != Channel.PORTAL])
    received_at = MomentField(
        label=_("Received on"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    text = forms.CharField(label=_("The complaint"), max_length=MAX_TEXT,
                           widget=forms.Textarea(attrs={"rows": 6}))


class PortalComplaintForm(forms.Form):
    """The coachee's own complaint, in the portal (art. 4.1d, 11.1)."""

    topic = forms.ChoiceField(label=_("What is your complaint about?"), choices=[
        (Topic.REGULATION, _("We did not act according to our privacy regulation")),
        (Topic.OTHER, _("Something else")),
    ], widget=forms.RadioSelect)
    text = forms.CharField(label=_("Your complaint"), max_length=MAX_TEXT,
                           widget=forms.Textarea(attrs={"rows": 6}))


class DecideForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Decision"), choices=Outcome.choices,
                                widget=forms.RadioSelect)
    reasons = forms.CharField(label=_("Reasons (in the letter to the coachee)"),
                              max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 5}))


class ProcedureForm(forms.ModelForm):
    external_body_url = forms.URLField(label=_("its website"), required=False,
                                       assume_scheme="https")
    authority_url = forms.URLField(label=_("its website"), required=False,
                                   assume_scheme="https")

    class Meta:
        model = ComplaintProcedure
        fields = ["acknowledge_days", "decide_weeks", "external_body", "external_body_url",
                  "authority", "authority_url", "claims_years"]
