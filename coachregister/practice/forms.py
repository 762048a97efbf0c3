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

    def clean_office_networks(self) -> str:
        """One network per line, as stored. A browser sends CRLF line ends; without this every
        save would look like a change of the sign-in policy (audited, and asking the owner to
        confirm it is them, art. 12.2)."""
        value = self.cleaned_data["office_networks"]
        return "\n".join(line.strip() for line in value.splitlines() if line.strip())
