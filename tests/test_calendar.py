"""The working calendar: real holiday data, working hours, time zones and DST."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.calendar import WorkCalendar, local_moment, shift
from bot.org.schema import Organisation

UTC = dt.UTC
NY = "America/New_York"
BERLIN = "Europe/Berlin"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


def at(
    tz: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    local = dt.datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(tz))
    return local.astimezone(UTC)


@pytest.fixture(scope="module")
def us() -> WorkCalendar:
    return WorkCalendar("US", "NY")


@pytest.fixture(scope="module")
def de() -> WorkCalendar:
    return WorkCalendar("DE", "BE")


# --- days ------------------------------------------------------------------------------------


def test_us_new_york_holidays_are_named(us: WorkCalendar) -> None:
    assert us.holiday_name(dt.date(2026, 11, 26)) == "Thanksgiving Day"
    assert us.holiday_name(dt.date(2026, 12, 25)) == "Christmas Day"
    assert us.holiday_name(dt.date(2027, 1, 1)) == "New Year's Day"
    assert us.holiday_name(dt.date(2026, 11, 27)) is None


def test_berlin_has_its_own_holidays(de: WorkCalendar, us: WorkCalendar) -> None:
    # International Women's Day is a public holiday in Berlin only.
    assert de.holiday_name(dt.date(2027, 3, 8)) == "Women's Day"
    assert not de.is_working_day(dt.date(2027, 3, 8))
    assert WorkCalendar("DE", "BY").is_working_day(dt.date(2027, 3, 8))
    assert us.is_working_day(dt.date(2027, 3, 8))
    assert de.holiday_name(dt.date(2026, 4, 3)) == "Good Friday"


def test_observed_holiday_across_the_year_end() -> None:
    # New Year 2028 is a Saturday, so New York observes it on Friday 31 December 2027.
    assert WorkCalendar("US", "NY").holiday_name(dt.date(2027, 12, 31)) == ("New Year's Day (observed)")


def test_without_a_country_only_weekends_are_off() -> None:
    plain = WorkCalendar()
    assert plain.holiday_name(dt.date(2026, 12, 25)) is None
    assert plain.is_working_day(dt.date(2026, 12, 25))
    assert not plain.is_working_day(dt.date(2026, 12, 26))


def test_working_days_are_configurable() -> None:
    sunday_to_thursday = WorkCalendar(working_days=[7, 1, 2, 3, 4])
    assert sunday_to_thursday.is_working_day(dt.date(2026, 11, 29))  # a Sunday
    assert not sunday_to_thursday.is_working_day(dt.date(2026, 11, 27))  # a Friday


def test_next_working_day(us: WorkCalendar, de: WorkCalendar) -> None:
    assert us.next_working_day(dt.date(2026, 11, 24)) == dt.date(2026, 11, 24)
    assert us.next_working_day(dt.date(2026, 11, 26)) == dt.date(2026, 11, 27)
    # Christmas is a Friday: the next working day is Monday.
    assert us.next_working_day(dt.date(2026, 12, 25)) == dt.date(2026, 12, 28)
    assert us.next_working_day(dt.date(2027, 1, 1)) == dt.date(2027, 1, 4)
    # Good Friday, the weekend and Easter Monday.
    assert de.next_working_day(dt.date(2026, 4, 3)) == dt.date(2026, 4, 7)


def test_holidays_between_lists_them_in_order(de: WorkCalendar) -> None:
    assert de.holidays_between(dt.date(2026, 4, 1), dt.date(2026, 4, 7)) == [
        (dt.date(2026, 4, 3), "Good Friday"),
        (dt.date(2026, 4, 6), "Easter Monday"),
    ]


def test_a_datetime_is_not_taken_for_a_date(us: WorkCalendar) -> None:
    with pytest.raises(TypeError):
        us.is_working_day(utc(2026, 11, 26, 12))


def test_holidays_are_looked_up_once_per_year(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    real = holidays.country_holidays

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("years"))
        return real(*args, **kwargs)

    monkeypatch.setattr(holidays, "country_holidays", counting)
    cal = WorkCalendar("US", "NY")
    calls.clear()
    for _unit in range(1000):
        cal.next_working_moment(utc(2026, 12, 26, 15), NY)
        cal.is_working_day(dt.date(2027, 1, 1))
    assert sorted(calls) == [2026, 2027]


# --- construction ----------------------------------------------------------------------------


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="end after"):
        WorkCalendar(start=dt.time(17), end=dt.time(9))
    with pytest.raises(ValueError, match="working day"):
        WorkCalendar(working_days=[])
    with pytest.raises(ValueError):
        WorkCalendar(working_days=[0, 1])
    with pytest.raises(ValueError, match="no holiday calendar"):
        WorkCalendar("XX")
    with pytest.raises(ValueError, match="no holiday calendar"):
        WorkCalendar("US", "ZZ")


def test_from_org_uses_holidays_days_and_hours() -> None:
    org = Organisation.model_validate(
        {
            "name": "City of Example",
            "timezone": NY,
            "holidays": {"country": "US", "subdivision": "NY"},
            "working_hours": {
                "start": "09:00",
                "end": "17:00",
                "days": ["monday", "tuesday", "wednesday", "thursday", "saturday"],
            },
        }
    )
    cal = WorkCalendar.from_org(org)
    assert not cal.is_working_day(dt.date(2026, 11, 26))  # Thanksgiving
    assert not cal.is_working_day(dt.date(2026, 11, 27))  # a Friday, not worked here
    assert cal.is_working_day(dt.date(2026, 11, 28))  # a Saturday, worked here
    # Friday evening waits for Saturday 09:00, the organisation's start of day.
    assert cal.next_working_moment(at(NY, 2026, 11, 27, 18), NY) == at(NY, 2026, 11, 28, 9)


def test_from_org_without_holidays() -> None:
    cal = WorkCalendar.from_org(Organisation(name="Plain"))
    assert cal.is_working_day(dt.date(2026, 12, 25))
    assert cal.next_working_moment(at("UTC", 2026, 12, 25, 7), "UTC") == utc(2026, 12, 25, 8, 30)


# --- moments ---------------------------------------------------------------------------------


def test_saturday_waits_for_monday_morning(us: WorkCalendar) -> None:
    assert us.next_working_moment(at(NY, 2026, 11, 14, 10), NY) == at(NY, 2026, 11, 16, 8, 30)


def test_a_monday_holiday_waits_for_tuesday(us: WorkCalendar) -> None:
    # Martin Luther King Jr. Day, Monday 19 January 2026.
    assert us.next_working_moment(at(NY, 2026, 1, 17, 10), NY) == at(NY, 2026, 1, 20, 8, 30)


def test_inside_working_hours_is_now(us: WorkCalendar) -> None:
    moment = at(NY, 2026, 11, 17, 11, 15, 42)
    assert us.next_working_moment(moment, NY) == moment
    assert us.next_working_moment(moment, NY).tzinfo == UTC
    assert us.is_working_moment(moment, NY)


def test_working_hours_include_the_start_and_exclude_the_end(us: WorkCalendar) -> None:
    start = at(NY, 2026, 11, 17, 8, 30)
    assert us.next_working_moment(start, NY) == start
    assert us.next_working_moment(start - dt.timedelta(seconds=1), NY) == start
    end = at(NY, 2026, 11, 17, 17, 30)
    assert us.next_working_moment(end - dt.timedelta(seconds=1), NY) == end - dt.timedelta(seconds=1)
    assert us.next_working_moment(end, NY) == at(NY, 2026, 11, 18, 8, 30)


def test_christmas_friday_evening_waits_for_monday(us: WorkCalendar) -> None:
    assert us.next_working_moment(at(NY, 2026, 12, 24, 19), NY) == at(NY, 2026, 12, 28, 8, 30)
    assert us.next_working_moment(at(NY, 2026, 12, 31, 19), NY) == at(NY, 2027, 1, 4, 8, 30)


def test_the_zone_decides_what_is_working_time(us: WorkCalendar) -> None:
    moment = utc(2026, 11, 30, 13)  # 14:00 in Berlin, 08:00 in New York
    assert us.next_working_moment(moment, BERLIN) == moment
    assert us.next_working_moment(moment, NY) == utc(2026, 11, 30, 13, 30)


def test_eu_clocks_going_back_keep_the_local_start(de: WorkCalendar) -> None:
    # Clocks go back on Sunday 25 October 2026: Friday is UTC+2, Monday UTC+1.
    friday_evening = at(BERLIN, 2026, 10, 23, 18)
    assert friday_evening == utc(2026, 10, 23, 16)
    assert de.next_working_moment(friday_evening, BERLIN) == utc(2026, 10, 26, 7, 30)


def test_us_clocks_going_back_keep_the_local_start(us: WorkCalendar) -> None:
    # Clocks go back on Sunday 1 November 2026: Friday is UTC-4, Monday UTC-5.
    assert us.next_working_moment(utc(2026, 10, 30, 22), NY) == utc(2026, 11, 2, 13, 30)


def test_a_skipped_date_is_not_worked() -> None:
    # Samoa skipped Friday 30 December 2011 when it moved across the date line.
    apia = "Pacific/Apia"
    thursday_evening = at(apia, 2011, 12, 29, 18)
    assert WorkCalendar().next_working_moment(thursday_evening, apia) == at(apia, 2012, 1, 2, 8, 30)


def test_naive_datetimes_are_refused(us: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="naive"):
        us.next_working_moment(dt.datetime(2026, 11, 17, 10), NY)  # noqa: DTZ001


def test_local_moment_and_shift_across_dst() -> None:
    assert local_moment(dt.date(2026, 10, 26), dt.time(9), BERLIN) == utc(2026, 10, 26, 8)
    # 02:30 does not exist on 8 March 2026 in New York: it is read as 03:30 EDT.
    assert local_moment(dt.date(2026, 3, 8), dt.time(2, 30), NY) == utc(2026, 3, 8, 7, 30)
    # Days keep the wall-clock time; hours are elapsed time.
    friday = at(BERLIN, 2026, 10, 23, 14)
    assert shift(friday, dt.timedelta(days=3), BERLIN) == at(BERLIN, 2026, 10, 26, 14)
    saturday_night = at(BERLIN, 2026, 10, 24, 23)
    assert shift(saturday_night, dt.timedelta(hours=4), BERLIN) == utc(2026, 10, 25, 1)
    assert shift(friday, dt.timedelta(days=1, hours=9), BERLIN) == saturday_night
    assert shift(at(BERLIN, 2026, 10, 26, 14), -dt.timedelta(days=3), BERLIN) == friday


# --- properties ------------------------------------------------------------------------------

ZONES = [
    "UTC",
    NY,
    BERLIN,
    "Europe/London",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Pacific/Auckland",
    "Pacific/Apia",
    "Pacific/Chatham",
    "Asia/Kathmandu",
    "America/St_Johns",
    "Africa/Casablanca",
]
CALENDARS = {
    "none": WorkCalendar(),
    "us": WorkCalendar("US", "NY"),
    "de": WorkCalendar("DE", "BE"),
    "sun-thu": WorkCalendar("IL", working_days=[7, 1, 2, 3, 4], start=dt.time(7), end=dt.time(16)),
    "late": WorkCalendar("GB", "ENG", start=dt.time(10, 15), end=dt.time(19, 45)),
}
instants = st.datetimes(
    min_value=dt.datetime(2005, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=dt.datetime(2035, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@settings(max_examples=300, deadline=None)
@given(instant=instants, tz=st.sampled_from(ZONES), name=st.sampled_from(sorted(CALENDARS)))
def test_next_working_moment_is_the_first_working_moment(instant: dt.datetime, tz: str, name: str) -> None:
    cal = CALENDARS[name]
    moment = cal.next_working_moment(instant, tz)
    assert moment.tzinfo == UTC
    assert moment >= instant
    local = moment.astimezone(ZoneInfo(tz))
    assert cal.is_working_day(local.date())
    assert cal.start <= local.time() < cal.end
    assert cal.next_working_moment(moment, tz) == moment
    # Nothing is skipped: a moment that already is working time is kept as it is, and the
    # wait never jumps over a working day.
    here = instant.astimezone(ZoneInfo(tz))
    if cal.is_working_day(here.date()) and cal.start <= here.time() < cal.end:
        assert moment == instant
    else:
        assert local.time() == cal.start
        day = here.date() + dt.timedelta(days=1)
        while day < local.date():
            assert not cal.is_working_day(day)
            day += dt.timedelta(days=1)
