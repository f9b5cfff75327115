"""/healthz and /metrics say what an operator needs (issue 10, item 10), and the retention
setting purges the words of old deliveries while the audit trail stays."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.runtime import Runtime, open_runtime
from adapters.settings import Settings
from bot.checkins.jobs import open_due_checkins
from bot.clock import FakeClock
from bot.deliveries.jobs import drain
from bot.deliveries.models import Delivery, DeliveryState
from bot.escalations.models import Escalation, EscalationState
from bot.messages import Reply
from bot.ports import DeliveryError
from storage.engine import create_engine
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import pid
from tests.test_outage import TcpProxy, Unreachable, cut, db_url, proxied_url

__all__ = ["cut", "db_url"]  # fixtures

HEAD_EMAIL = "robert.hayes@riverton.gov"


class Gateway:
    """A platform that sends everything except deliveries whose key starts with 'bad'."""

    def __init__(self) -> None:
        self.sent: list[int] = []

    async def send(self, delivery: Delivery) -> str | None:
        if delivery.idempotency_key.startswith("bad"):
            raise DeliveryError("nope", permanent=delivery.idempotency_key.startswith("bad-final"))
        assert delivery.id is not None
        self.sent.append(delivery.id)
        return f"ts.{delivery.id}"


@pytest.fixture
async def runtime(
    engine: AsyncEngine, org_uow: SqlUnitOfWorkFactory, db_url: str, clock: FakeClock
) -> AsyncIterator[Runtime]:
    settings = Settings(STATBOT_DATABASE_URL=db_url, STATBOT_RETENTION_DAYS=30)
    async with open_runtime(settings, clock=clock, engine=engine, gateways={"slack": Gateway()}) as rt:
        yield rt


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    async with TestClient(TestServer(runtime.web_app(), host="127.0.0.1", port=0)) as c:
        yield c


async def _enqueue(uow: SqlUnitOfWorkFactory, key: str, created: dt.datetime, audience: str) -> int:
    async with uow() as work:
        delivery = Delivery(
            audience=audience,
            payload={"parts": [{"text": "the words"}]},
            idempotency_key=key,
            state=DeliveryState.PENDING,
            created_at=created,
            next_attempt_at=created,
        )
        assert await work.deliveries.enqueue(delivery)
        await work.commit()
    assert delivery.id is not None
    return delivery.id


def _value(body: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = re.escape(name + (f"{{{wanted}}}" if labels else "")) + r" ([0-9.e+-]+)$"
    found = re.search(pattern, body, re.MULTILINE)
    assert found is not None, f"{name} {labels} not in /metrics"
    return float(found.group(1))


async def test_healthz_reports_scheduler_and_outbox_backlog_with_its_age(
    client: TestClient,  # type: ignore[type-arg]
    runtime: Runtime,
    org_uow: SqlUnitOfWorkFactory,
    clock: FakeClock,
) -> None:
    someone = Delivery.to_person(await pid(org_uow, HEAD_EMAIL))
    await _enqueue(org_uow, "prompt:1:w", clock.now() - dt.timedelta(hours=2), someone)
    await _enqueue(org_uow, "prompt:2:w", clock.now() - dt.timedelta(minutes=5), someone)

    health = await (await client.get("/healthz")).json()
    assert health["scheduler"] == "off"
    assert health["outbox"] == {"backlog": 2, "oldest_undelivered_seconds": 7200.0}

    scheduler = runtime.scheduler()
    scheduler.start(paused=True)
    running = await client.get("/healthz")
    assert running.status == 200 and (await running.json())["scheduler"] == "running"
    scheduler.shutdown(wait=False)
    await asyncio.sleep(0)  # APScheduler marks itself stopped on the loop
    stopped = await client.get("/healthz")
    assert stopped.status == 503 and (await stopped.json())["scheduler"] == "stopped"


async def test_healthz_is_503_while_the_database_is_down(
    cut: Unreachable, db_url: str, clock: FakeClock
) -> None:
    settings = Settings(STATBOT_DATABASE_URL=db_url)
    async with (
        open_runtime(settings, clock=clock, engine=cut.engine) as rt,
        TestClient(TestServer(rt.web_app(), host="127.0.0.1", port=0)) as client,
    ):
        assert (await client.get("/healthz")).status == 200
        await cut.down()
        down = await client.get("/healthz")
        assert down.status == 503
        assert (await down.json())["status"] == "unhealthy"
        metrics = await client.get("/metrics")  # still answers, without the database figures
        assert metrics.status == 200
        await cut.up()
        assert (await client.get("/healthz")).status == 200


async def test_metrics_count_deliveries_turns_latency_checkins_and_escalations(
    client: TestClient,  # type: ignore[type-arg]
    runtime: Runtime,
    org_uow: SqlUnitOfWorkFactory,
    clock: FakeClock,
) -> None:
    head = await pid(org_uow, HEAD_EMAIL)
    someone = Delivery.to_person(head)
    await _enqueue(org_uow, "digest:lead:2026-W49", clock.now(), someone)
    await _enqueue(org_uow, "bad:1", clock.now(), someone)
    await _enqueue(org_uow, "bad-final:1", clock.now(), someone)
    assert runtime.gateway is not None
    result = await drain(runtime.uow, runtime.gateway, clock)
    assert (result.sent, result.retried, result.failed) == (1, 1, 1)

    reply: Reply = await runtime.bot.on_text(head, "status")
    assert reply.messages
    await runtime.bot.on_button(head, "escalation.ack", {"escalation": "999"})
    await runtime.bot.on_button(head, "no.such.action", {})

    clock.set(dt.datetime(2026, 12, 3, 14, 30, tzinfo=dt.UTC))  # after Thursday's opening
    opened = await open_due_checkins(org_uow, clock)
    assert opened >= 1
    async with org_uow() as uow:
        unit = await uow.units.by_key("sanitation")
        assert unit is not None and unit.id is not None
        for n, step in enumerate((0, 2, 2)):
            await uow.escalations.add(_escalation(unit.id, n, step, clock.now()))
        await uow.commit()

    await client.get("/healthz")
    body = await (await client.get("/metrics")).text()
    sends = "statbot_delivery_sends_total"
    assert _value(body, sends, platform="slack", kind="digest", outcome="sent") == 1
    assert _value(body, sends, platform="slack", kind="bad", outcome="retried") == 1
    assert _value(body, sends, platform="slack", kind="bad-final", outcome="failed") == 1
    turns = "statbot_turns_total"
    assert _value(body, turns, kind="text", outcome="ok") == 1
    assert _value(body, turns, kind="escalation.ack", outcome="refused") == 1  # not theirs
    assert _value(body, turns, kind="unknown", outcome="ok") == 1
    assert _value(body, "statbot_checkins", state="open") == opened
    assert _value(body, "statbot_checkins", state="submitted") == 0
    assert _value(body, "statbot_escalations_open", step="0") == 1
    assert _value(body, "statbot_escalations_open", step="2") == 2
    # The retried one and the check-in prompts just written.
    assert _value(body, "statbot_outbox_pending") == await runtime.pending_deliveries() > 1
    # Request latency is a histogram with sub-second buckets.
    assert 'statbot_http_request_seconds_bucket{le="0.05",route="/healthz"}' in body


def _escalation(unit_id: int, n: int, step: int, now: dt.datetime) -> Escalation:
    return Escalation(
        kind="checkin",
        subject_id=1000 + n,
        unit_id=unit_id,
        episode=f"e{n}",
        policy={},
        state=EscalationState.ACTIVE,
        step=step,
        next_step_at=now + dt.timedelta(days=1),
        created_at=now,
        updated_at=now,
    )


async def test_retention_purges_the_words_of_old_deliveries_and_keeps_the_trail(
    runtime: Runtime, org_uow: SqlUnitOfWorkFactory, clock: FakeClock, tmp_path: Path
) -> None:
    someone = Delivery.to_person(await pid(org_uow, HEAD_EMAIL))
    start = clock.now()
    old = await _enqueue(org_uow, "reminder:old", start, someone)
    waiting = await _enqueue(
        org_uow,
        "reminder:waiting",
        start,
        someone,
    )
    assert runtime.gateway is not None
    async with org_uow() as uow:  # one of them waits (not yet due), so it stays unsent
        (record,) = [d for d in await uow.deliveries.for_audience(someone) if d.id == waiting]
        record.next_attempt_at = start + dt.timedelta(days=90)
        await uow.deliveries.save(record)
        await uow.commit()
    await drain(runtime.uow, runtime.gateway, clock)
    clock.set(start + dt.timedelta(days=10))
    recent = await _enqueue(org_uow, "reminder:recent", clock.now(), someone)
    await drain(runtime.uow, runtime.gateway, clock)

    clock.set(start + dt.timedelta(days=35))
    report = await runtime.tick()
    assert "housekeeping: 1" in report

    async with org_uow() as uow:
        stored: dict[int | None, Any] = {d.id: d for d in await uow.deliveries.for_audience(someone)}
    assert stored[old].payload == {}  # the words are gone ...
    assert stored[old].state == DeliveryState.SENT  # ... who, when and where stay
    assert stored[old].sent_at == start and stored[old].platform_ref == f"ts.{old}"
    assert stored[recent].payload != {}
    assert stored[waiting].payload != {} and stored[waiting].state == DeliveryState.PENDING
    assert "housekeeping: 0" in await runtime.tick()  # nothing purged twice


async def test_healthz_and_metrics_answer_within_two_seconds_while_the_database_hangs(
    org_uow: SqlUnitOfWorkFactory, db_url: str, clock: FakeClock
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("a hung server needs the PostgreSQL proxy")
    url = make_url(db_url)
    proxy = await TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    engine = create_engine(proxied_url(db_url, proxy.port))  # the production timeouts
    try:
        async with (
            open_runtime(Settings(STATBOT_DATABASE_URL=db_url), clock=clock, engine=engine) as rt,
            TestClient(TestServer(rt.web_app(), host="127.0.0.1", port=0)) as client,
        ):
            assert (await client.get("/healthz")).status == 200  # a pooled connection
            proxy.pause()
            for _ in range(3):  # the first meets the hang; the others ask while it lasts
                started = time.perf_counter()
                health = await asyncio.wait_for(client.get("/healthz"), timeout=20)
                assert time.perf_counter() - started < 2.5  # a load balancer waits a few seconds
                assert health.status == 503
                assert (await health.json())["database"] == "unreachable"
                started = time.perf_counter()
                scraped = await asyncio.wait_for(client.get("/metrics"), timeout=20)
                assert time.perf_counter() - started < 2.5
                assert scraped.status == 200
                body = await scraped.text()
                assert "statbot_database_reachable 0.0" in body
                assert "statbot_outbox_pending" not in body
            proxy.resume()
            for _ in range(100):  # the read in flight gets its answer once bytes flow again
                if (await client.get("/healthz")).status == 200:
                    break
                await asyncio.sleep(0.1)
            assert "statbot_database_reachable 1.0" in await (await client.get("/metrics")).text()
    finally:
        proxy.resume()
        await engine.dispose()
        await proxy.close()
