"""The outbox: write deliveries with the state change that caused them, send them after.

A delivery is written in the same transaction as its cause, under an idempotency key,
so a sweep that runs twice writes it once.  The sender leases due deliveries, sends
each through the platform gateway and records the outcome; a crashed sender's lease
runs out and another sends it.  Retries back off, honour Retry-After, and give up after
MAX_ATTEMPTS with the error kept for the operator.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from bot.clock import Clock
from bot.deliveries.models import Delivery
from bot.messages import Card, Form
from bot.ports import ChatGateway, DeliveryError, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = dt.timedelta(minutes=2)


async def enqueue(
    uow: UnitOfWork,
    *,
    audience: str,
    message: Card | Form,
    key: str,
    now: dt.datetime,
    not_before: dt.datetime | None = None,
) -> bool:
    """Store a message for ``audience``; False when ``key`` was already enqueued."""
    return await uow.deliveries.enqueue(
        Delivery(
            audience=audience,
            payload=message.model_dump(mode="json"),
            idempotency_key=key,
            state="pending",
            created_at=now,
            next_attempt_at=not_before or now,
        )
    )


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
) -> DrainResult:
    """Send everything due now.  Safe to run concurrently: leases decide who sends."""
    result = DrainResult()
    for _ in range(max_batches):
        now = clock.now()
        async with uow_factory() as uow:
            claimed = await uow.deliveries.claim_due(now, limit=batch, lease=LEASE)
            await uow.commit()
        if not claimed:
            break
        for delivery in claimed:
            await _send_one(uow_factory, gateway, clock, delivery, result)
    return result


async def _send_one(
    uow_factory: UnitOfWorkFactory,
    gateway: ChatGateway,
    clock: Clock,
    delivery: Delivery,
    result: DrainResult,
) -> None:
    delivery.attempts += 1
    try:
        delivery.platform_ref = await gateway.send(delivery)
    except DeliveryError as exc:
        delivery.last_error = str(exc)[:2000]
        if exc.permanent or delivery.attempts >= MAX_ATTEMPTS:
            delivery.state = "failed"
            result.failed += 1
            log.error("delivery %s to %s failed for good: %s", delivery.id, delivery.audience, exc)
        else:
            wait = dt.timedelta(seconds=exc.retry_after) if exc.retry_after else backoff(delivery.attempts)
            delivery.state = "pending"
            delivery.next_attempt_at = clock.now() + wait
            result.retried += 1
    else:
        delivery.state = "sent"
        delivery.sent_at = clock.now()
        delivery.last_error = None
        result.sent += 1
    delivery.lease_until = None
    async with uow_factory() as uow:
        await uow.deliveries.save(delivery)
        await uow.commit()
