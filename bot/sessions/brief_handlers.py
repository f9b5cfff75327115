"""Turns about a session's brief: `brief <id>`, `brief add <id> <text>`,
`brief drop <id> <item>`, and the draft's "Send now" button."""

from __future__ import annotations

import datetime as dt

from bot.messages import Reply
from bot.org.context import load_context
from bot.org.models import Person
from bot.permissions import NotAllowed, can_edit_brief
from bot.ports import UnitOfWork
from bot.sessions import brief_cards as cards
from bot.sessions import brief_service as service
from bot.sessions.models import DocumentKind, DocumentState


async def show(uow: UnitOfWork, person: Person, number: int, now: dt.datetime) -> Reply:
    session, unit = await service.visible(uow, person, number)
    document = await uow.session_documents.of(number, DocumentKind.BRIEF)
    if document is not None and document.state == DocumentState.SENT:
        return Reply(messages=(cards.kept_card(document.body, number, document.sent_at, person.timezone),))
    ctx = await load_context(uow)
    times = service.brief_times(ctx, session)
    if document is None:
        # Analysts may start on the brief before its draft is due; others wait for it.
        if not can_edit_brief(person, unit, {session.chair_id, session.scheduled_chair_id}):
            raise NotAllowed(cards.not_drafted(number, times.drafts_at, person.timezone))
        _, _, brief = await service.editable(uow, ctx, person, number, now)
    else:
        brief = await service.current(uow, ctx, session, document, now)
    return Reply(messages=(cards.brief_card(brief, person.timezone, draft=True, sends_at=times.sends_at),))


async def add(uow: UnitOfWork, person: Person, number: int, text: str, now: dt.datetime) -> Reply:
    ctx = await load_context(uow)
    brief = await service.add_item(uow, ctx, person, number, text, now)
    session = await uow.sessions.get(number)
    assert session is not None
    sends_at = service.brief_times(ctx, session).sends_at
    return Reply(messages=(cards.brief_card(brief, person.timezone, draft=True, sends_at=sends_at),))


async def drop(uow: UnitOfWork, person: Person, number: int, item: int, now: dt.datetime) -> Reply:
    ctx = await load_context(uow)
    brief, _ = await service.drop_item(uow, ctx, person, number, item, now)
    session = await uow.sessions.get(number)
    assert session is not None
    sends_at = service.brief_times(ctx, session).sends_at
    return Reply(messages=(cards.brief_card(brief, person.timezone, draft=True, sends_at=sends_at),))


async def send_now(uow: UnitOfWork, person: Person, number: int, now: dt.datetime) -> Reply:
    ctx = await load_context(uow)
    sent = await service.send_now(uow, ctx, person, number, now)
    return Reply.text(cards.sent_text(number, sent))
