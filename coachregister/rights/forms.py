from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from coachregister.coachees.models import RestrictionGround
from coachregister.lib.formfields import MomentField
from coachregister.rights.models import Channel, Kind

# The kinds a new request may have: an objection (GDPR art. 21) is retired, since the register
# processes nothing on art. 6(1)(e) or (f); earlier objections stay readable.
NEW_KINDS = [(value, label) for value, label in Kind.choices if value != Kind.OBJECTION]
# The fields that only a correction request has (art. 8.1): new contact details, or one
# session's keywords (added by `add_keyword_fields`).
CORRECTION_FIELDS = ("first_name", "last_name", "email", "phone", "session", "keyword_action",
                     "keywords")


def chosen_kind(request: object) -> str:
    """The kind of request being made: from the form when it is sent, from the link that
    chose it (`?kind=`) before. Empty when none (or no valid one) is chosen yet."""
    source = request.POST if request.method == "POST" else request.GET  # type: ignore[attr-defined]
    kind = source.get("kind", "")
    return kind if kind in dict(NEW_KINDS) else ""


def fit_to_kind(form: forms.Form, kind: str) -> None:
    """Only the fields of the chosen kind (issue 14): the ground of GDPR art. 18(1) for a
    restriction, the changes for a correction; the kind itself travels as a hidden field."""
    form.fields["kind"].widget = forms.HiddenInput()
    form.initial["kind"] = kind
    if kind != Kind.RESTRICTION:
        form.fields.pop("restriction_ground", None)
    if kind != Kind.RECTIFICATION:
        for name in CORRECTION_FIELDS:
            form.fields.pop(name, None)


class RequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("Request"), choices=NEW_KINDS)
    restriction_ground = forms.ChoiceField(
        label=_("Why restriction is asked (GDPR art. 18(1))"),
        required=False,
        choices=[("", "—"), *RestrictionGround.choices],
        help_text=_("Required for a restriction request."),
    )
    channel = forms.ChoiceField(
        label=_("Received by"), choices=[c for c in Channel.choices if c[0] != "portal"]
    )
    received_at = MomentField(
        label=_("Received on"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
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
        label=_("The coachee asked for the answer in another form (art. 7.4)"),
        required=False,
        max_length=200,
        help_text=_(
            "For example: on paper by post, or collected in person. Leave empty to mail the "
            "coachee a notice with a link to the letter in the portal."
        ),
    )
    restriction_ground = forms.ChoiceField(
        label=_("Why restriction is asked (GDPR art. 18(1))"),
        required=False,
        choices=[("", "—"), *RestrictionGround.choices],
    )

    def __init__(
        self, *args: object, needs_ground: bool = False, access: bool = False, **kwargs: object
    ) -> None:
        """`needs_ground`: a restriction request registered before requests stated their
        ground of GDPR art. 18(1); the ground is asked here. Otherwise the field is left out.
        `access`: the refusal grounds a to e of art. 7.5 are offered for a request for access
        (or its portable copy) only, as the service requires them there (issue 14); the page
        shows them once "refused" or "partly granted" is chosen."""
        from coachregister.rights.models import RefusalGround

        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if access:
            self.fields["grounds"].choices = RefusalGround.choices
        else:
            del self.fields["grounds"]
        if not needs_ground:
            del self.fields["restriction_ground"]


class SessionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: object) -> str:
        from django.utils.formats import date_format

        return date_format(obj.held_on, "j F Y")  # type: ignore[attr-defined]


def add_keyword_fields(form: forms.Form, coachee: object) -> None:
    """Art. 8.1: a correction request may concern one session's keywords. Adds the choice of
    the session (by date, only this coachee's), what should happen and the new text, to the
    staff form and to the portal's alike."""
    from coachregister.notes.models import CoachingSession
    from coachregister.notes.services import MAX_KEYWORDS
    from coachregister.rights.models import KeywordAction

    form.fields["session"] = SessionChoiceField(
        label=_("Keywords of the session of"),
        required=False,
        empty_label="—",
        queryset=CoachingSession.objects.filter(trajectory__coachee=coachee).order_by(
            "held_on", "pk"
        ),
    )
    form.fields["keyword_action"] = forms.ChoiceField(
        label=_("What should happen to those keywords"),
        required=False,
        choices=[("", "—"), *KeywordAction.choices],
    )
    form.fields["keywords"] = forms.CharField(
        label=_("Corrected or added keywords"),
        required=False,
        max_length=MAX_KEYWORDS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "For a correction: the keywords as they should read. For a supplement: what "
            "should be added. Empty for a deletion."
        ),
    )
