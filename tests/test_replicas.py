"""Two `statbot serve` replicas on one PostgreSQL database (issue 10, item 9), each with
its scheduler on, a fake Slack Web API, and a simulated week (in the recent past) of
`statbot tick --at` run from two processes at once, while the replicas' own schedulers,
in real time, find the same deliveries due and race the ticks to send them.  People use
/stat on both replicas: the head asks for status, the deputy makes commitments, and head
and deputy mark the same commitment done through different replicas at the same moment.
Every delivery is posted exactly once (the replicas sending their share), every command
answered exactly once, and each commitment marked done once (one history row, one audit
row; the other person is told).

Runs in .ci/run's PostgreSQL pass (marked db); on its own database, created next to
STATBOT_TEST_DATABASE_URL's."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
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
# 08:30 in Riverton (09:30 in summer time) on the Monday two weeks before the real one:
# every instant of the simulated week is in the past, so the replicas' own schedulers (in
# real time) find its deliveries due too, and race the ticks to send them.
MONDAY = next_week(0, 13, 30) - dt.timedelta(weeks=3)
# The week's moments that owe messages (digest, openings, reminders, deadlines,
# escalations); each is two tick processes at once, so the test stays bounded in time.
INSTANTS = [
    MONDAY + dt.timedelta(days=days, hours=hours)
    for days, hours in ((0, 0), (1, 0), (2, 0), (3, 1), (3, 7), (4, 1), (4, 9), (5, 1), (7, 0))
]
HEAD, DEPUTY, LEADER = "U0HEAD0001", "U0DEPU0001", "U0LEAD0001"
# Each process posts with its own token, so the fake tells who sent what.
TOKENS = ("xoxb-replica-a", "xoxb-replica-b")
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


async def _start(env: dict[str, str], token: str) -> Replica:
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        STATBOT, "serve", "--host", "127.0.0.1", "--port", str(port),
        env={**env, "SLACK_BOT_TOKEN": token}, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
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
    session: aiohttp.ClientSession,
    replica: Replica,
    api: FakeSlackApi,
    key: str,
    text_: str,
    user: str = HEAD,
) -> tuple[int, str]:
    """The HTTP status and the answer the person saw: in the ack, or through response_url
    (the fake's record of it; empty when no answer came)."""
    fields = dict(parse_qsl(FIXTURE.read_text(), keep_blank_values=True))
    fields.update(
        command="/stat", text=text_, user_id=user, channel_id="C0GENERAL1",
        response_url=api.response_url(key), trigger_id=f"trigger.{key}",
    )  # fmt: skip
    body = form_body(fields)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    headers.update(slack_signature(SECRET, body, int(time.time())))
    async with session.post(f"{replica.url}/slack/events", data=body, headers=headers) as response:
        raw = (await response.read()).strip()
        if raw:
            return response.status, json.loads(raw)["text"]
    for _ in range(100):  # answered after the ack: the turn took longer than the ack's budget
        answers = [c for c in api.ok_calls("respond") if c.params["key"] == key]
        if answers:
            return response.status, str(answers[0].params.get("text"))
        await asyncio.sleep(0.1)
    return response.status, ""


def _messages_needed(delivery: Delivery) -> int:
    message = _MESSAGE.validate_python(delivery.payload)
    return len(render_card_messages(message)) if isinstance(message, Card) else 1


async def test_two_replicas_and_two_tick_shells_send_a_week_exactly_once(
    replica_db: str, tmp_path: Path
) -> None:
    api = FakeSlackApi(
        users={
            HEAD: "robert.hayes@riverton.gov",
            DEPUTY: "maria.santos@riverton.gov",
            LEADER: "priya.raman@riverton.gov",
        },
        channels={"citistat": "C0CITISTAT", "general": "C0GENERAL1"},
    )
    api.delay = 0.02  # a Web API call takes a moment, so senders overlap
    await api.start()
    env = {
        "PATH": str(Path(STATBOT).parent),
        "PYTHONPATH": str(ROOT),
        "STATBOT_DATABASE_URL": replica_db,
        "SLACK_BOT_TOKEN": "xoxb-tick",
        "SLACK_SIGNING_SECRET": SECRET,
        "STATBOT_SLACK_API_URL": api.url,
        "STATBOT_LOG_FORMAT": "text",
    }
    replicas: list[Replica] = []
    engine = create_engine(replica_db)
    uow = SqlUnitOfWorkFactory(session_factory(engine))
    try:
        await _run(env, "db", "upgrade")
        await _run(env, "org", "apply", str(EXAMPLE_ORG))
        async with uow() as work:  # everyone is on Slack; the units exist since before the week
            for person in await work.people.all():
                person.slack_user_id = person.slack_user_id or f"U{person.id:08d}"
                await work.people.save(person)
            for unit in await work.units.all():
                unit.created_at = MONDAY - dt.timedelta(days=60)
                await work.units.save(unit)
            await work.commit()

        replicas = [await _start(env, TOKENS[0]), await _start(env, TOKENS[1])]
        first, second = replicas
        answers: dict[str, str] = {}
        due = (dt.datetime.now(dt.UTC) + dt.timedelta(days=10)).date().isoformat()
        async with aiohttp.ClientSession() as session:

            async def command(replica: Replica, key: str, words: str, user: str = HEAD) -> None:
                status, answer = await _command(session, replica, api, key, words, user)
                assert status == 200, key
                answers[key] = answer

            for n, at in enumerate(INSTANTS):
                stamp = at.isoformat()
                traffic = [
                    command(first, f"status-{n}", "status"),
                    command(second, f"commit-{n}", f"commit Clear route {n} backlog by {due}", user=DEPUTY),
                ]
                await asyncio.gather(
                    _run(env, "tick", "--at", stamp), _run(env, "tick", "--at", stamp), *traffic
                )
                # Head and deputy mark the same commitment done through different replicas at once.
                number = re.search(r"#(\d+)", answers[f"commit-{n}"])
                assert number is not None, answers[f"commit-{n}"]
                await asyncio.gather(
                    command(first, f"done-head-{n}", f"done {number[1]}"),
                    command(second, f"done-deputy-{n}", f"done {number[1]}", user=DEPUTY),
                )
                done = [answers[f"done-head-{n}"], answers[f"done-deputy-{n}"]]
                assert sum("marked done by" in a for a in done) == 1, done
                assert sum("got there first" in a or "is already done" in a for a in done) == 1, done
            # The replicas send, in real time, whatever the ticks left for later.
            await _settled(uow)
        for replica in replicas:
            replica.process.send_signal(signal.SIGTERM)
        for replica in replicas:
            await asyncio.wait_for(replica.process.wait(), timeout=30)
            assert replica.process.returncode == 0

        async with uow() as work:
            stored = list(await work.deliveries.since(0, limit=100_000))
        week = [d for d in stored if d.next_attempt_at <= INSTANTS[-1]]
        assert len(week) > 8, "the simulated week owed too few messages to prove anything"
        now = dt.datetime.now(dt.UTC)
        assert [d.id for d in stored if d.next_attempt_at <= now and d.state != DeliveryState.SENT] == []
        # Every delivery posted exactly once: as many messages as the sent ones need, and
        # no message posted twice into the same conversation.
        posted = api.ok_calls("chat.postMessage")
        assert len(posted) == sum(_messages_needed(d) for d in stored if d.state == DeliveryState.SENT)
        refs = Counter(d.platform_ref for d in stored if d.state == DeliveryState.SENT)
        assert all(count == 1 for count in refs.values())
        # The replicas' schedulers took part: they sent some of it, not only the ticks.
        by_replicas = [c for c in posted if c.token in TOKENS]
        assert by_replicas, Counter(c.token for c in posted)
        # Every command answered exactly once, whichever replica took it: in its ack, or
        # (when the turn took longer than the ack's budget) once through response_url.
        responded = Counter(str(c.params["key"]) for c in api.ok_calls("respond"))
        assert all(count == 1 for count in responded.values()), responded
        # Each commitment was marked done once: one history row, one audit row.
        async with engine.connect() as connection:
            done_rows = (
                await connection.execute(
                    text(
                        "SELECT commitment_id, count(*) FROM commitment_updates WHERE status = 'done' GROUP BY 1"
                    )
                )
            ).all()
            audit_rows = (
                await connection.execute(
                    text(
                        "SELECT subject, count(*) FROM audit_log WHERE action = 'commitment.done' GROUP BY 1"
                    )
                )
            ).all()
        assert len(done_rows) == len(INSTANTS) and all(count == 1 for _, count in done_rows)
        assert len(audit_rows) == len(INSTANTS) and all(count == 1 for _, count in audit_rows)
    finally:
        for replica in replicas:
            if replica.process.returncode is None:
                replica.process.kill()
                await replica.process.wait()
        await engine.dispose()
        await api.close()


async def _settled(uow: SqlUnitOfWorkFactory, seconds: float = 30.0) -> None:
    """Until nothing due by the real time waits in the outbox."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        now = dt.datetime.now(dt.UTC)
        async with uow() as work:
            waiting = [
                d
                for d in await work.deliveries.since(0, limit=100_000)
                if d.state != DeliveryState.SENT and d.next_attempt_at <= now
            ]
        if not waiting:
            return
        await asyncio.sleep(0.5)
