"""The outbox's leases are in real time, even when a tick pretends another instant
(`statbot tick --at`): a server sending beside it must not take them for expired."""

from __future__ import annotations

import datetime as dt

from bot.clock import FakeClock
from bot.deliveries.models import Delivery
from bot.deliveries.service import enqueue
from bot.messages import Reply
from storage.uow import SqlUnitOfWorkFactory

LEASE = dt.timedelta(minutes=1)


async def test_a_lease_taken_as_of_a_pretended_past_holds_in_real_time(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    pretended = clock.now() - dt.timedelta(days=1)
    real = clock.now()
    async with org_uow() as uow:
        card = Reply.text("Your check-in is open").messages[0]
        await enqueue(uow, audience=Delivery.to_person(1), message=card, key="lease-test", now=pretended)
        await uow.commit()
    async with org_uow() as uow:
        (claimed,) = await uow.deliveries.claim_due(pretended, limit=10, lease=LEASE, lease_now=real)
        await uow.commit()
    assert claimed.lease_until == real + LEASE
    # A server beside it, at real time, finds nothing to claim: the lease holds.
    async with org_uow() as uow:
        assert await uow.deliveries.claim_due(real + dt.timedelta(seconds=30), limit=10, lease=LEASE) == []
    # Once the lease has run out in real time, the delivery can be taken over.
    async with org_uow() as uow:
        (again,) = await uow.deliveries.claim_due(
            real + LEASE + dt.timedelta(seconds=1), limit=10, lease=LEASE
        )
    assert again.id == claimed.id
