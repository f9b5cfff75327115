"""Escalation chains for items that went quiet.

One sweep does two things.  It *detects* quiet items (a check-in past its deadline, a
commitment past due or with no update for too long, a follow-up not answered) and starts
a chain for each, once per episode (a new due date is a new episode).  And it *advances*
chains whose next step is due: re-checking the item first, so a late run never nags about
something already resolved, then claiming the step with a conditional update, so two
sweeps never send the same step.  Acknowledging, snoozing, completing the item or
submitting the check-in stops a chain at once.
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from bot.audit import AuditEntry
from bot.clock import Clock
from bot.deliveries.models import Delivery
from bot.deliveries.service import enqueue
from bot.escalations import cards
from bot.escalations.models import RUNNING, Escalation, EscalationState
from bot.escalations.policy import DEFAULT_QUIET_AFTER_DAYS, Chain, Kind
from bot.escalations.steps import next_due, step_at
from bot.escalations.subject import end_of_day, subject_of
from bot.org.context import OrgContext, load_context
from bot.org.models import Person, Unit
from bot.permissions import channel_may_see
from bot.ports import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)


def _today(now: dt.datetime, tz: str) -> dt.date:
    return now.astimezone(ZoneInfo(tz)).date()


async def detect(uow_factory: UnitOfWorkFactory, clock: Clock) -> int:
    """Start a chain for every quiet item that has none for its current episode."""
    now = clock.now()
    started = 0
    async with uow_factory() as uow:
        ctx = await load_context(uow)
        units = {u.id: u for u in await uow.units.all()}
        candidates: list[tuple[Kind, int, int, str, dt.datetime]] = []
        for checkin in await uow.checkins.past_deadline(now):
            if checkin.unit_id in units and checkin.id is not None:
                candidates.append(
                    ("missed_checkin", checkin.id, checkin.unit_id, checkin.week, checkin.deadline_at)
                )
        for c in await uow.commitments.all_open():
            unit = units.get(c.unit_id)
            if unit is None or c.id is None:
                continue
            policy = ctx.policy_for(unit)
            quiet_days = policy.quiet_after_days if policy else DEFAULT_QUIET_AFTER_DAYS
            if c.due_on < _today(now, unit.timezone):
                kind: Kind = "unanswered_followup" if c.origin == "followup" else "overdue_commitment"
                candidates.append(
                    (kind, c.id, unit.id or 0, c.due_on.isoformat(), end_of_day(c.due_on, unit.timezone))
                )
            elif c.origin != "followup" and now - c.updated_at >= dt.timedelta(days=quiet_days):
                quiet_since = c.updated_at + dt.timedelta(days=quiet_days)
                candidates.append(
                    ("quiet_commitment", c.id, unit.id or 0, c.updated_at.isoformat(), quiet_since)
                )
        known = await uow.escalations.known([c[1] for c in candidates])
    for kind, subject_id, unit_id, episode, quiet_since in candidates:
        if (kind, subject_id, episode) in known:
            continue
        async with uow_factory() as uow:
            if await _start(uow, ctx, units[unit_id], kind, subject_id, episode, quiet_since, now):
                started += 1
            await uow.commit()
    return started


async def _start(
    uow: UnitOfWork,
    ctx: OrgContext,
    unit: Unit,
    kind: Kind,
    subject_id: int,
    episode: str,
    quiet_since: dt.datetime,
    now: dt.datetime,
) -> bool:
    policy = ctx.policy_for(unit)
    chain = policy.chains.get(kind) if policy else None
    if policy is None or chain is None:
        return False
    first = step_at(chain, 0)
    assert first is not None
    tz = await _recipient_zone(uow, unit, first.notify, kind, subject_id) or unit.timezone
    due = next_due(chain, 0, quiet_since, calendar=ctx.calendar, tz=tz)
    assert unit.id is not None
    started = await uow.escalations.start_if_absent(
        Escalation(
            kind=kind,
            subject_id=subject_id,
            unit_id=unit.id,
            episode=episode,
            policy={
                "name": policy.name,
                "quiet_after_days": policy.quiet_after_days,
                "chain": chain.model_dump(mode="json"),
            },
            state=EscalationState.ACTIVE,
            step=0,
            next_step_at=due,
            created_at=now,
            updated_at=now,
        )
    )
    if started is not None:
        await uow.audit.record(
            AuditEntry(
                at=now,
                actor_id=None,
                action="escalation.started",
                subject=f"escalation:{started.id}",
                detail={"kind": kind, "subject": subject_id, "unit": unit.key},
            )
        )
    return started is not None


async def _recipient(uow: UnitOfWork, unit: Unit, notify: str, owner: Person | None) -> Person | None:
    match notify:
        case "owner":
            return owner
        case "deputy":
            return await uow.people.get(unit.deputy_id) if unit.deputy_id else None
        case "leader":
            return await uow.people.get(unit.leader_id)
    return None


async def _recipient_zone(uow: UnitOfWork, unit: Unit, notify: str, kind: str, subject_id: int) -> str | None:
    if notify == "channel":
        return None
    if notify == "owner":
        if kind == "missed_checkin":
            checkin = await uow.checkins.get(subject_id)
            owner_id = (checkin.respondent_id if checkin else None) or unit.head_id
        else:
            commitment = await uow.commitments.get(subject_id)
            owner_id = commitment.owner_id if commitment else unit.head_id
        person = await uow.people.get(owner_id)
    else:
        person = await _recipient(uow, unit, notify, None)
    return person.timezone if person else None


async def advance(uow_factory: UnitOfWorkFactory, clock: Clock) -> int:
    """Send every due step once; returns how many messages were written."""
    now = clock.now()
    async with uow_factory() as uow:
        due = await uow.escalations.due(now)
    sent = 0
    for escalation in due:
        async with uow_factory() as uow:
            try:
                written = await _advance_one(uow, escalation, now)
            except _Overtaken:
                continue  # leaving without a commit takes back this step's messages
            await uow.commit()
            sent += written
    return sent


class _Overtaken(Exception):
    """Someone settled the escalation while this sweep was working on it."""


async def _advance_one(uow: UnitOfWork, escalation: Escalation, now: dt.datetime) -> int:
    ctx = await load_context(uow)
    assert escalation.id is not None
    current = await uow.escalations.get(escalation.id)
    if current is None or current.state not in RUNNING:
        return 0
    escalation = current
    # Every write below is conditional on the state read here: a leader's acknowledgement
    # (or snooze, or done) that lands meanwhile is never overwritten by the sweep.
    read_state = {"state": current.state, "acted_by": current.acted_by}
    subject = await subject_of(uow, escalation, now)
    if subject is None or subject.resolved:
        escalation.state, escalation.next_step_at, escalation.updated_at = EscalationState.RESOLVED, None, now
        await uow.escalations.save_if(escalation, read_state)
        return 0
    if escalation.state == "snoozed":
        if escalation.snoozed_until is not None and escalation.snoozed_until > now:
            return 0
        escalation.state = EscalationState.ACTIVE
    chain = Chain.model_validate(escalation.policy["chain"])
    sent = 0
    # Steps whose recipient does not exist (no deputy) are passed over at once.
    while True:
        index = escalation.step
        step = step_at(chain, index)
        if step is None:
            escalation.state, escalation.next_step_at = EscalationState.EXHAUSTED, None
            break
        assert escalation.id is not None
        notify = step.notify
        if notify == "channel" and not channel_may_see(subject.unit):
            notify = "leader"
        recipient = await _recipient(uow, subject.unit, notify, subject.owner)
        channels = ctx.organisation.leadership_audiences()
        if notify == "channel" and channels:
            audiences = channels
        elif recipient is not None and recipient.id is not None:
            audiences = [Delivery.to_person(recipient.id)]
        else:
            audiences = []
        audience = audiences[0] if audiences else None
        zone = recipient.timezone if recipient is not None else subject.unit.timezone
        if audience is not None and not ctx.calendar.is_working_moment(now, zone):
            # A late sweep (downtime, or a snooze that ended) outside working hours: the
            # step waits for the recipient's next working moment.
            later = ctx.calendar.next_working_moment(now, zone)
            await uow.escalations.postpone_step(escalation.id, index, later)
            return sent
        if not await uow.escalations.claim_step(escalation.id, index, now):
            return sent  # another sweep took this step
        escalation.step = index + 1
        if audience is None:
            continue  # nobody to tell at this step (e.g. no deputy): on to the next
        already = [p for p in [await uow.people.get(i) for i in escalation.notified] if p]
        card = cards.escalation_card(escalation, subject, notify, recipient, already, now)
        key = f"escalation:{escalation.id}:step:{index}"
        for n, each in enumerate(audiences):
            # The channel may be named on several platforms: one delivery per platform.
            await enqueue(uow, audience=each, message=card, key=key if n == 0 else f"{key}:{each}", now=now)
        if recipient is not None and recipient.id is not None:
            escalation.notified = [*escalation.notified, recipient.id]
        sent += 1
        following = step_at(chain, index + 1)
        if following is None:
            escalation.state, escalation.next_step_at = EscalationState.EXHAUSTED, None
        else:
            tz = (
                await _recipient_zone(
                    uow, subject.unit, following.notify, escalation.kind, escalation.subject_id
                )
                or subject.unit.timezone
            )
            escalation.next_step_at = next_due(chain, index + 1, now, calendar=ctx.calendar, tz=tz)
        break
    escalation.updated_at = now
    if not await uow.escalations.save_if(escalation, read_state):
        raise _Overtaken
    return sent


async def sweep(uow_factory: UnitOfWorkFactory, clock: Clock) -> int:
    await detect(uow_factory, clock)
    return await advance(uow_factory, clock)
