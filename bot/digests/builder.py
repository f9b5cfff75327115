"""The Monday leadership digest, built from DigestData.  Pure: no I/O, no clock.

The digest is about the week that just ended and is built around exceptions: what is off
target, what moved the wrong way, which promises slipped, what nobody answered.  Each
exception carries the facts its card is written from and the ids its buttons need ("Ask
about this", "Acknowledge"), so every item invites a leader decision.

The parts: scope.py (the week's bounds), scorecard.py (who reported, each unit's
metrics), detectors/ (one per exception kind), promises.py (promised vs delivered) and
cadence.py (cadence health); cards.py writes the words.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from bot.digests.cadence import action_keys, cadence
from bot.digests.data import DigestData
from bot.digests.detectors import detect
from bot.digests.detectors.metrics import BIG_MOVE_SHARE, OFF_TARGET_WEEKS
from bot.digests.models import (
    KIND_ORDER,
    CadenceHealth,
    ChartSeries,
    Digest,
    ExceptionItem,
    ExceptionKind,
    MetricLine,
    Outcome,
    PersonRef,
    PromiseItem,
    ReportingEntry,
    ReportState,
    Severity,
    UnitScore,
    UnreachablePerson,
    without_units,
)
from bot.digests.promises import Histories, promises
from bot.digests.scope import Scope
from bot.digests.scorecard import score
from bot.org.context import OrgContext

# A digest lists at most this many exceptions; the counts always cover all of them.
MAX_EXCEPTIONS = 60
MAX_CHARTS = 9


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Run without the cyclic garbage collector.  A large organisation's digest keeps
    hundreds of thousands of objects alive while it is built (the loaded data, one
    observation and line per metric, one candidate per open commitment), and the
    collector's full passes over them, triggered by nothing but that growth, cost as
    much as the build itself.  Building is pure and makes no reference cycles worth
    collecting; the collector resumes as it was when the digest is done."""
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def build_digest(data: DigestData, *, now: dt.datetime, context: OrgContext) -> Digest:
    with _collector_paused():
        return _build(data, now=now, context=context)


def _build(data: DigestData, *, now: dt.datetime, context: OrgContext) -> Digest:
    scope = Scope.of(data, now=now, context=context)
    scorecard = score(scope)
    candidates = detect(scope, scorecard.observations)
    counts: dict[str, dict[str, int]] = {}
    for found in candidates:
        per_unit = counts.setdefault(found.unit.key, {})
        per_unit[found.kind] = per_unit.get(found.kind, 0) + 1
    candidates.sort(key=lambda c: c.rank())
    nothing_due, since = _nothing_due(scope, scorecard.reporting)
    histories = Histories(scope)
    return Digest(
        week=data.week,
        starts_on=scope.starts_on,
        ends_on=scope.ends_on,
        built_at=now,
        organisation=context.organisation.name,
        reporting=tuple(scorecard.reporting),
        scorecard=tuple(scorecard.units),
        exceptions=tuple(histories.of(c.item()) for c in candidates[:MAX_EXCEPTIONS]),
        exception_counts=counts,
        promises=tuple(promises(scope)),
        cadence=cadence(scope),
        charts=tuple(scorecard.charts[:MAX_CHARTS]),
        restricted_units=tuple(u.key for u in scope.units if u.restricted),
        timezone=context.organisation.timezone,
        nothing_due=nothing_due,
        units_since=since,
        unreachable=tuple(
            UnreachablePerson(email=p.email, name=p.name, reason=p.unreachable)
            for p in sorted(data.people.values(), key=lambda p: p.name)
            if p.active and p.unreachable
        ),
    )


def _nothing_due(
    scope: Scope, reporting: list[ReportingEntry]
) -> tuple[Literal["no_units", "not_asked", "all_excused"] | None, dt.date | None]:
    """Why no check-in was due in the covered week, when none was: an empty week is not
    a good week, and the digest says so."""
    if any(r.state != "excused" for r in reporting):
        return None, None
    if reporting:
        return "all_excused", None
    created = [u.created_at for u in scope.data.units if u.created_at is not None]
    if not scope.units and not created:
        return "no_units", None
    return "not_asked", scope.day(min(created)) if created else None


# The digest's types and rules, importable from here as before.
__all__ = [
    "BIG_MOVE_SHARE",
    "KIND_ORDER",
    "MAX_CHARTS",
    "MAX_EXCEPTIONS",
    "OFF_TARGET_WEEKS",
    "CadenceHealth",
    "ChartSeries",
    "Digest",
    "ExceptionItem",
    "ExceptionKind",
    "MetricLine",
    "Outcome",
    "PersonRef",
    "PromiseItem",
    "ReportState",
    "ReportingEntry",
    "Severity",
    "UnitScore",
    "UnreachablePerson",
    "action_keys",
    "build_digest",
    "without_units",
]
