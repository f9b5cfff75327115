"""The working calendar: public holidays, working days and hours, in any time zone.

Local wall-clock times are turned into instants the way PEP 495 does with ``fold=0``: an
ambiguous time (the repeated hour when clocks go back) is its first occurrence, and a
nonexistent time (the hour skipped when clocks go forward) keeps the offset from before the
change, so 02:30 on a spring-forward night in New York is 03:30 EDT.  Every instant this
module returns is timezone-aware UTC; naive datetimes are refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import holidays

from bot.clock import ensure_utc

if TYPE_CHECKING:
    from bot.org.schema import Organisation

UTC = dt.UTC
MONDAY_TO_FRIDAY: tuple[int, ...] = (1, 2, 3, 4, 5)
# How far ahead to look for a working day before deciding the calendar has none; no real
# calendar has two months without one, so hitting this means a configuration mistake.
SEARCH_DAYS = 60


def local_moment(day: dt.date, time: dt.time, tz: str) -> dt.datetime:
    """The UTC instant at which the wall clocks of zone ``tz`` show ``time`` on ``day``."""
    if time.tzinfo is not None:
        raise ValueError(f"{time!r} is a local time of day; give it without a time zone")
    wall = dt.datetime.combine(_date(day), time.replace(fold=0), tzinfo=ZoneInfo(tz))
    return wall.astimezone(UTC)


def shift(instant: dt.datetime, delta: dt.timedelta, tz: str) -> dt.datetime:
    """``instant + delta``, where whole days are calendar days in zone ``tz``.

    People who write "wait 2d" mean the same time of day two days later, even if the
    clocks changed in between; the part of ``delta`` below a day is elapsed time.
    """
    start = ensure_utc(instant)
    sign = -1 if delta < dt.timedelta(0) else 1
    size = abs(delta)
    days = dt.timedelta(days=size.days)
    if days:
        # Aware arithmetic within one zone is wall-clock arithmetic.
        start = (start.astimezone(ZoneInfo(tz)) + sign * days).astimezone(UTC)
    return start + sign * (size - days)


class WorkCalendar:
    """Which days are working days and when working hours are, for one organisation.

    ``country``/``subdivision`` name a calendar of the ``holidays`` package (``None`` means
    no public holidays); ``working_days`` are ISO weekday numbers (1 = Monday); working hours
    run from ``start`` (included) to ``end`` (excluded), local time of whatever zone is asked
    about.
    """

    def __init__(
        self,
        country: str | None = None,
        subdivision: str | None = None,
        *,
        working_days: Iterable[int] = MONDAY_TO_FRIDAY,
        start: dt.time = dt.time(8, 30),
        end: dt.time = dt.time(17, 30),
    ) -> None:
        days = frozenset(working_days)
        if not days:
            raise ValueError("a calendar needs at least one working day")
        if not days <= {1, 2, 3, 4, 5, 6, 7}:
            raise ValueError(f"working days are ISO weekday numbers 1-7, not {sorted(days)}")
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError("working hours are local times; give them without a time zone")
        if end <= start:
            raise ValueError(f"working hours must end after they start ({start} to {end})")
        if subdivision is not None and country is None:
            raise ValueError("a holiday subdivision needs a country")
        if country is not None:
            # Fail now, not in the middle of a sweep, if the package has no such calendar.
            try:
                holidays.country_holidays(country, subdiv=subdivision)
            except NotImplementedError as exc:
                raise ValueError(f"no holiday calendar: {exc}") from None
        self.country = country
        self.subdivision = subdivision
        self.working_days = days
        self.start = start
        self.end = end
        self._holidays: dict[int, dict[dt.date, str]] = {}

    @classmethod
    def from_org(cls, org: Organisation) -> WorkCalendar:
        from bot.org.schema import weekday_number

        hours = org.working_hours
        return cls(
            org.holidays.country if org.holidays else None,
            org.holidays.subdivision if org.holidays else None,
            working_days=[weekday_number(day) for day in hours.days],
            start=hours.start,
            end=hours.end,
        )

    def __repr__(self) -> str:
        where = self.country if self.subdivision is None else f"{self.country}/{self.subdivision}"
        return (
            f"WorkCalendar({where or 'no holidays'}, days={sorted(self.working_days)}, "
            f"{self.start:%H:%M}-{self.end:%H:%M})"
        )

    # --- days ------------------------------------------------------------------------------

    def _year(self, year: int) -> dict[dt.date, str]:
        # Building a year of holidays costs far more than a lookup, and sweeps ask about
        # the same few years for every unit.
        table = self._holidays.get(year)
        if table is None:
            table = {}
            if self.country is not None:
                found = holidays.country_holidays(self.country, subdiv=self.subdivision, years=year)
                table = {day: str(name) for day, name in found.items() if day.year == year}
            self._holidays[year] = table
        return table

    def holiday_name(self, day: dt.date) -> str | None:
        """The public holiday on ``day`` (several are joined by "; "), or None."""
        return self._year(day.year).get(_date(day))

    def is_working_day(self, day: dt.date) -> bool:
        return day.isoweekday() in self.working_days and self.holiday_name(day) is None

    def next_working_day(self, day: dt.date) -> dt.date:
        """``day`` itself if it is a working day, else the first working day after it."""
        day = _date(day)
        for offset in range(SEARCH_DAYS + 1):
            candidate = day + dt.timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"{self!r} has no working day in the {SEARCH_DAYS} days from {day}")

    def holidays_between(self, first: dt.date, last: dt.date) -> list[tuple[dt.date, str]]:
        """The public holidays from ``first`` to ``last`` (both included), in date order."""
        first, last = _date(first), _date(last)
        found: list[tuple[dt.date, str]] = []
        day = first
        while day <= last:
            name = self.holiday_name(day)
            if name is not None:
                found.append((day, name))
            day += dt.timedelta(days=1)
        return found

    # --- moments ---------------------------------------------------------------------------

    def working_period(self, day: dt.date, tz: str) -> tuple[dt.datetime, dt.datetime] | None:
        """Start and end (UTC) of working hours on ``day`` in zone ``tz``; None on a day off."""
        if not self.is_working_day(day):
            return None
        return local_moment(day, self.start, tz), local_moment(day, self.end, tz)

    def is_working_moment(self, instant: dt.datetime, tz: str) -> bool:
        return self.next_working_moment(instant, tz) == ensure_utc(instant)

    def next_working_moment(self, instant: dt.datetime, tz: str) -> dt.datetime:
        """``instant`` itself if, in zone ``tz``, it falls on a working day within working
        hours; otherwise the start of the next working period there.  Returns UTC.

        A reminder due Saturday 10:00 waits for Monday at the start of working hours, or
        Tuesday if Monday is a public holiday.
        """
        moment = ensure_utc(instant)
        zone = ZoneInfo(tz)
        today = moment.astimezone(zone).date()
        for offset in range(SEARCH_DAYS + 1):
            day = today + dt.timedelta(days=offset)
            period = self.working_period(day, tz)
            if period is None:
                continue
            start, end = period
            if moment >= end or end <= start:
                continue
            candidate = max(moment, start)
            # A zone that skipped a whole date (Samoa, 30 December 2011) would otherwise put
            # the start of that date's working hours on the following day.
            if candidate.astimezone(zone).date() == day:
                return candidate
        raise ValueError(f"{self!r} has no working hours in the {SEARCH_DAYS} days from {moment}")

    def working_hours_before(self, instant: dt.datetime, hours: float, tz: str) -> dt.datetime:
        """The moment ``hours`` of working days before ``instant`` in zone ``tz``: only
        the time of working days counts, so 48 working hours before Tuesday 10:00 is the
        Friday before at 10:00 (the weekend does not count), or Thursday if Friday is a
        public holiday.  Whole days count, not working hours: the law's "48 hours"
        are days' hours, less the days nobody works."""
        remaining = dt.timedelta(hours=hours)
        end = ensure_utc(instant)
        day = end.astimezone(ZoneInfo(tz)).date()
        for _ in range(SEARCH_DAYS + int(hours // 24) + 1):
            if remaining <= dt.timedelta(0):
                return end
            start = local_moment(day, dt.time(0), tz)
            if self.is_working_day(day):
                available = end - start
                if available >= remaining:
                    return end - remaining
                remaining -= available
            end, day = start, day - dt.timedelta(days=1)
        raise ValueError(f"{self!r} has too few working days before {instant}")


def _date(day: dt.date) -> dt.date:
    # A datetime is a date too; using one here would silently drop its time and zone.
    if isinstance(day, dt.datetime):
        raise TypeError(f"expected a date, got the datetime {day!r}")
    return day
