"""Every deadline of the register, computed in one place, in the practice's time zone.

Timestamps are stored aware in UTC; "a day" and "the end of the day" are Dutch days.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PRACTICE_TZ = ZoneInfo("Europe/Amsterdam")


def keywords_lock_at(written_at: datetime) -> datetime:
    """Session keywords can be edited until the end of the day after they were written."""
    local_day = written_at.astimezone(PRACTICE_TZ).date()
    return datetime.combine(local_day + timedelta(days=2), time.min, tzinfo=PRACTICE_TZ)


# --- answers to data-subject requests (art. 7.1, 7.2, 8.2; GDPR art. 12(3)) --------------

ANSWER_WEEKS = 4


def _local_date(moment: datetime) -> date:
    return moment.astimezone(PRACTICE_TZ).date()


def answer_due(received_at: datetime, weeks: int = ANSWER_WEEKS) -> date:
    """The regulation's promise: an answer at the latest four weeks after receipt."""
    return _local_date(received_at) + timedelta(weeks=weeks)


def add_months(day: date, months: int) -> date:
    """The same day number `months` later; a day that the month lacks falls back to the
    month's last day (Regulation 1182/71, art. 3(2)(c) and (d))."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def legal_ceiling(received_at: datetime, months: int = 1) -> date:
    """GDPR art. 12(3): one month, counted as Regulation 1182/71 counts it. The day of receipt
    is not counted, and the period ends at the end of the day with the same number one month
    later (31 January -> 28 or 29 February). With an extension, `months` is 3 in all."""
    return add_months(_local_date(received_at), months)


# --- retention (art. 10.1) --------------------------------------------------------------------

RETENTION_YEARS = 7


def add_years(day: date, years: int) -> date:
    """The same date `years` later; 29 February becomes 28 February in a common year (the
    period ends on the last day that exists, as Regulation 1182/71 counts months)."""
    return add_months(day, 12 * years)


def retention_expiry(last_contact: date, years: int = RETENTION_YEARS) -> date:
    """The last day a coachee's data may be kept: the Dutch day of the last contact plus the
    period. The purge runs on the day after it."""
    return add_years(last_contact, years)


# --- complaints (art. 4.1d, 11; GDPR art. 17(3)(e)) -----------------------------------------


def complaint_acknowledge_due(received_at: datetime, days: int) -> date:
    """The complaints procedure's promise: an acknowledgement within `days` of receipt (the
    Dutch day of receipt not counted)."""
    return _local_date(received_at) + timedelta(days=days)


def complaint_decide_due(received_at: datetime, weeks: int) -> date:
    """The procedure's promise: a decision within `weeks` of receipt."""
    return _local_date(received_at) + timedelta(weeks=weeks)


def complaint_claims_end(closed_at: datetime, years: int) -> date:
    """The last day a complaint file kept after an erasure stays: the Dutch day it was closed
    plus the legal-claims period. The worker shreds it on the day after."""
    return add_years(_local_date(closed_at), years)
