"""APScheduler wiring: a few sweeper jobs, in memory.

The database is the source of truth (each sweep claims rows with conditional updates),
so the job store is never shared and a missed run is simply caught up by the next one.
coalesce + a generous misfire grace: a bot that was down over Monday 08:00 still runs
the digest sweep when it comes back, once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from adapters.metrics import Metrics
from adapters.shutdown import CANCEL_WAIT, SETTLE_WAIT, wait_for_all
from bot.clock import Clock
from bot.deliveries.jobs import drain
from bot.org.context import NoOrganisationError
from bot.ports import ChatGateway, DatabaseUnavailable, UnitOfWorkFactory
from bot.sweeps import Sweep, sweeps

log = logging.getLogger(__name__)

SWEEP_SECONDS = 60
DRAIN_SECONDS = 5
MISFIRE_GRACE = 6 * 3600
# Above the one run at a time each job makes (see ``job``): APScheduler refuses a run at
# max_instances with a warning, every interval, for as long as a run hangs.
MAX_INSTANCES = 3


class Sweeper(AsyncIOScheduler):  # type: ignore[misc]
    """The scheduler, with a graceful stop: no new runs, the delivery sender starts no
    new send and hands back what it claimed, running sweeps get ``grace`` seconds."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self.stopping = False
        self.runs: set[asyncio.Task[None]] = set()
        # Jobs with a run in progress (by name).
        self.busy: set[str] = set()
        # Whether "no organisation yet" was logged (once per process).
        self.said_no_org = False
        self._stopped: asyncio.Future[None] | None = None

    async def stop(self, grace: float, *, before_cut: Callable[[], object] | None = None) -> None:
        """Stop once, however many owners ask (``serve`` and the runtime both do); a second
        call waits for the first.  Bounded by ``grace`` + SETTLE_WAIT + CANCEL_WAIT: the
        sweeps that outlive the grace are cut off as turns are (``before_cut``, then
        cancelled: see adapters/shutdown.py).  A cancelled drain still hands back its
        unsent claims; when the database cannot take them, their leases expire."""
        if self._stopped is None:
            self._stopped = asyncio.ensure_future(self._stop(grace, before_cut))
        await asyncio.shield(self._stopped)

    async def _stop(self, grace: float, before_cut: Callable[[], object] | None) -> None:
        self.stopping = True
        if self.running:
            self.pause()  # no new runs; shutdown() would cancel the running ones at once
        late = await wait_for_all(self.runs, grace)
        if late and before_cut is not None:
            before_cut()
            late = await wait_for_all(late, SETTLE_WAIT)
        if late:
            for task in late:
                task.cancel()  # a cancelled drain still hands back its unsent claims
            log.warning("stopped %d sweeps that ran past the shutdown grace", len(late))
            await asyncio.wait(late, timeout=CANCEL_WAIT)
        if self.running:
            self.shutdown(wait=False)
            # APScheduler shuts down in a loop callback: let it run, so that the scheduler
            # reads as stopped when this returns.
            await asyncio.sleep(0)


def build_scheduler(
    uow: UnitOfWorkFactory,
    clock: Clock,
    gateway: ChatGateway | None,
    metrics: Metrics,
    *,
    retention: dt.timedelta | None = None,
) -> Sweeper:
    """Jobs are added here; call ``start()`` inside the running loop."""
    scheduler = Sweeper(
        job_defaults={
            "coalesce": True,
            "max_instances": MAX_INSTANCES,
            "misfire_grace_time": MISFIRE_GRACE,
        },
        timezone="UTC",
    )

    def job(name: str, sweep: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            if scheduler.stopping or name in scheduler.busy:
                # One run at a time, quietly: while a run waits on a hung database the next
                # would only queue behind it (the outage itself is logged once).
                return
            scheduler.busy.add(name)
            try:
                await counted()
            finally:
                scheduler.busy.discard(name)

        async def counted() -> None:
            task = asyncio.current_task()
            if task is not None:
                scheduler.runs.add(task)
                task.add_done_callback(scheduler.runs.discard)
            metrics.sweeps.labels(name).inc()
            metrics.swept()
            try:
                await sweep()
            except asyncio.CancelledError:
                if not scheduler.stopping or task is None:
                    raise
                # Cut off by the stop at the end of its grace: not the job failing, which
                # APScheduler would log as an error with a traceback.
                task.uncancel()
            except DatabaseUnavailable:
                # The unit of work logged the outage once; every run until it ends says nothing.
                metrics.sweep_errors.labels(name).inc()
            except NoOrganisationError as exc:
                # A server started before `statbot org apply`: said once, not every minute.
                if not scheduler.said_no_org:
                    scheduler.said_no_org = True
                    log.warning("sweeps wait: %s", exc)
            except Exception:
                metrics.sweep_errors.labels(name).inc()
                log.exception("sweep %s failed; the next run retries", name)

        return run

    def bound(sweep: Sweep) -> Callable[[], Awaitable[object]]:
        return lambda: sweep(uow, clock)

    metrics.scheduler_running = lambda: bool(scheduler.running)
    for name, sweep in sweeps(retention).items():
        scheduler.add_job(
            job(name, bound(sweep)),
            "interval",
            seconds=SWEEP_SECONDS,
            id=name,
            next_run_time=clock.now(),
        )
    if gateway is not None:

        async def send() -> None:
            result = await drain(uow, gateway, clock, stopping=lambda: scheduler.stopping)
            metrics.deliveries.labels("sent").inc(result.sent)
            metrics.deliveries.labels("retried").inc(result.retried)
            metrics.deliveries.labels("failed").inc(result.failed)

        scheduler.add_job(
            job("deliveries", send),
            "interval",
            seconds=DRAIN_SECONDS,
            id="deliveries",
            next_run_time=clock.now(),
        )
    return scheduler
