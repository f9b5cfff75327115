"""What a detector is and what it finds."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bot.digests.models import KIND_ORDER, ExceptionItem, ExceptionKind, ItemFacts, Severity
from bot.digests.scope import Observation, Scope, ref
from bot.org.models import Person, Unit

_SEVERITY_RANK: dict[Severity, int] = {"high": 0, "medium": 1, "low": 2}
_KIND_RANK: dict[str, int] = {kind: n for n, kind in enumerate(KIND_ORDER)}


@dataclass(slots=True)
class Candidate:
    """An exception before ranking; only the top ones become ExceptionItems."""

    kind: ExceptionKind
    severity: Severity
    unit: Unit
    # Facts are put together only for the items that make the list: a large organisation
    # has thousands of candidates.
    facts: Callable[[], ItemFacts]
    magnitude: float = 0.0
    owner: Person | None = None
    metric_key: str | None = None
    commitment_id: int | None = None
    escalation_id: int | None = None
    checkin_id: int | None = None

    def rank(self) -> tuple[int, int, float, str]:
        return (_SEVERITY_RANK[self.severity], _KIND_RANK[self.kind], -self.magnitude, self.unit.name)

    def item(self) -> ExceptionItem:
        return ExceptionItem(
            kind=self.kind,
            severity=self.severity,
            unit_key=self.unit.key,
            unit_name=self.unit.name,
            facts=self.facts(),
            owner=ref(self.owner),
            metric_key=self.metric_key,
            commitment_id=self.commitment_id,
            escalation_id=self.escalation_id,
            checkin_id=self.checkin_id,
        )


# A detector finds the exceptions of one kind in the covered week; metric detectors read
# the scorecard's observations, the others the scope's data.
Detector = Callable[[Scope, Sequence[Observation]], Iterable[Candidate]]
