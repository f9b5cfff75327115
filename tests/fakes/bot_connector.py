"""A fake Bot Connector: an aiohttp server on 127.0.0.1, port 0, in the caller's loop.

Activities the bot posts (``POST /v3/conversations/{id}/activities[/{replyToId}]``) and
updates (``PUT .../activities/{id}``) are recorded; ``GET /v3/conversations/{id}/members/{id}``
answers from ``members`` (Teams user id → account with email/userPrincipalName).
``fail(status, times=n)`` makes the next n posts answer that status (429 with Retry-After);
``limit(per_second=n, per_conversation=m)`` answers 429 above those sliding-window rates.
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Posted:
    conversation: str
    activity: dict[str, Any]
    id: str
    reply_to: str | None
    at: float

    @property
    def cards(self) -> list[dict[str, Any]]:
        return [a["content"] for a in self.activity.get("attachments") or [] if "content" in a]


@dataclass
class FakeBotConnector:
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    posted: list[Posted] = field(default_factory=list)
    updated: list[Posted] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    member_lookups: list[str] = field(default_factory=list)
    _failures: deque[tuple[int, float]] = field(default_factory=deque)
    _rate: int | None = None
    _per_conversation: int | None = None
    _window: deque[float] = field(default_factory=deque)
    _conv_windows: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    url: str = ""

    def fail(self, status: int, *, times: int = 1, retry_after: float = 0.05) -> None:
        self._failures.extend([(status, retry_after)] * times)

    def limit(self, *, per_second: int | None = None, per_conversation: int | None = None) -> None:
        self._rate, self._per_conversation = per_second, per_conversation

    async def start(self) -> FakeBotConnector:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities", self._post)
        app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", self._post)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._put)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/"
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _limited(self, conversation: str) -> bool:
        now = time.monotonic()
        for window, rate in (
            (self._window, self._rate),
            (self._conv_windows[conversation], self._per_conversation),
        ):
            while window and now - window[0] >= 1.0:
                window.popleft()
            if rate is not None and len(window) >= rate:
                return True
        self._window.append(now)
        self._conv_windows[conversation].append(now)
        return False

    async def _post(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"]
        if self._failures:
            status, retry_after = self._failures.popleft()
            self.refused.append(status)
            return web.json_response(
                {"error": {"code": "Throttled" if status == 429 else "ServiceError", "message": "fake"}},
                status=status,
                headers={"Retry-After": str(retry_after)} if status == 429 else {},
            )
        if self._limited(conversation):
            self.refused.append(429)
            return web.json_response(
                {"error": {"code": "Throttled", "message": "fake"}},
                status=429,
                headers={"Retry-After": "0.2"},
            )
        body = await request.json()
        ident = f"act-{next(self._ids)}"
        self.posted.append(
            Posted(conversation, body, ident, request.match_info.get("reply_to"), time.monotonic())
        )
        return web.json_response({"id": ident}, status=201)

    async def _put(self, request: web.Request) -> web.Response:
        body = await request.json()
        ident = request.match_info["activity"]
        self.updated.append(Posted(request.match_info["conversation"], body, ident, None, time.monotonic()))
        return web.json_response({"id": ident})

    async def _member(self, request: web.Request) -> web.Response:
        member = request.match_info["member"]
        self.member_lookups.append(member)
        account = self.members.get(member)
        if account is None:
            return web.json_response({"error": {"code": "MemberNotFound", "message": "fake"}}, status=404)
        return web.json_response({"id": member, **account})

    def to(self, conversation: str) -> list[Posted]:
        return [p for p in self.posted if p.conversation == conversation]

    def texts(self, conversation: str | None = None) -> list[str]:
        """Every TextBlock/TextRun text of the cards posted (to a conversation)."""
        out: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if node.get("type") in ("TextBlock", "TextRun") and isinstance(node.get("text"), str):
                    out.append(node["text"])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        for p in self.posted if conversation is None else self.to(conversation):
            walk(p.cards)
        return out
