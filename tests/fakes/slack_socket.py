"""A fake Slack Socket Mode endpoint: a websocket server on 127.0.0.1, port 0, in the caller's loop.

Slack's side of Socket Mode, as slack-sdk's aiohttp ``SocketModeClient`` sees it:

* the app calls ``apps.connections.open`` with its app-level token (``xapp-…``) on the Web API
  and gets a one-time ``ws://…/link/?ticket=…`` URL — ``FakeSocketMode.attach(api)`` makes the
  fake Web API answer that call with a fresh ticket of this server;
* on connecting, Slack sends ``{"type": "hello", …}``; it answers websocket pings with pongs
  (the SDK pings at once and treats a connection without pongs as stale);
* it pushes envelopes (``slash_commands``, ``events_api``, ``interactive``) and the app acks
  each with ``{"envelope_id": …, "payload": …}``; the payload is what an HTTP response body
  would be (empty for a plain ack, ``response_action`` for a modal submission);
* ``{"type": "disconnect", "reason": "refresh_requested"}`` asks the app to reconnect with a new
  URL (Slack does this every few hours).

Tests push envelopes with ``push`` and wait on ``acks`` / the Web API fake's records with
``wait_until``: no fixed sleeps.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.slack_api import FakeSlackApi

APP_ID = "A111"


@dataclass
class Ack:
    envelope_id: str
    payload: dict[str, Any] | None
    at: float


@dataclass
class Connection:
    ticket: str
    ws: web.WebSocketResponse
    opened_at: float
    closed_at: float | None = None
    pings: list[bytes] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.closed_at is None and not self.ws.closed


async def wait_until(condition: Callable[[], object], *, within: float = 3.0, what: str = "") -> None:
    """Poll ``condition`` every few milliseconds; fail the test if it is still false ``within``
    seconds (a deadline rather than asyncio.timeout: the failure names what was awaited)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {within}s in vain for {what or condition!r}")
        await asyncio.sleep(0.005)


class FakeSocketMode:
    """Start with ``await FakeSocketMode().start()``, then ``attach(api)``; stop with ``close()``."""

    def __init__(self, *, hello: bool = True) -> None:
        self.hello = hello
        self.acks: list[Ack] = []
        self.connections: list[Connection] = []
        # Every envelope pushed, in order (what the test sent, whether or not it was acked).
        self.pushed: list[dict[str, Any]] = []
        self._tickets: dict[str, bool] = {}  # ticket → used
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.root = ""

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> FakeSocketMode:
        app = web.Application()
        app.router.add_get("/link/", self._link)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.root = f"ws://127.0.0.1:{port}"
        return self

    def attach(self, api: FakeSlackApi) -> FakeSocketMode:
        """Make ``apps.connections.open`` on the fake Web API hand out this server's URLs."""
        api.socket_mode_url = self.issue_url
        return self

    async def close(self) -> None:
        for connection in self.connections:
            if not connection.ws.closed:
                await connection.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def issue_url(self) -> str:
        ticket = f"ticket-{next(self._ids)}-{uuid.uuid4().hex[:8]}"
        self._tickets[ticket] = False
        return f"{self.root}/link/?ticket={ticket}&app_id={APP_ID}"

    # --- pushing -------------------------------------------------------------------------

    @property
    def current(self) -> Connection:
        live = [c for c in self.connections if c.open]
        if not live:
            raise AssertionError("no open Socket Mode connection")
        return live[-1]

    async def push(self, envelope: dict[str, Any]) -> str:
        """Send an envelope on the newest open connection; returns its envelope_id."""
        self.pushed.append(envelope)
        await self.current.ws.send_str(json.dumps(envelope))
        return str(envelope["envelope_id"])

    async def ask_to_reconnect(self, reason: str = "refresh_requested") -> None:
        await self.current.ws.send_json(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}}
        )

    # --- queries -------------------------------------------------------------------------

    def acks_for(self, envelope_id: str) -> list[Ack]:
        return [a for a in self.acks if a.envelope_id == envelope_id]

    def acked(self, envelope_id: str) -> bool:
        return bool(self.acks_for(envelope_id))

    async def wait_ack(self, envelope_id: str, *, within: float = 3.0) -> Ack:
        await wait_until(lambda: self.acked(envelope_id), within=within, what=f"ack of {envelope_id}")
        return self.acks_for(envelope_id)[0]

    @property
    def open_connections(self) -> list[Connection]:
        return [c for c in self.connections if c.open]

    # --- the websocket -------------------------------------------------------------------

    async def _link(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if self._tickets.get(ticket) is not False:
            # An unknown or already used ticket: Slack refuses the upgrade.
            return web.Response(status=401, text="invalid ticket")
        self._tickets[ticket] = True
        # Pings are answered by hand so the test can see the client's ping-pong checks.
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        connection = Connection(ticket, ws, time.monotonic())
        self.connections.append(connection)
        if self.hello:
            await ws.send_json(
                {
                    "type": "hello",
                    "num_connections": len(self.open_connections),
                    "debug_info": {
                        "host": "applink-fake",
                        "build_number": 1,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": APP_ID},
                }
            )
        try:
            async for message in ws:
                if message.type == WSMsgType.PING:
                    connection.pings.append(message.data)
                    await ws.pong(message.data)
                elif message.type == WSMsgType.TEXT:
                    self._received(connection, message.data)
                elif message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                    break
        finally:
            connection.closed_at = time.monotonic()
        return ws

    def _received(self, connection: Connection, raw: str) -> None:
        data = json.loads(raw)
        connection.received.append(data)
        if isinstance(data, dict) and "envelope_id" in data:
            payload = data.get("payload")
            self.acks.append(Ack(str(data["envelope_id"]), payload if payload else None, time.monotonic()))


# --- envelopes, the way Slack wraps payloads ----------------------------------------------------


def _envelope_id() -> str:
    return str(uuid.uuid4())


def slash_command_envelope(payload: dict[str, Any], *, envelope_id: str | None = None) -> dict[str, Any]:
    return {
        "envelope_id": envelope_id or _envelope_id(),
        "payload": payload,
        "type": "slash_commands",
        "accepts_response_payload": True,
    }


def events_api_envelope(
    body: dict[str, Any],
    *,
    envelope_id: str | None = None,
    retry_attempt: int = 0,
    retry_reason: str = "",
) -> dict[str, Any]:
    """``body`` is the ``event_callback`` Slack would POST over HTTP."""
    return {
        "envelope_id": envelope_id or _envelope_id(),
        "payload": body,
        "type": "events_api",
        "accepts_response_payload": False,
        "retry_attempt": retry_attempt,
        "retry_reason": retry_reason,
    }


def interactive_envelope(payload: dict[str, Any], *, envelope_id: str | None = None) -> dict[str, Any]:
    """``payload`` is what Slack would POST as the ``payload`` form field over HTTP."""
    return {
        "envelope_id": envelope_id or _envelope_id(),
        "payload": payload,
        "type": "interactive",
        # Slack sets this for payloads whose ack can carry an answer (view submissions).
        "accepts_response_payload": payload.get("type") == "view_submission",
    }


__all__ = [
    "Ack",
    "Connection",
    "FakeSocketMode",
    "events_api_envelope",
    "interactive_envelope",
    "slash_command_envelope",
    "wait_until",
]
