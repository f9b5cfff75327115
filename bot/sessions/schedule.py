"""When a series of sessions meets, and which unit each meeting is about.  Pure.

A series meets every ``every_weeks`` weeks on its weekday and time, in its zone.  Which
weeks, and which unit of a rotation, follow from the week's number counted from a fixed
Monday, so every replica, every tick and every re-applied org file agree without any
stored counter; ``starting`` moves the first meeting.

A meeting whose day is a public holiday (or not a working day) of the organisation's
calendar moves to the next working day at the same local time, instead of being dropped;
when that day would reach the series' next meeting, the meeting is skipped.  Both follow
from the calendar alone, so they too come out the same everywhere.
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
    # When it meets (for a skipped meeting: when the series would have had it).
    starts_at: dt.datetime
    # Set when the series' day is a day off: the moment the series names, and why
    # (the holiday's name, or None for a day that is not a working day).
    moved_from: dt.datetime | None = None
    holiday: str | None = None
    # The next working day would reach the series' next meeting: this one is not held.
    skipped: bool = False


def _week_index(day: dt.date, anchor: dt.date) -> int:
    monday = anchor - dt.timedelta(days=anchor.weekday())
    return (day - monday).days // 7


def occurrences(
    series: SessionSeries,
    zone: str,
    start: dt.datetime,
    end: dt.datetime,
    calendar: WorkCalendar | None = None,
) -> Iterator[Occurrence]:
    """The series' meetings that begin in [start, end), moved off ``calendar``'s days
    off; a skipped meeting is yielded too (``skipped``), at the moment it would have had."""
    tz = ZoneInfo(series.timezone or zone)
    anchor = series.starting or EPOCH
    gap = dt.timedelta(weeks=series.every_weeks)
    # A meeting moved forward may begin in the window although its own day is before it.
    day = start.astimezone(tz).date() - gap
    last = end.astimezone(tz).date()
    day += dt.timedelta(days=(weekday_number(series.day) - 1 - day.weekday()) % 7)
    while day <= last:
        index = _week_index(day, anchor)
        if index >= 0 and index % series.every_weeks == 0:
            turn = (index // series.every_weeks) % len(series.units)
            named = _at(day, series.time, tz)
            held_on = day if calendar is None else calendar.next_working_day(day)
            moved = held_on != day
            holiday = calendar.holiday_name(day) if calendar is not None and moved else None
            if held_on >= day + gap:
                if start <= named < end:
                    yield Occurrence(series.name, series.units[turn], named, named, holiday, skipped=True)
            else:
                starts = _at(held_on, series.time, tz)
                if start <= starts < end:
                    yield Occurrence(
                        series.name, series.units[turn], starts, named if moved else None, holiday
                    )
        day += dt.timedelta(days=7)


def _at(day: dt.date, time: dt.time, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=tz).astimezone(dt.UTC)
