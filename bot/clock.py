"""Where "now" comes from.  Code never calls datetime.now() directly, so tests and the
demo can move time."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

UTC = dt.UTC


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current instant, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to (tests, the console's /clock, the demo)."""

    def __init__(self, start: dt.datetime) -> None:
        self._now = ensure_utc(start)

    def now(self) -> dt.datetime:
        return self._now

    def set(self, instant: dt.datetime) -> None:
        self._now = ensure_utc(instant)

    def advance(self, delta: dt.timedelta) -> None:
        self._now += delta


def ensure_utc(instant: dt.datetime) -> dt.datetime:
    """Refuse naive datetimes: a naive time is a bug waiting for a DST change."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant!r}: statbot only handles aware times")
    return instant.astimezone(UTC)


class LaterOf:
    """The later of two clocks' times (a pretended instant never runs behind real time)."""

    def __init__(self, first: Clock, second: Clock) -> None:
        self.first, self.second = first, second

    def now(self) -> dt.datetime:
        return max(self.first.now(), self.second.now())
