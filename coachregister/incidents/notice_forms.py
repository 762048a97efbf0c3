"""Forms of the affected-coachees selection, the coachee notice and containment (issue 12)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from coachregister.accounts.models import User
from coachregister.incidents.models import NoticeExceptionGround
from coachregister.lib.formfields import MomentField
from coachregister.trajectories.models import ClientOrganisation


class MomentInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


class UserWindowForm(forms.Form):
    """(a) what a user viewed, (b) what a user could see, between two moments."""

    user = forms.ModelChoiceField(label=_("user"), queryset=User.objects.order_by("username"))
    since = MomentField(label=_("from"), widget=MomentInput())
    until = MomentField(label=_("until"), widget=MomentInput())

    def __init__(self, *args: object, prefix: str, **kwargs: object) -> None:
        super().__init__(*args, prefix=prefix, **kwargs)  # type: ignore[arg-type]
        self.fields["user"].label_from_instance = lambda u: f"{u.username} ({u.get_role_display()})"

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("since") and data.get("until") and data["until"] <= data["since"]:
            raise forms.ValidationError(_("The period must end after it starts."))
        return data


class ClientForm(forms.Form):
    client = forms.ModelChoiceField(label=_("client"), queryset=ClientOrganisation.objects.all())


class TrajectoryForm(forms.Form):
    trajectory = forms.CharField(label=_("trajectory pseudonym"), max_length=20)


class PickedForm(forms.Form):
    pseudonyms = forms.CharField(
        label=_("pseudonyms"), widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Coachee or trajectory pseudonyms, separated by spaces, commas or lines."),
    )


class NoticeTemplateForm(forms.Form):
    """GDPR 34(2): the four parts every notice must have."""

    language = forms.ChoiceField(label=_("language"), choices=settings.LANGUAGES)
    nature = forms.CharField(label=_("what happened, in clear language"),
                             widget=forms.Textarea(attrs={"rows": 4}))
    consequences = forms.CharField(label=_("likely consequences"),
                                   widget=forms.Textarea(attrs={"rows": 3}))
    measures = forms.CharField(label=_("measures taken or proposed"),
                               widget=forms.Textarea(attrs={"rows": 3}))
    contact_point = forms.CharField(
        label=_("contact point for more information"), widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Who to contact, with an email address or telephone number."),
    )


KEYS_EXPOSED = [("", _("not known")), ("no", _("no")), ("yes", _("yes"))]


class NoticeExceptionForm(forms.Form):
    ground = forms.ChoiceField(label=_("exception"), choices=NoticeExceptionGround.choices,
                               widget=forms.RadioSelect)
    keys_exposed = forms.ChoiceField(
        label=_("Were the master key or an epoch key exposed?"), choices=KEYS_EXPOSED,
        required=False,
        help_text=_("Art. 34(3)(a) holds only if they were not: with them, every encrypted "
                    "field of the register can be read."),
    )
    reasons = forms.CharField(label=_("reasons"), widget=forms.Textarea(attrs={"rows": 3}))

    def clean_keys_exposed(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.cleaned_data.get("keys_exposed") or "")


class ConfirmForm(forms.Form):
    count = forms.IntegerField(label=_("number of recipients"), min_value=0,
                               max_value=2_000_000_000)


class ContainmentUserForm(forms.Form):
    user = forms.ModelChoiceField(label=_("user"),
                                  queryset=User.objects.filter(is_active=True)
                                  .order_by("username"))
