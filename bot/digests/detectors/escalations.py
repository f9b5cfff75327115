"""Escalations that are running (or snoozed) on something the digest does not list
otherwise, such as a commitment overdue in a week the digest does not cover.

The rules (README, "How the digest decides"):

- an escalation whose subject is settled (the check-in submitted or excused, the
  commitment or follow-up closed) is settled too, whatever state the chain is in until
  its next step notices: the digest describes one moment;
- a missed check-in of the covered week is listed once, under "Who reported" (with its
  Acknowledge button), never also as an "Escalation open" item;
- a chain that has sent no message yet is not an item for decision: nobody was chased.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from functools import partial

from bot.checkins.models import CheckIn
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


def running(scope: Scope, esc: Escalation, checkins: dict[int | None, CheckIn]) -> bool:
    """The chain is running and its subject is not settled, as of the digest's moment."""
    if esc.state not in ("active", "snoozed") or esc.id is None:
        return False
    if esc.kind == "missed_checkin":
        checkin = checkins.get(esc.subject_id)
        return checkin is None or checkin.state == "open"
    return scope.commitment_open(esc.subject_id)


def missed_checkin_escalations(scope: Scope) -> dict[int, Escalation]:
    """Check-in id → its running escalation (the "Who reported" entry's Acknowledge)."""
    checkins = {c.id: c for c in scope.data.checkins}
    return {
        esc.subject_id: esc
        for esc in scope.data.escalations
        if esc.kind == "missed_checkin" and running(scope, esc, checkins)
    }


def open_escalation(scope: Scope, _: Sequence[Observation]) -> Iterator[Candidate]:
    checkin_by_id = {c.id: c for c in scope.data.checkins}
    for esc in scope.data.escalations:
        if not running(scope, esc, checkin_by_id) or esc.step == 0:
            continue
        unit = scope.unit_by_id.get(esc.unit_id)
        if unit is None:
            continue
        missed = esc.kind == "missed_checkin"
        checkin = checkin_by_id.get(esc.subject_id) if missed else None
        if checkin is not None and checkin.week == scope.week:
            continue
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
