"""When a week's check-in opens, when it is due, and when the respondent is reminded.

The rules, all in the unit's time zone and its organisation's working calendar:

- A check-in **opens** on the unit's check-in weekday of that ISO week, at its check-in
  time.  If that day is not a working day it opens at the same time on the next working
  day, as long as that is still on or before the (original) deadline day and before the
  deadline; otherwise it opens at the scheduled moment regardless.
- Its **deadline** is on the deadline weekday at the deadline time.  A deadline weekday
  before the opening weekday (or the same weekday at an earlier or equal time) means the
  following week.  A deadline that falls on a day off moves to the next working day at the
  same time, and ``deadline_moved_from`` keeps the original day, so a message can say
  "deadline moved to Monday because Friday is Christmas Day".
- A week is **excused** when public holidays leave no working day at all from the opening
  day through the original deadline day; ``excused`` then names the holidays, like
  "Thanksgiving Day (public holiday)".  A schedule that only falls on weekly days off is a
  configuration choice, not an excuse, and is never excused.
- **Reminders** go out before the deadline, at it, and a few times after it; each waits for
  the respondent's working hours.

Every instant here is timezone-aware UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.calendar import WorkCalendar, local_moment, shift
from bot.clock import ensure_utc
from bot.weeks import monday_of, parse_week, previous_weeks, week_of


@dataclass(frozen=True)
class CheckinWindow:
    week: str
    opens_at: dt.datetime
    deadline_at: dt.datetime
    # A human reason such as "Thanksgiving Day (public holiday)"; None if the week is due.
    excused: str | None
    # The scheduled deadline day when the deadline moved to a later working day.
    deadline_moved_from: dt.date | None = None
    # The holiday that moved the deadline; None if it moved off a weekly day off.
    deadline_moved_because: str | None = None


def _check_weekday(name: str, value: int) -> None:
    if not 1 <= value <= 7:
        raise ValueError(f"{name} must be an ISO weekday number 1-7 (Monday = 1), not {value}")


def _holiday_reason(names: list[str]) -> str:
    if len(names) == 1:
        return f"{names[0]} (public holiday)"
    listed = ", ".join(names[:-1]) + f" and {names[-1]}"
    return f"{listed} (public holidays)"


def checkin_window(
    week: str,
    *,
    tz: str,
    open_weekday: int,
    open_time: dt.time,
    deadline_weekday: int,
    deadline_time: dt.time,
    calendar: WorkCalendar,
) -> CheckinWindow:
    """The opening, deadline and excuse of one unit's check-in for ``week`` (see the module
    docstring for the rules)."""
    week = parse_week(week)
    _check_weekday("open_weekday", open_weekday)
    _check_weekday("deadline_weekday", deadline_weekday)
    monday = monday_of(week)
    open_day = monday + dt.timedelta(days=open_weekday - 1)
    deadline_day = monday + dt.timedelta(days=deadline_weekday - 1)
    if (deadline_weekday, deadline_time) <= (open_weekday, open_time):
        deadline_day += dt.timedelta(weeks=1)

    moved_from: dt.date | None = None
    moved_because: str | None = None
    due_day = deadline_day
    if not calendar.is_working_day(deadline_day):
        due_day = calendar.next_working_day(deadline_day)
        moved_from = deadline_day
        moved_because = calendar.holiday_name(deadline_day)
    deadline_at = local_moment(due_day, deadline_time, tz)

    span = [open_day + dt.timedelta(days=n) for n in range((deadline_day - open_day).days + 1)]
    first_working = next((day for day in span if calendar.is_working_day(day)), None)
    opens_at = local_moment(open_day, open_time, tz)
    if first_working is not None:
        moved_open = local_moment(first_working, open_time, tz)
        if moved_open < deadline_at:
            opens_at = moved_open

    excused: str | None = None
    if first_working is None:
        # Only holidays on days that would otherwise be worked excuse a week.
        names = [
            name
            for day, name in calendar.holidays_between(open_day, deadline_day)
            if day.isoweekday() in calendar.working_days
        ]
        if names:
            excused = _holiday_reason(list(dict.fromkeys(names)))

    return CheckinWindow(
        week=week,
        opens_at=opens_at,
        deadline_at=deadline_at,
        excused=excused,
        deadline_moved_from=moved_from,
        deadline_moved_because=moved_because,
    )


def weeks_to_open(
    now: dt.datetime,
    *,
    tz: str,
    open_weekday: int,
    open_time: dt.time,
    deadline_weekday: int,
    deadline_time: dt.time,
    calendar: WorkCalendar,
    lookback_weeks: int = 1,
) -> list[CheckinWindow]:
    """The check-in windows that should be open (or recorded as excused) at ``now``.

    These are the windows of the current ISO week in ``tz`` and of the ``lookback_weeks``
    before it that have opened and whose deadline is less than a week past, oldest first.
    A bot that was down over the opening time still opens the check-in when it comes
    back, but never opens check-ins from long ago.  Excused windows are included: the
    caller records them as excused instead of asking.  An opening moved off a day off can
    land in the following ISO week, so keep ``lookback_weeks`` at 1 or more.
    """
    now = ensure_utc(now)
    if lookback_weeks < 0:
        raise ValueError("lookback_weeks cannot be negative")
    current = week_of(now, tz)
    windows = [
        checkin_window(
            week,
            tz=tz,
            open_weekday=open_weekday,
            open_time=open_time,
            deadline_weekday=deadline_weekday,
            deadline_time=deadline_time,
            calendar=calendar,
        )
        for week in [*previous_weeks(current, lookback_weeks), current]
    ]
    return [w for w in windows if w.opens_at <= now < w.deadline_at + dt.timedelta(days=7)]


def reminder_times(
    window: CheckinWindow,
    *,
    before_deadline: dt.timedelta,
    after_every: dt.timedelta,
    after_times: int,
    calendar: WorkCalendar,
    tz: str,
) -> list[dt.datetime]:
    """When the respondent is reminded about ``window``, in order, without repeats.

    One reminder ``before_deadline`` ahead of the deadline (none if that would be before
    the check-in opens, or if ``before_deadline`` is zero), one at the deadline, then
    ``after_times`` more every ``after_every``.  Each waits for the next working moment of
    the respondent's zone ``tz``, so reminders that would fall on one weekend collapse into
    one on Monday morning.  Day-sized intervals keep the local time of day across a change
    of the clocks.  An excused week has no reminders.
    """
    if before_deadline < dt.timedelta(0) or after_every < dt.timedelta(0) or after_times < 0:
        raise ValueError("reminder intervals and counts cannot be negative")
    if window.excused is not None:
        return []
    deadline = window.deadline_at
    planned: list[dt.datetime] = []
    if before_deadline:
        early = shift(deadline, -before_deadline, tz)
        if early >= window.opens_at:
            planned.append(early)
    planned.append(deadline)
    if after_every:
        planned.extend(shift(deadline, after_every * n, tz) for n in range(1, after_times + 1))
    return sorted({calendar.next_working_moment(moment, tz) for moment in planned})
