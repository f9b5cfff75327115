"""When a series of sessions meets, and which unit each meeting is about.  Pure.

A series meets every ``every_weeks`` weeks on its weekday and time, in its zone.  Which
weeks, and which unit of a rotation, follow from the week's number counted from a fixed
Monday, so every replica, every tick and every re-applied org file agree without any
stored counter; ``starting`` moves the first meeting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.calendar import WorkCalendar
from bot.org.schema import SessionSeries, weekday_number

# How long a chair has to approve a memo before it is late (and escalated to them).
APPROVE_WITHIN_WORKING_DAYS = 2


def approval_due(closed_at: dt.datetime, calendar: WorkCalendar, tz: str) -> dt.datetime:
    """The moment a memo is late: two working days after its session closed."""
    local = closed_at.astimezone(ZoneInfo(tz))
    day = local.date()
    for _ in range(APPROVE_WITHIN_WORKING_DAYS):
        day = calendar.next_working_day(day + dt.timedelta(days=1))
    return dt.datetime.combine(day, local.time(), tzinfo=ZoneInfo(tz))


# A Monday: week 0 of every series without a ``starting`` date.
EPOCH = dt.date(2024, 1, 1)


@dataclass(frozen=True, slots=True)
class Occurrence:
    series: str
    unit_key: str
    starts_at: dt.datetime


def _week_index(day: dt.date, anchor: dt.date) -> int:
    monday = anchor - dt.timedelta(days=anchor.weekday())
    return (day - monday).days // 7


def occurrences(
    series: SessionSeries, zone: str, start: dt.datetime, end: dt.datetime
) -> Iterator[Occurrence]:
    """The series' meetings that begin in [start, end)."""
    tz = ZoneInfo(series.timezone or zone)
    anchor = series.starting or EPOCH
    day = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    day += dt.timedelta(days=(weekday_number(series.day) - 1 - day.weekday()) % 7)
    while day <= last:
        index = _week_index(day, anchor)
        if index >= 0 and index % series.every_weeks == 0:
            starts = dt.datetime.combine(day, series.time, tzinfo=tz).astimezone(dt.UTC)
            if start <= starts < end:
                turn = (index // series.every_weeks) % len(series.units)
                yield Occurrence(series.name, series.units[turn], starts)
        day += dt.timedelta(days=7)
