"""Which target judges which week.

A metric's target, amber band and direction can change; the weeks already reported must
not change with them.  Every change is kept as a ``MetricTarget`` that applies from an
ISO week on (the week, in the unit's zone, in which the org file changed it), and each
week is judged by the target that applied in that week.  A week before a metric's first
recorded target is judged by that first target: there was no other.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.org.models import Metric


@dataclass(slots=True)
class MetricTarget:
    """One entry of a metric's target history (append-only)."""

    metric_id: int
    target: float
    amber: float
    direction: str
    # The first ISO week (``2026-W49``) this target applies to.
    valid_from: str
    recorded_at: dt.datetime
    id: int | None = None

    @classmethod
    def of(cls, metric: Metric, *, valid_from: str, recorded_at: dt.datetime) -> MetricTarget:
        assert metric.id is not None
        return cls(
            metric_id=metric.id,
            target=metric.target,
            amber=metric.amber,
            direction=metric.direction,
            valid_from=valid_from,
            recorded_at=recorded_at,
        )

    def judges_like(self, metric: Metric) -> bool:
        return (self.target, self.amber, self.direction) == (metric.target, metric.amber, metric.direction)


@dataclass(frozen=True, slots=True)
class TargetChange:
    """A metric's target moved: from ``before`` to ``after``, from ``week`` on."""

    metric_id: int
    before: float
    after: float
    week: str
    recorded_at: dt.datetime


def _order(entry: MetricTarget) -> tuple[str, dt.datetime, int]:
    # Two changes in one week: the later one is what that week is judged by.
    return (entry.valid_from, entry.recorded_at, entry.id or 0)


class TargetHistory:
    """Every metric's targets, oldest first, to judge any week by its own target."""

    def __init__(self, entries: Iterable[MetricTarget] = ()) -> None:
        by_metric: dict[int, list[MetricTarget]] = defaultdict(list)
        for entry in entries:
            by_metric[entry.metric_id].append(entry)
        self._entries = {m: sorted(rows, key=_order) for m, rows in by_metric.items()}
        self._weeks = {m: [row.valid_from for row in rows] for m, rows in self._entries.items()}

    def entries(self, metric_id: int) -> Sequence[MetricTarget]:
        return self._entries.get(metric_id, ())

    def in_week(self, metric: Metric, week: str) -> Metric:
        """``metric`` as it was judged in ``week``: that week's target, amber band and
        direction (the metric itself when nothing else applied)."""
        rows = self._entries.get(metric.id or 0)
        if not rows:
            return metric
        index = bisect.bisect_right(self._weeks[metric.id or 0], week) - 1
        entry = rows[max(index, 0)]
        if entry.judges_like(metric):
            return metric
        return dataclasses.replace(metric, target=entry.target, amber=entry.amber, direction=entry.direction)

    def over(self, metric: Metric, weeks: Sequence[str]) -> tuple[Metric, ...]:
        """``metric`` as judged in each of ``weeks``."""
        rows = self._entries.get(metric.id or 0)
        if rows is None or (len(rows) == 1 and rows[0].judges_like(metric)):
            return (metric,) * len(weeks)
        return tuple(self.in_week(metric, w) for w in weeks)

    def changes(self, metric_id: int, weeks: Sequence[str]) -> list[TargetChange]:
        """The target changes that took effect within ``weeks`` (oldest first); a change
        of the amber band or the direction alone is not one."""
        if not weeks:
            return []
        first, last = weeks[0], weeks[-1]
        found = []
        rows = self._entries.get(metric_id, [])
        for before, after in itertools.pairwise(rows):
            if before.target != after.target and first <= after.valid_from <= last:
                found.append(
                    TargetChange(
                        metric_id=metric_id,
                        before=before.target,
                        after=after.target,
                        week=after.valid_from,
                        recorded_at=after.recorded_at,
                    )
                )
        return found
