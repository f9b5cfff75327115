"""The digest sweep: post last week's digest once it is due (the scheduler and
`statbot tick` run it; each run commits what it posted)."""

from __future__ import annotations

from bot.clock import Clock
from bot.digests.models import AUDIENCE
from bot.digests.service import MAX_LATE, digest_slot, post_week
from bot.org.context import NoOrganisationError, load_context
from bot.ports import UnitOfWorkFactory


async def post_due_digests(uow_factory: UnitOfWorkFactory, clock: Clock) -> int:
    """Post the digest of last week if it is due and not posted yet; returns how many
    digests were posted (0 or 1).  Safe to run twice, late, or in two processes."""
    now = clock.now()
    async with uow_factory() as uow:
        try:
            context = await load_context(uow)
        except NoOrganisationError:
            return 0
        week, due_at = digest_slot(context, now)
        if now < due_at or now - due_at > MAX_LATE:
            return 0
        if await uow.digests.get(AUDIENCE, week) is not None:
            return 0
        posted = await post_week(uow, context, week, now)
        if posted is None:
            return 0
        await uow.commit()
        return 1 if posted else 0
