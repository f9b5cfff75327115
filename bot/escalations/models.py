"""An escalation chain's stored state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

EscalationKind = Literal["missed_checkin", "overdue_commitment", "quiet_commitment", "unanswered_followup"]
EscalationState = Literal["active", "acknowledged", "snoozed", "resolved", "exhausted"]


@dataclass(slots=True)
class Escalation:
    kind: str
    subject_id: int
    unit_id: int
    # Distinguishes successive chains on the same subject (e.g. a due date moved).
    episode: str
    policy: dict[str, Any]
    state: str
    step: int
    next_step_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    snoozed_until: dt.datetime | None = None
    acted_by: int | None = None
    notified: list[int] = field(default_factory=list)
    id: int | None = None
