"""The intake form: first name, last name, email and phone, nothing more (art. 3.1, 12.1)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from coachregister.coachees import validation


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Invitation code"),
        max_length=20,
        help_text=_("The code you received from your employer, for example 7KQ2-M9XA."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )


class IntakeForm(forms.Form):
    first_name = forms.CharField(
        label=_("First name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=200,
        help_text=_("With particles, e.g. van der Berg."),
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    email = forms.CharField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Telephone number"),
        max_length=40,
        help_text=_("A Dutch number, or an international one starting with +."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    regulation_read = forms.BooleanField(
        label=_("I have read the privacy regulation and give my details myself."),
        error_messages={"required": _("Please confirm that you have read the regulation.")},
    )
    keyword_consent = forms.BooleanField(
        label=_("I agree that my coach notes keywords per session (see above)."),
        required=False,
    )

    def clean_first_name(self) -> str:
        return validation.clean_name(self.cleaned_data["first_name"])

    def clean_last_name(self) -> str:
        return validation.clean_name(self.cleaned_data["last_name"])

    def clean_email(self) -> str:
        return validation.clean_email(self.cleaned_data["email"])

    def clean_phone(self) -> str:
        return validation.clean_phone(self.cleaned_data["phone"])


class OpenContactForm(forms.Form):
    """Why contact details are opened by someone who is not the coachee's coach (Werkwijze,
    art. 5.1): a task of the coachee, or a stated reason with an explanation."""

    task = forms.ChoiceField(label=_("For the handling of"), required=False)
    reason = forms.ChoiceField(label=_("Or for this reason"), required=False)
    explanation = forms.CharField(
        label=_("Explanation"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Stored encrypted; the coachee sees it under \"who saw my data\". "
                    "Do not write health details here."),
    )

    def __init__(self, *args: object, tasks: list[tuple[str, str]],
                 reasons: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["task"].choices = [("", _("— no task —")), *tasks]
        self.fields["reason"].choices = [("", "—"), *reasons]
        if not tasks:
            del self.fields["task"]
            self.fields["reason"].label = _("Reason")


class PseudonymSearchForm(forms.Form):
    """The coachee list's search by pseudonym (a GET: a pseudonym is no personal data in an
    address, the dossier URLs carry it too). The beginning of a pseudonym is enough."""

    q = forms.CharField(
        label=_("Pseudonym"),
        max_length=20,
        required=False,
        help_text=_("The whole pseudonym or its beginning, for example C-7KQ2."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters",
                                      "spellcheck": "false"}),
    )

    def clean_q(self) -> str:
        return self.cleaned_data["q"].strip().upper()


class EmailSearchForm(forms.Form):
    """The coachee list's search by exact email address, through the blind index. Only ever a
    POST: an address must not end up in a URL, the browser history or an access log."""

    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        help_text=_("The exact address. It is not kept and not shown in the address bar."),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
