"""Cadence health: is the weekly practice alive?  Check-ins on time over the last weeks,
leaders' follow-ups answered, leader actions, and whether last week's items got one."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from bot.digests.data import LEADER_ACTIONS
from bot.digests.models import CadenceHealth
from bot.digests.scope import Scope, report_state
from bot.escalations.models import Escalation
from bot.sessions.models import DocumentState, SessionState
from bot.sessions.schedule import approval_due
from bot.weeks import shift_week

# The cadence looks at this many weeks, up to the covered one.
CADENCE_WEEKS = 4


def action_keys(subject: str, detail: dict[str, object], escalations: dict[int, Escalation]) -> set[str]:
    """What a leader action refers to: its subject (``escalation:12``), the ids in its
    detail, and for an escalation the commitment or check-in it was about."""
    keys = {subject}
    for name in ("escalation", "commitment", "checkin"):
        if detail.get(name) is not None:
            keys.add(f"{name}:{detail[name]}")
    if detail.get("unit") is not None and detail.get("metric") is not None:
        keys.add(f"metric:{detail['unit']}/{detail['metric']}")
    for key in list(keys):
        kind, _, ident = key.partition(":")
        if kind == "escalation" and ident.isdigit() and int(ident) in escalations:
            keys.add(_subject_key(escalations[int(ident)]))
    return keys


def _subject_key(escalation: Escalation) -> str:
    if escalation.kind == "missed_checkin":
        return f"checkin:{escalation.subject_id}"
    return f"commitment:{escalation.subject_id}"


def cadence(scope: Scope) -> CadenceHealth:
    data, now = scope.data, scope.now
    weeks = tuple(shift_week(data.week, -n) for n in range(CADENCE_WEEKS - 1, -1, -1))
    # Restricted units stay out of the organisation-wide totals: the digest without them
    # (the channel's) must not reveal them through a count.
    unit_ids = {u.id for u in scope.units if not u.restricted}
    states = Counter(report_state(c) for c in data.checkins if c.week in weeks and c.unit_id in unit_ids)
    due = states["on_time"] + states["late"] + states["missing"]
    window_start = scope.week_start - dt.timedelta(weeks=CADENCE_WEEKS - 1)
    asked = [
        c
        for c in data.commitments
        if c.origin == "followup" and c.unit_id in unit_ids and window_start <= c.created_at < now
    ]
    answered = [c for c in asked if c.answer is not None]
    waiting = [c for c in asked if c.answer is None and c.status == "open" and c.due_on >= scope.today]
    actions = [a for a in data.actions if a.action in LEADER_ACTIONS and scope.week_start <= a.at < now]
    escalations = {e.id: e for e in data.escalations if e.id is not None}
    acted: set[str] = set()
    for action in actions:
        acted |= action_keys(action.subject, action.detail, escalations)
    flagged = data.previously_flagged
    sessions = [
        s
        for s in data.sessions
        if s.unit_id in unit_ids and window_start <= s.starts_at < now and not s.withdrawn
    ]
    held = [s for s in sessions if s.state == SessionState.CLOSED and s.closed_at is not None]
    sent = {m.session_id: m.sent_at for m in data.memos if m.state == DocumentState.SENT and m.sent_at}
    calendar, tz = scope.context.calendar, scope.context.organisation.timezone
    memos_on_time = sum(
        1
        for s in held
        if s.id in sent and s.closed_at is not None and sent[s.id] <= approval_due(s.closed_at, calendar, tz)
    )
    return CadenceHealth(
        weeks=weeks,
        checkins_due=due,
        checkins_on_time=states["on_time"],
        followups_asked=len(asked),
        followups_answered=len(answered),
        followups_waiting=len(waiting),
        leader_actions=len(actions),
        flagged_last_week=len(flagged) if flagged else None,
        flagged_acted_on=sum(1 for keys in flagged if acted & set(keys)) if flagged else None,
        sessions_scheduled=len(sessions),
        sessions_held=len(held),
        sessions_cancelled=sum(1 for s in sessions if s.state == SessionState.CANCELLED),
        memos_on_time=memos_on_time,
    )
