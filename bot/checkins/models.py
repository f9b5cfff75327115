"""Check-ins and readings as stored."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class CheckInState(StrEnum):
    """Where a unit's weekly check-in stands; the values are what the database stores."""

    OPEN = "open"
    SUBMITTED = "submitted"  # on time or late: see CheckIn.late
    EXCUSED = "excused"  # holiday, or away with no deputy


@dataclass(slots=True)
class CheckIn:
    unit_id: int
    week: str
    state: CheckInState
    opened_at: dt.datetime
    deadline_at: dt.datetime
    # Who was asked: the head, or the deputy standing in for an away head.
    respondent_id: int | None = None
    reminders_sent: int = 0
    next_reminder_at: dt.datetime | None = None
    last_reminded_at: dt.datetime | None = None
    submitted_at: dt.datetime | None = None
    submitted_by: int | None = None
    late: bool = False
    excuse: str | None = None
    # Values typed but not yet submitted, by input name, kept verbatim.
    draft: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


@dataclass(slots=True)
class Reading:
    unit_id: int
    metric_id: int
    week: str
    value: float
    updated_at: dt.datetime
    updated_by: int | None
    note: str = ""
    # The value was confirmed after the data check asked about it.
    confirmed_outlier: bool = False
    id: int | None = None


@dataclass(slots=True)
class ReadingRevision:
    reading_id: int
    value: float
    previous_value: float | None
    changed_at: dt.datetime
    changed_by: int | None
    note: str = ""
    id: int | None = None
