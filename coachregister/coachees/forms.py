"""The intake form: first name, last name, email and phone, nothing more (art. 3.1, 12.1)."""

from __future__ import annotations

import phonenumbers
from django import forms
from django.utils.translation import gettext_lazy as _
from email_validator import EmailNotValidError, validate_email

from coachregister.lib.names import NameError_, clean_person_name

NAME_MESSAGES = {
    "empty": _("Please fill in your name."),
    "too_long": _("This is too long (at most 100 characters)."),
    "characters": _("Use letters, spaces, hyphens and apostrophes only."),
    "no_letter": _("Use letters, spaces, hyphens and apostrophes only."),
}


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

    def _name(self, field: str) -> str:
        try:
            return clean_person_name(self.cleaned_data[field])
        except NameError_ as exc:
            raise forms.ValidationError(NAME_MESSAGES[exc.code], code=exc.code) from None

    def clean_first_name(self) -> str:
        return self._name("first_name")

    def clean_last_name(self) -> str:
        return self._name("last_name")

    def clean_email(self) -> str:
        try:
            result = validate_email(self.cleaned_data["email"], check_deliverability=False)
        except EmailNotValidError:
            raise forms.ValidationError(
                _("This is not a valid email address."), code="invalid"
            ) from None
        return result.normalized

    def clean_phone(self) -> str:
        raw = self.cleaned_data["phone"]
        try:
            number = phonenumbers.parse(raw, "NL")
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise forms.ValidationError(_("This is not a valid telephone number."), code="invalid")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
