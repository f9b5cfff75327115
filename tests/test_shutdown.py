"""`statbot serve` stopping (issue 10, item 8), as real processes against a slow fake
Slack Web API: SIGTERM in the middle of sending the outbox exits 0 soon, sends nothing
twice and leaves nothing waiting for a lease; after SIGKILL the rest waits one short
lease, not five minutes."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import signal
import socket
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.deliveries.jobs import LEASE
from bot.deliveries.models import Delivery, DeliveryState
from bot.deliveries.service import enqueue
from bot.messages import Card, paragraph
from storage.engine import create_engine, session_factory
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import EXAMPLE_ORG
from tests.fakes.slack_api import FakeSlackApi

STATBOT = Path(sys.executable).with_name("statbot")
ROOT = Path(__file__).resolve().parent.parent
TAG = re.compile(r"outbox-message-(\d+)-end")
PER_PERSON = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _run(env: dict[str, str], *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        STATBOT, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=90)
    assert process.returncode == 0, output.decode()
    return output.decode()


@pytest.fixture
async def slow_api() -> AsyncIterator[FakeSlackApi]:
    fake = FakeSlackApi()
    fake.delay = 0.25  # every Web API call takes a quarter of a second
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def outbox(tmp_path: Path, slow_api: FakeSlackApi) -> tuple[dict[str, str], str, int]:
    """A migrated database with the example org, everyone linked to Slack, and a full outbox."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'statbot.db'}"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "STATBOT_DATABASE_URL": url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "s3cret",
        "STATBOT_SLACK_API_URL": slow_api.url,
        "STATBOT_LOG_FORMAT": "text",
    }
    for name in ("SLACK_APP_TOKEN", "MicrosoftAppId"):
        env.pop(name, None)
    await _run(env, "db", "upgrade")
    await _run(env, "org", "apply", str(EXAMPLE_ORG))
    engine = create_engine(url)
    uow = SqlUnitOfWorkFactory(session_factory(engine))
    now = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    n = 0
    async with uow() as work:
        for person in await work.people.all():
            assert person.id is not None
            person.slack_user_id = f"U{person.id:08d}"
            await work.people.save(person)
            for _ in range(PER_PERSON):
                n += 1
                text = f"outbox-message-{n}-end"
                card = Card(parts=(paragraph(text),), summary=text)
                key = f"test:{n}"
                await enqueue(work, audience=Delivery.to_person(person.id), message=card, key=key, now=now)
        await work.commit()
    await engine.dispose()
    return env, url, n


def _posted(api: FakeSlackApi) -> Counter[int]:
    found: Counter[int] = Counter()
    for call in api.ok_calls("chat.postMessage"):
        match = TAG.search(json.dumps(call.params))
        if match:
            found[int(match.group(1))] += 1
    return found


async def _stored(url: str) -> list[Delivery]:
    engine = create_engine(url)
    try:
        async with SqlUnitOfWorkFactory(session_factory(engine))() as work:
            return list(await work.deliveries.since(0, limit=10_000))
    finally:
        await engine.dispose()


async def _serve_until_sending(env: dict[str, str], api: FakeSlackApi) -> asyncio.subprocess.Process:
    server = await asyncio.create_subprocess_exec(
        STATBOT,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(_free_port()),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while len(_posted(api)) < 5:
        assert time.monotonic() < deadline, "serve never started sending"
        assert server.returncode is None
        await asyncio.sleep(0.05)
    return server


async def test_sigterm_mid_drain_exits_0_sends_nothing_twice_and_hands_back_the_rest(
    outbox: tuple[dict[str, str], str, int], slow_api: FakeSlackApi
) -> None:
    env, url, total = outbox
    server = await _serve_until_sending(env, slow_api)
    signalled = time.monotonic()
    server.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(server.communicate(), timeout=30)
    stopped_in = time.monotonic() - signalled
    assert server.returncode == 0, output.decode()
    assert stopped_in < 10  # within docker stop's grace
    assert "stopped" in output.decode()

    stored = await _stored(url)
    sent_by_serve = {d.id for d in stored if d.state == DeliveryState.SENT}
    # Nothing claimed is left waiting for a lease: it was sent or handed back.
    assert [d.id for d in stored if d.state == DeliveryState.SENDING] == []
    assert 0 < len(sent_by_serve) < total
    assert all(d.lease_until is None for d in stored)
    assert all(count == 1 for count in _posted(slow_api).values())

    # The next process sends the rest at once: no lease to wait for.
    await _run(env, "tick")
    assert _posted(slow_api) == Counter(range(1, total + 1))  # every message exactly once
    assert all(d.state == DeliveryState.SENT for d in await _stored(url))


async def test_after_sigkill_the_rest_waits_one_short_lease(
    outbox: tuple[dict[str, str], str, int], slow_api: FakeSlackApi
) -> None:
    env, url, total = outbox
    server = await _serve_until_sending(env, slow_api)
    killed_at = dt.datetime.now(dt.UTC)
    server.kill()
    await server.wait()
    await asyncio.sleep(0.5)  # requests the fake was still answering

    stored = await _stored(url)
    leased = [d for d in stored if d.state == DeliveryState.SENDING]
    assert leased, "SIGKILL left nothing claimed: the test did not kill mid-drain"
    latest = max(d.lease_until for d in leased if d.lease_until is not None)
    # Bounded by one lease sized to the work, not five minutes.
    assert latest - killed_at <= LEASE + dt.timedelta(seconds=5)
    assert dt.timedelta(seconds=60) >= LEASE

    await _run(env, "tick", "--at", (latest + dt.timedelta(seconds=1)).isoformat())
    posted = _posted(slow_api)
    assert set(posted) == set(range(1, total + 1))  # nothing lost
    # Only the sends in flight at the kill may go twice (the at-least-once window).
    assert sum(count - 1 for count in posted.values()) <= 8
    assert all(d.state == DeliveryState.SENT for d in await _stored(url))
