"""Every deadline of the register, computed in one place, in the practice's time zone.

Timestamps are stored aware in UTC; "a day" and "the end of the day" are Dutch days.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

PRACTICE_TZ = ZoneInfo("Europe/Amsterdam")


def keywords_lock_at(written_at: datetime) -> datetime:
    """Session keywords can be edited until the end of the day after they were written."""
    local_day = written_at.astimezone(PRACTICE_TZ).date()
    return datetime.combine(local_day + timedelta(days=2), time.min, tzinfo=PRACTICE_TZ)
