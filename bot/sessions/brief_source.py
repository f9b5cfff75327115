"""What a session's brief needs from storage, in a fixed number of statements however
much history the organisation has: the session, its unit, the unit's metrics, readings
and commitments of the window, and what the unit's last closed session captured."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from bot.checkins.models import Reading
from bot.commitments.models import Commitment
from bot.org.models import Metric, Person, Unit
from bot.org.targets import MetricTarget
from bot.sessions.models import SessionItem, StatSession


@dataclass(slots=True)
class BriefData:
    session: StatSession
    unit: Unit
    # The weeks loaded, oldest first, ending with the last full week before the brief.
    weeks: list[str]
    # The people the brief names (chairs, attendees, owners, askers, the unit's people).
    people: dict[int, Person] = field(default_factory=dict)
    metrics: list[Metric] = field(default_factory=list)
    targets: list[MetricTarget] = field(default_factory=list)
    # Every reading of the unit in ``weeks`` (values, the unit's notes, confirmations).
    readings: list[Reading] = field(default_factory=list)
    # The unit's open commitments, those closed or asked within the window, and those
    # the last session's promises name.
    commitments: list[Commitment] = field(default_factory=list)
    # The unit's latest session closed before this one began, and what it captured.
    last: StatSession | None = None
    items: list[SessionItem] = field(default_factory=list)


class BriefSource(Protocol):
    async def load(self, *, session_id: int, week: str, weeks_back: int = 12) -> BriefData | None:
        """Everything for the brief of ``session_id``, looking back from ``week``; None
        when there is no such session (or its unit is gone)."""
        ...
