"""The check-in sweeps: open due check-ins (prompting the head, or the deputy standing in)
and send reminders.  Each item is its own transaction, so one bad unit never blocks the
others and each state change commits together with the deliveries it causes; claims are
conditional updates, so a sweep that runs twice, late, or in two processes acts once.
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from bot.audit import AuditEntry
from bot.checkins import cards
from bot.checkins.models import CheckIn, CheckInState
from bot.checkins.schedule import CheckinWindow, reminder_times, weeks_to_open
from bot.clock import Clock
from bot.deliveries.models import Delivery, DeliveryKey
from bot.deliveries.service import enqueue
from bot.org.context import OrgContext, load_context
from bot.org.models import Person, Unit
from bot.ports import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

# --- opening -------------------------------------------------------------------------------


async def _away(uow: UnitOfWork, person_id: int | None, day: dt.date) -> bool:
    if person_id is None:
        return True
    return any(p.covers(day) for p in await uow.away.for_person(person_id))


def _window_of(unit: Unit, ctx: OrgContext, now: dt.datetime) -> list[CheckinWindow]:
    return weeks_to_open(
        now,
        tz=unit.timezone,
        open_weekday=unit.checkin_weekday,
        open_time=unit.checkin_time,
        deadline_weekday=unit.deadline_weekday,
        deadline_time=unit.deadline_time,
        calendar=ctx.calendar,
    )


def reminder_schedule(checkin: CheckIn, ctx: OrgContext, tz: str) -> list[dt.datetime]:
    reminders = ctx.organisation.reminders
    window = CheckinWindow(checkin.week, checkin.opened_at, checkin.deadline_at, None)
    return reminder_times(
        window,
        before_deadline=reminders.before_deadline,
        after_every=reminders.after_deadline_every,
        after_times=reminders.after_deadline_times,
        calendar=ctx.calendar,
        tz=tz,
    )


async def open_due_checkins(uow_factory: UnitOfWorkFactory, clock: Clock) -> int:
    """Open every check-in that is due and not open yet; returns how many were opened or
    excused.  Running it twice, late, or in two processes opens each one once."""
    now = clock.now()
    due: list[tuple[Unit, CheckinWindow]] = []
    async with uow_factory() as uow:
        ctx = await load_context(uow)
        opened: dict[str, set[int]] = {}
        for unit in await uow.units.all():
            for window in _window_of(unit, ctx, now):
                if unit.created_at is not None and window.opens_at < unit.created_at:
                    continue
                if window.week not in opened:
                    opened[window.week] = {c.unit_id for c in await uow.checkins.for_week(window.week)}
                if unit.id not in opened[window.week]:
                    due.append((unit, window))
    done = 0
    for unit, window in due:
        async with uow_factory() as uow:
            if await _open_one(uow, await load_context(uow), unit, window, now):
                done += 1
            await uow.commit()
    return done


async def _open_one(
    uow: UnitOfWork, ctx: OrgContext, unit: Unit, window: CheckinWindow, now: dt.datetime
) -> bool:
    assert unit.id is not None
    open_day = window.opens_at.astimezone(ZoneInfo(unit.timezone)).date()
    excuse = window.excused
    respondent_id: int | None = unit.head_id
    standing_in_for: Person | None = None
    if excuse is None and await _away(uow, unit.head_id, open_day):
        head = await uow.people.get(unit.head_id)
        if unit.deputy_id is not None and not await _away(uow, unit.deputy_id, open_day):
            respondent_id, standing_in_for = unit.deputy_id, head
        else:
            respondent_id = None
            excuse = "the head is away and no deputy is available"
    checkin = CheckIn(
        unit_id=unit.id,
        week=window.week,
        state=CheckInState.OPEN if excuse is None else CheckInState.EXCUSED,
        opened_at=max(now, window.opens_at) if excuse is None else now,
        deadline_at=window.deadline_at,
        respondent_id=respondent_id,
        excuse=excuse,
    )
    respondent = await uow.people.get(respondent_id) if respondent_id else None
    if excuse is None and respondent is not None:
        schedule = reminder_schedule(checkin, ctx, respondent.timezone)
        checkin.next_reminder_at = schedule[0] if schedule else None
    stored = await uow.checkins.open_if_absent(checkin)
    if stored is None:
        return False  # another sweep won the race
    await uow.audit.record(
        AuditEntry(
            at=now,
            actor_id=None,
            action="checkin.excused" if excuse else "checkin.opened",
            subject=f"checkin:{stored.id}",
            detail={"unit": unit.key, "week": window.week, "excuse": excuse},
        )
    )
    if respondent is None:
        return True
    metrics = await uow.metrics.for_unit(unit.id)
    open_commitments = await uow.commitments.open_for_unit(unit.id)
    moved = cards.moved_note(window.deadline_moved_from, window.deadline_moved_because)
    card = cards.prompt_card(
        stored,
        unit,
        respondent,
        standing_in_for=standing_in_for,
        metrics=metrics,
        open_commitments=len(open_commitments),
        moved_note=moved,
    )
    assert respondent.id is not None and stored.id is not None
    await enqueue(
        uow,
        audience=Delivery.to_person(respondent.id),
        message=card,
        key=DeliveryKey.checkin_prompt(stored.id),
        now=now,
        # Opened late at night after downtime: the prompt waits for working hours.
        not_before=ctx.calendar.next_working_moment(now, respondent.timezone),
    )
    return True


# --- reminders -----------------------------------------------------------------------------


async def send_due_reminders(uow_factory: UnitOfWorkFactory, clock: Clock) -> int:
    now = clock.now()
    async with uow_factory() as uow:
        due = await uow.checkins.due_reminders(now)
    sent = 0
    for checkin in due:
        async with uow_factory() as uow:
            ctx = await load_context(uow)
            unit = await uow.units.get(checkin.unit_id)
            respondent = await uow.people.get(checkin.respondent_id) if checkin.respondent_id else None
            if unit is None or respondent is None or checkin.id is None:
                continue
            number = checkin.reminders_sent
            if not ctx.calendar.is_working_moment(now, respondent.timezone):
                # A sweep catching up after downtime, at night: wait for working hours.
                later = ctx.calendar.next_working_moment(now, respondent.timezone)
                if await uow.checkins.postpone_reminder(checkin.id, number, later):
                    await uow.commit()
                continue
            schedule = [t for t in reminder_schedule(checkin, ctx, respondent.timezone) if t > now]
            following = schedule[0] if schedule else None
            if not await uow.checkins.claim_reminder(checkin.id, number, following, now):
                continue  # another sweep sent it
            chains = await uow.escalations.for_subject("missed_checkin", checkin.id)
            if any(e.updated_at == now and respondent.id in e.notified for e in chains):
                await uow.commit()  # "Needs attention" reached them this instant: one notice, not two
                continue
            card = cards.reminder_card(checkin, unit, respondent, now, number + 1)
            assert respondent.id is not None
            await enqueue(
                uow,
                audience=Delivery.to_person(respondent.id),
                message=card,
                key=DeliveryKey.checkin_reminder(checkin.id, number),
                now=now,
            )
            await uow.commit()
            sent += 1
    return sent
