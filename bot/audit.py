"""The append-only audit log: who did what, when."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class AuditEntry:
    at: dt.datetime
    actor_id: int | None
    action: str
    subject: str
    detail: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
