"""Logging: one set-up for every entry point; JSON lines for `serve`, short human lines
for one-shot commands; never a secret or a person's words in a line."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy.exc

from adapters.logs import configure_logging
from bot.org.schema import load_org
from tests.conftest import EXAMPLE_ORG
from tests.fakes.slack_api import FakeSlackApi, slack_signature
from tests.test_entry_points import STATBOT, base_env, prepared

TOKEN = "xoxb-4242424242-topsecretbottoken"
SIGNING_SECRET = "signing-secret-9f8e7d6c5b4a"
APP_PASSWORD = "teams-app-password-1a2b3c"
SENSITIVE = "the caller Jane Roe, SSN 078-05-1120"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_time_level_logger_message_and_context(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging(fmt="json", level="INFO", secrets=[TOKEN], stream=stream)
    from adapters import logs

    logs.bind(request_id="r-1", platform="slack", event_kind="slash_command")
    try:
        logging.getLogger("statbot.test").info("handled in %s ms", 12, extra={"duration_ms": 12.0})
    finally:
        logs.unbind_all()
    line = json.loads(stream.getvalue().strip())
    assert list(line)[:4] == ["time", "level", "logger", "message"]
    assert line["message"] == "handled in 12 ms"
    assert line["level"] == "info" and line["logger"] == "statbot.test"
    assert line["request_id"] == "r-1" and line["platform"] == "slack"
    assert line["event_kind"] == "slash_command" and line["duration_ms"] == 12.0
    assert line["time"].endswith("Z")


def test_text_lines_are_short_and_human(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging(fmt="text", level="WARNING", stream=stream)
    logging.getLogger("statbot.test").info("not shown at WARNING")
    logging.getLogger("statbot.test").warning("the outbox is %d deliveries behind", 40)
    (line,) = stream.getvalue().splitlines()
    assert "warning" in line and "the outbox is 40 deliveries behind" in line and "statbot.test" in line
    assert not line.startswith("{")


def test_secrets_and_database_error_text_never_reach_a_line(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging(
        fmt="json", level="INFO", secrets=[TOKEN, SIGNING_SECRET, "pg-password-77"], stream=stream
    )
    log = logging.getLogger("statbot.test")
    log.warning("calling with %s and xoxp-1111111-otheruser-token", TOKEN)
    log.info("connect postgresql+asyncpg://statbot:pg-password-77@db/statbot")
    try:
        raise sqlalchemy.exc.IntegrityError(
            "INSERT INTO commitments ...", {"text": SENSITIVE}, ValueError(SENSITIVE)
        )
    except sqlalchemy.exc.IntegrityError:
        log.exception("turn failed: text")
    text = stream.getvalue()
    for secret in (
        TOKEN,
        SIGNING_SECRET,
        "pg-password-77",
        "xoxp-1111111-otheruser-token",
        SENSITIVE,
        "078-05",
    ):
        assert secret not in text
    failure = json.loads(text.splitlines()[-1])
    assert "sqlalchemy.exc.IntegrityError" in failure["exception"]
    assert "Traceback" in failure["exception"]


def test_a_bad_log_setting_is_one_line(tmp_path: Path) -> None:
    import subprocess

    env = {**base_env(tmp_path), "STATBOT_LOG_FORMAT": "xml"}
    result = subprocess.run(
        [STATBOT, "tick"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: STATBOT_LOG_FORMAT: 'xml' is not a log format; use json or text"
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_serve_logs_json_without_secrets_or_message_bodies(tmp_path: Path) -> None:
    org = load_org(str(EXAMPLE_ORG))
    users = {f"U{n:08d}": p.email for n, p in enumerate(org.people, start=1)}
    head = next(u for u, e in users.items() if e == org.units[0].head)
    api = FakeSlackApi(users=users, channels={"citistat": "C0CITISTAT"})
    await api.start()
    port = _free_port()
    env = {
        **base_env(tmp_path),
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "MicrosoftAppPassword": APP_PASSWORD,
        "STATBOT_SLACK_API_URL": api.url,
    }
    try:
        await prepared(env, tmp_path)
        # The first answers fail on Slack's side, so the failure paths log too.
        api.fail("chat.postMessage", status=500, times=3)
        server = await asyncio.create_subprocess_exec(
            STATBOT,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-scheduler",
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            async with aiohttp.ClientSession() as http:
                deadline = time.monotonic() + 30
                while True:
                    try:
                        async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                            if response.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    assert time.monotonic() < deadline, "serve did not start"
                    await asyncio.sleep(0.2)
                for n, text in enumerate([f"commit Call back {SENSITIVE} by Friday", f"status {SENSITIVE}"]):
                    body = json.dumps(
                        {
                            "token": "x",
                            "team_id": "T111",
                            "api_app_id": "A1",
                            "type": "event_callback",
                            "event_id": f"Ev{n}",
                            "event_time": int(time.time()),
                            "event": {
                                "type": "message",
                                "channel": f"D{head}",
                                "user": head,
                                "text": text,
                                "ts": f"1.{n}",
                                "channel_type": "im",
                            },
                        }
                    ).encode()
                    headers = {
                        "Content-Type": "application/json",
                        **slack_signature(SIGNING_SECRET, body, int(time.time())),
                    }
                    async with http.post(
                        f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers
                    ) as response:
                        assert response.status == 200
                # A forged request (wrong secret) is refused; its body is not logged.
                forged = json.dumps({"type": "event_callback", "event": {"text": SENSITIVE}}).encode()
                headers = {
                    "Content-Type": "application/json",
                    **slack_signature("wrong", forged, int(time.time())),
                }
                async with http.post(
                    f"http://127.0.0.1:{port}/slack/events", data=forged, headers=headers
                ) as r:
                    assert r.status == 401
                # An event no listener handles makes slack-bolt log the whole body at WARNING.
                unhandled = json.dumps(
                    {
                        "type": "event_callback",
                        "event_id": "EvX",
                        "event_time": int(time.time()),
                        "event": {
                            "type": "pin_added",
                            "user": head,
                            "item": {"message": {"text": SENSITIVE}},
                        },
                    }
                ).encode()
                headers = {
                    "Content-Type": "application/json",
                    **slack_signature(SIGNING_SECRET, unhandled, int(time.time())),
                }
                async with http.post(
                    f"http://127.0.0.1:{port}/slack/events", data=unhandled, headers=headers
                ) as r:
                    assert r.status < 500
                # The turns run after the ack: wait until the bot has answered.
                for _ in range(100):
                    if len(api.all_calls("chat.postMessage")) >= 4:
                        break
                    await asyncio.sleep(0.1)
        finally:
            server.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(server.communicate(), timeout=30)
        assert server.returncode == 0, err.decode()
    finally:
        await api.close()
    logged = err.decode()
    everything = out.decode() + logged
    for secret in (TOKEN, SIGNING_SECRET, APP_PASSWORD, "Jane Roe", "078-05-1120"):
        assert secret not in everything, secret
    lines = [json.loads(line) for line in logged.splitlines() if line.strip()]
    assert lines, "serve logged nothing"
    for line in lines:
        assert {"time", "level", "logger", "message"} <= set(line), line
    requests = [line for line in lines if line["logger"] == "statbot.http"]
    slack_requests = [line for line in requests if line.get("route") == "/slack/events"]
    assert len(slack_requests) == 4
    assert {200, 401} <= {line["status"] for line in slack_requests}
    assert all(
        line["platform"] == "slack" and line["request_id"] and "duration_ms" in line
        for line in slack_requests
    )
    kinds = [line.get("event_kind") for line in slack_requests]
    assert kinds.count("event:message") == 2 and "event:pin_added" in kinds
