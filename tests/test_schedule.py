"""Check-in windows, the weeks to open, and reminder times, with real holidays and DST."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.calendar import WorkCalendar
from bot.checkins.schedule import CheckinWindow, checkin_window, reminder_times, weeks_to_open

UTC = dt.UTC
NY = "America/New_York"
BERLIN = "Europe/Berlin"
US = WorkCalendar("US", "NY")
DE = WorkCalendar("DE", "BE")
THU, FRI, SAT, SUN, MON = 4, 5, 6, 7, 1


def at(
    tz: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    local = dt.datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(tz))
    return local.astimezone(UTC)


def ny_window(week: str, **overrides: Any) -> CheckinWindow:
    """The example org's schedule: opens Thursday 09:00, due Friday 16:00, New York."""
    schedule: dict[str, Any] = {
        "tz": NY,
        "open_weekday": THU,
        "open_time": dt.time(9),
        "deadline_weekday": FRI,
        "deadline_time": dt.time(16),
        "calendar": US,
    }
    schedule.update(overrides)
    return checkin_window(week, **schedule)


# --- windows ---------------------------------------------------------------------------------


def test_an_ordinary_week() -> None:
    window = ny_window("2026-W46")
    assert window == CheckinWindow(
        week="2026-W46",
        opens_at=at(NY, 2026, 11, 12, 9),
        deadline_at=at(NY, 2026, 11, 13, 16),
        excused=None,
    )
    assert window.opens_at == dt.datetime(2026, 11, 12, 14, tzinfo=UTC)
    assert window.opens_at.tzinfo == UTC and window.deadline_at.tzinfo == UTC


def test_week_labels_are_validated_and_normalised() -> None:
    assert ny_window(" 2026-w46 ").week == "2026-W46"
    with pytest.raises(ValueError, match="2027 has no week 53"):
        ny_window("2027-W53")
    with pytest.raises(ValueError, match="weekday"):
        ny_window("2026-W46", open_weekday=8)


def test_thanksgiving_opens_on_friday_instead() -> None:
    window = ny_window("2026-W48")
    assert window.opens_at == at(NY, 2026, 11, 27, 9)
    assert window.deadline_at == at(NY, 2026, 11, 27, 16)
    assert window.excused is None
    assert window.deadline_moved_from is None


def test_a_window_that_is_only_thanksgiving_is_excused() -> None:
    window = ny_window("2026-W48", deadline_weekday=THU)
    assert window.excused == "Thanksgiving Day (public holiday)"
    # The same window in an ordinary week is not excused.
    assert ny_window("2026-W47", deadline_weekday=THU).excused is None


def test_christmas_friday_moves_the_deadline_to_monday() -> None:
    window = ny_window("2026-W52")
    assert window.opens_at == at(NY, 2026, 12, 24, 9)
    assert window.deadline_at == at(NY, 2026, 12, 28, 16)
    assert window.deadline_moved_from == dt.date(2026, 12, 25)
    assert window.deadline_moved_because == "Christmas Day"
    assert window.excused is None


def test_week_53_spans_the_year_end_and_new_year_moves_the_deadline() -> None:
    window = ny_window("2026-W53")
    assert window.opens_at == at(NY, 2026, 12, 31, 9)
    assert window.deadline_at == at(NY, 2027, 1, 4, 16)
    assert window.deadline_moved_from == dt.date(2027, 1, 1)
    assert window.deadline_moved_because == "New Year's Day"


def test_a_deadline_weekday_before_the_opening_is_in_the_following_week() -> None:
    window = ny_window("2026-W46", open_weekday=FRI, deadline_weekday=MON, deadline_time=dt.time(12))
    assert window.opens_at == at(NY, 2026, 11, 13, 9)
    assert window.deadline_at == at(NY, 2026, 11, 16, 12)
    same_day_earlier = ny_window(
        "2026-W46",
        open_weekday=MON,
        open_time=dt.time(10),
        deadline_weekday=MON,
        deadline_time=dt.time(9),
    )
    assert same_day_earlier.opens_at == at(NY, 2026, 11, 9, 10)
    assert same_day_earlier.deadline_at == at(NY, 2026, 11, 16, 9)


def test_berlin_good_friday_and_easter_monday_move_the_deadline_to_tuesday() -> None:
    window = ny_window("2026-W14", tz=BERLIN, calendar=DE)
    assert window.opens_at == at(BERLIN, 2026, 4, 2, 9)
    assert window.deadline_at == at(BERLIN, 2026, 4, 7, 16)
    assert window.deadline_at == dt.datetime(2026, 4, 7, 14, tzinfo=UTC)  # summer time
    assert window.deadline_moved_from == dt.date(2026, 4, 3)
    assert window.deadline_moved_because == "Good Friday"


def test_an_easter_weekend_window_is_excused_and_names_both_holidays() -> None:
    window = ny_window(
        "2026-W14",
        tz=BERLIN,
        calendar=DE,
        open_weekday=FRI,
        deadline_weekday=MON,
        deadline_time=dt.time(12),
    )
    assert window.excused == "Good Friday and Easter Monday (public holidays)"
    assert window.deadline_at == at(BERLIN, 2026, 4, 7, 12)
    assert window.opens_at < window.deadline_at


def test_a_weekend_schedule_is_not_an_excuse() -> None:
    window = ny_window(
        "2026-W46",
        calendar=WorkCalendar(),
        open_weekday=SAT,
        open_time=dt.time(10),
        deadline_weekday=SUN,
        deadline_time=dt.time(12),
    )
    assert window.excused is None
    assert window.opens_at == at(NY, 2026, 11, 14, 10)
    assert window.deadline_at == at(NY, 2026, 11, 16, 12)
    assert window.deadline_moved_from == dt.date(2026, 11, 15)
    assert window.deadline_moved_because is None
    # Nor is a holiday that falls on the weekend anyway (Independence Day, Saturday 4 July).
    july = ny_window(
        "2026-W27",
        open_weekday=SAT,
        open_time=dt.time(10),
        deadline_weekday=SUN,
        deadline_time=dt.time(12),
    )
    assert july.excused is None


def test_a_moved_opening_never_passes_the_deadline() -> None:
    # Opens Thursday 17:00, due Friday 09:00; Thursday is Thanksgiving.  Opening on Friday
    # at 17:00 would be after the deadline, so it opens as scheduled.
    window = ny_window("2026-W48", open_time=dt.time(17), deadline_time=dt.time(9))
    assert window.opens_at == at(NY, 2026, 11, 26, 17)
    assert window.deadline_at == at(NY, 2026, 11, 27, 9)


def test_windows_across_the_eu_clock_change() -> None:
    # Opens Friday 23 October (UTC+2), due Monday 26 October (UTC+1).
    window = ny_window(
        "2026-W43",
        tz=BERLIN,
        calendar=DE,
        open_weekday=FRI,
        deadline_weekday=MON,
        deadline_time=dt.time(12),
    )
    assert window.opens_at == dt.datetime(2026, 10, 23, 7, tzinfo=UTC)
    assert window.deadline_at == dt.datetime(2026, 10, 26, 11, tzinfo=UTC)


def test_windows_across_the_us_clock_change() -> None:
    window = ny_window("2026-W44", open_weekday=FRI, deadline_weekday=MON, deadline_time=dt.time(12))
    assert window.opens_at == dt.datetime(2026, 10, 30, 13, tzinfo=UTC)
    assert window.deadline_at == dt.datetime(2026, 11, 2, 17, tzinfo=UTC)


# --- weeks to open ---------------------------------------------------------------------------

NY_SCHEDULE: dict[str, Any] = {
    "tz": NY,
    "open_weekday": THU,
    "open_time": dt.time(9),
    "deadline_weekday": FRI,
    "deadline_time": dt.time(16),
    "calendar": US,
}


def weeks(now: dt.datetime, **overrides: Any) -> list[str]:
    return [w.week for w in weeks_to_open(now, **{**NY_SCHEDULE, **overrides})]


def test_nothing_opens_before_the_opening_time() -> None:
    # Thursday 08:59: this week's check-in is not open yet; last week's is still recent.
    assert weeks(at(NY, 2026, 11, 12, 8, 59)) == ["2026-W45"]
    assert weeks(at(NY, 2026, 11, 12, 9)) == ["2026-W45", "2026-W46"]


def test_a_week_stays_openable_for_a_week_after_its_deadline() -> None:
    # The bot was down from Thursday to Tuesday: it still opens week 46 when it is back.
    assert weeks(at(NY, 2026, 11, 17, 10)) == ["2026-W46"]
    assert weeks(at(NY, 2026, 11, 20, 15, 59)) == ["2026-W46", "2026-W47"]
    assert weeks(at(NY, 2026, 11, 20, 16)) == ["2026-W47"]


def test_old_weeks_are_never_opened() -> None:
    assert weeks(at(NY, 2026, 11, 23, 10), lookback_weeks=3) == ["2026-W47"]
    assert weeks(at(NY, 2026, 11, 23, 10), lookback_weeks=0) == []


def test_the_current_week_is_taken_in_the_units_zone() -> None:
    # Sunday 21:00 in New York is already Monday (week 47) in UTC.
    now = at(NY, 2026, 11, 15, 21)
    assert now.isocalendar().week == 47
    assert weeks(now, open_weekday=SUN, open_time=dt.time(20), deadline_weekday=MON, lookback_weeks=0) == [
        "2026-W46"
    ]


def test_an_opening_moved_into_the_next_week_is_still_found() -> None:
    # Opens Saturday, due Monday; with no weekend work week 46 opens on Monday 16 November,
    # which is already week 47.
    schedule = {
        "calendar": WorkCalendar(),
        "open_weekday": SAT,
        "open_time": dt.time(10),
        "deadline_weekday": MON,
        "deadline_time": dt.time(12),
    }
    found = weeks_to_open(at(NY, 2026, 11, 16, 10, 30), **{**NY_SCHEDULE, **schedule})
    assert [w.week for w in found] == ["2026-W46"]
    assert found[0].opens_at == at(NY, 2026, 11, 16, 10)


def test_excused_weeks_are_returned_so_they_can_be_recorded() -> None:
    found = weeks_to_open(at(NY, 2026, 11, 26, 10), **{**NY_SCHEDULE, "deadline_weekday": THU})
    assert [(w.week, w.excused) for w in found] == [
        ("2026-W47", None),
        ("2026-W48", "Thanksgiving Day (public holiday)"),
    ]


def test_weeks_to_open_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="naive"):
        weeks(dt.datetime(2026, 11, 12, 10))  # noqa: DTZ001


# --- reminders -------------------------------------------------------------------------------


def reminders(
    window: CheckinWindow, tz: str = NY, calendar: WorkCalendar = US, **overrides: Any
) -> list[dt.datetime]:
    options: dict[str, Any] = {
        "before_deadline": dt.timedelta(hours=4),
        "after_every": dt.timedelta(days=1),
        "after_times": 2,
    }
    options.update(overrides)
    return reminder_times(window, calendar=calendar, tz=tz, **options)


def test_reminders_before_at_and_after_the_deadline() -> None:
    # Friday 12:00 and 16:00; Saturday's and Sunday's reminders both wait for Monday.
    assert reminders(ny_window("2026-W46")) == [
        at(NY, 2026, 11, 13, 12),
        at(NY, 2026, 11, 13, 16),
        at(NY, 2026, 11, 16, 8, 30),
    ]


def test_no_early_reminder_before_the_check_in_opens() -> None:
    assert reminders(ny_window("2026-W46"), before_deadline=dt.timedelta(days=2), after_times=0) == [
        at(NY, 2026, 11, 13, 16)
    ]


def test_hourly_reminders_after_hours_collapse_into_one() -> None:
    assert reminders(
        ny_window("2026-W46"),
        before_deadline=dt.timedelta(0),
        after_every=dt.timedelta(hours=4),
        after_times=3,
    ) == [
        at(NY, 2026, 11, 13, 16),
        at(NY, 2026, 11, 16, 8, 30),
    ]


def test_reminders_after_a_moved_deadline() -> None:
    assert reminders(ny_window("2026-W52")) == [
        at(NY, 2026, 12, 28, 12),
        at(NY, 2026, 12, 28, 16),
        at(NY, 2026, 12, 29, 16),
        at(NY, 2026, 12, 30, 16),
    ]


def test_reminders_keep_local_time_across_the_clock_change() -> None:
    window = ny_window("2026-W43", tz=BERLIN, calendar=DE)
    assert reminders(window, tz=BERLIN, calendar=DE, after_times=3) == [
        dt.datetime(2026, 10, 23, 10, tzinfo=UTC),  # Friday 12:00 CEST
        dt.datetime(2026, 10, 23, 14, tzinfo=UTC),  # Friday 16:00 CEST
        dt.datetime(2026, 10, 26, 7, 30, tzinfo=UTC),  # Monday 08:30 CET
        dt.datetime(2026, 10, 26, 15, tzinfo=UTC),  # Monday 16:00 CET
    ]


def test_reminders_wait_for_the_respondents_own_working_hours() -> None:
    # The unit is in New York; its deputy in Berlin is asleep at the New York deadline.
    assert reminders(
        ny_window("2026-W46"), tz=BERLIN, calendar=DE, before_deadline=dt.timedelta(0), after_times=0
    ) == [at(BERLIN, 2026, 11, 16, 8, 30)]


def test_an_excused_week_has_no_reminders() -> None:
    assert reminders(ny_window("2026-W48", deadline_weekday=THU)) == []


def test_negative_reminder_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        reminders(ny_window("2026-W46"), before_deadline=dt.timedelta(hours=-1))


# --- properties ------------------------------------------------------------------------------

ZONES = [NY, BERLIN, "UTC", "Australia/Sydney", "America/Sao_Paulo", "Asia/Kolkata"]
CALENDARS = [US, DE, WorkCalendar(), WorkCalendar("AU", "NSW", working_days=[1, 2, 3, 4])]


@settings(max_examples=300, deadline=None)
@given(
    monday=st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2035, 12, 31)),
    tz=st.sampled_from(ZONES),
    calendar=st.sampled_from(CALENDARS),
    open_weekday=st.integers(1, 7),
    deadline_weekday=st.integers(1, 7),
    open_time=st.times(),
    deadline_time=st.times(),
)
def test_every_window_opens_before_its_deadline_on_a_working_day(
    monday: dt.date,
    tz: str,
    calendar: WorkCalendar,
    open_weekday: int,
    deadline_weekday: int,
    open_time: dt.time,
    deadline_time: dt.time,
) -> None:
    year, number, _ = monday.isocalendar()
    week = f"{year}-W{number:02d}"
    window = checkin_window(
        week,
        tz=tz,
        open_weekday=open_weekday,
        open_time=open_time,
        deadline_weekday=deadline_weekday,
        deadline_time=deadline_time,
        calendar=calendar,
    )
    assert window.opens_at < window.deadline_at
    local_deadline = window.deadline_at.astimezone(ZoneInfo(tz))
    assert calendar.is_working_day(local_deadline.date())
    assert window.opens_at.astimezone(ZoneInfo(tz)).date() >= dt.date.fromisocalendar(
        year, number, open_weekday
    )
    moved_from = window.deadline_moved_from
    if moved_from is None:
        assert local_deadline.isoweekday() == deadline_weekday
    else:
        assert moved_from.isoweekday() == deadline_weekday
        assert not calendar.is_working_day(moved_from)
        assert local_deadline.date() == calendar.next_working_day(moved_from)
