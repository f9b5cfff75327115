"""Planning, scheduling, cancelling and handing over stat sessions.

Planning is a sweep: it adds the org file's meetings of the next weeks once (a unit
meets at most once at a moment, so two replicas add one) and withdraws planned meetings
the file no longer holds.  Every change after that is a conditional update on the state
and chair read, so of two people changing a session at once exactly one wins.
"""

from __future__ import annotations

import datetime as dt

from bot.audit import AuditEntry
from bot.deliveries.models import Delivery
from bot.deliveries.service import enqueue
from bot.messages import Card
from bot.org.context import OrgContext
from bot.org.models import Person, Unit
from bot.permissions import (
    NotAllowed,
    Right,
    can_change_session,
    can_read,
    is_analyst,
    is_unit_member,
    may,
    refusal,
)
from bot.ports import UnitOfWork
from bot.sessions import cards
from bot.sessions.models import SessionState, StatSession
from bot.sessions.schedule import Occurrence, occurrences

HORIZON = dt.timedelta(weeks=6)
MOST_AHEAD = dt.timedelta(days=366)
WITHDRAWN = "the org file's schedule no longer has this meeting"
SKIPPED = "its day is not a working day, and the next working day reaches the series' next meeting"


async def _audit(
    uow: UnitOfWork, action: str, session: StatSession, actor: int | None, now: dt.datetime, **detail: object
) -> None:
    await uow.audit.record(
        AuditEntry(
            at=now, actor_id=actor, action=action, subject=f"session:{session.id}", detail=dict(detail)
        )
    )


async def plan(uow: UnitOfWork, ctx: OrgContext, now: dt.datetime) -> int:
    """Add the series' meetings of the next weeks, withdraw the ones no series holds;
    returns how many sessions were added or withdrawn.  A meeting on a public holiday
    (or a day off) is planned on the next working day at the same time; one that could
    only move onto the series' next meeting is skipped, and the audit says so once."""
    units = {u.key: u for u in await uow.units.all()}
    people = {p.email: p for p in await uow.people.all()}
    wanted: set[tuple[str, int, dt.datetime]] = set()
    # Meetings of the series' own days that a day off moved or skipped: why, if one of
    # them was stored before (a calendar that changed since) and is withdrawn now.
    displaced: dict[tuple[str, int, dt.datetime], str] = {}
    changed = 0
    for series in ctx.organisation.sessions:
        chair = people.get(series.chair)
        if chair is None or chair.id is None:
            continue
        attendees = [p.id for e in series.attendees if (p := people.get(e)) is not None and p.id is not None]
        zone = series.timezone or ctx.organisation.timezone
        for meeting in occurrences(series, ctx.organisation.timezone, now, now + HORIZON, ctx.calendar):
            unit = units.get(meeting.unit_key)
            if unit is None or unit.id is None:
                continue
            if meeting.moved_from is not None:
                key = (series.name, unit.id, meeting.moved_from)
                displaced[key] = cards.day_off_reason(
                    meeting.holiday, meeting.starts_at, meeting.skipped, zone
                )
            if meeting.skipped:
                await _skipped(uow, series.name, unit, meeting, now)
                continue
            wanted.add((series.name, unit.id, meeting.starts_at))
            added = await uow.sessions.add_if_absent(
                StatSession(
                    unit_id=unit.id,
                    starts_at=meeting.starts_at,
                    minutes=series.minutes,
                    chair_id=chair.id,
                    scheduled_chair_id=chair.id,
                    state=SessionState.SCHEDULED,
                    created_at=now,
                    updated_at=now,
                    series=series.name,
                    attendees=attendees,
                )
            )
            if added is not None:
                changed += 1
                moved: dict[str, object] = {}
                if meeting.moved_from is not None:
                    moved = {"moved_from": meeting.moved_from.isoformat(), "day_off": meeting.holiday}
                await _audit(
                    uow, "session.planned", added, None, now, series=series.name, unit=unit.key, **moved
                )
    for planned in await uow.sessions.planned_from(None, now):
        key = (planned.series or "", planned.unit_id, planned.starts_at)
        if planned.starts_at >= now + HORIZON or key in wanted:
            continue
        expected = {"state": SessionState.SCHEDULED}
        planned.state, planned.cancel_reason = SessionState.CANCELLED, displaced.get(key, WITHDRAWN)
        planned.updated_at = now
        if await uow.sessions.save_if(planned, expected):
            changed += 1
            await _audit(uow, "session.withdrawn", planned, None, now, series=planned.series)
    return changed


async def _skipped(uow: UnitOfWork, series: str, unit: Unit, meeting: Occurrence, now: dt.datetime) -> None:
    """Audit a meeting that a run of days off leaves no day for, once: every tick plans
    it again, so the audit entry is claimed with a key remembered until two days after
    the moment the meeting would have had (the planning looks forward, never at it again
    by then), which also keeps two replicas planning at once from both writing it."""
    at = meeting.starts_at.isoformat()
    if not await uow.events.first_time(
        "session-plan", f"skipped:{series}:{unit.key}:{at}", meeting.starts_at
    ):
        return
    await uow.audit.record(
        AuditEntry(
            at=now,
            actor_id=None,
            action="session.skipped",
            subject=f"series:{series}",
            detail={"unit": unit.key, "planned_for": at, "day_off": meeting.holiday, "reason": SKIPPED},
        )
    )


def may_see(person: Person, session: StatSession, unit: Unit) -> bool:
    if not can_read(person, unit):
        return False
    return (
        person.is_leader
        or is_analyst(person)
        or is_unit_member(person, unit)
        or person.id in (session.chair_id, session.scheduled_chair_id, unit.leader_id)
        or person.id in session.attendees
    )


def may_change(person: Person, session: StatSession, unit: Unit) -> bool:
    """Cancel it or hand it over (bot/permissions.py has the rule)."""
    return can_change_session(person, unit, {session.chair_id, session.scheduled_chair_id})


async def upcoming(
    uow: UnitOfWork, person: Person, now: dt.datetime
) -> tuple[list[StatSession], dict[int, Unit]]:
    units = {u.id: u for u in await uow.units.all() if u.id is not None}
    shown = [
        s
        for s in await uow.sessions.between(now - dt.timedelta(hours=12), now + HORIZON)
        if s.unit_id in units and may_see(person, s, units[s.unit_id])
    ]
    return shown, units


async def schedule_one(
    uow: UnitOfWork, person: Person, unit: Unit, at: dt.datetime, now: dt.datetime
) -> StatSession:
    if not may(person, Right.RUN_SESSION, unit):
        raise NotAllowed(refusal(Right.RUN_SESSION, unit))
    if at <= now:
        raise NotAllowed(cards.in_the_past(unit))
    if at - now > MOST_AHEAD:
        raise NotAllowed(cards.too_far(unit))
    assert unit.id is not None and person.id is not None
    # The unit's leader chairs unless a leader schedules it for themselves.
    chair_id = (
        person.id
        if person.is_leader and person.id != unit.leader_id and not is_analyst(person)
        else unit.leader_id
    )
    session = await uow.sessions.add_if_absent(
        StatSession(
            unit_id=unit.id,
            starts_at=at,
            minutes=60,
            chair_id=chair_id,
            scheduled_chair_id=chair_id,
            state=SessionState.SCHEDULED,
            created_at=now,
            updated_at=now,
            created_by=person.id,
        )
    )
    if session is None:
        raise NotAllowed(cards.clash(unit, person.timezone, at))
    await _audit(uow, "session.scheduled", session, person.id, now, unit=unit.key)
    return session


async def _changeable(
    uow: UnitOfWork, person: Person, number: int, now: dt.datetime
) -> tuple[StatSession, Unit]:
    session = await uow.sessions.get(number)
    unit = await uow.units.get(session.unit_id) if session is not None else None
    if session is None or unit is None or not may_see(person, session, unit):
        raise NotAllowed(cards.unknown_session(number))
    if not may_change(person, session, unit):
        raise NotAllowed(cards.not_yours(session, unit, await people_by_id(uow)))
    if session.state != SessionState.SCHEDULED:
        raise NotAllowed(cards.already(session))
    if session.starts_at <= now:
        raise NotAllowed(cards.begun(session))
    return session, unit


async def _lost(uow: UnitOfWork, session: StatSession) -> NotAllowed:
    assert session.id is not None
    fresh = await uow.sessions.reload(session.id)
    assert fresh is not None
    people = await people_by_id(uow)
    return NotAllowed(cards.taken_first(fresh, people))


async def last_change(uow: UnitOfWork, session_id: int) -> tuple[Person | None, str]:
    """Who changed the session (or its brief or memo) last, and the audited action: what
    the person whose change lost a race to it is told.  None: the bot (a sweep)."""
    entry = await uow.audit.latest_about(f"session:{session_id}")
    if entry is None:
        return None, ""
    person = await uow.people.get(entry.actor_id) if entry.actor_id is not None else None
    return person, entry.action


async def people_by_id(uow: UnitOfWork) -> dict[int, Person]:
    return {p.id: p for p in await uow.people.all(active_only=False) if p.id is not None}


def _told(session: StatSession, unit: Unit, actor: Person) -> set[int]:
    """Who hears of a change: the chairs, the attendees and the unit's head and deputy."""
    everyone = {session.chair_id, session.scheduled_chair_id, unit.head_id, *session.attendees}
    if unit.deputy_id is not None:
        everyone.add(unit.deputy_id)
    return {p for p in everyone if p is not None and p != actor.id}


async def _tell(uow: UnitOfWork, people: set[int], card: Card, key: str, now: dt.datetime) -> None:
    for person_id in sorted(people):
        await enqueue(
            uow, audience=Delivery.to_person(person_id), message=card, key=f"{key}:{person_id}", now=now
        )


async def cancel(
    uow: UnitOfWork, person: Person, number: int, reason: str, now: dt.datetime
) -> tuple[StatSession, Unit]:
    session, unit = await _changeable(uow, person, number, now)
    expected = {"state": SessionState.SCHEDULED, "chair_id": session.chair_id}
    session.state, session.cancel_reason = SessionState.CANCELLED, reason
    session.cancelled_by, session.updated_at = person.id, now
    if not await uow.sessions.save_if(session, expected):
        raise await _lost(uow, session)
    await _audit(uow, "session.cancelled", session, person.id, now, reason=reason)
    people = await people_by_id(uow)
    for person_id in _told(session, unit, person):
        reader = people.get(person_id)
        if reader is not None:
            card = cards.cancelled_card(session, unit, person, reader.timezone)
            await _tell(uow, {person_id}, card, f"session:{session.id}:cancelled", now)
    return session, unit


async def delegate(
    uow: UnitOfWork, person: Person, number: int, chair: Person, now: dt.datetime
) -> tuple[StatSession, Unit]:
    session, unit = await _changeable(uow, person, number, now)
    assert chair.id is not None
    if chair.id == session.chair_id:
        raise NotAllowed(cards.same_chair(session, chair))
    if not chair.active or not can_read(chair, unit):
        raise NotAllowed(cards.cannot_chair(chair, unit))
    before = session.chair_id
    expected = {"state": SessionState.SCHEDULED, "chair_id": before}
    session.chair_id, session.updated_at = chair.id, now
    if not await uow.sessions.save_if(session, expected):
        raise await _lost(uow, session)
    await _audit(
        uow, "session.chair_delegated", session, person.id, now, chair_from=before, chair_to=chair.id
    )
    if chair.id != person.id:
        card = cards.delegated_card(session, unit, person, chair.timezone)
        await _tell(uow, {chair.id}, card, f"session:{session.id}:chair:{chair.id}:{now.isoformat()}", now)
    return session, unit
