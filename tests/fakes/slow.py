"""The fakes of Slack's Web API and of the Bot Connector, slow in places (shutdown tests):
a call waits until its delay has passed or the test sets ``release``, and ``asked``
records the calls as they arrive (the fakes record them when they answer)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from aiohttp import web

from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.slack_api import FakeSlackApi


@dataclass
class SlowSlackApi(FakeSlackApi):
    """The fake Web API, slow in places: users.info about user u is answered after
    ``slow_users[u]`` seconds, method m after ``slow_methods[m]`` (or when ``release`` is
    set).  ``asked`` lists the methods asked for, as they arrive."""

    slow_users: dict[str, float] = field(default_factory=dict)
    slow_methods: dict[str, float] = field(default_factory=dict)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    asked: list[str] = field(default_factory=list)

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.asked.append(method)
        delay = self.slow_methods.get(method, 0.0)
        if method == "users.info":
            delay += self.slow_users.get(str((await self._params(request)).get("user")), 0.0)
        if delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.release.wait(), delay)
        return await super()._api(request)


@dataclass
class SlowConnector(FakeBotConnector):
    """The fake Bot Connector, slow in some conversations: each call about conversation c
    (a member look-up or a post) is answered after ``delays[c]`` seconds, or when
    ``release`` is set.  ``asked`` holds the conversations that called it."""

    delays: dict[str, float] = field(default_factory=dict)
    asked: set[str] = field(default_factory=set)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def _slow(self, request: web.Request) -> None:
        conversation = request.match_info["conversation"]
        self.asked.add(conversation)
        if self.delays.get(conversation):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.release.wait(), self.delays[conversation])

    async def _member(self, request: web.Request) -> web.Response:
        await self._slow(request)
        return await super()._member(request)

    async def _post(self, request: web.Request) -> web.Response:
        await self._slow(request)
        return await super()._post(request)
