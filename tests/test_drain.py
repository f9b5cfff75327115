"""The outbox drain across batches: the next batch is claimed while the current one's last
sends are still out (a large fan-out never stalls at a batch's end), an audience's
deliveries still go one after another in the order they were written, and what sending
did is recorded for every delivery."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict

from bot.clock import FakeClock
from bot.deliveries.jobs import drain
from bot.deliveries.models import Delivery, DeliveryState
from bot.deliveries.service import enqueue
from bot.messages import Reply
from bot.ports import DeliveryError
from storage.uow import SqlUnitOfWorkFactory


async def _write(uow_factory: SqlUnitOfWorkFactory, clock: FakeClock, audiences: list[int]) -> None:
    """One delivery per entry, to ``person:<n>``, in this order."""
    async with uow_factory() as uow:
        for n, audience in enumerate(audiences):
            card = Reply.text(f"message {n}").messages[0]
            await enqueue(
                uow, audience=Delivery.to_person(audience), message=card, key=f"m{n}", now=clock.now()
            )
        await uow.commit()


def _number(delivery: Delivery) -> int:
    return int(delivery.idempotency_key.removeprefix("m"))


async def test_the_next_batch_is_sent_while_the_last_send_of_the_previous_is_out(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await _write(org_uow, clock, list(range(1, 9)))
    slow_started, release = asyncio.Event(), asyncio.Event()
    sent_while_slow: list[int] = []

    class Gateway:
        async def send(self, delivery: Delivery) -> str | None:
            number = _number(delivery)
            if number == 0:  # the first batch's first send hangs on the platform
                slow_started.set()
                await release.wait()
            elif slow_started.is_set() and not release.is_set():
                sent_while_slow.append(number)
                if number == 7:
                    release.set()
            return f"ref-{number}"

    result = await asyncio.wait_for(drain(org_uow, Gateway(), clock, batch=4, concurrency=2), timeout=10)
    assert result.sent == 8
    # Deliveries 4-7 are the second batch: they went out while delivery 0 was still out.
    assert {4, 5, 6, 7} <= set(sent_while_slow)
    async with org_uow() as uow:
        stored = list(await uow.deliveries.since(0))
    assert {(d.state, d.platform_ref, d.attempts, d.lease_until) for d in stored} == {
        (DeliveryState.SENT, f"ref-{_number(d)}", 1, None) for d in stored
    }
    assert all(d.sent_at == clock.now() for d in stored)


async def test_one_audience_is_sent_to_in_order_across_batches(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    # Person 1's four messages land in three different batches of three.
    await _write(org_uow, clock, [1, 2, 3, 1, 4, 5, 1, 6, 1])
    order: dict[str, list[int]] = defaultdict(list)

    class Gateway:
        async def send(self, delivery: Delivery) -> str | None:
            # The first message of person 1 is slow: the later ones must wait for it.
            await asyncio.sleep(0.05 if _number(delivery) == 0 else 0)
            order[delivery.audience].append(_number(delivery))
            return "ok"

    result = await drain(org_uow, Gateway(), clock, batch=3, concurrency=4)
    assert result.sent == 9
    assert order["person:1"] == [0, 3, 6, 8]


async def test_retries_and_failures_are_recorded_with_their_error(
    org_uow: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    await _write(org_uow, clock, [1, 2, 3])

    class Gateway:
        async def send(self, delivery: Delivery) -> str | None:
            match _number(delivery):
                case 0:
                    raise DeliveryError("chat.postMessage: rate limited", retry_after=30)
                case 1:
                    raise DeliveryError("chat.postMessage: channel_not_found", permanent=True)
                case _:
                    return "1700000000.000100"

    result = await drain(org_uow, Gateway(), clock)
    assert (result.sent, result.retried, result.failed) == (1, 1, 1)
    async with org_uow() as uow:
        stored = {_number(d): d for d in await uow.deliveries.since(0)}
    assert stored[0].state == DeliveryState.PENDING
    assert stored[0].next_attempt_at == clock.now() + dt.timedelta(seconds=30)
    assert stored[0].last_error == "chat.postMessage: rate limited" and stored[0].lease_until is None
    assert stored[1].state == DeliveryState.FAILED and stored[1].last_error is not None
    assert stored[2].state == DeliveryState.SENT and stored[2].platform_ref == "1700000000.000100"
