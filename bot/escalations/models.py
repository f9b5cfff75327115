"""An escalation chain's stored state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

EscalationKind = Literal["missed_checkin", "overdue_commitment", "quiet_commitment", "unanswered_followup"]


class EscalationState(StrEnum):
    """Where an escalation chain stands; the values are what the database stores."""

    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"
    EXHAUSTED = "exhausted"  # every step taken, nobody acted


# The states in which a chain still takes steps (a snoozed one wakes up).
RUNNING = (EscalationState.ACTIVE, EscalationState.SNOOZED)


@dataclass(slots=True)
class Escalation:
    kind: str
    subject_id: int
    unit_id: int
    # Distinguishes successive chains on the same subject (e.g. a due date moved).
    episode: str
    policy: dict[str, Any]
    state: EscalationState
    step: int
    next_step_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    snoozed_until: dt.datetime | None = None
    acted_by: int | None = None
    notified: list[int] = field(default_factory=list)
    id: int | None = None
