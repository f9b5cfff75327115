"""POST /api/messages answers hostile bodies with a clear, bounded status: never a 500.

Anyone on the internet can post to /api/messages.  botbuilder's CloudAdapter parses the
body before it checks the token, and some bodies (``null``, deeply nested JSON) made it
raise: 500 with a traceback, to anyone.  Driven over HTTP against the real server and
the real Teams adapter: with MicrosoftAppId set a caller without a valid token gets 401
whatever it sent; without an app id (the Emulator's loopback mode) a body statbot cannot
read gets 400 (413 when too large, 415 when not JSON).  Each refusal is one log line
without a traceback or the body, and the server goes on answering valid activities.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.runtime import TeamsOptions, open_runtime
from adapters.settings import Settings
from bot.clock import FakeClock
from storage.uow import SqlUnitOfWorkFactory
from tests.fakes.bot_connector import FakeBotConnector
from tests.test_teams_app import HEAD, Teams, connector

__all__ = ["connector"]

# Each body carries this marker where it can, so a log line that quotes the body is caught.
MARK = "SECRET-WORDS-5512"
JSON = "application/json"
APP_ID = "00000000-0000-0000-0000-000000000001"


def _activity(**fields: Any) -> bytes:
    base: dict[str, Any] = {
        "type": "message",
        "id": "m-hostile",
        "channelId": "msteams",
        "serviceUrl": "http://127.0.0.1:9/",
        "from": {"id": HEAD, "name": MARK},
        "recipient": {"id": "28:statbot", "name": "statbot"},
        "conversation": {"id": "a:hostile", "conversationType": "personal"},
        "text": MARK,
    }
    return json.dumps({**base, **fields}).encode()


def _nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"text": MARK}
    for _ in range(depth):
        node = {"a": node}
    return node


# (name, body, content type, status without an app id on loopback)
HOSTILE: list[tuple[str, bytes, str, int]] = [
    ("null", b"null", JSON, 400),
    ("a JSON array", json.dumps([MARK]).encode(), JSON, 400),
    ("a JSON string", json.dumps(MARK).encode(), JSON, 400),
    ("a JSON number", b"5", JSON, 400),
    ("an empty body", b"", JSON, 400),
    ("invalid JSON", ('{"type": "message", "text": "' + MARK).encode(), JSON, 400),
    ("invalid UTF-8", b'{"type": "message", "text": "\xff\xfe' + MARK.encode() + b'"}', JSON, 400),
    ("deeply nested arrays", b"[" * 100_000 + b"]" * 100_000, JSON, 400),
    ("deeply nested objects", _activity(value=_nested(200), text=""), JSON, 400),
    ("a huge body", _activity(text=MARK * 200_000), JSON, 413),
    ("not JSON at all", MARK.encode(), "text/plain", 415),
    ("no type", _activity(type=None), JSON, 400),
    ("type a number", _activity(type=5), JSON, 400),
    ("from a string", _activity(**{"from": MARK}), JSON, 400),
    ("conversation a list", _activity(conversation=[MARK]), JSON, 400),
    ("conversation id an object", _activity(conversation={"id": {"x": MARK}}), JSON, 400),
    ("text a number", _activity(text=5), JSON, 400),
    ("id an object", _activity(id={"x": MARK}), JSON, 400),
    ("serviceUrl a number", _activity(serviceUrl=5), JSON, 400),
    ("timestamp not a time", _activity(timestamp=MARK), JSON, 400),
    ("entities a string", _activity(entities=MARK), JSON, 400),
    ("membersAdded of strings", _activity(type="conversationUpdate", membersAdded=[MARK]), JSON, 400),
    ("channelData a string", _activity(channelData=MARK), JSON, 400),
    ("channelData.team a string", _activity(channelData={"team": MARK}), JSON, 400),
    (
        "Action.Execute with value a string",
        _activity(type="invoke", name="adaptiveCard/action", value=MARK, text=None),
        JSON,
        400,
    ),
    (
        "Action.Execute with action a string",
        _activity(type="invoke", name="adaptiveCard/action", value={"action": MARK}, text=None),
        JSON,
        400,
    ),
]
IDS = [h[0] for h in HOSTILE]


def _refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


def _assert_one_clean_line(caplog: pytest.LogCaptureFixture, status: int) -> None:
    (line,) = _refusals(caplog)
    assert line.exc_info is None and f"({status})" in line.getMessage()
    assert "Traceback" not in caplog.text and MARK not in caplog.text


@asynccontextmanager
async def _teams(
    engine: AsyncEngine,
    org_uow: SqlUnitOfWorkFactory,
    clock: FakeClock,
    connector: FakeBotConnector,
    settings: Settings,
) -> AsyncIterator[Teams]:
    async with (
        open_runtime(settings, clock=clock, engine=engine, uow=org_uow, teams=TeamsOptions()) as runtime,
        TestClient(TestServer(runtime.web_app(), host="127.0.0.1", port=0)) as client,
    ):
        yield Teams(client, connector, runtime)


@pytest.mark.parametrize(("name", "body", "content_type", "status"), HOSTILE, ids=IDS)
async def test_without_an_app_id_a_hostile_body_gets_a_clear_status_and_one_line(
    engine: AsyncEngine,
    org_uow: SqlUnitOfWorkFactory,
    db_url: str,
    clock: FakeClock,
    connector: FakeBotConnector,
    caplog: pytest.LogCaptureFixture,
    name: str,
    body: bytes,
    content_type: str,
    status: int,
) -> None:
    settings = Settings(STATBOT_DATABASE_URL=db_url)
    async with _teams(engine, org_uow, clock, connector, settings) as teams:
        caplog.set_level(logging.INFO)
        response = await teams.client.post("/api/messages", data=body, headers={"Content-Type": content_type})
        assert response.status == status, name
        assert MARK not in await response.text()
        _assert_one_clean_line(caplog, status)
        assert connector.posted == []
        # The server goes on: a valid activity is answered.
        await teams.say(HEAD, "help")
        assert len(connector.to(f"a:dm-{HEAD}")) == 1


@pytest.mark.parametrize(("name", "body", "content_type", "status"), HOSTILE, ids=IDS)
@pytest.mark.parametrize("token", [None, "Bearer not-a-token"], ids=["no token", "a forged token"])
async def test_with_an_app_id_a_hostile_body_without_a_valid_token_gets_401(
    engine: AsyncEngine,
    org_uow: SqlUnitOfWorkFactory,
    db_url: str,
    clock: FakeClock,
    connector: FakeBotConnector,
    caplog: pytest.LogCaptureFixture,
    token: str | None,
    name: str,
    body: bytes,
    content_type: str,
    status: int,
) -> None:
    settings = Settings(STATBOT_DATABASE_URL=db_url, MicrosoftAppId=APP_ID, MicrosoftAppPassword="pw")
    async with _teams(engine, org_uow, clock, connector, settings) as teams:
        caplog.set_level(logging.INFO)
        headers = {"Content-Type": content_type, **({"Authorization": token} if token else {})}
        response = await teams.client.post("/api/messages", data=body, headers=headers)
        assert response.status == 401, name
        assert MARK not in await response.text()
        _assert_one_clean_line(caplog, 401)
        assert connector.posted == []
        health = await teams.client.get("/healthz")
        assert health.status == 200


async def test_a_valid_token_with_a_body_statbot_cannot_read_gets_400(
    engine: AsyncEngine,
    org_uow: SqlUnitOfWorkFactory,
    db_url: str,
    clock: FakeClock,
    connector: FakeBotConnector,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The Bot Framework itself never sends such a body, but if it did it would be told
    what is wrong (400), not that its token is bad."""
    settings = Settings(STATBOT_DATABASE_URL=db_url, MicrosoftAppId=APP_ID, MicrosoftAppPassword="pw")
    async with _teams(engine, org_uow, clock, connector, settings) as teams:
        assert teams.runtime.teams is not None
        authentication = teams.runtime.teams.transport.adapter.bot_framework_authentication
        checked: list[str] = []

        async def valid(auth_header: str) -> object:
            checked.append(auth_header)
            return object()

        monkeypatch.setattr(authentication, "authenticate_channel_request", valid)
        caplog.set_level(logging.INFO)
        response = await teams.client.post(
            "/api/messages", data=b"null", headers={"Content-Type": JSON, "Authorization": "Bearer signed"}
        )
        assert response.status == 400
        assert await response.json() == {"error": "body is not a JSON object"}
        assert checked == ["Bearer signed"]
        _assert_one_clean_line(caplog, 400)


async def test_an_unhandled_invoke_still_gets_200(
    engine: AsyncEngine,
    org_uow: SqlUnitOfWorkFactory,
    db_url: str,
    clock: FakeClock,
    connector: FakeBotConnector,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A well-formed activity statbot does not act on is not hostile: no refusal."""
    settings = Settings(STATBOT_DATABASE_URL=db_url)
    async with _teams(engine, org_uow, clock, connector, settings) as teams:
        activity = teams.activity(HEAD, type="invoke", name="composeExtension/query", value={})
        response = await teams.post(activity)
        assert response.status == 200
        assert _refusals(caplog) == []
