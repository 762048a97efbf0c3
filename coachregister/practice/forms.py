from __future__ import annotations

from decimal import Decimal

import phonenumbers
from django import forms
from django.utils.translation import gettext_lazy as _

from coachregister.lib import net
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
        confirm it is them, art. 12.2). A wrong line is named by its number as typed (blank
        lines count), so the owner finds it in a long list (issue 14)."""
        value = self.cleaned_data["office_networks"]
        wrong = []
        for number, line in enumerate(value.splitlines(), start=1):
            if line.strip():
                try:
                    net.parse_networks([line])
                except ValueError:
                    wrong.append(forms.ValidationError(
                        _("Line %(line)d: “%(value)s” is not an IP address or "
                          "network, like 192.0.2.0/24."),
                        code="network_line",
                        params={"line": number, "value": line.strip()[:60]},
                    ))
        if wrong:
            raise forms.ValidationError(wrong)
        return "\n".join(line.strip() for line in value.splitlines() if line.strip())

    def clean_phone(self) -> str:
        """The practice's number as people dial it (art. 13: the regulation and letters give
        it): checked by `phonenumbers`, written in the Dutch national notation for a Dutch
        number and in the international one for any other."""
        value = self.cleaned_data["phone"].strip()
        if not value:
            return ""
        try:
            number = phonenumbers.parse(value, "NL")
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise forms.ValidationError(
                _("Enter a valid telephone number, e.g. 020 123 4567 or +32 2 123 45 67."),
                code="phone",
            )
        notation = (phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 31
                    else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        return phonenumbers.format_number(number, notation)

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
