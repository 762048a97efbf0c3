from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from coachregister.disclosures.models import Basis, Category, Recipient
from coachregister.practice.models import ProcessingPurpose


class RecipientForm(forms.ModelForm):
    class Meta:
        model = Recipient
        fields = ["name", "kind", "email"]


class ProposalForm(forms.Form):
    """Staff prepare a disclosure (art. 9.1): to whom, why (from the practice's list of
    purposes, art. 2.1), which categories, on which basis."""

    # Every recipient is listed: choosing a client organisation is refused with the reason.
    recipient = forms.ModelChoiceField(label=_("Recipient"), queryset=Recipient.objects.all())
    processing_purpose = forms.ModelChoiceField(
        label=_("Purpose"), queryset=ProcessingPurpose.objects.filter(active=True)
    )
    categories = forms.MultipleChoiceField(
        label=_("Categories"), choices=Category.choices, widget=forms.CheckboxSelectMultiple
    )
    basis = forms.ChoiceField(label=_("Basis"), choices=Basis.choices, widget=forms.RadioSelect)
    legal_ground = forms.CharField(
        label=_("Statute or order (for a legal duty)"), max_length=200, required=False
    )


class CorrectionForm(forms.Form):
    """In the preview the coachee asks to correct their details first (art. 8.1, 9.2)."""

    first_name = forms.CharField(label=_("Correct first name"), required=False, max_length=100)
    last_name = forms.CharField(label=_("Correct last name"), required=False, max_length=100)
    email = forms.CharField(label=_("Correct email address"), required=False, max_length=254)
    phone = forms.CharField(label=_("Correct telephone number"), required=False, max_length=40)
