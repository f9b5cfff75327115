"""The leader attention ledger: each leader's own follow-through, over 4 and 12 weeks.

If the leaders send their deputies, everyone sends their deputies: the ledger counts,
per leader, the sessions they were scheduled to chair and how many were held, chaired
in person or handed to someone else, and cancelled; how many memos went out on time;
the median time from an escalation about one of their units starting to their first
action on it; and the follow-up questions they asked and got answered.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from bot.calendar import WorkCalendar
from bot.commitments.models import CommitmentStatus
from bot.escalations.models import EscalationState
from bot.org.models import Person
from bot.ports import UnitOfWork
from bot.sessions.models import DocumentKind, DocumentState, SessionState
from bot.sessions.schedule import approval_due

WINDOWS = (4, 12)
# The states in which a leader has acted on a chain (stopped it or put it off).
_ACTED = (EscalationState.ACKNOWLEDGED, EscalationState.SNOOZED, EscalationState.RESOLVED)


@dataclass(frozen=True, slots=True)
class LedgerFigures:
    weeks: int
    scheduled: int  # sessions they were scheduled to chair that have begun (or were cancelled)
    held: int
    in_person: int
    delegated: int
    cancelled: int
    memos_due: int
    memos_on_time: int
    escalations: int  # chains about their units started in the window
    acted_on: int
    median_hours_to_act: float | None
    asked: int
    answered: int


async def figures(
    uow: UnitOfWork, leader: Person, now: dt.datetime, weeks: int, calendar: WorkCalendar
) -> LedgerFigures:
    assert leader.id is not None
    since = now - dt.timedelta(weeks=weeks)
    sessions = [
        s
        for s in await uow.sessions.between(since, now)
        if leader.id in (s.scheduled_chair_id, s.chair_id) and not s.withdrawn
    ]
    theirs = [s for s in sessions if s.scheduled_chair_id == leader.id]
    held = [s for s in sessions if s.state == SessionState.CLOSED]
    chaired = [s for s in held if s.chair_id == leader.id]
    memos = {
        m.session_id: m
        for m in await uow.session_documents.for_sessions(
            [s.id for s in chaired if s.id is not None], DocumentKind.MEMO
        )
    }
    on_time = 0
    for s in chaired:
        memo = memos.get(s.id or 0)
        if memo is not None and memo.state == DocumentState.SENT and memo.sent_at is not None and s.closed_at:
            on_time += memo.sent_at <= approval_due(s.closed_at, calendar, leader.timezone)
    units = [u.id for u in await uow.units.all() if u.leader_id == leader.id and u.id is not None]
    chains = await uow.escalations.started_since(since, units)
    acted = [e for e in chains if e.acted_by == leader.id and e.state in _ACTED]
    hours = [(e.updated_at - e.created_at).total_seconds() / 3600 for e in acted]
    questions = await uow.commitments.asked_by(leader.id, since)
    return LedgerFigures(
        weeks=weeks,
        scheduled=len(theirs),
        held=len([s for s in theirs if s.state == SessionState.CLOSED]),
        in_person=len([s for s in theirs if s.state == SessionState.CLOSED and s.chair_id == leader.id]),
        delegated=len([s for s in theirs if s.state == SessionState.CLOSED and s.chair_id != leader.id]),
        cancelled=len([s for s in theirs if s.state == SessionState.CANCELLED]),
        memos_due=len(chaired),
        memos_on_time=on_time,
        escalations=len(chains),
        acted_on=len(acted),
        median_hours_to_act=statistics.median(hours) if hours else None,
        asked=len(questions),
        answered=len([q for q in questions if q.status == CommitmentStatus.DONE and q.answer]),
    )
