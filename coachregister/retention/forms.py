"""Forms of the retention pages (art. 10): the policy, a legal hold, the destruction-record
filter. The rules themselves live in retention/services.py; these forms only read input."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from coachregister.audit.forms import DayRangeMixin
from coachregister.retention.models import DestructionReason, RetentionPolicy, Scope

_PERIOD = {"min_value": 1, "max_value": 100}
_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PolicyForm(forms.Form):
    """Art. 10.1: the periods. A period longer than the regulation's needs its statute, and
    the audit trail is never kept shorter than the coachees' data; `policy_set` decides both
    and the view shows its field errors."""

    years = forms.IntegerField(
        label=_("Years after the last contact"), **_PERIOD,
        help_text=_("The regulation keeps coachees' data 7 years after the last contact."),
    )
    statute = forms.CharField(
        label=_("Statute that requires a longer period (name and article)"), required=False,
        max_length=300,
        help_text=_("Only needed for a period longer than the regulation's."),
    )
    client_contact_years = forms.IntegerField(
        label=_("Years a client's business contact is kept after its last trajectory ends"),
        **_PERIOD,
    )
    staff_years = forms.IntegerField(
        label=_("Years a deactivated staff account keeps its name and address"), **_PERIOD
    )
    audit_years = forms.IntegerField(
        label=_("Years audit events are kept"), **_PERIOD,
        help_text=_("At least as long as the coachees' data."),
    )
    idle_months = forms.IntegerField(
        label=_("Months without contact after which an open trajectory is flagged"),
        min_value=1, max_value=100,
    )

    @classmethod
    def for_policy(cls, policy: RetentionPolicy, data: object = None) -> PolicyForm:
        initial = {name: getattr(policy, name) for name in (
            "years", "statute", "client_contact_years", "staff_years", "audit_years",
            "idle_months")}
        return cls(data, initial=initial)


class HoldForm(forms.Form):
    """A legal hold on a coachee chosen by pseudonym; the reason passes the name guard in
    `hold_set` (no personal data in it)."""

    pseudonym = forms.CharField(label=_("Coachee (pseudonym)"), max_length=20)
    reason = forms.CharField(
        label=_("Reason"), max_length=300,
        help_text=_("For example: a dispute, or a question from the supervisory authority. "
                    "Do not name the coachee."),
    )
    until = forms.DateField(label=_("Until"), widget=_DATE)

    def clean_pseudonym(self) -> str:
        return self.cleaned_data["pseudonym"].strip().upper()


class RecordFilterForm(DayRangeMixin, forms.Form):
    """Art. 10.2: destruction records by scope, reason and date range."""

    scope = forms.ChoiceField(
        label=_("Scope"), required=False, choices=[("", _("all")), *Scope.choices]
    )
    reason = forms.ChoiceField(
        label=_("Reason"), required=False, choices=[("", _("all")), *DestructionReason.choices]
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=_DATE)
    date_until = forms.DateField(label=_("Until"), required=False, widget=_DATE)
