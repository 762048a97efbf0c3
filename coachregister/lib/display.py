"""How dates and phone numbers look on screen: one format per kind of place (issue 14).

Loaded as a template builtin (settings.TEMPLATES), so every page can write
`{{ value|longdate }}` in running text ("27 november 2026", "27 november 2026, 08:51"),
`{{ value|tabledate }}` in tables ("27-11-2026 08:51") and `{{ value|phone }}` where contact
details are shown. Times are Europe/Amsterdam, as the regulation's deadlines are (art. 7.1);
a Dutch number is shown in the national format that a Dutch reader dials ("06 12345678").
"""

from __future__ import annotations

import datetime as dt

import phonenumbers
from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format

register = template.Library()

TEXT_DATE = "j F Y"
TEXT_DATETIME = "j F Y, H:i"
TABLE_DATE = "d-m-Y"
TABLE_DATETIME = "d-m-Y H:i"


def _local(value: dt.date | dt.datetime) -> dt.date | dt.datetime:
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


def _formatted(value: object, date_only: str, with_time: str, time: bool | None) -> str:
    if not isinstance(value, dt.date):
        return "" if value in (None, "") else str(value)
    value = _local(value)
    show_time = isinstance(value, dt.datetime) if time is None else time
    if show_time and not isinstance(value, dt.datetime):
        show_time = False
    return date_format(value, with_time if show_time else date_only)


@register.filter
def longdate(value: object, arg: str = "") -> str:
    """A date in running text, month written out in the page's language; a datetime gets
    its local time unless the argument is "date"."""
    return _formatted(value, TEXT_DATE, TEXT_DATETIME, False if arg == "date" else None)


@register.filter
def tabledate(value: object, arg: str = "") -> str:
    """A date in a table cell, day-month-year with leading zeros, so columns line up."""
    return _formatted(value, TABLE_DATE, TABLE_DATETIME, False if arg == "date" else None)


def phone_display(value: object) -> str:
    """A stored phone number (E.164 or as typed) for reading: Dutch numbers in the national
    format, others in the international format; what does not parse is shown as typed."""
    raw = "" if value is None else str(value).strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, "NL")
    except phonenumbers.NumberParseException:
        return raw
    if not phonenumbers.is_possible_number(number):
        return raw
    if phonenumbers.region_code_for_number(number) == "NL":
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@register.filter
def phone(value: object) -> str:
    return phone_display(value)
