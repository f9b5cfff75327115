"""The HTTP server: health, metrics, and the platform routes when unconfigured."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.runtime import open_runtime
from adapters.settings import Settings
from bot.clock import FakeClock
from storage.uow import SqlUnitOfWorkFactory


@pytest.fixture
async def client(
    engine: AsyncEngine, uow: SqlUnitOfWorkFactory, db_url: str, clock: FakeClock
) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    settings = Settings(STATBOT_DATABASE_URL=db_url)
    async with (
        open_runtime(settings, clock=clock, engine=engine) as runtime,
        TestClient(TestServer(runtime.web_app(), host="127.0.0.1", port=0)) as client,
    ):
        yield client


async def test_healthz_checks_the_database(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {
        "status": "ok",
        "database": "ok",
        "scheduler": "off",
        "outbox": {"backlog": 0, "oldest_undelivered_seconds": None},
    }


async def test_metrics_are_prometheus_text(client: TestClient) -> None:  # type: ignore[type-arg]
    await client.get("/healthz")
    response = await client.get("/metrics")
    assert response.status == 200
    body = await response.text()
    assert 'statbot_http_requests_total{route="/healthz",status="200"} 1.0' in body
    assert "statbot_outbox_pending 0.0" in body


async def test_slack_route_without_slack_configured(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.post("/slack/events", data=b"{}")
    assert response.status == 404
    assert "not configured" in (await response.json())["error"]


async def test_teams_route_answers_loopback_honestly(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.post("/api/messages", json={"type": "message"})
    assert response.status == 501
