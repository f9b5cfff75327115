"""Turns about stat sessions: `session`, `session <unit> <date> <time>`,
`session cancel <id> <reason>`, `session chair <id> <person>`."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.commitments import cards as commitment_cards
from bot.messages import Reply
from bot.org.lookup import find_unit
from bot.org.models import Person
from bot.permissions import NotAllowed, can_read
from bot.ports import UnitOfWork
from bot.sessions import cards, service


async def list_upcoming(uow: UnitOfWork, person: Person, now: dt.datetime) -> Reply:
    sessions, units = await service.upcoming(uow, person, now)
    people = await service.people_by_id(uow)
    return Reply(messages=(cards.sessions_card(sessions, units, people, person.timezone),))


async def schedule(
    uow: UnitOfWork, person: Person, unit_name: str, day: dt.date, time: dt.time, now: dt.datetime
) -> Reply:
    unit = await find_unit(uow, unit_name)
    if not can_read(person, unit):
        raise NotAllowed(f"{unit.name} is restricted: only its people and leaders can see it.")
    # The time is the speaker's: they typed it in their own zone.
    at = dt.datetime.combine(day, time, tzinfo=ZoneInfo(person.timezone)).astimezone(dt.UTC)
    session = await service.schedule_one(uow, person, unit, at, now)
    chair = await uow.people.get(session.chair_id)
    assert chair is not None
    return Reply.text(cards.scheduled_text(session, unit, chair, person.timezone))


async def cancel(uow: UnitOfWork, person: Person, number: int, reason: str, now: dt.datetime) -> Reply:
    session, unit = await service.cancel(uow, person, number, reason, now)
    return Reply.text(cards.cancelled_text(session, unit, person.timezone))


async def hand_over(uow: UnitOfWork, person: Person, number: int, target: str, now: dt.datetime) -> Reply:
    chair = await uow.people.by_email(target.strip().lstrip("@").lower())
    if chair is None:
        raise NotAllowed(commitment_cards.unknown_person_text(target))
    session, unit = await service.delegate(uow, person, number, chair, now)
    return Reply.text(cards.delegated_text(session, unit, chair, person.timezone))
