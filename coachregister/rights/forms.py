from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from coachregister.rights.models import Channel, Kind


class RequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("Request"), choices=Kind.choices)
    channel = forms.ChoiceField(
        label=_("Received by"), choices=[c for c in Channel.choices if c[0] != "portal"]
    )
    received_at = forms.DateTimeField(
        label=_("Received on"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    verification = forms.CharField(
        label=_("How identity was checked"),
        max_length=200,
        help_text=_(
            "For example: reply from the email address on file. Never keep a copy of "
            "an ID document."
        ),
    )
    first_name = forms.CharField(label=_("New first name"), required=False, max_length=100)
    last_name = forms.CharField(label=_("New last name"), required=False, max_length=100)
    email = forms.CharField(label=_("New email address"), required=False, max_length=254)
    phone = forms.CharField(label=_("New telephone number"), required=False, max_length=40)


class ExtendForm(forms.Form):
    months = forms.TypedChoiceField(
        label=_("Extra time"), coerce=int, choices=[(1, _("one month")), (2, _("two months"))]
    )
    reasons = forms.CharField(
        label=_("Reasons (sent to the requester)"), widget=forms.Textarea(attrs={"rows": 3})
    )


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("granted", _("granted")),
            ("partly", _("partly granted")),
            ("refused", _("refused")),
        ],
        widget=forms.RadioSelect,
    )
    grounds = forms.MultipleChoiceField(
        label=_("Refusal grounds (art. 7.5, for access)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(v, v) for v in "abcde"],
    )
    justification = forms.CharField(
        label=_("Reasons (in the letter)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when refusing, also in part: why it is necessary and proportionate."),
    )
    other_form = forms.CharField(
        label=_("Answered in another form (art. 7.4)"), required=False, max_length=200
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        from coachregister.rights.models import RefusalGround

        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["grounds"].choices = RefusalGround.choices
