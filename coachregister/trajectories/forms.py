from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coachregister.accounts.models import Role, User
from coachregister.coachees.models import ContactKind
from coachregister.trajectories.models import ClientOrganisation

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ClientForm(forms.ModelForm):
    class Meta:
        model = ClientOrganisation
        fields = [
            "name",
            "contact_name",
            "contact_email",
            "contact_phone",
            "quote_reference",
            "quote_date",
            "regulation_version",
        ]
        widgets = {"quote_date": DATE}


def coach_choices() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=_("Coach"),
        queryset=User.objects.filter(role=Role.COACH, is_active=True).order_by("full_name"),
    )


class TrajectoryOpenForm(forms.Form):
    client = forms.ModelChoiceField(
        label=_("Client"), queryset=ClientOrganisation.objects.order_by("name")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["coach"] = coach_choices()


class ReassignForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["coach"] = coach_choices()


class EndForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("How did the trajectory end?"),
        choices=[("ended", _("completed")), ("broken_off", _("broken off"))],
        widget=forms.RadioSelect,
    )


class ContactMomentForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(k, v) for k, v in ContactKind.choices if k in ("call", "email", "meeting")],
    )
    occurred_on = forms.DateField(label=_("Date"), widget=DATE, initial=timezone.localdate)


class PeriodForm(forms.Form):
    date_from = forms.DateField(label=_("From"), widget=DATE)
    date_until = forms.DateField(label=_("Until"), widget=DATE)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (
            data.get("date_from")
            and data.get("date_until")
            and data["date_from"] > data["date_until"]
        ):
            raise forms.ValidationError(_("The start of the period comes after its end."))
        return data


class RegulationSentForm(forms.Form):
    """The day the regulation went to the client with the quote (Werkwijze, art. 1.9)."""

    sent_on = forms.DateField(label=_("sent with the quote on"), widget=DATE)
