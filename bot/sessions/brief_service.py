"""A session's brief: when it is drafted and sent, drafting it once, editing the draft,
sending it once.

The rule (README, "Stat sessions"): the brief goes out ``brief_hours`` working hours
before the session (default 48: hours of working days, so a weekend or a public holiday
does not count); its draft is made 24 working hours before that and shown to the chair
and the analysts who attend, who may add and drop items or send it at once.  The draft
is one row per session (add_if_absent); every change of it, and sending it, is a
conditional update on its state and the version read, and bumps the version, so of two
replicas or two people exactly one wins (even at the same instant), and the other is
told who got there first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.audit import AuditEntry
from bot.deliveries.models import Delivery
from bot.deliveries.service import enqueue
from bot.org.context import OrgContext
from bot.org.models import Person, Unit
from bot.permissions import NotAllowed, can_edit_brief, can_see_brief, is_analyst
from bot.ports import UnitOfWork
from bot.sessions import brief_cards as cards
from bot.sessions import decisions
from bot.sessions.brief import ADDED, DROPPED, NUMBERED, Brief, build_brief
from bot.sessions.documents import attachment
from bot.sessions.models import DocumentKind, DocumentState, SessionDocument, SessionState, StatSession
from bot.sessions.service import last_change
from bot.weeks import shift_week, week_of

DEFAULT_BRIEF_HOURS = 48
# The draft is open to the analysts this long (working hours) before it goes out.
DRAFT_HOURS = 24
ADDED_MAX = 500


@dataclass(frozen=True, slots=True)
class BriefTimes:
    drafts_at: dt.datetime
    sends_at: dt.datetime


def brief_times(ctx: OrgContext, session: StatSession) -> BriefTimes:
    org = ctx.organisation
    series = next((s for s in org.sessions if s.name == session.series), None)
    hours = series.brief_hours if series is not None else DEFAULT_BRIEF_HOURS
    zone = (series.timezone if series is not None else None) or org.timezone
    before = ctx.calendar.working_hours_before
    return BriefTimes(
        drafts_at=before(session.starts_at, hours + DRAFT_HOURS, zone),
        sends_at=before(session.starts_at, hours, zone),
    )


def participants(session: StatSession) -> set[int | None]:
    return {session.chair_id, session.scheduled_chair_id, *session.attendees}


def recipients(session: StatSession) -> list[int]:
    """Who the brief goes to: the chair and the attendees."""
    return sorted({session.chair_id, *session.attendees})


async def _audit(
    uow: UnitOfWork, action: str, session: StatSession, actor: int | None, now: dt.datetime, **detail: object
) -> None:
    await uow.audit.record(
        AuditEntry(
            at=now, actor_id=actor, action=action, subject=f"session:{session.id}", detail=dict(detail)
        )
    )


async def _people(uow: UnitOfWork) -> dict[int, Person]:
    return {p.id: p for p in await uow.people.all(active_only=False) if p.id is not None}


async def build(
    uow: UnitOfWork, ctx: OrgContext, session: StatSession, document: SessionDocument | None, now: dt.datetime
) -> Brief:
    """The brief as of ``now``, with the draft's edits."""
    assert session.id is not None
    # The last full week: the brief is read before the session, about the weeks before.
    week = shift_week(week_of(now, ctx.organisation.timezone), -1)
    data = await uow.brief_source.load(session_id=session.id, week=week)
    assert data is not None
    return build_brief(data, now=now, context=ctx, edits=document.edits if document else None)


async def current(
    uow: UnitOfWork, ctx: OrgContext, session: StatSession, document: SessionDocument, now: dt.datetime
) -> Brief:
    """The draft as of ``now``.  Items that appeared since it was last shown get their
    numbers now, and the draft keeps them, so the number someone reads is the one
    `brief drop` takes later.  Numbering changes nothing anyone chose: it is written only
    if the draft is still as read, without bumping its version (a change made at the same
    moment is never refused because of it); if the draft changed meanwhile, it is shown
    as that change left it."""
    brief = await build(uow, ctx, session, document, now)
    if document.state != DocumentState.DRAFT or list(brief.numbered) == document.edits.get(NUMBERED):
        return brief
    expected = {"state": DocumentState.DRAFT, "version": document.version}
    document.edits = {**document.edits, NUMBERED: list(brief.numbered)}
    document.body = cards.brief_markdown(brief, ctx.organisation.timezone)
    if await uow.session_documents.save_if(document, expected):
        return brief
    assert document.id is not None
    fresh = await uow.session_documents.reload(document.id)
    return await build(uow, ctx, session, fresh, now)


async def open_draft(
    uow: UnitOfWork, ctx: OrgContext, session: StatSession, now: dt.datetime
) -> tuple[SessionDocument, Brief]:
    """The session's draft brief, made once; when this call made it, the chair and the
    attending analysts are shown it with its buttons."""
    assert session.id is not None
    existing = await uow.session_documents.of(session.id, DocumentKind.BRIEF)
    if existing is not None:
        return existing, await build(uow, ctx, session, existing, now)
    brief = await build(uow, ctx, session, None, now)
    tz = ctx.organisation.timezone
    added = await uow.session_documents.add_if_absent(
        SessionDocument(
            session_id=session.id,
            kind=DocumentKind.BRIEF,
            state=DocumentState.DRAFT,
            body=cards.brief_markdown(brief, tz),
            created_at=now,
            updated_at=now,
            edits={ADDED: [], DROPPED: [], NUMBERED: list(brief.numbered)},
        )
    )
    if added is None:  # another replica drafted it meanwhile
        document = await uow.session_documents.of(session.id, DocumentKind.BRIEF)
        assert document is not None
        return document, await build(uow, ctx, session, document, now)
    await _audit(uow, "brief.drafted", session, None, now)
    people = await _people(uow)
    sends_at = brief_times(ctx, session).sends_at
    readers = {session.chair_id} | {a for a in session.attendees if a in people and is_analyst(people[a])}
    for person_id in sorted(readers):
        reader = people.get(person_id)
        if reader is None or not reader.active:
            continue
        card = cards.brief_card(brief, reader.timezone, draft=True, sends_at=sends_at)
        await enqueue(
            uow,
            audience=Delivery.to_person(person_id),
            message=card,
            key=f"session:{session.id}:brief-draft:{person_id}",
            now=now,
        )
    return added, brief


async def send(
    uow: UnitOfWork,
    ctx: OrgContext,
    session: StatSession,
    document: SessionDocument,
    now: dt.datetime,
    by: Person | None = None,
) -> int | None:
    """Send the draft to the chair and attendees, once; None when it was sent (or
    changed) meanwhile by someone else."""
    brief = await build(uow, ctx, session, document, now)
    expected = {"state": DocumentState.DRAFT, "version": document.version}
    document.state, document.sent_at, document.updated_at = DocumentState.SENT, now, now
    document.version += 1
    document.body = cards.brief_markdown(brief, ctx.organisation.timezone)
    document.approved_by = by.id if by is not None else None
    # What it showed as standing, so the next brief can tell a repeated exception.
    document.edits = {**document.edits, decisions.STANDING: decisions.shown(brief)}
    if not await uow.session_documents.save_if(document, expected):
        return None
    people = await _people(uow)
    unit = await uow.units.get(session.unit_id)
    # The sent brief is kept, so it goes with its card as a document (a draft does not).
    attached = attachment(document, unit) if unit is not None else None
    sent = 0
    for person_id in recipients(session):
        reader = people.get(person_id)
        if reader is None or not reader.active:
            continue
        card = cards.brief_card(brief, reader.timezone, draft=False, sent_at=now, attached=attached)
        sent += await enqueue(
            uow,
            audience=Delivery.to_person(person_id),
            message=card,
            key=f"session:{session.id}:brief:{person_id}",
            now=now,
        )
    await _audit(uow, "brief.sent", session, by.id if by else None, now, recipients=recipients(session))
    if unit is not None:
        await decisions.ask_for_repeated(uow, session, unit, brief, now)
    return sent


async def due(uow: UnitOfWork, ctx: OrgContext, session: StatSession, now: dt.datetime) -> int:
    """The sweep's step for one session: draft the brief when its time came, send it
    when its time came; returns 1 when something was done."""
    if session.state != SessionState.SCHEDULED or session.starts_at <= now:
        return 0
    times = brief_times(ctx, session)
    if now < times.drafts_at:
        return 0
    assert session.id is not None
    document = await uow.session_documents.of(session.id, DocumentKind.BRIEF)
    done = 0
    if document is None:
        document, _ = await open_draft(uow, ctx, session, now)
        done = 1
    if document.state == DocumentState.DRAFT and now >= times.sends_at:
        done = 1 if await send(uow, ctx, session, document, now) is not None else done
    return done


# --- turns ---------------------------------------------------------------------------------


async def visible(uow: UnitOfWork, person: Person, number: int) -> tuple[StatSession, Unit]:
    session = await uow.sessions.get(number)
    unit = await uow.units.get(session.unit_id) if session is not None else None
    if session is None or unit is None or not can_see_brief(person, unit, participants(session)):
        raise NotAllowed(cards.unknown_brief(number))
    return session, unit


async def editable(
    uow: UnitOfWork, ctx: OrgContext, person: Person, number: int, now: dt.datetime
) -> tuple[StatSession, SessionDocument, Brief]:
    """The draft a person may change: they may edit it, it is not sent, the session is
    still ahead.  An analyst may start on a brief before its draft is due."""
    session, unit = await visible(uow, person, number)
    if not can_edit_brief(person, unit, {session.chair_id, session.scheduled_chair_id}):
        raise NotAllowed(cards.not_editor(number))
    existing = await uow.session_documents.of(number, DocumentKind.BRIEF)
    if existing is not None and existing.state == DocumentState.SENT:
        raise NotAllowed(cards.already_sent(number))
    if session.state != SessionState.SCHEDULED or session.starts_at <= now:
        raise NotAllowed(cards.too_late(number))
    document, brief = await open_draft(uow, ctx, session, now)
    return session, document, brief


async def _save_edits(
    uow: UnitOfWork,
    ctx: OrgContext,
    session: StatSession,
    document: SessionDocument,
    edits: dict[str, list[str]],
    now: dt.datetime,
) -> Brief:
    expected = {"state": DocumentState.DRAFT, "version": document.version}
    document.edits, document.updated_at, document.version = edits, now, document.version + 1
    brief = await build(uow, ctx, session, document, now)
    document.edits = {**edits, NUMBERED: list(brief.numbered)}
    document.body = cards.brief_markdown(brief, ctx.organisation.timezone)
    if not await uow.session_documents.save_if(document, expected):
        assert session.id is not None
        raise await _taken_first(uow, session.id)
    return brief


async def _taken_first(uow: UnitOfWork, number: int) -> NotAllowed:
    by, action = await last_change(uow, number)
    return NotAllowed(cards.taken_first(number, by, action))


async def add_item(
    uow: UnitOfWork, ctx: OrgContext, person: Person, number: int, text: str, now: dt.datetime
) -> Brief:
    session, document, _ = await editable(uow, ctx, person, number, now)
    edits = {**document.edits, ADDED: [*document.edits.get(ADDED, []), text.strip()[:ADDED_MAX]]}
    brief = await _save_edits(uow, ctx, session, document, edits, now)
    await _audit(uow, "brief.item_added", session, person.id, now, text=text.strip()[:ADDED_MAX])
    return brief


async def drop_item(
    uow: UnitOfWork, ctx: OrgContext, person: Person, number: int, item: int, now: dt.datetime
) -> tuple[Brief, str]:
    """Drop the draft's item number ``item`` (numbers do not move: it is the item the
    reader saw as ``item``, whatever appeared since); returns the brief and the dropped
    item's words."""
    session, document, brief = await editable(uow, ctx, person, number, now)
    # Only numbers someone was shown (an item new since has none yet; a draft made
    # before numbers were kept is numbered as it was shown).
    shown = len(document.edits[NUMBERED]) if NUMBERED in document.edits else len(brief.numbered)
    if not 1 <= item <= shown:
        raise NotAllowed(cards.no_such_item(number, item, shown))
    key = brief.numbered[item - 1]
    fact = next((f for _, f in brief.entries() if f.key == key), None)
    if fact is None:
        gone = cards.dropped_already if brief.was_dropped(key) else cards.no_longer_there
        raise NotAllowed(gone(number, item))
    edits = {**document.edits, DROPPED: [*document.edits.get(DROPPED, []), fact.key]}
    brief = await _save_edits(uow, ctx, session, document, edits, now)
    words = cards.item_text(fact)[0]
    await _audit(uow, "brief.item_dropped", session, person.id, now, item=fact.key, number=item, text=words)
    return brief, words


async def send_now(uow: UnitOfWork, ctx: OrgContext, person: Person, number: int, now: dt.datetime) -> int:
    session, document, _ = await editable(uow, ctx, person, number, now)
    sent = await send(uow, ctx, session, document, now, by=person)
    if sent is None:
        raise await _taken_first(uow, number)
    return sent
