"""The organisation as stored: people, units, metrics and the settings of the org file."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

Measure = Literal["count", "days", "percent", "dollars", "hours", "number"]
Direction = Literal["higher", "lower"]
Role = Literal["admin", "leader", "analyst"]


@dataclass(slots=True)
class Person:
    email: str
    name: str
    timezone: str
    roles: list[str] = field(default_factory=list)
    slack_user_id: str | None = None
    slack_dm_channel: str | None = None
    teams_user_id: str | None = None
    # Bot Framework ConversationReference as JSON, stored to send proactive messages.
    teams_conversation: dict[str, Any] | None = None
    active: bool = True
    # Why the bot cannot reach this person on its platform (e.g. no Slack user with this
    # e-mail); shown in `statbot org apply` and in the digest, never silently skipped.
    unreachable: str | None = None
    id: int | None = None

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def is_leader(self) -> bool:
        return "leader" in self.roles or "admin" in self.roles


@dataclass(slots=True)
class AwayPeriod:
    person_id: int
    starts_on: dt.date
    ends_on: dt.date
    note: str = ""
    id: int | None = None

    def covers(self, day: dt.date) -> bool:
        return self.starts_on <= day <= self.ends_on


@dataclass(slots=True)
class Unit:
    key: str
    name: str
    timezone: str
    head_id: int
    leader_id: int
    deputy_id: int | None = None
    # ISO weekday numbers, 1 = Monday.
    checkin_weekday: int = 4
    checkin_time: dt.time = dt.time(9, 0)
    deadline_weekday: int = 5
    deadline_time: dt.time = dt.time(17, 0)
    restricted: bool = False
    escalation_policy: str | None = None
    active: bool = True
    # Check-ins are never opened for weeks that began before the unit existed.
    created_at: dt.datetime | None = None
    id: int | None = None


@dataclass(slots=True)
class Metric:
    unit_id: int
    key: str
    name: str
    measure: str
    direction: str
    target: float
    minimum: float | None = None
    maximum: float | None = None
    amber: float = 0.0
    active: bool = True
    position: int = 0
    id: int | None = None

    @property
    def integer(self) -> bool:
        return self.measure in ("count", "days")


@dataclass(slots=True)
class OrgSettings:
    """Organisation-wide settings from the org file; one row."""

    name: str
    timezone: str
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    # Everything else of the org file's `organisation` section (digest schedule and
    # audience, leadership channel, working hours, data-check factor), as validated JSON.
    options: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


@dataclass(slots=True)
class StoredPolicy:
    """An escalation policy from the org file, stored as validated JSON."""

    name: str
    definition: dict[str, Any]
    id: int | None = None
