"""What an operator reads and scrapes during a database outage (issue 10, item 7): the log
says it once when it starts and once when it ends, however many scrapes, probes, turns
and sweeps meet it; /metrics keeps serving the process's own series and leaves out the
figures it could not read; a sweep that hangs is not started again beside itself."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Callable
from types import TracebackType

import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.runtime import open_runtime
from adapters.settings import Settings
from bot.clock import FakeClock
from bot.ports import DatabaseUnavailable, UnitOfWork
from storage.uow import SqlUnitOfWorkFactory
from tests.helpers import pid
from tests.test_health import Gateway
from tests.test_outage import OUTAGE_WORDS, Unreachable, _text, cut, db_url

__all__ = ["cut", "db_url"]  # fixtures

HEAD_EMAIL = "robert.hayes@riverton.gov"
DATABASE_GAUGES = ("statbot_outbox_pending", "statbot_outbox_oldest_seconds", "statbot_checkins")


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def _gauge(body: str, name: str) -> float | None:
    found = re.search(rf"^{name} ([0-9.e+-]+)$", body, re.MULTILINE)
    return float(found.group(1)) if found else None


async def test_a_whole_outage_logs_one_line_when_it_starts_and_one_when_it_ends(
    cut: Unreachable,
    org_uow: SqlUnitOfWorkFactory,
    db_url: str,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    head = await pid(org_uow, HEAD_EMAIL)
    settings = Settings(STATBOT_DATABASE_URL=db_url)
    async with (
        open_runtime(settings, clock=clock, engine=cut.engine, gateways={"slack": Gateway()}) as runtime,
        TestClient(TestServer(runtime.web_app(), host="127.0.0.1", port=0)) as client,
    ):
        healthy = await (await client.get("/metrics")).text()
        assert _gauge(healthy, "statbot_database_reachable") == 1
        assert _gauge(healthy, "statbot_outbox_pending") is not None

        await cut.down()
        caplog.clear()
        with caplog.at_level(logging.INFO):
            for _ in range(5):  # Prometheus and the load balancer keep asking
                scraped = await client.get("/metrics")
                assert scraped.status == 200
                body = await scraped.text()
                # The process's own series, and no stale figures from before the outage.
                assert "statbot_http_requests_total" in body
                assert _gauge(body, "statbot_database_reachable") == 0
                assert not any(name in body for name in DATABASE_GAUGES)
                probed = await client.get("/healthz")
                assert probed.status == 503
                assert (await probed.json())["database"] == "unreachable"
                assert OUTAGE_WORDS in _text(await runtime.bot.on_text(head, "status"))
                with pytest.raises(DatabaseUnavailable):
                    await runtime.tick()  # the sweeps meet it too
            warnings = _warnings(caplog)
            assert len(warnings) == 1 and "database unreachable" in warnings[0], warnings
            assert not any(r.exc_info for r in caplog.records)

            await cut.up()
            body = await (await client.get("/metrics")).text()
            assert _gauge(body, "statbot_database_reachable") == 1
            assert _gauge(body, "statbot_outbox_pending") is not None
            assert (await client.get("/healthz")).status == 200
            warnings = _warnings(caplog)
            assert len(warnings) == 2 and "reachable again" in warnings[1], warnings


class _Hung:
    """A database that hangs: every unit of work waits until the test lets it go."""

    def __init__(self, inner: SqlUnitOfWorkFactory) -> None:
        self.inner = inner
        self.released = asyncio.Event()
        self.waiting = 0

    def __call__(self) -> _HungUow:
        return _HungUow(self)


class _HungUow:
    def __init__(self, hung: _Hung) -> None:
        self.hung = hung

    async def __aenter__(self) -> UnitOfWork:
        self.hung.waiting += 1
        await self.hung.released.wait()
        self.work = self.hung.inner()
        return await self.work.__aenter__()

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.work.__aexit__(t, e, tb)


async def _until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"waited 5 s in vain for {what}")


async def test_a_sweep_that_hangs_is_not_started_again_beside_itself_nor_warned_about(
    org_uow: SqlUnitOfWorkFactory, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    hung = _Hung(org_uow)
    clock = FakeClock(dt.datetime.now(dt.UTC))  # the scheduler runs in real time
    settings = Settings(STATBOT_DATABASE_URL=db_url)
    async with open_runtime(settings, clock=clock, uow=hung, gateways={"slack": Gateway()}) as runtime:
        scheduler = runtime.scheduler()
        with caplog.at_level(logging.INFO):
            scheduler.start()
            jobs = scheduler.get_jobs()
            await _until(lambda: hung.waiting == len(jobs), "every job to wait on the database")

            # Every job falls due again while its first run still hangs (as the outbox's
            # does every 5 s while a hung database keeps a run for 15 s or more).
            now = dt.datetime.now(dt.UTC)
            for job in jobs:
                job.modify(next_run_time=now)
            await _until(
                lambda: all(j.next_run_time and j.next_run_time > now for j in scheduler.get_jobs()),
                "the scheduler to take the runs that fell due",
            )
            await asyncio.sleep(0)
            assert hung.waiting == len(jobs)  # nothing queued behind the hung runs
            assert not [m for m in _warnings(caplog) if "maximum number of running instances" in m]
            assert _warnings(caplog) == []

            hung.released.set()
            await scheduler.stop(5)
        assert not scheduler.running
        # Stopping again (serve, then the runtime's exit) is quiet.
        await scheduler.stop(5)
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_server_started_before_the_org_file_says_so_once(
    uow: SqlUnitOfWorkFactory, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """`statbot serve` on a migrated database with no organisation yet: the sweeps wait for
    `statbot org apply` and the log says so once, not with a traceback every minute."""
    clock = FakeClock(dt.datetime.now(dt.UTC))  # the scheduler runs in real time
    settings = Settings(STATBOT_DATABASE_URL=db_url)
    async with open_runtime(settings, clock=clock, uow=uow, gateways={"slack": Gateway()}) as runtime:
        scheduler = runtime.scheduler()
        with caplog.at_level(logging.INFO):
            scheduler.start()
            for _ in range(3):  # three rounds of every sweep
                now = dt.datetime.now(dt.UTC)
                for job in scheduler.get_jobs():
                    job.modify(next_run_time=now)
                await _until(
                    lambda now=now: (
                        not scheduler.busy
                        and all(j.next_run_time and j.next_run_time > now for j in scheduler.get_jobs())
                    ),
                    "a round of every sweep",
                )
            await scheduler.stop(5)
    waiting = [m for m in _warnings(caplog) if "no organisation is loaded yet" in m]
    assert waiting == ["sweeps wait: no organisation is loaded yet: run `statbot org apply FILE`"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
