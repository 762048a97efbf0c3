"""Cleaning contact details, shared by the intake form and the services (art. 3.1, 12.1):
names in any script, email by email-validator, phone numbers by phonenumbers in E.164."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from email_validator import EmailNotValidError, validate_email

from coachregister.lib.names import NameError_, clean_person_name

NAME_MESSAGES = {
    "empty": _("Please fill in your name."),
    "too_long": _("This is too long (at most 100 characters)."),
    "characters": _("Use letters, spaces, hyphens and apostrophes only."),
    "no_letter": _("Use letters, spaces, hyphens and apostrophes only."),
}


def clean_name(value: str) -> str:
    try:
        return clean_person_name(value)
    except NameError_ as exc:
        raise ValidationError(NAME_MESSAGES[exc.code], code=exc.code) from None


def clean_email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValidationError(_("This is not a valid email address."), code="invalid") from None


def clean_phone(value: str) -> str:
    try:
        number = phonenumbers.parse(value, "NL")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(_("This is not a valid telephone number."), code="invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


CLEANERS = {
    "first_name": clean_name,
    "last_name": clean_name,
    "email": clean_email,
    "phone": clean_phone,
}
