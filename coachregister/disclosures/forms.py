from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from coachregister.disclosures.models import Basis, Category, Consent, Method, Recipient


class RecipientForm(forms.ModelForm):
    class Meta:
        model = Recipient
        fields = ["name", "kind", "email"]


class ConsentForm(forms.Form):
    recipient = forms.ModelChoiceField(label=_("Recipient"), queryset=Recipient.objects.all())
    disclosure_purpose = forms.CharField(label=_("Purpose"), max_length=200)
    text = forms.CharField(
        label=_("The exact text the coachee agreed to"), widget=forms.Textarea(attrs={"rows": 3})
    )
    text_version = forms.CharField(label=_("Version of that text"), max_length=20)
    method = forms.ChoiceField(label=_("How it was given"), choices=Method.choices)


class DisclosureForm(forms.Form):
    recipient = forms.ModelChoiceField(label=_("Recipient"), queryset=Recipient.objects.all())
    categories = forms.MultipleChoiceField(
        label=_("Categories"), choices=Category.choices, widget=forms.CheckboxSelectMultiple
    )
    purpose = forms.CharField(label=_("Purpose"), max_length=200)
    basis = forms.ChoiceField(label=_("Basis"), choices=Basis.choices, widget=forms.RadioSelect)
    legal_ground = forms.CharField(
        label=_("Statute or order (for a legal duty)"), max_length=200, required=False
    )
    consent = forms.ModelChoiceField(
        label=_("Consent (for a disclosure on consent)"),
        queryset=Consent.objects.none(),
        required=False,
    )
    export = forms.BooleanField(
        label=_("Download the disclosed data as a file now"), required=False
    )

    def __init__(self, *args: Any, coachee: object, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consent"].queryset = Consent.objects.filter(
            coachee=coachee, purpose="disclosure"
        ).select_related("recipient")
