from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coachregister.notes.models import SessionKind

KEYWORDS_HELP = _(
    "A few keywords for the next session. Never the coachee's name, email address or phone "
    "number: the system refuses them."
)


class SessionForm(forms.Form):
    held_on = forms.DateField(
        label=_("Date"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=SessionKind.choices)
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), min_value=5, max_value=480, initial=60
    )
    keywords = forms.CharField(
        label=_("Keywords"),
        required=False,
        max_length=2000,
        help_text=KEYWORDS_HELP,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class KeywordsForm(forms.Form):
    keywords = forms.CharField(
        label=_("Keywords"),
        required=False,
        max_length=2000,
        help_text=KEYWORDS_HELP,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class AmendForm(KeywordsForm):
    reason = forms.CharField(
        label=_("Reason for the amendment"),
        max_length=500,
        help_text=_("Why the locked keywords change. The earlier text stays readable."),
    )
