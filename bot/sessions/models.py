"""A stat session as stored."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class SessionState(StrEnum):
    """Where a session stands; the values are what the database stores."""

    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    CLOSED = "closed"  # held and ended by its chair


@dataclass(slots=True)
class StatSession:
    unit_id: int
    starts_at: dt.datetime
    minutes: int
    # Who chairs it now, and who the schedule named: they differ after a delegation.
    chair_id: int
    scheduled_chair_id: int
    state: SessionState
    created_at: dt.datetime
    updated_at: dt.datetime
    # The org file's series it was planned from; None for one scheduled by hand.
    series: str | None = None
    attendees: list[int] = field(default_factory=list)
    created_by: int | None = None
    cancelled_by: int | None = None
    cancel_reason: str | None = None
    id: int | None = None

    @property
    def delegated(self) -> bool:
        return self.chair_id != self.scheduled_chair_id
