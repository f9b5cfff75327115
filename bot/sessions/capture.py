"""What the chair or an analyst records during a session under way: promises (tracked
as commitments, so reminders and escalation chains apply), decisions, requests for data
(tracked until the unit provides them) and notes; and closing the session, which drafts
its follow-up memo."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.audit import AuditEntry
from bot.commitments.models import session_origin
from bot.commitments.service import open_commitment
from bot.deliveries.models import Delivery
from bot.deliveries.service import enqueue
from bot.org.models import Person, Unit
from bot.permissions import NotAllowed, can_read, is_analyst, is_unit_member
from bot.ports import UnitOfWork
from bot.sessions import cards
from bot.sessions.memo import draft_memo
from bot.sessions.models import ItemKind, SessionDocument, SessionItem, SessionState, StatSession
from bot.sessions.service import people_by_id

# A session is under way from a little before it starts until some hours after its
# planned end (meetings run over; the record is often completed just after).
EARLY = dt.timedelta(minutes=30)
LATE = dt.timedelta(hours=4)


def may_capture(person: Person, session: StatSession, unit: Unit) -> bool:
    return can_read(person, unit) and (person.id == session.chair_id or is_analyst(person))


async def under_way(uow: UnitOfWork, person: Person, now: dt.datetime) -> tuple[StatSession, Unit]:
    """The session this person records in now: one they chair first, else the latest begun."""
    units = {u.id: u for u in await uow.units.all() if u.id is not None}
    found = [
        s
        for s in await uow.sessions.between(
            now - dt.timedelta(hours=12), now + EARLY + dt.timedelta(seconds=1)
        )
        if s.state == SessionState.SCHEDULED
        and s.starts_at - EARLY <= now <= s.starts_at + dt.timedelta(minutes=s.minutes) + LATE
        and s.unit_id in units
        and may_capture(person, s, units[s.unit_id])
    ]
    if not found:
        raise NotAllowed(cards.NO_SESSION_UNDER_WAY)
    session = max(found, key=lambda s: (s.chair_id == person.id, s.starts_at))
    return session, units[session.unit_id]


async def still_under_way(uow: UnitOfWork, session: StatSession, now: dt.datetime, typed: str = "") -> None:
    """What is recorded in a session is recorded only while nobody closed or cancelled it:
    the capture marks the session changed on condition that it is still scheduled, so it
    and a close (or cancel) landing at once are one after the other, never both half-way."""
    session.updated_at = now
    if not await uow.sessions.save_if(session, {"state": SessionState.SCHEDULED}):
        raise await _ended(uow, session, typed)


async def _ended(uow: UnitOfWork, session: StatSession, typed: str = "") -> NotAllowed:
    """The refusal for someone who lost to a close or a cancel: who ended it."""
    assert session.id is not None
    fresh = await uow.sessions.reload(session.id)
    assert fresh is not None
    return NotAllowed(cards.ended_meanwhile(fresh, await people_by_id(uow), typed))


async def _item(uow: UnitOfWork, item: SessionItem, now: dt.datetime) -> SessionItem:
    added = await uow.session_items.add(item)
    await uow.audit.record(
        AuditEntry(
            at=now,
            actor_id=item.created_by,
            action=f"session.{item.kind}",
            subject=f"session:{item.session_id}",
            detail={"item": added.id},
        )
    )
    return added


async def tracked_promise(
    uow: UnitOfWork,
    session: StatSession,
    unit: Unit,
    owner: Person,
    *,
    by: int,
    text: str,
    due: dt.date,
    now: dt.datetime,
    note: str,
    detail: dict[str, object] | None = None,
) -> SessionItem:
    """A promise of the session: a commitment with origin session:<id> (so reminders and
    escalation chains apply), the session's item for it, and its owner told."""
    assert session.id is not None and owner.id is not None
    commitment = await open_commitment(
        uow,
        unit=unit,
        owner_id=owner.id,
        text=text,
        due_on=due,
        origin=session_origin(session.id),
        by=by,
        now=now,
        note=note,
        detail={"session": session.id, **(detail or {})},
    )
    item = await _item(
        uow,
        SessionItem(
            session_id=session.id,
            kind=ItemKind.PROMISE,
            text=text,
            created_by=by,
            created_at=now,
            owner_id=owner.id,
            due_on=due,
            commitment_id=commitment.id,
        ),
        now,
    )
    if owner.id != by:
        await enqueue(
            uow,
            audience=Delivery.to_person(owner.id),
            message=cards.promised_card(item, session, unit, owner),
            key=f"session:{session.id}:item:{item.id}",
            now=now,
        )
    return item


async def promise(
    uow: UnitOfWork, person: Person, owner_text: str, text: str, due: dt.date, now: dt.datetime
) -> tuple[SessionItem, StatSession, Unit, Person]:
    session, unit = await under_way(uow, person, now)
    owner = await uow.people.by_email(owner_text.strip().lstrip("@").lower())
    if owner is None or not owner.active or owner.id is None:
        raise NotAllowed(cards.unknown_owner(owner_text))
    if not can_read(owner, unit):
        raise NotAllowed(cards.owner_cannot_see(owner, unit))
    if due < now.astimezone(ZoneInfo(unit.timezone)).date():
        raise NotAllowed(cards.due_passed(due))
    assert person.id is not None
    await still_under_way(uow, session, now, text)
    item = await tracked_promise(
        uow,
        session,
        unit,
        owner,
        by=person.id,
        text=text,
        due=due,
        now=now,
        note="promised at the stat session",
    )
    return item, session, unit, owner


async def record(
    uow: UnitOfWork, person: Person, kind: ItemKind, text: str, now: dt.datetime, due: dt.date | None = None
) -> tuple[SessionItem, StatSession, Unit]:
    """A decision, a note, or a request for data (owed by the unit's head)."""
    session, unit = await under_way(uow, person, now)
    assert session.id is not None and person.id is not None
    await still_under_way(uow, session, now, text)
    item = await _item(
        uow,
        SessionItem(
            session_id=session.id,
            kind=kind,
            text=text,
            created_by=person.id,
            created_at=now,
            owner_id=unit.head_id if kind == ItemKind.REQUEST else None,
            due_on=due,
        ),
        now,
    )
    if kind == ItemKind.REQUEST and unit.head_id != person.id:
        await enqueue(
            uow,
            audience=Delivery.to_person(unit.head_id),
            message=cards.requested_card(item, session, unit),
            key=f"session:{session.id}:item:{item.id}",
            now=now,
        )
    return item, session, unit


async def close(
    uow: UnitOfWork, person: Person, now: dt.datetime
) -> tuple[StatSession, Unit, SessionDocument]:
    """End the session under way and draft its memo (shown to the chair to approve)."""
    session, unit = await under_way(uow, person, now)
    expected = {"state": SessionState.SCHEDULED}
    session.state, session.closed_at, session.closed_by, session.updated_at = (
        SessionState.CLOSED,
        now,
        person.id,
        now,
    )
    if not await uow.sessions.save_if(session, expected):
        raise await _ended(uow, session)
    await uow.audit.record(
        AuditEntry(
            at=now, actor_id=person.id, action="session.closed", subject=f"session:{session.id}", detail={}
        )
    )
    memo = await draft_memo(uow, session, unit, now)
    return session, unit, memo


async def provide(
    uow: UnitOfWork, person: Person, number: int, answer: str, now: dt.datetime
) -> tuple[SessionItem, Unit]:
    """The unit answers a request for data; the chair and who asked are told."""
    item = await uow.session_items.get(number)
    session = await uow.sessions.get(item.session_id) if item is not None else None
    unit = await uow.units.get(session.unit_id) if session is not None else None
    if (
        item is None
        or session is None
        or unit is None
        or item.kind != ItemKind.REQUEST
        or not can_read(person, unit)
    ):
        raise NotAllowed(cards.unknown_request(number))
    if not (is_unit_member(person, unit) or person.is_admin):
        raise NotAllowed(cards.not_the_units(unit))
    if item.answered_at is not None:
        raise NotAllowed(cards.provided_already(item, await people_by_id(uow)))
    expected = {"answered_at": None}
    item.answer, item.answered_by, item.answered_at = answer, person.id, now
    if not await uow.session_items.save_if(item, expected):
        assert item.id is not None
        fresh = await uow.session_items.reload(item.id)
        assert fresh is not None
        raise NotAllowed(cards.provided_already(fresh, await people_by_id(uow)))
    await uow.audit.record(
        AuditEntry(
            at=now,
            actor_id=person.id,
            action="session.provided",
            subject=f"session:{session.id}",
            detail={"item": number},
        )
    )
    for told in sorted({session.chair_id, item.created_by} - {person.id}):
        await enqueue(
            uow,
            audience=Delivery.to_person(told),
            message=cards.provided_card(item, session, unit, person),
            key=f"session:{session.id}:item:{number}:provided:{told}",
            now=now,
        )
    return item, unit
