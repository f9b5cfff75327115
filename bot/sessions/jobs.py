"""The stat sessions' sweeps: planning the org file's meetings of the next weeks (stored
once), drafting and sending their briefs (once), and escalating memos the chair has not
approved in time."""

from __future__ import annotations

import datetime as dt

from bot.audit import AuditEntry
from bot.clock import Clock
from bot.deliveries.models import Delivery
from bot.deliveries.service import enqueue
from bot.org.context import NoOrganisationError, load_context
from bot.ports import UnitOfWorkFactory
from bot.sessions import brief_service, cards
from bot.sessions.memo import memo_facts
from bot.sessions.models import DocumentKind, DocumentState, SessionState
from bot.sessions.schedule import approval_due
from bot.sessions.service import plan


async def plan_sessions(uow_factory: UnitOfWorkFactory, clock: Clock) -> int:
    async with uow_factory() as uow:
        try:
            ctx = await load_context(uow)
        except NoOrganisationError:
            return 0
        changed = await plan(uow, ctx, clock.now())
        await uow.commit()
    return changed


async def escalate_late_memos(uow_factory: UnitOfWorkFactory, clock: Clock) -> int:
    """Tell the chair of every memo still a draft two working days after its session
    closed; once per memo."""
    now = clock.now()
    escalated = 0
    async with uow_factory() as uow:
        try:
            ctx = await load_context(uow)
        except NoOrganisationError:
            return 0
        for memo in await uow.session_documents.drafts(DocumentKind.MEMO):
            if memo.escalated_at is not None:
                continue
            session = await uow.sessions.get(memo.session_id)
            unit = await uow.units.get(session.unit_id) if session is not None else None
            chair = await uow.people.get(session.chair_id) if session is not None else None
            if session is None or unit is None or chair is None or session.closed_at is None:
                continue
            tz = chair.timezone
            due = approval_due(session.closed_at, ctx.calendar, tz)
            if now < due:
                continue
            expected = {"state": DocumentState.DRAFT, "escalated_at": None, "version": memo.version}
            memo.escalated_at, memo.version = now, memo.version + 1
            if not await uow.session_documents.save_if(memo, expected):
                continue
            facts = await memo_facts(uow, session, unit, memo)
            await enqueue(
                uow,
                audience=Delivery.to_person(chair.id or 0),
                message=cards.memo_late_card(facts, tz),
                key=f"session:{session.id}:memo:late",
                now=now,
            )
            await uow.audit.record(
                AuditEntry(
                    at=now,
                    actor_id=None,
                    action="session.memo_late",
                    subject=f"session:{session.id}",
                    detail={},
                )
            )
            escalated += 1
        await uow.commit()
    return escalated


# Sessions this far ahead may have a brief due (the lead time is at most ten working days
# and the draft's day; holidays stretch it).
BRIEF_LOOKAHEAD = dt.timedelta(days=31)


async def send_due_briefs(uow_factory: UnitOfWorkFactory, clock: Clock) -> int:
    """Draft each coming session's brief when its time comes, send it when that time
    comes; one transaction per session."""
    now = clock.now()
    async with uow_factory() as uow:
        try:
            await load_context(uow)
        except NoOrganisationError:
            return 0
        coming = [
            s.id
            for s in await uow.sessions.between(now, now + BRIEF_LOOKAHEAD)
            if s.state == SessionState.SCHEDULED and s.id is not None
        ]
    done = 0
    for session_id in coming:
        async with uow_factory() as uow:
            ctx = await load_context(uow)
            session = await uow.sessions.get(session_id)
            if session is None:
                continue
            done += await brief_service.due(uow, ctx, session, now)
            await uow.commit()
    return done
