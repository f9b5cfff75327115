"""Exceptions about metrics: off target for weeks, a big move the wrong way, a value
confirmed despite the data check."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from bot.digests.detectors.base import Candidate
from bot.digests.models import ExceptionKind, ItemFacts, MetricFacts, MetricRef, Severity
from bot.digests.scope import Observation, Scope

# A metric off target (amber or red) this many weeks running is one item.
OFF_TARGET_WEEKS = 3
# A move against the metric's direction counts as big when it is at least this share of
# last week's value (and at least the metric's amber band).
BIG_MOVE_SHARE = 0.10


def _facts(observation: Observation, window: int) -> ItemFacts:
    metric = observation.metric
    reading = observation.reading
    return MetricFacts(
        metric=MetricRef(
            name=metric.name, measure=metric.measure, direction=metric.direction, target=metric.target
        ),
        value=observation.value,
        before=observation.before,
        streak=observation.streak,
        whole_window=observation.streak == window,
        worse=observation.worse,
        note=reading.note if reading else "",
        target_changes=observation.target_changes,
    )


def _candidate(
    o: Observation, scope: Scope, kind: ExceptionKind, severity: Severity, magnitude: float = 0.0
) -> Candidate:
    window = len(scope.data.weeks)
    return Candidate(
        kind=kind,
        severity=severity,
        unit=o.unit,
        facts=lambda: _facts(o, window),
        magnitude=magnitude,
        owner=o.head,
        metric_key=o.metric.key,
    )


def off_target_streak(scope: Scope, observations: Sequence[Observation]) -> Iterator[Candidate]:
    # A worsening streak is one item, not a streak and a big move.
    for o in observations:
        if o.streak >= OFF_TARGET_WEEKS:
            severity: Severity = "high" if o.status == "red" else "medium"
            yield _candidate(o, scope, "off_target_streak", severity, o.streak)


def big_move(scope: Scope, observations: Sequence[Observation]) -> Iterator[Candidate]:
    for o in observations:
        # A move the wrong way that still lands on target needs no decision.
        if o.change is None or o.before is None or not o.worse or o.streak >= OFF_TARGET_WEEKS:
            continue
        if o.status == "green":
            continue
        adverse = abs(o.change)
        share = adverse / abs(o.before) if o.before else float("inf")
        if adverse >= o.metric.amber and share >= BIG_MOVE_SHARE:
            severity: Severity = "high" if o.status == "red" else "medium"
            yield _candidate(o, scope, "big_move", severity, min(share, 1e9))


def confirmed_outlier(scope: Scope, observations: Sequence[Observation]) -> Iterator[Candidate]:
    for o in observations:
        if o.reading is not None and o.reading.confirmed_outlier:
            yield _candidate(o, scope, "confirmed_outlier", "medium")
