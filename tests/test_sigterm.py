"""`statbot serve` stopping on SIGTERM (issue 10, item 8), as real processes against the
local fakes.  `docker stop` sends SIGTERM and SIGKILL 10 s later: serve must be gone by
then, whatever hangs, and take nothing a person sent down with it.

* a hung database: serve exits in time, 0, without a traceback;
* a normal stop: a /stat turn queued after its ack is answered first, and nothing is
  logged at ERROR;
* a Teams turn in flight (it runs inside its HTTP request): answered if it ends within
  the grace, else cut off, and Teams' redelivery is processed by the next start;
* Socket Mode: the socket closes first (no new work), while queued turns finish.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.engine import create_engine, session_factory
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import EXAMPLE_ORG, TEST_DATABASE_URL
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.slack_api import FakeSlackApi, form_body, slack_signature
from tests.fakes.slack_socket import FakeSocketMode, slash_command_envelope, wait_until
from tests.fakes.slow import SlowConnector, SlowSlackApi
from tests.test_outage import TcpProxy, proxied_url
from tests.test_shutdown import ROOT, STATBOT, _free_port, _run

# docker stop's grace; serve's own bound is 8 s at the very most (adapters/runtime.py).
DOCKER_GRACE = 10.0
SECRET = "sigterm-signing-secret"
HEAD, HEAD_EMAIL = "U0HEAD0001", "robert.hayes@riverton.gov"
TEAMS_HEAD = "29:head-robert"
COMMAND_FIXTURE = Path(__file__).parent / "fixtures" / "slack" / "slack_slash_command.form.txt"


def _env(database_url: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "STATBOT_DATABASE_URL": database_url,
        "STATBOT_LOG_FORMAT": "text",
    }
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "MicrosoftAppId"):
        env.pop(name, None)
    return {**env, **extra}


@dataclass
class Served:
    process: asyncio.subprocess.Process
    url: str

    async def sigterm(self) -> tuple[float, str]:
        """SIGTERM; how long the process took to exit, and everything it wrote."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(self.process.communicate(), timeout=60)
        return time.monotonic() - started, output.decode()


async def _serve(env: dict[str, str], *flags: str) -> Served:
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        STATBOT, "serve", "--host", "127.0.0.1", "--port", str(port), *flags,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    served = Served(process, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as session:
        while True:
            assert process.returncode is None, "serve exited"
            try:
                async with session.get(f"{served.url}/healthz") as response:
                    if response.status == 200:
                        return served
            except aiohttp.ClientError:
                pass
            assert time.monotonic() < deadline, "serve never answered /healthz"
            await asyncio.sleep(0.2)


@pytest.fixture
async def servers() -> AsyncIterator[list[Served]]:
    """Every serve a test starts is killed if the test fails before stopping it."""
    started: list[Served] = []
    yield started
    for served in started:
        if served.process.returncode is None:
            served.process.kill()
            await served.process.wait()


def _trouble(output: str) -> list[str]:
    """Lines an operator would take for a failure: ERROR or worse, and tracebacks."""
    return [
        line
        for line in output.splitlines()
        if "Traceback" in line or "[error" in line or "[critical" in line or "Exception in callback" in line
    ]


def _command_fields(api: FakeSlackApi, user: str, key: str, words: str) -> dict[str, str]:
    fields = dict(parse_qsl(COMMAND_FIXTURE.read_text(), keep_blank_values=True))
    fields.update(
        command="/stat", text=words, user_id=user, channel_id="C0GENERAL1",
        response_url=api.response_url(key), trigger_id=f"trigger.{key}",
    )  # fmt: skip
    return fields


async def _command(api: FakeSlackApi, url: str, user: str, key: str, words: str) -> tuple[int, str]:
    fields = _command_fields(api, user, key, words)
    body = form_body(fields)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    headers.update(slack_signature(SECRET, body, int(time.time())))
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/slack/events", data=body, headers=headers) as response,
    ):
        return response.status, await response.text()


# --- a hung database --------------------------------------------------------------------


@pytest.fixture
async def sigterm_db() -> AsyncIterator[str]:
    """A PostgreSQL database of its own, created next to STATBOT_TEST_DATABASE_URL's."""
    if not (TEST_DATABASE_URL or "").startswith("postgresql"):
        pytest.skip("a hung server needs PostgreSQL behind the tests' proxy")
    assert TEST_DATABASE_URL is not None
    base = make_url(TEST_DATABASE_URL)
    name = f"{base.database}_sigterm"
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


@pytest.mark.db
async def test_sigterm_with_a_hung_database_exits_in_time_without_a_traceback(
    sigterm_db: str, servers: list[Served]
) -> None:
    env = _env(sigterm_db)
    await _run(env, "db", "upgrade")
    await _run(env, "org", "apply", str(EXAMPLE_ORG))
    url = make_url(sigterm_db)
    proxy = await TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    try:
        # The production timeouts: 15 s a statement, 5 s a connection.
        env["STATBOT_DATABASE_URL"] = proxied_url(sigterm_db, proxy.port)
        served = await _serve(env)  # the scheduler on: its sweeps keep pooled connections
        servers.append(served)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{served.url}/metrics") as response:
                assert response.status == 200
            proxy.pause()
            started = time.monotonic()
            async with session.get(f"{served.url}/healthz") as response:
                assert response.status == 503
                assert (await response.json())["database"] == "unreachable"
            assert time.monotonic() - started < 2.5

        took, output = await served.sigterm()
        assert served.process.returncode == 0, output
        assert took < DOCKER_GRACE - 1, (took, output)
        assert _trouble(output) == [], output
        assert "stopped" in output
    finally:
        proxy.resume()
        await proxy.close()


# --- a normal stop ------------------------------------------------------------------------


async def test_a_normal_sigterm_exits_0_and_logs_no_error(tmp_path: Path, servers: list[Served]) -> None:
    env = _env(f"sqlite+aiosqlite:///{tmp_path / 'statbot.db'}")
    await _run(env, "db", "upgrade")
    await _run(env, "org", "apply", str(EXAMPLE_ORG))
    served = await _serve(env)  # the scheduler on, no platform
    servers.append(served)
    took, output = await served.sigterm()
    assert served.process.returncode == 0, output
    assert took < DOCKER_GRACE - 1, (took, output)
    assert _trouble(output) == [], output
    assert output.splitlines()[-2:] == ["stopping", "stopped"]


async def test_sigterm_answers_the_slack_turns_queued_after_their_ack_within_the_grace(
    tmp_path: Path, servers: list[Served]
) -> None:
    other = "U0LEAD0001"
    api = SlowSlackApi(users={HEAD: HEAD_EMAIL, other: "priya.raman@riverton.gov"})
    # Finding who someone is takes longer than the ack's budget (1.5 s), so each command
    # is acknowledged first and its turn queued: Robert's ends about 2.5 s after SIGTERM,
    # within the grace, Priya's would take half a minute.
    api.slow_users = {HEAD: 4.0, other: 30.0}
    await api.start()
    try:
        env = _env(f"sqlite+aiosqlite:///{tmp_path / 'statbot.db'}")
        await _run(env, "db", "upgrade")
        await _run(env, "org", "apply", str(EXAMPLE_ORG))  # nobody linked to Slack yet
        env.update(SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET, STATBOT_SLACK_API_URL=api.url)
        served = await _serve(env)
        servers.append(served)

        acks = await asyncio.gather(
            _command(api, served.url, HEAD, "robert", "status"),
            _command(api, served.url, other, "priya", "status"),
        )
        assert acks == [(200, ""), (200, "")]  # acknowledged; the answers follow
        assert api.ok_calls("respond") == []
        took, output = await served.sigterm()

        assert served.process.returncode == 0, output
        assert took < DOCKER_GRACE - 1, (took, output)  # Priya's turn did not hold it
        # Robert's answer went out before the process did.
        (answer,) = api.ok_calls("respond")
        assert answer.params["key"] == "robert" and "Sanitation" in json.dumps(answer.params)
        assert "stopped 1 Slack turns that ran past the shutdown grace" in output
        assert _trouble(output) == [], output
    finally:
        api.release.set()
        await api.close()


# --- Teams turns in flight ------------------------------------------------------------------


def _dm(user: str) -> str:
    return f"a:dm-{user}"


def _activity(connector: FakeBotConnector, user: str, activity_id: str, words: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": activity_id,
        "channelId": "msteams",
        "serviceUrl": connector.url,
        "text": words,
        "from": {"id": user, "name": user},
        "recipient": {"id": "28:statbot", "name": "statbot"},
        "conversation": {"id": _dm(user), "conversationType": "personal", "tenantId": "t"},
        "channelData": {"tenant": {"id": "t"}},
    }


async def _post_activity(url: str, activity: dict[str, Any]) -> int | str:
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{url}/api/messages", json=activity) as response,
        ):
            return response.status
    except aiohttp.ClientError as exc:
        return type(exc).__name__


async def test_teams_turns_in_flight_at_sigterm_are_answered_or_not_lost(
    tmp_path: Path, servers: list[Served]
) -> None:
    lead = "29:lead-priya"  # someone statbot has not met yet on Teams
    connector = SlowConnector(
        members={
            TEAMS_HEAD: {"name": "Robert Hayes", "email": HEAD_EMAIL},
            lead: {"name": "Priya Raman", "email": "priya.raman@riverton.gov"},
        }
    )
    await connector.start()

    def said(user: str) -> str:
        return json.dumps([p.cards for p in connector.to(_dm(user))])

    def answers(user: str, words: str) -> int:
        return sum(words in json.dumps(p.cards) for p in connector.to(_dm(user)))

    async def asked(user: str) -> None:
        await wait_until(lambda: _dm(user) in connector.asked, within=30, what=f"{user}'s turn")

    try:
        env = _env(f"sqlite+aiosqlite:///{tmp_path / 'statbot.db'}", STATBOT_TEAMS_EMULATOR="true")
        await _run(env, "db", "upgrade")
        await _run(env, "org", "apply", str(EXAMPLE_ORG))

        # Two turns in flight at SIGTERM.  Robert's Bot Connector is slow but his turn ends
        # within the grace (a member look-up, then the answer: 2.4 s): he gets his answer.
        # Priya's look-up takes longer than the grace: her turn is cut off before statbot
        # did anything, and Teams' redelivery of it must be processed, not dropped.
        connector.delays = {_dm(TEAMS_HEAD): 1.2, _dm(lead): 60.0}
        served = await _serve(env, "--no-scheduler")
        servers.append(served)
        robert = asyncio.create_task(
            _post_activity(served.url, _activity(connector, TEAMS_HEAD, "r1", "status"))
        )
        priya = _activity(connector, lead, "p1", "status")
        cut = asyncio.create_task(_post_activity(served.url, priya))
        await asked(TEAMS_HEAD)
        await asked(lead)
        took, output = await served.sigterm()
        assert served.process.returncode == 0, output
        assert took < DOCKER_GRACE - 1, (took, output)
        assert _trouble(output) == [], output
        assert await robert == 201 and "Sanitation" in said(TEAMS_HEAD)
        assert await cut == 503 and said(lead) == "[]"  # no answer: Teams sends it again

        # The next start processes the redelivery.  Then a turn cut off while it answers:
        # its change is stored, so it must not run again; its answer goes out through the
        # outbox instead.
        connector.delays = {_dm(TEAMS_HEAD): 60.0}
        served = await _serve(env, "--no-scheduler")
        servers.append(served)
        assert await _post_activity(served.url, priya) == 201
        assert len(connector.to(_dm(lead))) == 1, "the redelivered activity was dropped"
        promise = _activity(connector, TEAMS_HEAD, "r2", "commit Fix the hotline by Friday")
        connector.asked.discard(_dm(TEAMS_HEAD))
        cut = asyncio.create_task(_post_activity(served.url, promise))
        await asked(TEAMS_HEAD)
        took, output = await served.sigterm()
        assert await cut == 503
        assert served.process.returncode == 0, output
        assert took < DOCKER_GRACE - 1, (took, output)
        assert _trouble(output) == [], output
        assert answers(TEAMS_HEAD, "Fix the hotline") == 0

        connector.delays = {}
        connector.release.set()  # the calls the stopped processes left waiting end
        await _run(env, "tick")  # as the scheduler of any replica would
        assert answers(TEAMS_HEAD, "Fix the hotline") == 1
        served = await _serve(env, "--no-scheduler")
        servers.append(served)
        assert await _post_activity(served.url, promise) == 201  # Teams' redelivery ...
        assert answers(TEAMS_HEAD, "Fix the hotline") == 1  # ... is not run twice
        took, output = await served.sigterm()
        assert served.process.returncode == 0 and _trouble(output) == [], output
        engine = create_engine(env["STATBOT_DATABASE_URL"])
        try:
            async with SqlUnitOfWorkFactory(session_factory(engine))() as work:
                head = await work.people.by_email(HEAD_EMAIL)
                assert head is not None and head.id is not None
                assert len(await work.commitments.open_for_owner(head.id)) == 1
        finally:
            await engine.dispose()
    finally:
        connector.release.set()
        await connector.close()


# --- Socket Mode ----------------------------------------------------------------------------


async def test_socket_mode_closes_first_and_the_queued_turn_still_finishes(
    tmp_path: Path, servers: list[Served]
) -> None:
    api = SlowSlackApi(users={HEAD: HEAD_EMAIL})
    # The command's turn outlasts the ack's budget, and ends about 2.5 s after SIGTERM.
    api.slow_users = {HEAD: 4.0}
    await api.start()
    socket = await FakeSocketMode().start()
    socket.attach(api)
    try:
        env = _env(f"sqlite+aiosqlite:///{tmp_path / 'statbot.db'}")
        await _run(env, "db", "upgrade")
        await _run(env, "org", "apply", str(EXAMPLE_ORG))
        env.update(
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_APP_TOKEN="xapp-1-A111-1-0123456789abcdef",
            STATBOT_SLACK_API_URL=api.url,
        )
        served = await _serve(env, "--no-scheduler")
        servers.append(served)
        await wait_until(lambda: socket.open_connections, within=30, what="the Socket Mode connection")
        connection = socket.current

        envelope = await socket.push(slash_command_envelope(_command_fields(api, HEAD, "queued", "status")))
        await socket.wait_ack(envelope, within=10)
        signalled = time.monotonic()
        stopping = asyncio.create_task(served.sigterm())
        # The socket closes first: nothing new reaches a process that is stopping ...
        await wait_until(lambda: not connection.open, within=5, what="the socket to close")
        assert connection.closed_at is not None and connection.closed_at - signalled < 1.5
        assert api.ok_calls("respond") == []  # ... while the queued turn is still running
        took, output = await stopping

        assert served.process.returncode == 0, output
        assert took < DOCKER_GRACE - 1, (took, output)
        (answer,) = api.ok_calls("respond")
        assert answer.params["key"] == "queued" and "Sanitation" in json.dumps(answer.params)
        assert socket.open_connections == []  # and it did not reconnect
        assert _trouble(output) == [], output
    finally:
        api.release.set()
        await socket.close()
        await api.close()
