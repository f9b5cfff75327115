"""The raw material of a digest, loaded in bulk (see bot/digests/ports.py).

Everything the builder needs for one week arrives here at once, so building is pure and
the number of queries does not depend on the size of the organisation.  Readings of the
window come as compact points rather than full records: a large organisation has tens of
thousands of them and the digest only needs the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.audit import AuditEntry
from bot.checkins.models import CheckIn, Reading
from bot.commitments.models import Commitment
from bot.escalations.models import Escalation
from bot.org.models import Metric, Person, Unit
from bot.org.targets import MetricTarget
from bot.sessions.models import SessionDocument, StatSession

# The leader actions the cadence counts (written to the audit log by their handlers).
LEADER_ACTIONS: tuple[str, ...] = (
    "escalation.acknowledged",
    "escalation.snoozed",
    "escalation.done",
    "followup.asked",
)


@dataclass(slots=True)
class DigestData:
    # The week the digest covers, and the window of weeks loaded for trends (oldest
    # first, ending with ``week``).
    week: str
    weeks: list[str]
    people: dict[int, Person] = field(default_factory=dict)
    units: list[Unit] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)
    # The target history of ``metrics`` (each week is judged by its own target).
    targets: list[MetricTarget] = field(default_factory=list)
    # metric id → week → value, for every week of ``weeks``.
    values: dict[int, dict[str, float]] = field(default_factory=dict)
    # The readings of ``week`` that carry a note or were confirmed despite the data check
    # (the values themselves are in ``values``).
    readings: list[Reading] = field(default_factory=list)
    # Check-ins of the last four weeks up to ``week`` (the cadence).
    checkins: list[CheckIn] = field(default_factory=list)
    # Open commitments and follow-ups, those closed or due lately, follow-ups asked in
    # the last four weeks.
    commitments: list[Commitment] = field(default_factory=list)
    # Open escalations, and those that changed since the covered week began (a leader's
    # acknowledgement closes one, and the cadence wants to know what it was about).
    escalations: list[Escalation] = field(default_factory=list)
    # Leader actions (LEADER_ACTIONS) from the covered week on.
    actions: list[AuditEntry] = field(default_factory=list)
    # What the previous week's digest flagged: per item, the keys a leader action on it
    # would name (see builder.ExceptionItem.keys).
    previously_flagged: list[list[str]] = field(default_factory=list)
    # Stat sessions that began in the cadence window, and their memos.
    sessions: list[StatSession] = field(default_factory=list)
    memos: list[SessionDocument] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
