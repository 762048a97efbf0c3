"""The deadline module against an independent calculation, for every receipt date from 2024
through 2031, and the month-end cases (art. 7.1, 8.2; GDPR art. 12(3); Reg. 1182/71)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from coachregister.lib.deadlines import PRACTICE_TZ, answer_due, legal_ceiling

pytestmark = pytest.mark.article("7.1")


def every_day(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def independent_month_later(day: date, months: int) -> date:
    """Counted differently on purpose: walk forward month by month from the first of the
    month, then clamp by trying the day number and stepping back until it exists."""
    year, month = day.year, day.month
    for _ in range(months):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    number = day.day
    while True:
        try:
            return date(year, month, number)
        except ValueError:
            number -= 1


DAYS = every_day(date(2024, 1, 1), date(2031, 12, 31))


def received(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=PRACTICE_TZ)


def test_every_receipt_date_2024_through_2031() -> None:
    assert len(DAYS) == 2922
    for day in DAYS:
        at = received(day)
        assert answer_due(at) == day + timedelta(days=28), day
        assert legal_ceiling(at) == independent_month_later(day, 1), day
        assert legal_ceiling(at, months=3) == independent_month_later(day, 3), day


@pytest.mark.parametrize(("receipt", "ceiling"), [
    (date(2026, 1, 31), date(2026, 2, 28)),
    (date(2028, 1, 31), date(2028, 2, 29)),  # leap year
    (date(2028, 1, 29), date(2028, 2, 29)),
    (date(2028, 1, 30), date(2028, 2, 29)),
    (date(2028, 2, 29), date(2028, 3, 29)),
    (date(2026, 3, 31), date(2026, 4, 30)),
    (date(2026, 4, 30), date(2026, 5, 30)),
    (date(2026, 5, 31), date(2026, 6, 30)),
    (date(2026, 8, 31), date(2026, 9, 30)),
    (date(2026, 12, 31), date(2027, 1, 31)),
    (date(2026, 12, 15), date(2027, 1, 15)),
])
def test_month_ends(receipt: date, ceiling: date) -> None:
    assert legal_ceiling(received(receipt)) == ceiling


def test_the_dutch_day_counts_not_the_utc_day() -> None:
    late_evening = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)  # 1 February in Amsterdam
    assert legal_ceiling(late_evening) == date(2026, 3, 1)
    assert answer_due(late_evening) == date(2026, 3, 1)


def test_four_weeks_can_exceed_the_month_only_in_february() -> None:
    """The regulation's four weeks are shorter than the legal month, except from a receipt
    in February (28 days then equals or passes one month): the earlier date is binding."""
    for day in DAYS:
        at = received(day)
        if answer_due(at) > legal_ceiling(at):
            assert day.month == 2 or (day.month == 1 and day.day >= 29), day
