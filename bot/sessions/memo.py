"""The follow-up memo: drafted when a session closes from what was captured in it,
approved by the chair with one click, then sent to the unit's head and deputy and the
attendees, and kept.  (A memo not approved in time is escalated by bot/sessions/jobs.py.)"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bot.audit import AuditEntry
from bot.deliveries.models import Delivery
from bot.deliveries.service import enqueue
from bot.org.models import Person, Unit
from bot.permissions import NotAllowed
from bot.ports import UnitOfWork
from bot.sessions import cards
from bot.sessions.documents import attachment
from bot.sessions.models import (
    DocumentKind,
    DocumentState,
    ItemKind,
    SessionDocument,
    SessionItem,
    StatSession,
)
from bot.sessions.service import last_change, may_see, people_by_id


@dataclass(slots=True)
class MemoFacts:
    session: StatSession
    unit: Unit
    people: dict[int, Person]
    items: dict[ItemKind, list[SessionItem]] = field(default_factory=dict)
    # Lines the chair added to the draft before approving it.
    added: list[str] = field(default_factory=list)


# The draft's edits: the chair's added lines.
ADDED = "added"


async def memo_facts(
    uow: UnitOfWork, session: StatSession, unit: Unit, document: SessionDocument | None = None
) -> MemoFacts:
    assert session.id is not None
    added = list(document.edits.get(ADDED, [])) if document is not None else []
    facts = MemoFacts(session, unit, await people_by_id(uow), added=added)
    for item in await uow.session_items.for_sessions([session.id]):
        facts.items.setdefault(item.kind, []).append(item)
    return facts


async def draft_memo(uow: UnitOfWork, session: StatSession, unit: Unit, now: dt.datetime) -> SessionDocument:
    assert session.id is not None
    facts = await memo_facts(uow, session, unit)
    document = SessionDocument(
        session_id=session.id,
        kind=DocumentKind.MEMO,
        state=DocumentState.DRAFT,
        body=cards.memo_markdown(facts),
        created_at=now,
        updated_at=now,
    )
    added = await uow.session_documents.add_if_absent(document)
    if added is None:
        stored = await uow.session_documents.of(session.id, DocumentKind.MEMO)
        assert stored is not None
        return stored
    chair = facts.people.get(session.chair_id)
    if chair is not None and session.closed_by != chair.id:
        await enqueue(
            uow,
            audience=Delivery.to_person(session.chair_id),
            message=cards.memo_card(facts, chair.timezone, draft=True),
            key=f"session:{session.id}:memo:draft",
            now=now,
        )
    return added


async def _loaded(
    uow: UnitOfWork, person: Person, session_id: int
) -> tuple[StatSession, Unit, SessionDocument]:
    session = await uow.sessions.get(session_id)
    unit = await uow.units.get(session.unit_id) if session is not None else None
    memo = await uow.session_documents.of(session_id, DocumentKind.MEMO) if session is not None else None
    if session is None or unit is None or not may_see(person, session, unit):
        raise NotAllowed(cards.unknown_session(session_id))
    if memo is None:
        raise NotAllowed(cards.no_memo_yet(session))
    return session, unit, memo


async def show(uow: UnitOfWork, person: Person, session_id: int) -> tuple[MemoFacts, SessionDocument]:
    session, unit, memo = await _loaded(uow, person, session_id)
    if memo.state == DocumentState.DRAFT and person.id != session.chair_id and not person.is_admin:
        raise NotAllowed(cards.memo_not_sent(session))
    return await memo_facts(uow, session, unit, memo), memo


async def add_line(
    uow: UnitOfWork, person: Person, session_id: int, text: str, now: dt.datetime
) -> tuple[MemoFacts, SessionDocument]:
    """The chair adds a line to the draft (a correction, something left out)."""
    session, unit, memo = await _loaded(uow, person, session_id)
    if person.id != session.chair_id:
        raise NotAllowed(cards.only_the_chair(session))
    if memo.state == DocumentState.SENT:
        raise NotAllowed(cards.memo_sent_already(session))
    expected = {"state": DocumentState.DRAFT, "version": memo.version}
    memo.edits = {**memo.edits, ADDED: [*memo.edits.get(ADDED, []), text]}
    facts = await memo_facts(uow, session, unit, memo)
    memo.body, memo.updated_at, memo.version = cards.memo_markdown(facts), now, memo.version + 1
    if not await uow.session_documents.save_if(memo, expected):
        raise NotAllowed(cards.memo_changed_meanwhile(session, *await last_change(uow, session_id)))
    await uow.audit.record(
        AuditEntry(
            at=now,
            actor_id=person.id,
            action="session.memo_edited",
            subject=f"session:{session_id}",
            detail={},
        )
    )
    return facts, memo


def readers(session: StatSession, unit: Unit) -> list[int]:
    """Who gets the approved memo: the unit's head and deputy, then the attendees."""
    everyone = [unit.head_id, unit.deputy_id, *session.attendees]
    return [p for p in dict.fromkeys(everyone) if p is not None and p != session.chair_id]


async def approve(
    uow: UnitOfWork, person: Person, session_id: int, now: dt.datetime
) -> tuple[MemoFacts, list[int]]:
    session, unit, memo = await _loaded(uow, person, session_id)
    if person.id != session.chair_id:
        raise NotAllowed(cards.only_the_chair(session))
    if memo.state == DocumentState.SENT:
        raise NotAllowed(cards.memo_sent_already(session))
    expected = {"state": DocumentState.DRAFT, "version": memo.version}
    # What is sent is the memo as it stands now (a request provided since the close shows).
    facts = await memo_facts(uow, session, unit, memo)
    memo.body = cards.memo_markdown(facts)
    memo.state, memo.sent_at, memo.approved_by, memo.updated_at = DocumentState.SENT, now, person.id, now
    memo.version += 1
    if not await uow.session_documents.save_if(memo, expected):
        raise NotAllowed(cards.memo_not_approved(session, *await last_change(uow, session_id)))
    await uow.audit.record(
        AuditEntry(
            at=now, actor_id=person.id, action="session.memo_sent", subject=f"session:{session_id}", detail={}
        )
    )
    sent_to = readers(session, unit)
    attached = attachment(memo, unit)
    for reader_id in sent_to:
        reader = facts.people.get(reader_id)
        if reader is None:
            continue
        await enqueue(
            uow,
            audience=Delivery.to_person(reader_id),
            message=cards.memo_card(facts, reader.timezone, draft=False, attached=attached),
            key=f"session:{session_id}:memo:{reader_id}",
            now=now,
        )
    return facts, sent_to
