"""Escalations that are running (or snoozed) on something the digest does not list
otherwise, such as a check-in that never came."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from functools import partial

from bot.digests.detectors.base import Candidate
from bot.digests.models import EscalationFacts
from bot.digests.scope import Observation, Scope
from bot.escalations.models import Escalation

# An escalation open longer than this is a high-severity item.
OLD_ESCALATION = dt.timedelta(days=7)


def _facts(scope: Scope, esc: Escalation, week: str | None) -> EscalationFacts:
    snoozed = esc.snoozed_until if esc.state == "snoozed" else None
    return EscalationFacts(
        about=esc.kind,
        subject_id=esc.subject_id,
        week=week,
        since=scope.day(esc.created_at),
        snoozed_until=None if snoozed is None else scope.day(snoozed),
        messages_sent=esc.step,
    )


def open_escalation(scope: Scope, _: Sequence[Observation]) -> Iterator[Candidate]:
    checkin_by_id = {c.id: c for c in scope.data.checkins}
    for esc in scope.data.escalations:
        if esc.state not in ("active", "snoozed") or esc.id is None:
            continue
        unit = scope.unit_by_id.get(esc.unit_id)
        if unit is None:
            continue
        missed = esc.kind == "missed_checkin"
        checkin = checkin_by_id.get(esc.subject_id) if missed else None
        yield Candidate(
            kind="open_escalation",
            severity="high" if scope.now - esc.created_at > OLD_ESCALATION else "medium",
            unit=unit,
            facts=partial(_facts, scope, esc, checkin.week if checkin else None),
            magnitude=(scope.now - esc.created_at).total_seconds(),
            owner=scope.person(unit.head_id),
            escalation_id=esc.id,
            checkin_id=esc.subject_id if missed else None,
            commitment_id=None if missed else esc.subject_id,
        )
