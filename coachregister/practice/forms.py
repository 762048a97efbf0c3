from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from coachregister.practice.models import PracticeSettings, PurposeBasis


class PracticeSettingsForm(forms.ModelForm):
    class Meta:
        model = PracticeSettings
        fields = [
            "name",
            "address",
            "email",
            "phone",
            "website",
            "chamber_of_commerce",
            "office_networks",
            "two_factor_everywhere",
            "coach_mail_includes_contact_details",
            # Art. 7.1, 7.2, 8.2, GDPR art. 12(3): whether the regulation allows extending.
            "extension_allowed",
            # Art. 7.3, GDPR art. 15(3): the fee for a further copy.
            "further_copy_fee",
        ]
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "office_networks": forms.Textarea(attrs={"rows": 4}),
        }

    def clean_office_networks(self) -> str:
        """One network per line, as stored. A browser sends CRLF line ends; without this every
        save would look like a change of the sign-in policy (audited, and asking the owner to
        confirm it is them, art. 12.2)."""
        value = self.cleaned_data["office_networks"]
        return "\n".join(line.strip() for line in value.splitlines() if line.strip())

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Left empty, the fee is nil: further copies are free too (art. 7.3).
        self.fields["further_copy_fee"].required = False

    def clean_further_copy_fee(self) -> Decimal:
        return self.cleaned_data["further_copy_fee"] or Decimal("0.00")


class PurposeForm(forms.Form):
    """A purpose the owner adds to the list (art. 2.1, 2.2)."""

    name = forms.CharField(label=_("Purpose"), max_length=200)
    basis = forms.ChoiceField(label=_("Basis"), choices=PurposeBasis.choices)


class DecisionForm(forms.Form):
    """Art. 4.1e: a decision of the owners in a case the regulation does not foresee."""

    decided_on = forms.DateField(label=_("Date of the decision"),
                                 widget=forms.DateInput(attrs={"type": "date"}))
    question = forms.CharField(label=_("Question"), max_length=4000, widget=forms.Textarea(
        attrs={"rows": 3}))
    decision = forms.CharField(label=_("Decision"), max_length=4000, widget=forms.Textarea(
        attrs={"rows": 3}))
    reasoning = forms.CharField(label=_("Reasoning"), max_length=4000, widget=forms.Textarea(
        attrs={"rows": 4}))
    pseudonyms = forms.CharField(
        label=_("Pseudonyms concerned"), required=False, max_length=400,
        help_text=_("Optional, separated by commas. Never names: the name guard checks the "
                    "texts against the coachees you list."),
    )
