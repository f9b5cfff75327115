"""What the fan-out benchmarks share: send everything in the outbox through the
runtime's gateway, as the scheduler's drain would, and count the outcome."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from adapters.runtime import Runtime
from bot.deliveries.jobs import drain


async def drain_all(
    runtime: Runtime, prompts: int, *, concurrency: int, batch: int
) -> tuple[float, Counter[str]]:
    """Seconds until the outbox is empty, and the states of the deliveries to the first
    ``prompts`` people."""
    gateway = runtime.gateway
    assert gateway is not None
    started = time.perf_counter()
    while True:
        await drain(runtime.uow, gateway, runtime.clock, concurrency=concurrency, batch=batch)
        async with runtime.uow() as uow:
            if await uow.deliveries.pending_count() == 0:
                break
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    states: Counter[str] = Counter()
    async with runtime.uow() as uow:
        for i in range(1, prompts + 1):
            states.update(d.state for d in await uow.deliveries.for_audience(f"person:{i}"))
    return elapsed, states
