"""A fake Slack Web API: an aiohttp server on 127.0.0.1, port 0, in the caller's loop.

It records every call (method, parameters, time, status) and answers the methods statbot
uses with Slack's response shapes.  Modes make it misbehave the way Slack does:
``fail(method, status=429|500, times=n, after=k)`` (the k calls before pass) and
``limit(method, per_second=n)`` (a sliding one-second window per method; calls above it
get 429 with ``Retry-After``); ``answers[method]`` replaces a method's normal answer.
Files follow files_upload_v2's three steps: ``uploads`` keeps every POSTed file's bytes,
and ``shared`` only the files a files.completeUploadExternal shared (what people see),
with their names, channel and thread; ``fail("upload", ...)`` makes the POST fail.
``apps.connections.open`` (Socket Mode) answers with ``socket_mode_url()``: see
tests/fakes/slack_socket.py.  A response_url takes ``RESPONSE_URL_USES`` answers, as on
Slack; later ones are refused (recorded with their status, so ``ok_calls`` leaves them out).
Posted messages are kept (``message(channel, ts)``, with the block_ids Slack adds), and
a response_url made for one (``response_url(key, message=(channel, ts))``) replaces it
when answered with ``replace_original: true``, as a click on that message's button would.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

# Slack: "You can use a response_url up to five times within 30 minutes".
RESPONSE_URL_USES = 5


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int
    at: float
    token: str = ""


@dataclass
class SharedFile:
    """A file as people see it in a channel: shared by files.completeUploadExternal."""

    id: str
    filename: str
    title: str
    channel: str
    thread_ts: str | None
    content: bytes


@dataclass
class _Failure:
    status: int
    times: int
    retry_after: int = 1
    after: int = 0


@dataclass
class FakeSlackApi:
    """Start with ``await FakeSlackApi().start()``; stop with ``await api.close()``."""

    # Slack user id → e-mail (users.info, users.lookupByEmail).
    users: dict[str, str] = field(default_factory=dict)
    # channel name → id (conversations.list).
    channels: dict[str, str] = field(default_factory=dict)
    # trigger ids views.open refuses as expired.
    expired_triggers: set[str] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    # method → a canned answer instead of the usual one.
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: dict[str, bytes] = field(default_factory=dict)
    shared: list[SharedFile] = field(default_factory=list)
    delay: float = 0.0
    # Hands out a websocket URL for apps.connections.open (FakeSocketMode.attach sets it).
    socket_mode_url: Callable[[], str] | None = None
    # (channel, ts) → the message as Slack keeps it: text, blocks, ts.
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._limits: dict[str, int] = {}
        self._admitted: dict[str, deque[float]] = defaultdict(deque)
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._responded: dict[str, int] = defaultdict(int)
        self._response_targets: dict[str, tuple[str, str]] = {}
        self._filenames: dict[str, str] = {}
        self.root = ""

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> FakeSlackApi:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/respond/{key}", self._respond)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.root = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        """The Web API base URL, with the trailing slash slack-sdk needs."""
        return f"{self.root}/api/"

    def response_url(self, key: str = "r", *, message: tuple[str, str] | None = None) -> str:
        """A response_url; with ``message`` (channel, ts) it belongs to a click in that message."""
        if message is not None:
            self._response_targets[key] = message
        return f"{self.root}/respond/{key}"

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        """The message as everyone in the channel sees it now."""
        return self.messages[(channel, ts)]

    # --- modes ---------------------------------------------------------------------------

    def fail(self, method: str, *, status: int, times: int = 1, retry_after: int = 1, after: int = 0) -> None:
        self._failures[method].append(_Failure(status, times, retry_after, after))

    def recover(self) -> None:
        """Slack is well again: pending failures are dropped."""
        self._failures.clear()

    def limit(self, method: str, *, per_second: int) -> None:
        self._limits[method] = per_second

    # --- queries -------------------------------------------------------------------------

    def ok_calls(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.status == 200]

    def all_calls(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def methods(self) -> list[str]:
        return [c.method for c in self.calls if c.status == 200]

    # --- handlers ------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        raw = await request.read()
        if not raw:
            return params
        kind = request.content_type
        if kind == "application/json":
            params.update(json.loads(raw))
        elif kind == "application/x-www-form-urlencoded":
            params.update(parse_qsl(raw.decode(), keep_blank_values=True))
        elif kind.startswith("multipart/"):
            params["_multipart"] = True
        return params

    def _gate(self, method: str) -> web.Response | None:
        queue = self._failures.get(method)
        if queue and queue[0].after > 0:
            queue[0].after -= 1
        elif queue:
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.popleft()
            return self._error(failure.status, failure.retry_after)
        per_second = self._limits.get(method)
        if per_second is not None:
            now = time.monotonic()
            admitted = self._admitted[method]
            while admitted and admitted[0] <= now - 1.0:
                admitted.popleft()
            if len(admitted) >= per_second:
                wait = max(1, math.ceil(admitted[0] + 1.0 - now))
                return self._error(429, wait)
            admitted.append(now)
        return None

    @staticmethod
    def _error(status: int, retry_after: int) -> web.Response:
        if status == 429:
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(retry_after)}
            )
        return web.Response(status=status, text="upstream trouble")

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.delay:
            await asyncio.sleep(self.delay)
        refused = self._gate(method)
        status = refused.status if refused is not None else 200
        self.calls.append(Call(method, params, status, time.monotonic(), token))
        if refused is not None:
            return refused
        if method == "apps.connections.open":
            return web.json_response(self._connections_open(token))
        if method in self.answers:
            return web.json_response(self.answers[method])
        return web.json_response(self._answer(method, params))

    def _connections_open(self, token: str) -> dict[str, Any]:
        # Only an app-level token may open a Socket Mode connection, as on Slack.
        if not token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        if self.socket_mode_url is None:
            # No Socket Mode app behind this fake: the token belongs to nobody here.
            return {"ok": False, "error": "invalid_auth"}
        return {"ok": True, "url": self.socket_mode_url()}

    def _ts(self) -> str:
        return f"{1_700_000_000 + next(self._ids)}.000100"

    def _answer(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        match method:
            case "auth.test":
                return {
                    "ok": True,
                    "url": "https://riverton.slack.com/",
                    "team": "Riverton",
                    "user": "statbot",
                    "team_id": "T111",
                    "user_id": "UBOT",
                    "bot_id": "BBOT",
                }
            case "chat.postMessage" | "chat.update":
                channel, ts = str(p.get("channel")), p.get("ts") or self._ts()
                self._keep(channel, ts, p.get("text", ""), p.get("blocks"))
                return {"ok": True, "channel": channel, "ts": ts, "message": {"text": p.get("text", "")}}
            case "chat.postEphemeral":
                return {"ok": True, "message_ts": self._ts()}
            case "views.open" | "views.update" | "views.push" | "views.publish":
                if method == "views.open" and p.get("trigger_id") in self.expired_triggers:
                    return {"ok": False, "error": "expired_trigger_id"}
                view = p.get("view")
                view = json.loads(view) if isinstance(view, str) else view
                return {
                    "ok": True,
                    "view": {
                        **(view or {}),
                        "id": p.get("view_id") or f"V{next(self._ids)}",
                        "hash": f"h{next(self._ids)}",
                    },
                }
            case "users.info":
                user = p.get("user", "")
                if user not in self.users:
                    return {"ok": False, "error": "user_not_found"}
                return {"ok": True, "user": {"id": user, "profile": {"email": self.users[user]}}}
            case "users.lookupByEmail":
                email = str(p.get("email", "")).lower()
                for user, known in self.users.items():
                    if known.lower() == email:
                        return {"ok": True, "user": {"id": user, "profile": {"email": known}}}
                return {"ok": False, "error": "users_not_found"}
            case "conversations.open":
                users = str(p.get("users", ""))
                return {"ok": True, "channel": {"id": "D" + users.split(",")[0]}}
            case "conversations.list":
                return {
                    "ok": True,
                    "channels": [{"id": i, "name": n} for n, i in self.channels.items()],
                    "response_metadata": {"next_cursor": ""},
                }
            case "files.getUploadURLExternal":
                file_id = f"F{next(self._ids)}"
                self._filenames[file_id] = str(p.get("filename", ""))
                return {"ok": True, "upload_url": f"{self.root}/upload/{file_id}", "file_id": file_id}
            case "files.completeUploadExternal":
                files = p.get("files")
                files = json.loads(files) if isinstance(files, str) else files or []
                if any(f["id"] not in self.uploads for f in files):
                    return {"ok": False, "error": "file_not_found"}  # never uploaded
                for f in files:
                    self.shared.append(
                        SharedFile(
                            id=f["id"],
                            filename=self._filenames.get(f["id"], ""),
                            title=f.get("title", ""),
                            channel=str(p.get("channel_id", "")),
                            thread_ts=p.get("thread_ts"),
                            content=self.uploads[f["id"]],
                        )
                    )
                return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")} for f in files]}
        return {"ok": False, "error": "unknown_method"}

    def _keep(self, channel: str, ts: str, text: str, blocks: Any) -> None:
        blocks = json.loads(blocks) if isinstance(blocks, str) else list(blocks or [])
        # Slack gives every block without a block_id one of its own.
        blocks = [{"block_id": f"B{next(self._ids)}", **b} for b in blocks]
        self.messages[(channel, ts)] = {"type": "message", "ts": ts, "text": text, "blocks": blocks}

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        content = await request.read()
        refused = self._gate("upload")
        self.calls.append(
            Call("upload", {"file_id": file_id}, 200 if refused is None else refused.status, time.monotonic())
        )
        if refused is not None:
            return refused
        self.uploads[file_id] = content
        return web.Response(text=f"OK - {len(content)}")

    async def _respond(self, request: web.Request) -> web.Response:
        body = await request.json()
        key = request.match_info["key"]
        self._responded[key] += 1
        # Slack does not document the exact answer to one use too many; an error status
        # and no message shown is what matters.
        status = 200 if self._responded[key] <= RESPONSE_URL_USES else 404
        self.calls.append(Call("respond", {"key": key, **body}, status, time.monotonic()))
        if status != 200:
            return web.Response(status=status, text="used_url")
        target = self._response_targets.get(key)
        if body.get("replace_original") is True and target is not None:
            self._keep(*target, body.get("text", ""), body.get("blocks"))
        return web.Response(text="ok")


# --- signed requests, the way Slack sends them ---------------------------------------------


def slack_signature(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """X-Slack-Signature: HMAC-SHA256 over ``v0:{timestamp}:{raw body}`` with the secret."""
    import hashlib
    import hmac

    base = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


def form_body(fields: dict[str, str]) -> bytes:
    from urllib.parse import urlencode

    return urlencode(fields).encode()


def interactive_body(payload: dict[str, Any]) -> bytes:
    from urllib.parse import quote

    return ("payload=" + quote(json.dumps(payload))).encode()


def state_for(view: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """``view.state.values`` as Slack builds it from a modal's input blocks and typed text."""
    state: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block["element"]
        kind = element["type"]
        typed = values.get(block["block_id"])
        if kind == "datepicker":
            entry: dict[str, Any] = {"type": kind, "selected_date": typed}
        elif kind == "static_select":
            entry = {"type": kind, "selected_option": {"value": typed} if typed else None}
        else:
            entry = {"type": kind, "value": typed}
        state[block["block_id"]] = {element["action_id"]: entry}
    return state
