"""Numbers and dates as unit heads type them."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.parsing import parse_date, parse_number

# A Wednesday.
TODAY = dt.date(2026, 12, 2)

FUZZ = settings(max_examples=300, deadline=None)


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("412", 412),
        (" 1,234 ", 1234),
        ("1,234,567", 1_234_567),
        ("1 234", 1234),
        ("1\u00a0234", 1234),
        ("12.5", 12.5),
        (".5", 0.5),
        ("-3", -3),
        ("+3", 3),
        ("\u22123", -3),
        ("85%", 85),
        ("85 %", 85),
        ("$3,400.50", 3400.5),
        ("3400$", 3400),
        ("-$3", -3),
        ("$-3", -3),
        ("1.5k", 1500),
        ("2K", 2000),
        ("1.1k", 1100),
        ("$1.5k", 1500),
        ("-0", 0),
    ],
)
def test_numbers_people_type(typed: str, value: float) -> None:
    assert parse_number(typed) == value


def test_minus_zero_reads_as_zero() -> None:
    assert math.copysign(1, parse_number("-0")) == 1


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("", ["type a number"]),
        ("   ", ["type a number"]),
        ("abc", ['"abc" is not a number']),
        ("nan", ['"nan" is not a number']),
        ("inf", ['"inf" is not a number']),
        ("-inf", ["not a number"]),
        ("1e5", ['"1e5"', "not a number"]),
        ("12 apples", ['"12 apples"', "not a number"]),
        ("12 15", ['"12 15"', "more than one number"]),
        ("12, 15", ["more than one number"]),
        ("1.2.3", ['"1.2.3"', "not a number"]),
        ("12,5", ['"12,5"', "ambiguous", "12.5"]),
        ("1,23", ["ambiguous", "1.23"]),
        ("1,2345", ["ambiguous"]),
        ("1,5k", ["ambiguous"]),
        ("$85%", ["both % and $"]),
        ("٣", ["not a number"]),
        ("9" * 400, ["too large"]),
    ],
)
def test_refused_numbers_say_why(typed: str, words: list[str]) -> None:
    with pytest.raises(ValueError) as refused:
        parse_number(typed)
    for word in words:
        assert word in str(refused.value)


def test_whole_numbers() -> None:
    assert parse_number("1,234", integer=True) == 1234
    assert parse_number("1.5k", integer=True) == 1500
    assert parse_number("12.0", integer=True) == 12
    with pytest.raises(ValueError, match=r'"12\.5" must be a whole number'):
        parse_number("12.5", integer=True)


def test_long_input_is_shortened_in_the_message() -> None:
    with pytest.raises(ValueError) as refused:
        parse_number("x" * 500)
    assert len(str(refused.value)) < 100


_NUMBERISH = st.lists(
    st.sampled_from(["1", "12", "234", ",", ".", " ", "$", "%", "k", "-", "+", "e", "nan", "\u00a0", "0"]),
    max_size=8,
).map("".join)


@FUZZ
@given(st.one_of(st.text(), _NUMBERISH), st.booleans())
def test_parse_number_only_raises_value_error(text: str, integer: bool) -> None:
    try:
        value = parse_number(text, integer=integer)
    except ValueError as refused:
        assert str(refused).strip()
    else:
        assert math.isfinite(value)
        if integer:
            assert value == int(value)


@FUZZ
@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_formatted_integers_round_trip(n: int) -> None:
    assert parse_number(f"{n:,}") == n
    assert parse_number(f"{n:,}", integer=True) == n
    assert parse_number(str(n)) == n
    assert parse_number(f"{n:,}".replace(",", " ")) == n


@FUZZ
@given(
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False),
    st.integers(min_value=0, max_value=6),
)
def test_formatted_floats_round_trip(x: float, places: int) -> None:
    typed = f"{x:,.{places}f}"
    assert parse_number(typed) == float(f"{x:.{places}f}")
    assert parse_number(f"${typed}") == float(f"{x:.{places}f}")
    assert parse_number(f"{typed}%") == float(f"{x:.{places}f}")


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("today", dt.date(2026, 12, 2)),
        ("Today", dt.date(2026, 12, 2)),
        ("tomorrow", dt.date(2026, 12, 3)),
        ("friday", dt.date(2026, 12, 4)),
        ("Fri", dt.date(2026, 12, 4)),
        ("this friday", dt.date(2026, 12, 4)),
        ("by friday", dt.date(2026, 12, 4)),
        ("wednesday", dt.date(2026, 12, 2)),  # said on a Wednesday: today
        ("tue", dt.date(2026, 12, 8)),
        ("thurs", dt.date(2026, 12, 3)),
        ("next friday", dt.date(2026, 12, 11)),
        ("next wed", dt.date(2026, 12, 9)),
        ("next monday", dt.date(2026, 12, 7)),
        ("Dec 5", dt.date(2026, 12, 5)),
        ("dec. 5", dt.date(2026, 12, 5)),
        ("5 Dec", dt.date(2026, 12, 5)),
        ("December 5th", dt.date(2026, 12, 5)),
        ("5th of December", dt.date(2026, 12, 5)),
        ("Dec 5, 2027", dt.date(2027, 12, 5)),
        ("Fri Dec 4", dt.date(2026, 12, 4)),
        ("Jan 3", dt.date(2027, 1, 3)),  # no year: the next one
        ("Dec 1", dt.date(2027, 12, 1)),  # Dec 1 2026 is past
        ("Dec 2", dt.date(2026, 12, 2)),
        ("Feb 29", dt.date(2028, 2, 29)),
        ("2026-12-05", dt.date(2026, 12, 5)),
        ("2026/12/5", dt.date(2026, 12, 5)),
        ("in 3 days", dt.date(2026, 12, 5)),
        ("in 0 days", dt.date(2026, 12, 2)),
        ("in 2 weeks", dt.date(2026, 12, 16)),
        ("in a week", dt.date(2026, 12, 9)),
        ("end of week", dt.date(2026, 12, 4)),
        ("eow", dt.date(2026, 12, 4)),
        ("end of the week", dt.date(2026, 12, 4)),
        ("end of next week", dt.date(2026, 12, 11)),
        ("end of month", dt.date(2026, 12, 31)),
        ("EOM", dt.date(2026, 12, 31)),
        ("the end of the month", dt.date(2026, 12, 31)),
        ("end of next month", dt.date(2027, 1, 31)),
    ],
)
def test_dates_people_type(typed: str, day: dt.date) -> None:
    assert parse_date(typed, today=TODAY) == day


def test_next_weekday_is_in_next_week_even_on_a_weekend() -> None:
    saturday = dt.date(2026, 12, 5)
    assert parse_date("next friday", today=saturday) == dt.date(2026, 12, 11)
    assert parse_date("friday", today=saturday) == dt.date(2026, 12, 11)


def test_end_of_week_on_a_weekend_is_the_coming_friday() -> None:
    sunday = dt.date(2026, 12, 6)
    assert parse_date("end of week", today=sunday) == dt.date(2026, 12, 11)
    friday = dt.date(2026, 12, 4)
    assert parse_date("eow", today=friday) == friday


def test_end_of_month_in_february() -> None:
    assert parse_date("end of month", today=dt.date(2028, 2, 10)) == dt.date(2028, 2, 29)


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("", ["type a date"]),
        ("blah", ['"blah"', "not a date", "Friday"]),
        ("next week", ["not a date"]),
        ("12/05", ['"12/05"', "ambiguous", "2026-12-05", "Dec 5", "May 12"]),
        ("05.12", ['"05.12"', "ambiguous", "December 5 or May 12", "2026-12-05"]),
        ("12-05-2026", ["ambiguous"]),
        ("25/12", ['"25/12"', "2026-12-25", "Dec 25"]),
        ("13/13", ["not a date"]),
        ("2026-12-01", ['"2026-12-01"', "in the past", "Dec 2, 2026"]),
        ("Dec 1, 2026", ["in the past"]),
        ("2030-01-01", ['"2030-01-01"', "more than 2 years ahead"]),
        ("in 800 days", ["more than 2 years ahead"]),
        ("in 99999 days", ["more than 2 years ahead"]),
        ("Feb 30", ['"Feb 30"', "not a real date"]),
        ("2026-02-30", ["not a real date"]),
        ("Dec 0", ["not a real date"]),
        ("fri dec 5", ["Dec 5, 2026 is a Saturday, not a Friday"]),
        ("in many days", ["not a date"]),
    ],
)
def test_refused_dates_say_why(typed: str, words: list[str]) -> None:
    with pytest.raises(ValueError) as refused:
        parse_date(typed, today=TODAY)
    for word in words:
        assert word in str(refused.value)


def test_two_years_ahead_is_the_limit() -> None:
    assert parse_date("2028-12-02", today=TODAY) == dt.date(2028, 12, 2)
    with pytest.raises(ValueError, match="more than 2 years"):
        parse_date("2028-12-03", today=TODAY)


def test_dates_near_the_end_of_the_calendar_are_refused_not_crashed() -> None:
    with pytest.raises(ValueError, match="too far ahead"):
        parse_date("tomorrow", today=dt.date.max)


_DATEISH = st.lists(
    st.sampled_from(
        [
            "in", "3", "12", "2026", "-", "/", ".", "dec", "fri", "next", "end", "of",
            "week", "month", "days", "the", "5th", "by", "a", "29", "feb", "0", "99999",
        ]
    ),
    max_size=5,
).map(" ".join)  # fmt: skip

_TODAYS = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31))


@FUZZ
@given(st.one_of(st.text(), _DATEISH), _TODAYS)
def test_parse_date_only_raises_value_error(text: str, today: dt.date) -> None:
    try:
        day = parse_date(text, today=today)
    except ValueError as refused:
        assert str(refused).strip()
    else:
        assert today <= day <= today + dt.timedelta(days=2 * 366)


@FUZZ
@given(_TODAYS, st.integers(min_value=0, max_value=700))
def test_iso_dates_round_trip(today: dt.date, ahead: int) -> None:
    day = today + dt.timedelta(days=ahead)
    assert parse_date(day.isoformat(), today=today) == day


@FUZZ
@given(_TODAYS, st.integers(min_value=0, max_value=300))
def test_month_day_without_year_is_the_next_occurrence(today: dt.date, ahead: int) -> None:
    day = today + dt.timedelta(days=ahead)
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    assert parse_date(f"{months[day.month - 1]} {day.day}", today=today) == day
    assert parse_date(f"{day.day} {months[day.month - 1]}", today=today) == day


@FUZZ
@given(_TODAYS, st.integers(min_value=0, max_value=6))
def test_bare_weekday_is_within_the_coming_week(today: dt.date, weekday: int) -> None:
    names = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    day = parse_date(names[weekday], today=today)
    assert day.weekday() == weekday
    assert 0 <= (day - today).days < 7


@pytest.mark.parametrize("text", ["yesterday", "last Friday", "3 days ago"])
def test_past_phrases_say_they_are_in_the_past(text: str) -> None:
    with pytest.raises(ValueError, match="is in the past"):
        parse_date(text, today=dt.date(2026, 12, 1))
