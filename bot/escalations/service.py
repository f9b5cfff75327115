"""What people do to an escalation, as domain operations: acknowledge it, snooze it, or
finish the commitment it is about.  No permission checks, no commit, no wording.

Two leaders clicking at once both read the chain; each change is a conditional update on
the state, snooze and actor that were read, so one wins and the other gets ``Settled``
with the chain as the winner left it (nothing of theirs written, no audit entry)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from bot.audit import AuditEntry
from bot.commitments import service as commitments
from bot.commitments.models import Commitment
from bot.escalations.models import RUNNING, Escalation, EscalationState
from bot.org.context import OrgContext
from bot.org.models import Person
from bot.ports import UnitOfWork

MAX_SNOOZE_DAYS = 30
# Kinds whose subject is a commitment that can be marked done from the escalation.
FINISHABLE = ("overdue_commitment", "quiet_commitment")


class Settled(Exception):
    """The chain was stopped already (acknowledged, resolved, exhausted); nothing changed."""

    def __init__(self, escalation: Escalation, *, just_now: bool = False) -> None:
        super().__init__(f"escalation {escalation.id} is {escalation.state}")
        self.escalation = escalation
        # Settled by someone else at the same moment (a race lost), not before.
        self.just_now = just_now


async def _stop(
    uow: UnitOfWork,
    escalation: Escalation,
    person: Person,
    now: dt.datetime,
    *,
    state: EscalationState,
    action: str,
    next_step_at: dt.datetime | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    assert escalation.id is not None
    expected = {
        "state": escalation.state,
        "snoozed_until": escalation.snoozed_until,
        "acted_by": escalation.acted_by,
    }
    if state == EscalationState.SNOOZED:
        escalation.snoozed_until = next_step_at
    escalation.state, escalation.next_step_at, escalation.acted_by = state, next_step_at, person.id
    escalation.updated_at = now
    if not await uow.escalations.save_if(escalation, expected):
        fresh = await uow.escalations.reload(escalation.id)
        assert fresh is not None
        raise Settled(fresh, just_now=True)
    await uow.audit.record(
        AuditEntry(
            at=now,
            actor_id=person.id,
            action=action,
            subject=f"escalation:{escalation.id}",
            detail=detail or {},
        )
    )


async def subject_resolved(uow: UnitOfWork, kind: str, subject_id: int, now: dt.datetime) -> None:
    """The subject was just settled (a late check-in came): its running chains end now,
    not at their next step.  Each write is conditional on the state read, so a leader's
    acknowledgement (or snooze) landing meanwhile stays as the leader left it."""
    for escalation in await uow.escalations.for_subject(kind, subject_id):
        if escalation.state not in RUNNING:
            continue
        read = {"state": escalation.state, "acted_by": escalation.acted_by}
        escalation.state, escalation.next_step_at, escalation.updated_at = EscalationState.RESOLVED, None, now
        await uow.escalations.save_if(escalation, read)


async def acknowledge(uow: UnitOfWork, escalation: Escalation, person: Person, now: dt.datetime) -> None:
    if escalation.state not in RUNNING:
        raise Settled(escalation)
    await _stop(
        uow, escalation, person, now, state=EscalationState.ACKNOWLEDGED, action="escalation.acknowledged"
    )


def wake_time(ctx: OrgContext, person: Person, days: int, now: dt.datetime) -> dt.datetime:
    """The start of the person's working day ``days`` days from now."""
    tz = ZoneInfo(person.timezone)
    local_day = now.astimezone(tz).date() + dt.timedelta(days=days)
    wake = dt.datetime.combine(local_day, ctx.calendar.start, tz).astimezone(dt.UTC)
    return ctx.calendar.next_working_moment(wake, person.timezone)


async def snooze(
    uow: UnitOfWork, ctx: OrgContext, escalation: Escalation, person: Person, days: int, now: dt.datetime
) -> dt.datetime:
    """Snooze until the start of a working day; returns when the chain wakes up."""
    if not 1 <= days <= MAX_SNOOZE_DAYS:
        raise ValueError(f"snooze for 1 to {MAX_SNOOZE_DAYS} days, not {days}")
    if escalation.state not in RUNNING:
        raise Settled(escalation)
    wake = wake_time(ctx, person, days, now)
    await _stop(
        uow,
        escalation,
        person,
        now,
        state=EscalationState.SNOOZED,
        action="escalation.snoozed",
        next_step_at=wake,
        detail={"until": wake.isoformat()},
    )
    return wake


async def finish(
    uow: UnitOfWork, escalation: Escalation, commitment: Commitment, person: Person, now: dt.datetime
) -> bool:
    """Mark the commitment done and resolve the chain; False when the commitment was
    closed already (the chain is resolved all the same)."""
    closed = True
    try:
        # Another change of the commitment winning raises commitments.TakenFirst: the
        # turn then writes nothing.
        await commitments.close(uow, commitment, person.id, now, note="done (from an escalation)")
    except commitments.NotOpen:
        closed = False
    try:
        await _stop(uow, escalation, person, now, state=EscalationState.RESOLVED, action="escalation.done")
    except Settled:
        if not closed:
            raise
        # Someone acknowledged or snoozed the chain at the same moment: it is stopped
        # either way, and the commitment is done.
    return closed
