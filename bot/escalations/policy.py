"""Escalation policies: what the org file says, and the pure step maths."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from bot.durations import parse_duration

Kind = Literal["missed_checkin", "overdue_commitment", "quiet_commitment", "unanswered_followup"]
KINDS: tuple[Kind, ...] = (
    "missed_checkin",
    "overdue_commitment",
    "quiet_commitment",
    "unanswered_followup",
)
Recipient = Literal["owner", "deputy", "leader", "channel"]
# A commitment with no update for this many days has "gone quiet", unless the unit's
# escalation policy says otherwise.
DEFAULT_QUIET_AFTER_DAYS = 14


def _duration(value: object) -> dt.timedelta:
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, str | int | float):
        return parse_duration(value)
    raise ValueError("must be a duration like 4h, 2d or 1w")


Duration = Annotated[
    dt.timedelta,
    BeforeValidator(_duration),
    PlainSerializer(lambda d: f"{int(d.total_seconds() // 60)}m", return_type=str),
]


class Step(BaseModel):
    """Wait this long after the previous step (or after the item went quiet), then
    notify this recipient."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    wait: Duration
    notify: Recipient


class Chain(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    steps: tuple[Step, ...] = Field(min_length=1)
    # After the last step, repeat it every `repeat_every`, at most `repeat_times` times.
    repeat_every: Duration | None = None
    repeat_times: int = Field(default=0, ge=0, le=10)


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    # A commitment with no update for this many days has "gone quiet".
    quiet_after_days: int = Field(default=DEFAULT_QUIET_AFTER_DAYS, ge=1, le=365)
    chains: dict[Kind, Chain]
