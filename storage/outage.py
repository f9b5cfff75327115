"""What a process knows about its database being out of reach, one record per engine.

A database that is down or hung is noticed by whatever meets it first: a turn, a sweep,
``/healthz`` or ``/metrics``.  From then on, until it answers again:

* one warning is logged when the outage starts and one when the database is back,
  however many turns, sweeps and scrapes meet it in between;
* nobody queues behind a hung server.  One ping at a time asks the database whether it
  is back; a unit of work (or a probe's read) waits at most ``PROBE_WAIT`` for that
  answer and otherwise says "try again" at once.  Without this every turn and sweep
  waits out the driver's timeouts (the 5 s connect, the 15 s statement timeout), each
  holding a pooled connection, while Slack wants its answer within 3 s.

The first turn to meet a hung database still waits for the driver's timeouts: nothing
knew yet.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ports import DatabaseUnavailable
from storage.engine import is_unavailable, ping

log = logging.getLogger(__name__)

# How long a unit of work waits for the ping that asks a known-unreachable database
# whether it is back, before it gives up and the person is told to try again.
PROBE_WAIT = 1.0

T = TypeVar("T")


def _name(exc: BaseException) -> str:
    return type(exc).__name__


class Outage:
    """Whether one engine's database is known to be out of reach; logs the edges only."""

    def __init__(self, engine: AsyncEngine | None = None) -> None:
        self.down = False
        self.failures = 0
        # Weak: the record lives beside the engine (see outage_of), not longer.
        self._engine = weakref.ref(engine) if engine is not None else None
        self._probe: asyncio.Task[BaseException | None] | None = None

    def failed(self, exc: BaseException) -> DatabaseUnavailable:
        """Note a failure to reach the database; the error a caller raises instead of ``exc``."""
        self.failures += 1
        if not self.down:
            self.down = True
            # The class only: a driver's text can name the host or carry bound values.
            log.warning("database unreachable (%s); turns answer 'try again' until it is back", _name(exc))
        return DatabaseUnavailable(f"the database cannot be reached ({_name(exc)})")

    def reached(self) -> None:
        if self.down:
            self.down = False
            log.warning("database reachable again after %d failed transactions", self.failures)
            self.failures = 0

    async def gate(self) -> None:
        """Return when the database may be asked.  While it is known to be out of reach,
        raise DatabaseUnavailable unless the ping in flight says within PROBE_WAIT that
        it is back."""
        if not self.down:
            return
        probe = self._probe
        if probe is None or probe.done() or probe.get_loop() is not asyncio.get_running_loop():
            probe = self._probe = asyncio.ensure_future(self._ping())
        # Not cancelled when the wait ends: the next caller waits for the same ping.
        done, _ = await asyncio.wait({probe}, timeout=PROBE_WAIT)
        if probe in done and probe.result() is None:
            self.reached()
            return
        self.failures += 1
        raise DatabaseUnavailable("the database cannot be reached (it has not answered yet)")

    async def _ping(self) -> BaseException | None:
        """The error that kept the ping from the database, or None when it answered.  It
        never raises: nobody may be left to collect the error of a ping nobody waits for."""
        engine = self._engine() if self._engine is not None else None
        if engine is None:
            return None
        try:
            await ping(engine)
        except Exception as exc:
            return exc
        return None

    async def read(self, work: Callable[[], Awaitable[T]]) -> T:
        """``work`` (a read outside a unit of work: /healthz, /metrics) behind the gate,
        its failure to reach the database counted in the outage."""
        await self.gate()
        try:
            result = await work()
        except Exception as exc:
            if is_unavailable(exc) and not isinstance(exc, DatabaseUnavailable):
                raise self.failed(exc) from None
            raise
        self.reached()
        return result


_OUTAGES: weakref.WeakKeyDictionary[AsyncEngine, Outage] = weakref.WeakKeyDictionary()


def outage_of(engine: AsyncEngine) -> Outage:
    """The outage record of ``engine``'s database, shared by everything using the engine
    (one per process in production; each test's engine has its own)."""
    found = _OUTAGES.get(engine)
    if found is None:
        found = _OUTAGES[engine] = Outage(engine)
    return found
