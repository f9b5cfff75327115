"""Exceptions about promises: commitments overdue, gone quiet or due this week, and
leaders' follow-up questions nobody answered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from functools import partial

from bot.commitments.models import Commitment
from bot.digests.detectors.base import Candidate
from bot.digests.models import CommitmentFacts, FollowupFacts
from bot.digests.scope import Observation, Scope, ref
from bot.org.models import Unit

# The kinds that are about one commitment (an escalation on it joins the same item).
KINDS = ("overdue_commitment", "quiet_commitment", "due_this_week", "unanswered_followup")


def _open(scope: Scope, *, followups: bool) -> Iterator[tuple[Commitment, Unit]]:
    for c in scope.data.commitments:
        unit = scope.unit_by_id.get(c.unit_id)
        if unit is None or c.id is None or c.status != "open" or (c.origin == "followup") != followups:
            continue
        yield c, unit


def _facts(c: Commitment, days: int = 0) -> CommitmentFacts:
    assert c.id is not None
    return CommitmentFacts(commitment_id=c.id, title=c.text, due_on=c.due_on, days=days)


def _quiet(scope: Scope, c: Commitment, unit: Unit) -> bool:
    return c.updated_at < scope.now - dt.timedelta(days=scope.quiet_days(unit))


def overdue_commitment(scope: Scope, _: Sequence[Observation]) -> Iterator[Candidate]:
    for c, unit in _open(scope, followups=False):
        if c.due_on < scope.today:
            days = (scope.today - c.due_on).days
            yield Candidate(
                kind="overdue_commitment",
                severity="high" if days > 7 else "medium",
                unit=unit,
                facts=partial(_facts, c, days),
                magnitude=days,
                owner=scope.person(c.owner_id),
                commitment_id=c.id,
            )


def quiet_commitment(scope: Scope, _: Sequence[Observation]) -> Iterator[Candidate]:
    # An overdue commitment is overdue, whether or not it has gone quiet too.
    for c, unit in _open(scope, followups=False):
        if c.due_on >= scope.today and _quiet(scope, c, unit):
            days = (scope.now - c.updated_at).days
            yield Candidate(
                kind="quiet_commitment",
                severity="medium",
                unit=unit,
                facts=partial(_facts, c, days),
                magnitude=days,
                owner=scope.person(c.owner_id),
                commitment_id=c.id,
            )


def due_this_week(scope: Scope, _: Sequence[Observation]) -> Iterator[Candidate]:
    for c, unit in _open(scope, followups=False):
        if scope.today <= c.due_on <= scope.this_sunday and not _quiet(scope, c, unit):
            yield Candidate(
                kind="due_this_week",
                severity="low",
                unit=unit,
                facts=partial(_facts, c),
                magnitude=-(c.due_on - scope.today).days,
                owner=scope.person(c.owner_id),
                commitment_id=c.id,
            )


def _followup_facts(scope: Scope, c: Commitment) -> FollowupFacts:
    asker = scope.person(c.asked_by) if c.asked_by else None
    return FollowupFacts(question=c.text, due_on=c.due_on, asked_by=ref(asker), late=c.due_on < scope.today)


def unanswered_followup(scope: Scope, _: Sequence[Observation]) -> Iterator[Candidate]:
    metric_key_of = {m.id: m.key for m in scope.data.metrics}
    for c, unit in _open(scope, followups=True):
        if c.answer is not None:
            continue
        yield Candidate(
            kind="unanswered_followup",
            severity="high" if c.due_on < scope.today else "medium",
            unit=unit,
            facts=partial(_followup_facts, scope, c),
            magnitude=(scope.today - c.due_on).days,
            owner=scope.person(c.owner_id),
            commitment_id=c.id,
            metric_key=metric_key_of.get(c.metric_id) if c.metric_id else None,
        )
