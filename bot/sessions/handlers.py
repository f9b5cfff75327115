"""Turns about stat sessions: `session`, `session <unit> <date> <time>`,
`session cancel <id> <reason>`, `session chair <id> <person>`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from bot.commitments import cards as commitment_cards
from bot.messages import Form, Reply
from bot.org.context import load_context
from bot.org.lookup import find_unit
from bot.org.models import Person
from bot.permissions import NotAllowed, can_read, is_analyst
from bot.ports import UnitOfWork
from bot.sessions import capture, cards, decisions, memo, service
from bot.sessions.ledger import WINDOWS
from bot.sessions.ledger import figures as ledger_figures
from bot.sessions.models import DocumentState, ItemKind


async def list_upcoming(uow: UnitOfWork, person: Person, now: dt.datetime) -> Reply:
    sessions, units = await service.upcoming(uow, person, now)
    people = await service.people_by_id(uow)
    # Only leaders, analysts and admins schedule, cancel or hand over sessions.
    hint = person.is_leader or is_analyst(person) or person.is_admin
    return Reply(messages=(cards.sessions_card(sessions, units, people, person.timezone, hint=hint),))


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


async def promise(
    uow: UnitOfWork, person: Person, owner: str, text: str, due: dt.date, now: dt.datetime
) -> Reply:
    item, session, unit, whose = await capture.promise(uow, person, owner, text, due, now)
    return Reply.text(cards.captured_text(item, session, unit, whose))


async def record(
    uow: UnitOfWork, person: Person, kind: ItemKind, text: str, now: dt.datetime, due: dt.date | None = None
) -> Reply:
    item, session, unit = await capture.record(uow, person, kind, text, now, due)
    return Reply.text(cards.captured_text(item, session, unit))


async def close(uow: UnitOfWork, person: Person, now: dt.datetime) -> Reply:
    session, unit, _ = await capture.close(uow, person, now)
    facts = await memo.memo_facts(uow, session, unit)
    return Reply(
        messages=(
            *Reply.text(cards.closed_text(session, unit)).messages,
            cards.memo_card(facts, person.timezone, draft=True),
        )
    )


async def provide(uow: UnitOfWork, person: Person, number: int, answer: str, now: dt.datetime) -> Reply:
    item, unit = await capture.provide(uow, person, number, answer, now)
    return Reply.text(cards.provided_text(item, unit))


async def show_memo(uow: UnitOfWork, person: Person, number: int) -> Reply:
    facts, document = await memo.show(uow, person, number)
    draft = document.state == DocumentState.DRAFT
    return Reply(messages=(cards.memo_card(facts, person.timezone, draft=draft),))


async def add_to_memo(uow: UnitOfWork, person: Person, number: int, text: str, now: dt.datetime) -> Reply:
    facts, _ = await memo.add_line(uow, person, number, text, now)
    return Reply(messages=(cards.memo_card(facts, person.timezone, draft=True),))


async def approve_memo(uow: UnitOfWork, person: Person, number: int, now: dt.datetime) -> Reply:
    facts, sent_to = await memo.approve(uow, person, number, now)
    names = [facts.people[p].name for p in sent_to if p in facts.people]
    return Reply.text(cards.memo_sent_text(facts.session, names)).settling()


async def ledger(uow: UnitOfWork, person: Person, target: str | None, now: dt.datetime) -> Reply:
    """A leader's own ledger; an analyst's (or admin's) pick, or every leader's."""
    if target is not None:
        if not (is_analyst(person) or person.is_admin):
            raise NotAllowed(cards.LEDGER_FOR)
        leader = await uow.people.by_email(target.strip().lstrip("@").lower())
        if leader is None:
            raise NotAllowed(commitment_cards.unknown_person_text(target))
        leaders = [leader]
    elif is_analyst(person) or person.is_admin:
        leaders = [p for p in await uow.people.all() if "leader" in p.roles]
    elif person.is_leader:
        leaders = [person]
    else:
        raise NotAllowed(cards.LEDGER_FOR)
    ctx = await load_context(uow)
    messages = []
    for leader in leaders:
        figures = [await ledger_figures(uow, leader, now, weeks, ctx.calendar) for weeks in WINDOWS]
        messages.append(cards.ledger_card(leader, figures))
    return Reply(messages=tuple(messages))


async def decision_form(uow: UnitOfWork, person: Person, ids: Mapping[str, str]) -> Reply | None:
    session_id = _int(ids.get("session"))
    if session_id is None:
        return None
    form = await decisions.choice_form(
        uow, person, session_id, ids.get("exception", ""), ids.get("choice", "")
    )
    return Reply(messages=(form,))


async def decide(
    uow: UnitOfWork, person: Person, ids: Mapping[str, str], values: Mapping[str, str], now: dt.datetime
) -> Reply | None:
    session_id = _int(ids.get("session"))
    if session_id is None:
        return None
    recorded = await decisions.record(
        uow, person, session_id, ids.get("exception", ""), ids.get("choice", ""), values, now
    )
    if isinstance(recorded, Form):
        return Reply(messages=(recorded,))
    item, session, _ = recorded
    return Reply.text(cards.decision_text(item, session)).settling()


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() and len(value) < 19 else None
