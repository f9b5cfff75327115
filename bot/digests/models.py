"""A built digest: one per audience and week."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class DigestRecord:
    audience: str
    week: str
    built_at: dt.datetime
    content: dict[str, Any] = field(default_factory=dict)
    posted_at: dt.datetime | None = None
    id: int | None = None
