"""Durations as people write them in the org file: ``30m``, ``4h``, ``2d``, ``1w``."""

from __future__ import annotations

import datetime as dt
import re

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str | int | float) -> dt.timedelta:
    """Parse ``1d 4h`` style durations; a bare number is hours.  ValueError explains."""
    if isinstance(text, bool):
        raise ValueError("must be a duration like 4h, 2d or 1w")
    if isinstance(text, int | float):
        return dt.timedelta(hours=float(text))
    cleaned = text.strip().lower().replace(" ", "")
    if cleaned in ("0", "0h", "0m", "0d", "now"):
        return dt.timedelta(0)
    pos, total = 0, dt.timedelta(0)
    for match in _PART.finditer(cleaned):
        if match.start() != pos:
            break
        total += dt.timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
        pos = match.end()
    if pos != len(cleaned) or not cleaned:
        raise ValueError(f"{text!r} is not a duration; write it like 4h, 2d, 1w or 1d 12h")
    return total


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
