from __future__ import annotations

from django import forms

from coachregister.practice.models import PracticeSettings


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
        ]
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "office_networks": forms.Textarea(attrs={"rows": 4}),
        }
