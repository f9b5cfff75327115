"""The outbox sweep: send the deliveries written with the state changes that caused them
(bot/deliveries/service.py writes them).

The sender leases due deliveries, sends
each through the platform gateway and records the outcome; a crashed sender's lease
runs out and another sends it.  Retries back off, honour Retry-After, and give up after
MAX_ATTEMPTS with the error kept for the operator.

The lease is short (LEASE) and renewed every RENEW_EVERY while the batch is being sent,
so a batch of any size keeps its claim, and after a crash (SIGKILL) the rest waits at
most one short lease.  A sender told to stop (``stopping``) starts no new send and hands
the deliveries it claimed but did not start back to the outbox; so does one cancelled.
The one send in flight at a crash is the documented at-least-once window.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass

from bot.clock import Clock
from bot.deliveries.models import Delivery, DeliveryState
from bot.ports import ChatGateway, DeliveryError, UnitOfWorkFactory

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = dt.timedelta(seconds=60)
# Renewed this often (seconds of real time) while a batch is sending.
RENEW_EVERY = 15.0
# A delivery starts sending only while this much of its lease is left, so a send (whose
# platform gateway keeps its own waiting short) always ends before another sender could
# claim the row again.  A batch whose renewals failed hands the rest back instead.
SEND_MARGIN = dt.timedelta(seconds=30)


def backoff(attempts: int) -> dt.timedelta:
    return min(dt.timedelta(seconds=15 * 2 ** max(attempts - 1, 0)), dt.timedelta(hours=1))


@dataclass(slots=True)
class DrainResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0


async def drain(
    uow_factory: UnitOfWorkFactory,
    gateway: ChatGateway,
    clock: Clock,
    *,
    batch: int = 100,
    max_batches: int = 1000,
    concurrency: int = 8,
    stopping: Callable[[], bool] = lambda: False,
    lease_clock: Clock | None = None,
) -> DrainResult:
    """Send everything due now.  Safe to run concurrently: leases decide who sends.

    Up to ``concurrency`` audiences are sent to at once (a platform round trip is mostly
    waiting); one audience's deliveries always go one after another, in order, also when
    they were claimed in different batches.  The next batch is claimed while the last
    sends of the current one are still out, so a large fan-out never stalls at a batch's
    end with fewer sends running.

    ``lease_clock`` keeps the leases (default: ``clock``): a tick that pretends another
    instant still leases in real time, or a server beside it would take its leases for
    expired and send the same deliveries again."""
    run = _Drain(uow_factory, gateway, clock, lease_clock or clock, concurrency, stopping)
    renewer = asyncio.create_task(_renew(uow_factory, run.leases, run.unfinished))
    try:
        for _ in range(max_batches):
            if stopping():
                break
            async with uow_factory() as uow:
                claimed = await uow.deliveries.claim_due(
                    clock.now(), limit=batch, lease=LEASE, lease_now=run.leases.now()
                )
                await uow.commit()
            if not claimed:
                break
            run.start(claimed)
            await run.running_low()
        await run.finish()
    finally:
        renewer.cancel()
        # Shielded: a cancelled drain still hands back what it never started.
        await asyncio.shield(run.hand_back())
    return run.result


class _Drain:
    """One drain's sends in flight, across the batches it claims."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        gateway: ChatGateway,
        clock: Clock,
        leases: Clock,
        concurrency: int,
        stopping: Callable[[], bool],
    ) -> None:
        self.gateway, self.clock, self.leases, self.stopping = gateway, clock, leases, stopping
        self.result = DrainResult()
        self.saver = _GroupSaver(uow_factory)
        self.concurrency = max(concurrency, 1)
        self.slots = asyncio.Semaphore(self.concurrency)
        # Claimed and not started: what a stop or a cancellation hands back.
        self.waiting: dict[int, Delivery] = {}
        # Claimed and not finished: what the renewals keep leased.
        self.unfinished: dict[int, Delivery] = {}
        # Each audience's latest group: the next group of that audience waits for it.
        self.tails: dict[str, asyncio.Task[None]] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.low = asyncio.Event()

    def start(self, claimed: Collection[Delivery]) -> None:
        by_audience: dict[str, list[Delivery]] = {}
        for delivery in claimed:
            by_audience.setdefault(delivery.audience, []).append(delivery)
            self.waiting[id(delivery)] = self.unfinished[id(delivery)] = delivery
        self.low.clear()
        for audience, group in by_audience.items():
            task = asyncio.create_task(self._send_in_order(group, self.tails.get(audience)))
            self.tails[audience] = task
            self.tasks.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not self.tasks:
            self.low.set()

    async def running_low(self) -> None:
        """Until so few claimed deliveries wait to start that the pool could run dry."""
        if len(self.waiting) > self.concurrency and self.tasks:
            await self.low.wait()

    async def finish(self) -> None:
        while self.tasks:
            await asyncio.gather(*list(self.tasks))

    async def hand_back(self) -> None:
        pending = list(self.tasks)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if self.waiting:
            await _release_all(self.saver, list(self.waiting.values()))
            self.waiting.clear()

    async def _send_in_order(self, deliveries: list[Delivery], after: asyncio.Task[None] | None) -> None:
        if after is not None:
            await asyncio.wait({after})
        async with self.slots:
            for delivery in deliveries:
                if self.stopping():
                    return
                self.waiting.pop(id(delivery), None)
                if len(self.waiting) <= self.concurrency:
                    self.low.set()
                try:
                    await _send_one(
                        self.saver,
                        self.gateway,
                        self.clock,
                        delivery,
                        self.result,
                        self.unfinished,
                        self.leases,
                    )
                finally:
                    self.unfinished.pop(id(delivery), None)


async def _release_all(saver: _GroupSaver, deliveries: Collection[Delivery]) -> None:
    for delivery in deliveries:
        await saver.release(delivery)
    log.info("handed %d claimed deliveries back to the outbox", len(deliveries))


async def _renew(uow_factory: UnitOfWorkFactory, clock: Clock, unfinished: dict[int, Delivery]) -> None:
    """Keep the batch's lease while it is being sent."""
    while True:
        await asyncio.sleep(RENEW_EVERY)
        leases: dict[dt.datetime, list[Delivery]] = {}
        for delivery in unfinished.values():
            if delivery.lease_until is not None and delivery.id is not None:
                leases.setdefault(delivery.lease_until, []).append(delivery)
        new_lease = clock.now() + LEASE
        try:
            async with uow_factory() as uow:
                for old, deliveries in leases.items():
                    await uow.deliveries.renew([d.id for d in deliveries if d.id is not None], old, new_lease)
                await uow.commit()
        except Exception as exc:  # the lease runs out; the margin check hands the rest back
            log.warning("could not renew a delivery lease (%s)", type(exc).__name__)
            continue
        for deliveries in leases.values():
            for delivery in deliveries:
                if id(delivery) in unfinished:
                    delivery.lease_until = new_lease


class _GroupSaver:
    """Records outcomes with group commit: every send still waits until its own outcome
    is committed (so the window in which a crash could re-send it stays one commit
    long), but outcomes that finish while a commit is running share the next one instead
    of each paying for a transaction."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory
        self._queue: list[Delivery] = []
        self._committed: set[int] = set()
        self._lock = asyncio.Lock()

    async def release(self, delivery: Delivery) -> None:
        """Hand an unsent delivery back to the outbox, unless its lease was taken over."""
        assert delivery.id is not None and delivery.lease_until is not None
        async with self._uow_factory() as uow:
            await uow.deliveries.release(delivery.id, delivery.lease_until)
            await uow.commit()

    async def save(self, delivery: Delivery) -> None:
        self._queue.append(delivery)
        async with self._lock:
            if id(delivery) in self._committed:
                self._committed.discard(id(delivery))
                return
            batch, self._queue = self._queue, []
            try:
                async with self._uow_factory() as uow:
                    await uow.deliveries.record_outcomes(batch)
                    await uow.commit()
            except BaseException:
                # The others in this batch are still unsaved: the next holder retries them.
                self._queue[:0] = [item for item in batch if item is not delivery]
                raise
            self._committed.update(id(item) for item in batch if item is not delivery)


async def _send_one(
    saver: _GroupSaver,
    gateway: ChatGateway,
    clock: Clock,
    delivery: Delivery,
    result: DrainResult,
    unfinished: dict[int, Delivery] | None = None,
    leases: Clock | None = None,
) -> None:
    if delivery.lease_until is not None and (leases or clock).now() > delivery.lease_until - SEND_MARGIN:
        await saver.release(delivery)
        return
    delivery.attempts += 1
    try:
        delivery.platform_ref = await gateway.send(delivery)
    except DeliveryError as exc:
        delivery.last_error = str(exc)[:2000]
        if exc.permanent or delivery.attempts >= MAX_ATTEMPTS:
            delivery.state = DeliveryState.FAILED
            result.failed += 1
            log.error("delivery %s to %s failed for good: %s", delivery.id, delivery.audience, exc)
        else:
            wait = dt.timedelta(seconds=exc.retry_after) if exc.retry_after else backoff(delivery.attempts)
            delivery.state = DeliveryState.PENDING
            delivery.next_attempt_at = clock.now() + wait
            result.retried += 1
    else:
        delivery.state = DeliveryState.SENT
        delivery.sent_at = clock.now()
        delivery.last_error = None
        result.sent += 1
    if unfinished is not None:
        unfinished.pop(id(delivery), None)  # no renewal touches it any more
    delivery.lease_until = None
    await saver.save(delivery)
