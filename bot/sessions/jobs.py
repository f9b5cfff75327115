"""The planning sweep: the org file's stat sessions of the next weeks, stored once."""

from __future__ import annotations

from bot.clock import Clock
from bot.org.context import NoOrganisationError, load_context
from bot.ports import UnitOfWorkFactory
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
