"""The outbox, as a domain operation: a delivery is written in the same transaction as
its cause, under an idempotency key, so a sweep that runs twice writes it once.  Sending
is the drain sweep's (bot/deliveries/jobs.py).
"""

from __future__ import annotations

import datetime as dt

from bot.deliveries.models import Audience, Delivery, DeliveryKey, DeliveryState
from bot.messages import Card, Form
from bot.ports import UnitOfWork


async def enqueue(
    uow: UnitOfWork,
    *,
    audience: Audience | str,
    message: Card | Form,
    key: DeliveryKey | str,
    now: dt.datetime,
    not_before: dt.datetime | None = None,
) -> bool:
    """Store a message for ``audience``; False when ``key`` was already enqueued."""
    return await uow.deliveries.enqueue(
        Delivery(
            audience=str(audience),
            payload=message.model_dump(mode="json"),
            idempotency_key=str(key),
            state=DeliveryState.PENDING,
            created_at=now,
            next_attempt_at=not_before or now,
        )
    )
