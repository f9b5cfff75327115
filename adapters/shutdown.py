"""What a stopping process does with the work it still runs: nothing a person sent is
lost, nothing is done twice.

``finish_turns`` gives the turns still running their grace, then cuts off the rest: the
database connections are cut first (whatever waits on them fails at once and ends by
itself, rather than a query being cancelled midway), then what still runs is cancelled.

Slack and Teams turns record the id of their event before they run, so that a platform's
retry is not run a second time (at most once).  A turn cut off by shutdown is then
handled by how far it got (``cut_off_safely``):

* before the core finished, it changed nothing: its id is forgotten again, so that the
  platform's redelivery (Teams sends an activity that got no answer again; Slack an
  event whose ack did not arrive) is processed by another replica or the next start;
* after the core finished, its change is stored and running it again would make it
  twice: the id stays, and the messages of the reply that had not gone out yet go to the
  outbox instead, which another replica (or the next start) sends.

Both are best effort within ``CUT_OFF_WAIT`` (a hung database cannot take either).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from bot.cards import is_database_unavailable
from bot.clock import Clock
from bot.deliveries.service import enqueue
from bot.messages import Reply
from bot.ports import UnitOfWorkFactory

log = logging.getLogger(__name__)

# How long a cut-off turn may spend on the database (a hung one cannot answer); how long
# what outlived the grace gets to end by itself once the database connections are cut;
# how long what is then cancelled gets to wind up.
CUT_OFF_WAIT = 0.8
SETTLE_WAIT = 0.3
CANCEL_WAIT = 1.0


async def finish_turns(
    turns: set[asyncio.Task[Any]],
    grace: float,
    platform: str,
    *,
    cut: set[asyncio.Task[Any]] | None = None,
    before_cut: Callable[[], object] | None = None,
) -> None:
    """Let ``turns`` (a live set: turns that start meanwhile count too) finish within
    ``grace`` seconds, then cut off the rest: ``before_cut`` (the runtime cuts the
    database connections) and SETTLE_WAIT for them to end by themselves, then cancel
    them (each added to ``cut`` first, so that a turn can tell this from other
    cancellations) and give them CANCEL_WAIT to wind up."""
    late = await wait_for_all(turns, grace)
    if late and before_cut is not None:
        before_cut()
        late = await wait_for_all(late, SETTLE_WAIT)
    if late:
        for task in late:
            if cut is not None:
                cut.add(task)
            task.cancel()
        log.warning("stopped %d %s turns that ran past the shutdown grace", len(late), platform)
        await asyncio.wait(late, timeout=CANCEL_WAIT)


async def wait_for_all(tasks: set[asyncio.Task[Any]], within: float) -> set[asyncio.Task[Any]]:
    """Wait up to ``within`` seconds for ``tasks`` (a live set) to end; those that did not."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while (running := {t for t in tasks if not t.done()}) and (left := deadline - loop.time()) > 0:
        await asyncio.wait(running, timeout=left)
    return {t for t in tasks if not t.done()}


@dataclass
class Progress:
    """How far a turn got.  The adapter calls ``answered`` when the core returned (its
    change, if any, is stored) and counts in ``sent`` the reply's messages it sent."""

    reply: Reply | None = None
    # Where the reply goes as a delivery (a person or a channel); None: nowhere known.
    audience: str | None = None
    sent: int = 0

    def answered(self, reply: Reply, audience: str | None) -> None:
        if not is_database_unavailable(reply):  # the core met an outage: nothing changed
            self.reply, self.audience = reply, audience


@asynccontextmanager
async def cut_off_safely(
    uow: UnitOfWorkFactory, clock: Clock, source: str, key: str
) -> AsyncIterator[Progress]:
    """Run the turn of the event ``key`` (recorded as seen); if shutdown cuts it off,
    forget the id or hand the rest of the reply to the outbox (see the module)."""
    progress = Progress()
    try:
        yield progress
    except asyncio.CancelledError:
        await _bounded(_wind_up(uow, clock, source, key, progress), source)
        raise


async def _bounded(work: Any, source: str) -> None:
    attempt = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({attempt}, timeout=CUT_OFF_WAIT)
    if attempt not in done or not attempt.result():
        log.warning("a %s turn was cut off by shutdown and could not be handed on", source)


async def _wind_up(uow: UnitOfWorkFactory, clock: Clock, source: str, key: str, progress: Progress) -> bool:
    # Never raises: nobody may be left to collect its error.
    reply = progress.reply
    try:
        async with uow() as work:
            if reply is None:
                await work.events.forget(source, key)
                what = "its redelivery will be processed"
            elif progress.audience is not None:
                # Platform ids can be long; the delivery key holds 200 characters.
                digest = hashlib.sha256(f"{source}:{key}".encode()).hexdigest()[:32]
                for n, message in enumerate(reply.messages[progress.sent :], start=progress.sent):
                    await enqueue(
                        work,
                        audience=progress.audience,
                        message=message,
                        key=f"reply:{digest}:{n}",
                        now=clock.now(),
                    )
                what = "the rest of its answer goes through the outbox"
            else:
                return False
            await work.commit()
    except Exception as exc:
        log.debug("winding up a cut-off turn failed (%s)", type(exc).__name__)
        return False
    log.info("a %s turn was cut off by shutdown; %s", source, what)
    return True
