"""The sessions' sweeps: planning the org file's sessions of the next weeks (stored
once), and drafting and sending their briefs (once)."""

from __future__ import annotations

import datetime as dt

from bot.clock import Clock
from bot.org.context import NoOrganisationError, load_context
from bot.ports import UnitOfWorkFactory
from bot.sessions import brief_service
from bot.sessions.models import SessionState
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
