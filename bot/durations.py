"""Durations as people write them in the org file: ``30m``, ``4h``, ``2d``, ``1w``."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import partial

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str | int | float) -> dt.timedelta:
    """Parse ``1d 4h`` style durations; a bare number is hours.  ValueError explains."""
    if isinstance(text, bool):
        raise ValueError("must be a duration like 4h, 2d or 1w")
    if isinstance(text, int | float):
        if text != text:  # NaN
            raise ValueError("must be a duration like 4h, 2d or 1w")
        if text < 0:
            raise ValueError(f"{text!r} is negative; a duration is 0 or more")
        return _bounded(text, lambda: dt.timedelta(hours=float(text)))
    cleaned = text.strip().lower().replace(" ", "")
    if cleaned in ("0", "0h", "0m", "0d", "now"):
        return dt.timedelta(0)
    pos, total = 0, dt.timedelta(0)
    for match in _PART.finditer(cleaned):
        if match.start() != pos:
            break
        amount, unit = float(match.group(1)), _UNITS[match.group(2)]
        total += _bounded(text, partial(_delta, unit, amount))
        pos = match.end()
    if pos != len(cleaned) or not cleaned:
        raise ValueError(f"{text!r} is not a duration; write it like 4h, 2d, 1w or 1d 12h")
    if total > MAX:
        raise ValueError(f"{text!r} is longer than a year")
    return total


MAX = dt.timedelta(days=366)


def _delta(unit: str, amount: float) -> dt.timedelta:
    return dt.timedelta(**{unit: amount})


def _bounded(text: object, build: Callable[[], dt.timedelta]) -> dt.timedelta:
    """Build a duration, refusing absurd ones (timedelta overflows past 999,999,999 days,
    and nothing in statbot waits longer than a year)."""
    try:
        value = build()
    except (OverflowError, ValueError):
        raise ValueError(f"{text!r} is longer than a year") from None
    if value > MAX or value < -MAX:
        raise ValueError(f"{text!r} is longer than a year")
    return value


def format_duration(delta: dt.timedelta) -> str:
    """A short human form: ``3 days``, ``5 hours``, ``40 minutes``."""
    seconds = int(delta.total_seconds())
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} days"
    if seconds >= 86400:
        return "1 day"
    if seconds >= 7200:
        return f"{seconds // 3600} hours"
    if seconds >= 3600:
        return "1 hour"
    return f"{max(seconds // 60, 0)} minutes"
