"""Two `statbot serve` replicas on one PostgreSQL database (issue 10, item 9), each with
its scheduler on, a fake Slack Web API, and a simulated week of `statbot tick --at` run
from two processes at once, with people using /stat on both replicas: every delivery is
posted exactly once and every command is answered exactly once.

Runs in .ci/run's PostgreSQL pass (marked db); on its own database, created next to
STATBOT_TEST_DATABASE_URL's."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qsl

import aiohttp
import pytest
from pydantic import TypeAdapter
from sqlalchemy import text
from sqlalchemy.engine import make_url

from adapters.slack.render import render_card_messages
from bot.deliveries.models import Delivery, DeliveryState
from bot.messages import Card, Form
from storage.engine import create_engine, session_factory
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import EXAMPLE_ORG, TEST_DATABASE_URL
from tests.fakes.slack_api import FakeSlackApi, form_body, slack_signature
from tests.helpers import next_week
from tests.test_shutdown import ROOT, STATBOT, _free_port, _run

pytestmark = [
    pytest.mark.db,
    pytest.mark.skipif(
        not (TEST_DATABASE_URL or "").startswith("postgresql"), reason="replicas need PostgreSQL"
    ),
]

SECRET = "replica-signing-secret"
FIXTURE = Path(__file__).parent / "fixtures" / "slack" / "slack_slash_command.form.txt"
# 08:30 in Riverton (09:30 in summer time) of the week after the real one: the org file
# is applied at the real time, before that week begins.
MONDAY = next_week(0, 13, 30)
# The week's moments that owe messages (digest, openings, reminders, deadlines,
# escalations); each is two tick processes at once, so the test stays bounded in time.
INSTANTS = [
    MONDAY + dt.timedelta(days=days, hours=hours)
    for days, hours in ((0, 0), (1, 0), (2, 0), (3, 1), (3, 7), (4, 1), (4, 9), (5, 1), (7, 0))
]
_MESSAGE: TypeAdapter[Card | Form] = TypeAdapter(Card | Form)


@pytest.fixture
async def replica_db() -> AsyncIterator[str]:
    assert TEST_DATABASE_URL is not None
    base = make_url(TEST_DATABASE_URL)
    name = f"{base.database}_replicas"
    admin = create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


class Replica:
    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process, self.port = process, port
        self.url = f"http://127.0.0.1:{port}"


async def _start(env: dict[str, str]) -> Replica:
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        STATBOT, "serve", "--host", "127.0.0.1", "--port", str(port),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    replica = Replica(process, port)
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as session:
        while True:
            assert process.returncode is None, "serve exited"
            try:
                async with session.get(f"{replica.url}/healthz") as response:
                    if response.status == 200:
                        return replica
            except aiohttp.ClientError:
                pass
            assert time.monotonic() < deadline, "serve never answered /healthz"
            await asyncio.sleep(0.2)


async def _command(
    session: aiohttp.ClientSession, replica: Replica, api: FakeSlackApi, key: str, text_: str
) -> tuple[int, bool]:
    """The status, and whether the answer came inside the ack (else via response_url)."""
    fields = dict(parse_qsl(FIXTURE.read_text(), keep_blank_values=True))
    fields.update(
        command="/stat", text=text_, user_id="U0HEAD0001", channel_id="C0GENERAL1",
        response_url=api.response_url(key), trigger_id=f"trigger.{key}",
    )  # fmt: skip
    body = form_body(fields)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    headers.update(slack_signature(SECRET, body, int(time.time())))
    async with session.post(f"{replica.url}/slack/events", data=body, headers=headers) as response:
        return response.status, bool((await response.read()).strip())


def _messages_needed(delivery: Delivery) -> int:
    message = _MESSAGE.validate_python(delivery.payload)
    return len(render_card_messages(message)) if isinstance(message, Card) else 1


async def test_two_replicas_and_two_tick_shells_send_a_week_exactly_once(
    replica_db: str, tmp_path: Path
) -> None:
    api = FakeSlackApi(
        users={"U0HEAD0001": "robert.hayes@riverton.gov", "U0LEAD0001": "priya.raman@riverton.gov"},
        channels={"citistat": "C0CITISTAT", "general": "C0GENERAL1"},
    )
    await api.start()
    env = {
        "PATH": str(Path(STATBOT).parent),
        "PYTHONPATH": str(ROOT),
        "STATBOT_DATABASE_URL": replica_db,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "STATBOT_SLACK_API_URL": api.url,
        "STATBOT_LOG_FORMAT": "text",
    }
    replicas: list[Replica] = []
    try:
        await _run(env, "db", "upgrade")
        await _run(env, "org", "apply", str(EXAMPLE_ORG))
        engine = create_engine(replica_db)
        uow = SqlUnitOfWorkFactory(session_factory(engine))
        async with uow() as work:  # everyone is on Slack
            for person in await work.people.all():
                person.slack_user_id = person.slack_user_id or f"U{person.id:08d}"
                await work.people.save(person)
            await work.commit()

        replicas = [await _start(env), await _start(env)]
        answered: list[str] = []
        in_acks: set[str] = set()
        async with aiohttp.ClientSession() as session:
            n = 0
            for at in INSTANTS:
                stamp = at.isoformat()
                ticks = [_run(env, "tick", "--at", stamp), _run(env, "tick", "--at", stamp)]
                traffic = []
                for replica in replicas:
                    n += 1
                    traffic.append(_command(session, replica, api, f"c{n}", "status"))
                results = await asyncio.gather(*ticks, *traffic)
                for k, (status, in_ack) in zip(range(n - 1, n + 1), results[2:], strict=True):
                    assert status == 200
                    answered.append(f"c{k}")
                    if in_ack:
                        in_acks.add(f"c{k}")
        for replica in replicas:
            replica.process.send_signal(signal.SIGTERM)
        for replica in replicas:
            await asyncio.wait_for(replica.process.wait(), timeout=30)
            assert replica.process.returncode == 0

        async with uow() as work:
            stored = list(await work.deliveries.since(0, limit=100_000))
        await engine.dispose()
        due = [d for d in stored if d.next_attempt_at <= INSTANTS[-1]]
        assert len(due) > 8, "the simulated week owed too few messages to prove anything"
        assert [d.id for d in due if d.state != DeliveryState.SENT] == []
        # Every delivery posted exactly once: as many messages as the sent ones need, and
        # no message posted twice into the same conversation.
        posted = api.ok_calls("chat.postMessage")
        assert len(posted) == sum(_messages_needed(d) for d in stored if d.state == DeliveryState.SENT)
        refs = Counter(d.platform_ref for d in stored if d.state == DeliveryState.SENT)
        assert all(count == 1 for count in refs.values())
        # Every command answered exactly once, whichever replica took it: in its ack, or
        # (when the turn took longer than the ack's budget) once through response_url.
        responded = Counter(str(c.params["key"]) for c in api.ok_calls("respond"))
        for key in answered:
            assert (key in in_acks) + responded[key] == 1, key
    finally:
        for replica in replicas:
            if replica.process.returncode is None:
                replica.process.kill()
                await replica.process.wait()
        await api.close()
