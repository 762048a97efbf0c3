"""Filters for the coachee's letters and the copy (art. 7.2, 7.3): the copy's values are
JSON-ready ISO texts in UTC (`rights.sections`); the coachee reads them as Dutch local
time in a written-out date, and repeated reads of the same kind as one line."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django import template
from django.utils.formats import date_format

register = template.Library()

LOCAL = ZoneInfo("Europe/Amsterdam")


def _moment(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(LOCAL) if value.tzinfo else value
    if isinstance(value, str) and len(value) > 10:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed.astimezone(LOCAL) if parsed.tzinfo else parsed
    return None


def _day(value: object) -> date | None:
    moment = _moment(value)
    if moment is not None:
        return moment.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


@register.filter
def local_day(value: object) -> str:
    """'27 november 2026': a date, or the Dutch local date of a moment."""
    day = _day(value)
    return date_format(day, "j F Y") if day is not None else (str(value) if value else "")


@register.filter
def local_moment(value: object) -> str:
    """'27 november 2026, 08:51' in Europe/Amsterdam."""
    moment = _moment(value)
    if moment is None:
        return local_day(value)
    return f"{date_format(moment, 'j F Y')}, {moment:%H:%M}"


@register.filter
def grouped_views(accesses: object) -> list[dict[str, object]]:
    """Art. 5, GDPR art. 15(1)(c): "who saw my data" readable. Consecutive reads by the same
    person in the same role, of the same kind and for the same reason, on the same local
    day, become one line with a count and the earliest (and latest) time. Each read stays in the
    JSON export and the audit trail; only the letter and page group them."""
    groups: list[dict[str, object]] = []
    for item in accesses if isinstance(accesses, list) else []:
        moment = _moment(item.get("when"))
        key = (item.get("who"), item.get("role"), item.get("what"), item.get("reason"),
               item.get("explanation"), moment.date() if moment else None)
        if groups and groups[-1]["key"] == key:
            group = groups[-1]
            group["count"] += 1  # type: ignore[operator]
            if moment is not None:  # the trail lists newest first: keep the span either way
                group["first"] = min(group["first"], moment)  # type: ignore[type-var]
                group["last"] = max(group["last"], moment)  # type: ignore[type-var]
            continue
        groups.append({"key": key, "item": item, "count": 1, "first": moment, "last": moment})
    for group in groups:
        first, last = group["first"], group["last"]
        if isinstance(first, datetime) and isinstance(last, datetime):
            text = f"{date_format(first, 'j F Y')}, {first:%H:%M}"
            if f"{last:%H:%M}" != f"{first:%H:%M}":
                text += f"–{last:%H:%M}"
            group["when"] = text
        else:
            group["when"] = ""
    return groups
