"""The sweeps the scheduler (or `statbot tick`) runs.  Each is safe to run twice, late,
or in two processes: the database decides who does what."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from bot.checkins.jobs import open_due_checkins, send_due_reminders
from bot.clock import Clock
from bot.deliveries.jobs import drain
from bot.digests.jobs import post_due_digests
from bot.escalations import jobs as escalations
from bot.ports import ChatGateway, UnitOfWorkFactory
from bot.sessions.jobs import escalate_late_memos, plan_sessions, send_due_briefs

Sweep = Callable[[UnitOfWorkFactory, Clock], Awaitable[int]]

# Platforms retry an event for minutes, not days: older ids need not be remembered.
EVENT_MEMORY = dt.timedelta(days=2)


async def forget_old_events(uow: UnitOfWorkFactory, clock: Clock) -> int:
    async with uow() as work:
        forgotten = await work.events.prune(clock.now() - EVENT_MEMORY)
        await work.commit()
    return forgotten


# Each housekeeping transaction purges at most this many deliveries (short locks).
PURGE_BATCH = 1000


async def purge_delivered(uow: UnitOfWorkFactory, clock: Clock, retention: dt.timedelta) -> int:
    """Empty the words of deliveries sent more than ``retention`` ago; the rows stay as the
    audit trail (who was sent what kind of message, when, and its platform reference)."""
    purged = 0
    while True:
        async with uow() as work:
            count = await work.deliveries.purge_payloads(clock.now() - retention, limit=PURGE_BATCH)
            await work.commit()
        purged += count
        if count < PURGE_BATCH:
            return purged


def housekeeping(retention: dt.timedelta | None) -> Sweep:
    async def sweep(uow: UnitOfWorkFactory, clock: Clock) -> int:
        done = await forget_old_events(uow, clock)
        if retention is not None:
            done += await purge_delivered(uow, clock, retention)
        return done

    return sweep


def sweeps(retention: dt.timedelta | None = None) -> dict[str, Sweep]:
    """In the order a tick runs them: state changes first, then the sending."""
    return {
        "open check-ins": open_due_checkins,
        "stat sessions": plan_sessions,
        "briefs": send_due_briefs,
        # Before the reminders, which stay quiet when a chain just told the same person.
        "escalations": escalations.sweep,
        "reminders": send_due_reminders,
        "late memos": escalate_late_memos,
        "digests": post_due_digests,
        "housekeeping": housekeeping(retention),
    }


SWEEPS: dict[str, Sweep] = sweeps()


async def run_all(
    uow: UnitOfWorkFactory,
    clock: Clock,
    gateway: ChatGateway | None,
    *,
    retention: dt.timedelta | None = None,
    lease_clock: Clock | None = None,
) -> str:
    """Every sweep once, then the outbox; returns a one-line report."""
    counts = [f"{name}: {await sweep(uow, clock)}" for name, sweep in sweeps(retention).items()]
    if gateway is not None:
        result = await drain(uow, gateway, clock, lease_clock=lease_clock)
        counts.append(f"deliveries: {result.sent} sent, {result.retried} to retry, {result.failed} failed")
    return "; ".join(counts)
