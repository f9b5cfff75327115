"""What people do with an escalation: acknowledge it, snooze it, or finish the item."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.audit import AuditEntry
from bot.commitments import service as commitments
from bot.escalations.models import RUNNING, Escalation, EscalationState
from bot.escalations.subject import subject_of
from bot.messages import Reply
from bot.messages.text import possessive
from bot.org.context import load_context
from bot.org.models import Person, Unit
from bot.permissions import NotAllowed, is_unit_member
from bot.ports import UnitOfWork

MAX_SNOOZE_DAYS = 30


def may_call_off(person: Person, unit: Unit) -> bool:
    """Acknowledging or snoozing stops the chain, so it is a leader's decision: the head
    or deputy who owes the item cannot silence their own escalation."""
    return person.is_leader or person.id == unit.leader_id


async def _load(
    uow: UnitOfWork, person: Person, escalation_id: int, now: dt.datetime, *, call_off: bool = True
) -> tuple[Escalation, Unit, str]:
    escalation = await uow.escalations.get(escalation_id)
    if escalation is None:
        raise NotAllowed("That escalation no longer exists.")
    unit = await uow.units.get(escalation.unit_id)
    assert unit is not None
    if call_off and not may_call_off(person, unit):
        raise NotAllowed(
            "Only leaders can acknowledge or snooze an escalation; "
            f"{possessive(unit.name)} people stop it by getting the item done."
        )
    if not call_off and not (may_call_off(person, unit) or is_unit_member(person, unit)):
        raise NotAllowed(f"Only {possessive(unit.name)} people and leaders can act on this.")
    subject = await subject_of(uow, escalation, now)
    return escalation, unit, subject.title if subject else "this item"


async def acknowledge(uow: UnitOfWork, person: Person, escalation_id: int, now: dt.datetime) -> Reply:
    escalation, _, title = await _load(uow, person, escalation_id, now)
    if escalation.state not in RUNNING:
        return Reply.text(f"Already {escalation.state}: {title}.")
    escalation.state, escalation.next_step_at = EscalationState.ACKNOWLEDGED, None
    escalation.acted_by = person.id
    escalation.updated_at = now
    await uow.escalations.save(escalation)
    await uow.audit.record(
        AuditEntry(
            at=now,
            actor_id=person.id,
            action="escalation.acknowledged",
            subject=f"escalation:{escalation_id}",
        )
    )
    await uow.commit()
    return Reply.text(f"Acknowledged by {person.name}: {title}. No more reminders about it.")


async def snooze(uow: UnitOfWork, person: Person, escalation_id: int, days: int, now: dt.datetime) -> Reply:
    if not 1 <= days <= MAX_SNOOZE_DAYS:
        raise NotAllowed(f"Snooze for 1 to {MAX_SNOOZE_DAYS} days.")
    escalation, _, title = await _load(uow, person, escalation_id, now)
    if escalation.state not in RUNNING:
        return Reply.text(f"Already {escalation.state}: {title}.")
    ctx = await load_context(uow)
    local_day = now.astimezone(ZoneInfo(person.timezone)).date() + dt.timedelta(days=days)
    wake = dt.datetime.combine(local_day, ctx.calendar.start, ZoneInfo(person.timezone)).astimezone(dt.UTC)
    wake = ctx.calendar.next_working_moment(wake, person.timezone)
    escalation.state, escalation.snoozed_until, escalation.next_step_at = EscalationState.SNOOZED, wake, wake
    escalation.acted_by, escalation.updated_at = person.id, now
    await uow.escalations.save(escalation)
    await uow.audit.record(
        AuditEntry(
            at=now,
            actor_id=person.id,
            action="escalation.snoozed",
            subject=f"escalation:{escalation_id}",
            detail={"until": wake.isoformat()},
        )
    )
    await uow.commit()
    shown = wake.astimezone(ZoneInfo(person.timezone)).strftime("%a %d %b %H:%M")
    return Reply.text(f"Snoozed until {shown}: {title}.")


async def mark_done(uow: UnitOfWork, person: Person, escalation_id: int, now: dt.datetime) -> Reply:
    escalation, _, _ = await _load(uow, person, escalation_id, now, call_off=False)
    if escalation.kind not in ("overdue_commitment", "quiet_commitment"):
        raise NotAllowed("Only a commitment can be marked done from here.")
    reply = await commitments.close(
        uow, person, escalation.subject_id, now, note="done (from an escalation)", commit=False
    )
    escalation.state, escalation.next_step_at, escalation.acted_by = EscalationState.RESOLVED, None, person.id
    escalation.updated_at = now
    await uow.escalations.save(escalation)
    await uow.audit.record(
        AuditEntry(
            at=now, actor_id=person.id, action="escalation.done", subject=f"escalation:{escalation_id}"
        )
    )
    await uow.commit()
    return reply
