"""Numbers and dates as unit heads type them in chat.

Both parsers refuse rather than guess: every refusal is a ``ValueError`` whose message is a
short sentence, fit to show the person who typed the text, that quotes what they typed.
No other exception escapes for any ``str`` input.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from decimal import Decimal, InvalidOperation

__all__ = ["parse_date", "parse_number", "quote", "weekday_number"]

_QUOTE_MAX = 40


def quote(text: str) -> str:
    """``text`` in double quotes, on one line and shortened, for use in a message."""
    shown = " ".join(text.split())
    if len(shown) > _QUOTE_MAX:
        shown = shown[: _QUOTE_MAX - 1] + "…"
    return f'"{shown}"'


# ---------------------------------------------------------------------------------------
# numbers

# Spaces that number formatting in some locales puts between thousands.
_ODD_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2212": "-"})

_PLAIN = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)", re.ASCII)
_COMMA_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?", re.ASCII)
_SPACE_GROUPED = re.compile(r"[0-9]{1,3}(?: [0-9]{3})+(?:\.[0-9]+)?", re.ASCII)
_DECIMAL_COMMA = re.compile(r"[0-9]+,[0-9]+", re.ASCII)
_DIGIT_RUN = re.compile(r"[0-9]+(?:[.,][0-9]+)*", re.ASCII)


def parse_number(text: str, *, integer: bool = False) -> float:
    """Read one number as a person types it.

    Accepted: ``412``, ``-3``, ``12.5``, ``1,234`` and ``1 234`` (a comma or space followed by
    exactly three digits separates thousands), ``85%`` / ``85 %`` (the value is 85, the sign
    is decoration), ``$3,400.50`` / ``3400$``, and ``1.5k`` / ``2K`` (thousands).

    Refused: empty text, words, ``nan``/``inf``, more than one number (``12 15``), a decimal
    comma (``12,5`` — it could be 12.5 or a mistyped 1,250), and with ``integer=True`` a
    number that is not whole.
    """
    shown = quote(text)
    core = " ".join(text.translate(_ODD_SPACES).split())
    if not core:
        raise ValueError("Please type a number; nothing was typed")

    negative = False
    currency = percent = thousands = False
    if core[0] in "+-":
        negative = core[0] == "-"
        core = core[1:].lstrip()
    if core.startswith("$"):
        currency = True
        core = core[1:].lstrip()
        if core[:1] in ("+", "-") and not negative:
            negative = core[0] == "-"
            core = core[1:].lstrip()
    if core.endswith("%"):
        percent = True
        core = core[:-1].rstrip()
    elif core.endswith("$") and not currency:
        currency = True
        core = core[:-1].rstrip()
    if core.endswith(("k", "K")):
        thousands = True
        core = core[:-1].rstrip()

    if _PLAIN.fullmatch(core):
        digits = core
    elif _COMMA_GROUPED.fullmatch(core):
        digits = core.replace(",", "")
    elif _SPACE_GROUPED.fullmatch(core):
        digits = core.replace(" ", "")
    else:
        raise ValueError(_why_not_a_number(text, core, shown))
    if percent and currency:
        raise ValueError(f"{shown} is not a number: it has both % and $")

    try:
        value = Decimal(digits)
    except InvalidOperation:  # pragma: no cover - the patterns above only admit decimals
        raise ValueError(f"{shown} is not a number") from None
    if thousands:
        value *= 1000
    if negative:
        value = -value
    if integer and value != value.to_integral_value():
        raise ValueError(f"{shown} must be a whole number")
    result = float(value)
    if result in (float("inf"), float("-inf")):
        raise ValueError(f"{shown} is too large a number")
    return result + 0.0  # turns -0.0 into 0.0


def _why_not_a_number(text: str, core: str, shown: str) -> str:
    runs = _DIGIT_RUN.findall(core)
    if not runs:
        return f"{shown} is not a number"
    if len(runs) > 1 and re.fullmatch(r"[0-9.,\s]+", core, re.ASCII):
        return f"{shown} looks like more than one number; type just one"
    if _DECIMAL_COMMA.fullmatch(core):
        whole, fraction = core.split(",")
        return (
            f"{shown} is ambiguous: use a dot for decimals ({whole}.{fraction}); "
            "a comma separates thousands only before three digits (1,250)"
        )
    return f"{shown} is not a number; type just the number, e.g. 412 or 12.5"


# ---------------------------------------------------------------------------------------
# dates

# English names, spelled out here rather than taken from the process locale.
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
_WEEKDAYS: dict[str, int] = {
    **{name.lower(): index for index, name in enumerate(_DAY_NAMES)},
    **{name[:3].lower(): index for index, name in enumerate(_DAY_NAMES)},
    "tues": 1, "weds": 2, "thur": 3, "thurs": 3,
}  # fmt: skip
_MONTHS: dict[str, int] = {
    **{name.lower(): index for index, name in enumerate(_MONTH_NAMES, start=1)},
    **{name[:3].lower(): index for index, name in enumerate(_MONTH_NAMES, start=1)},
    "sept": 9,
}

_SMALL_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip

_ISO = re.compile(r"([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})", re.ASCII)
_NUMERIC = re.compile(r"([0-9]{1,2})[/.\-]([0-9]{1,2})(?:[/.\-]([0-9]{2}|[0-9]{4}))?", re.ASCII)
_DAY = r"([0-9]{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?: ([0-9]{4}))?"
_MONTH_DAY = re.compile(rf"([a-z]+) {_DAY}{_YEAR}", re.ASCII)
_DAY_MONTH = re.compile(rf"{_DAY}(?: of)? ([a-z]+){_YEAR}", re.ASCII)
_IN = re.compile(r"in ([0-9]{1,6}|[a-z]+) (day|days|week|weeks)", re.ASCII)
_HINT = 'try "Friday", "Dec 5", "2026-12-05" or "in 3 days"'
_MAX_AHEAD_YEARS = 2


def parse_date(text: str, *, today: dt.date) -> dt.date:
    """Read a due date as a person types it, relative to ``today`` (the reader's local date).

    - ``today``, ``tomorrow``.
    - A weekday (``friday``, ``fri``, ``this friday``): the next such day on or after today,
      so "Friday" said on a Friday is that same day.
    - ``next friday``: the Friday of next week (weeks start on Monday), so said on a Monday
      it is 11 days ahead, and said on a Saturday it is 6 days ahead.
    - ``Dec 5``, ``5 Dec``, ``December 5th``, ``5th of December``, optionally with a year
      (``Dec 5, 2026``) and a leading weekday, which must agree (``Fri Dec 5``).  Without a
      year: the next Dec 5 on or after today.
    - ``2026-12-05`` (or ``2026/12/05``).
    - ``in 3 days``, ``in 2 weeks``, ``in a week``.
    - ``end of week`` / ``eow``: Friday of this week, or of next week when said on a
      weekend.  ``end of next week``: Friday of next week.
    - ``end of month`` / ``eom``: the last day of this month; ``end of next month``.

    Refused: day/month numbers such as ``12/05`` or ``05.12`` (ambiguous between readings),
    dates before today, dates more than two years ahead, and anything else.
    """
    try:
        return _parse_date(text, today)
    except OverflowError:
        raise ValueError(f"{quote(text)} is too far ahead") from None


def _parse_date(text: str, today: dt.date) -> dt.date:
    shown = quote(text)
    raw = " ".join(text.split()).lower()
    if not raw:
        raise ValueError(f"Please type a date; {_HINT}")

    if match := _ISO.fullmatch(raw):
        year, month, day = (int(group) for group in match.groups())
        return _checked(_real_date(year, month, day, shown), today, shown)
    if match := _NUMERIC.fullmatch(raw):
        raise ValueError(_ambiguous_numeric(match, today, shown))

    words = re.sub(r"[,.!]", " ", raw).split()
    if words[:1] in (["by"], ["on"], ["until"]):
        words = words[1:]
    if words[:1] == ["the"]:
        words = words[1:]
    phrase = " ".join(words).replace("end of the ", "end of ")
    if not phrase:
        raise ValueError(f"{shown} is not a date I understand; {_HINT}")

    if phrase == "yesterday" or phrase.startswith(("last ", "ago ")) or phrase.endswith(" ago"):
        raise ValueError(f"{shown} is in the past; give a date from today on ({today:%a %d %b %Y})")
    result = _relative(phrase, today, shown)
    if result is None:
        result = _calendar_date(words, today, shown)
    if result is None:
        raise ValueError(f"{shown} is not a date I understand; {_HINT}")
    return _checked(result, today, shown)


def _relative(phrase: str, today: dt.date, shown: str) -> dt.date | None:
    monday = today - dt.timedelta(days=today.weekday())
    if phrase == "today":
        return today
    if phrase in ("tomorrow", "tmrw"):
        return today + dt.timedelta(days=1)
    if phrase in _WEEKDAYS or (phrase.startswith("this ") and phrase[5:] in _WEEKDAYS):
        return _next_weekday(today, _WEEKDAYS[phrase.removeprefix("this ")])
    if phrase.startswith("next ") and phrase[5:] in _WEEKDAYS:
        return monday + dt.timedelta(days=7 + _WEEKDAYS[phrase[5:]])
    if phrase in ("end of week", "end of this week", "eow"):
        friday = monday + dt.timedelta(days=4)
        return friday if friday >= today else friday + dt.timedelta(days=7)
    if phrase == "end of next week":
        return monday + dt.timedelta(days=11)
    if phrase in ("end of month", "end of this month", "eom"):
        return _last_of_month(today.year, today.month)
    if phrase == "end of next month":
        year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        return _last_of_month(year, month)
    if match := _IN.fullmatch(phrase):
        amount_text, unit = match.groups()
        amount = int(amount_text) if amount_text.isdigit() else _SMALL_NUMBERS.get(amount_text)
        if amount is None:
            return None
        days = amount * 7 if unit.startswith("week") else amount
        if days > 366 * (_MAX_AHEAD_YEARS + 1):
            raise ValueError(f"{shown} is more than {_MAX_AHEAD_YEARS} years ahead")
        return today + dt.timedelta(days=days)
    return None


def _calendar_date(words: list[str], today: dt.date, shown: str) -> dt.date | None:
    weekday: int | None = None
    if len(words) > 1 and words[0] in _WEEKDAYS:
        weekday = _WEEKDAYS[words[0]]
        words = words[1:]
    phrase = " ".join(words)
    if match := _ISO.fullmatch(phrase):
        year_text, month_text, day_text = match.groups()
        month_number: int | None = int(month_text)
    elif match := _MONTH_DAY.fullmatch(phrase):
        month_name, day_text, year_text = match.groups()
        month_number = _MONTHS.get(month_name)
    elif match := _DAY_MONTH.fullmatch(phrase):
        day_text, month_name, year_text = match.groups()
        month_number = _MONTHS.get(month_name)
    else:
        return None
    if month_number is None:
        return None
    day = int(day_text)
    if year_text is not None:
        result = _real_date(int(year_text), month_number, day, shown)
    else:
        result = _next_month_day(month_number, day, today, shown)
    if weekday is not None and result.weekday() != weekday:
        raise ValueError(
            f"{shown}: {_month_day(result)}, {result.year} is a "
            f"{_DAY_NAMES[result.weekday()]}, not a {_DAY_NAMES[weekday]}"
        )
    return result


def _next_month_day(month: int, day: int, today: dt.date, shown: str) -> dt.date:
    # Checking a leap year is enough to know whether the day exists at all.
    _real_date(2000, month, day, shown)
    for year in range(today.year, today.year + 9):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise ValueError(f"{shown} is too far ahead")  # pragma: no cover - Feb 29 recurs in 8 years


def _real_date(year: int, month: int, day: int, shown: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"{shown} is not a real date") from None


def _checked(day: dt.date, today: dt.date, shown: str) -> dt.date:
    if day < today:
        raise ValueError(
            f"{shown} is in the past; today is {_DAY_NAMES[today.weekday()][:3]} "
            f"{_month_day(today)}, {today.year}"
        )
    if day > _years_ahead(today, _MAX_AHEAD_YEARS):
        raise ValueError(f"{shown} is more than {_MAX_AHEAD_YEARS} years ahead")
    return day


def _years_ahead(today: dt.date, years: int) -> dt.date:
    if today.year + years > dt.MAXYEAR:
        return dt.date.max
    try:
        return today.replace(year=today.year + years)
    except ValueError:  # Feb 29 → Feb 28
        return today.replace(year=today.year + years, day=28)


def _ambiguous_numeric(match: re.Match[str], today: dt.date, shown: str) -> str:
    first, second = int(match.group(1)), int(match.group(2))
    # Lead with the reading the writer's convention suggests: dots are mostly day.month.
    orders = ((first, second), (second, first))
    if "." in match.group(0):
        orders = orders[::-1]
    readings: list[dt.date] = []
    for month, day in orders:
        try:
            reading = _next_month_day(month, day, today, shown)
        except ValueError:
            continue
        if reading not in readings:
            readings.append(reading)
    if not readings:
        return f"{shown} is not a date I understand; {_HINT}"
    example = readings[0]
    hint = f"write it like {example.isoformat()} or {_month_day(example)}"
    if len(readings) > 1:
        other = readings[1]
        return (
            f"{shown} is ambiguous ({_month_day(example, full=True)} or "
            f"{_month_day(other, full=True)}?); "
            f"{hint}"
        )
    return f"{shown}: day and month numbers can be read two ways; {hint}"


def weekday_number(text: str) -> int | None:
    """0-6 (Monday-Sunday) when ``text`` is just a weekday name ("fri", "this Friday")."""
    phrase = " ".join(text.lower().split()).removeprefix("this ")
    return _WEEKDAYS.get(phrase)


def _next_weekday(today: dt.date, weekday: int) -> dt.date:
    return today + dt.timedelta(days=(weekday - today.weekday()) % 7)


def _last_of_month(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _month_day(day: dt.date, *, full: bool = False) -> str:
    name = _MONTH_NAMES[day.month - 1]
    return f"{name if full else name[:3]} {day.day}"
