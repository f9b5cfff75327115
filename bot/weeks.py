"""ISO weeks (``2026-W48``) computed in a unit's time zone."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def week_of(instant: dt.datetime, tz: str) -> str:
    local = instant.astimezone(ZoneInfo(tz)).date()
    return week_of_date(local)


def week_of_date(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(text: str) -> str:
    """Validate and normalise a week label; raises ValueError with a readable message."""
    match = _WEEK.match(text.strip().upper())
    if not match:
        raise ValueError(f"{text!r} is not a week; write it like 2026-W48")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"{text!r}: {year} has no week {week}") from None
    return f"{year}-W{week:02d}"


def monday_of(week: str) -> dt.date:
    year, number = week.split("-W")
    return dt.date.fromisocalendar(int(year), int(number), 1)


def shift_week(week: str, weeks: int) -> str:
    return week_of_date(monday_of(week) + dt.timedelta(weeks=weeks))


def previous_weeks(week: str, count: int) -> list[str]:
    """The ``count`` weeks before ``week``, oldest first."""
    return [shift_week(week, -n) for n in range(count, 0, -1)]
