"""The composition root: everything a statbot process needs, built from the settings.

Every entry point (``serve``, ``tick``, ``chat``, ``demo``, the other CLI commands, the
tests and the benches) opens a Runtime, so no command wires a partial app of its own:
a ``tick`` from cron gets the same platform gateways as ``serve``.

    async with open_runtime(settings) as runtime:
        await runtime.check_migrated()
        print(await runtime.tick())

Opening builds the database engine and unit of work, the clock, the bot, the metrics,
the configured platform adapters and their gateways (routed per recipient when several
platforms are configured).  The web app and the scheduler are built on demand.  Leaving
the block stops what was started, in reverse order: schedulers, platform adapters
(their HTTP sessions and Socket Mode), then the database engine; every step is bounded,
so a hung database or platform never holds a stopping process (``stop_serving`` first
for `statbot serve`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from adapters.container import Container
from adapters.gateways import route
from adapters.metrics import MeteredGateway, Metrics
from adapters.settings import Settings
from adapters.shutdown import CANCEL_WAIT, SETTLE_WAIT
from bot.clock import Clock, SystemClock
from bot.conversation import StatBot
from bot.ports import ChatGateway, UnitOfWorkFactory
from storage.engine import Engine, close_engine, create_engine, cut_connections, session_factory
from storage.uow import SqlUnitOfWorkFactory

if TYPE_CHECKING:
    from aiohttp import web

    from adapters.scheduler import Sweeper
    from adapters.slack.app import SlackAdapter
    from adapters.teams.app import TeamsAdapter


@dataclass(frozen=True)
class SlackOptions:
    """How the Slack adapter is built.  Production uses the defaults; tests hand in a
    client pointed at a fake Web API and process events before answering."""

    client: Any = None
    process_before_response: bool = False
    form_deadline: float = 2.0
    per_channel_interval: float = 1.0
    # Seconds a slash command's turn may take to answer inside the ack.
    answer_budget: float = 1.5


@dataclass(frozen=True)
class TeamsOptions:
    """Asks for the Teams adapter even without MicrosoftAppId (tests, the Emulator: only
    loopback clients are then served).  ``sender`` replaces the paced sender (benches)."""

    sender: Any = None


log = logging.getLogger(__name__)

NO_PLATFORM = "no Slack or Teams credentials"
# A stopping process (SIGTERM; docker stop sends SIGKILL 10 s later), step by step, each
# bounded: Socket Mode closes (at most 1 s, slack/app.py); side by side, requests in
# flight (a Teams turn runs inside its request) and Slack's turns queued after their ack
# get TURN_GRACE, running sweeps SWEEP_GRACE (the sender finishes the sends it started and
# hands back the rest); then what outlived its grace is cut off: the database connections
# still in use are cut, and what does not end by itself within 0.3 s is cancelled and
# gets 1 s to wind up (shutdown.py); the database connections left get 1 s to close
# before they are cut, and 1 s more to go (storage/engine.py).  About 5 s with a hung
# database, 8.5 s at the very most.
TURN_GRACE = 4.0
SWEEP_GRACE = 4.0


@dataclass
class Runtime:
    container: Container
    metrics: Metrics
    bot: StatBot
    slack: SlackAdapter | None = None
    teams: TeamsAdapter | None = None
    # Platform name → the gateway that sends its deliveries.
    gateways: dict[str, ChatGateway] = field(default_factory=dict)
    _stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    @property
    def settings(self) -> Settings:
        return self.container.settings

    @property
    def uow(self) -> UnitOfWorkFactory:
        return self.container.uow

    @property
    def clock(self) -> Clock:
        return self.container.clock

    @property
    def platforms(self) -> list[str]:
        return list(self.gateways)

    @functools.cached_property
    def gateway(self) -> ChatGateway | None:
        """Where deliveries leave: the one platform, a router over several, or None.
        Built once, so every sender of this process shares the router's people cache;
        each platform's sends are counted in the metrics."""
        metered = {name: MeteredGateway(name, g, self.metrics) for name, g in self.gateways.items()}
        return route(metered, self.uow)

    async def check_migrated(self) -> None:
        await self.container.check_migrated()

    def web_app(self) -> web.Application:
        from adapters.server import build_web_app

        return build_web_app(self.container, self.metrics, slack=self.slack, teams=self.teams)

    def scheduler(self) -> Sweeper:
        """The sweeps and the delivery sender as APScheduler jobs; call ``start()`` in the
        running loop.  It is shut down when the runtime closes."""
        from adapters.scheduler import build_scheduler

        scheduler = build_scheduler(
            self.uow, self.clock, self.gateway, self.metrics, retention=self.settings.retention
        )

        # Closed first (the stack unwinds in reverse): no new sweeps, the sender hands back
        # what it did not start, then the platforms and the engine close.
        self._stack.push_async_callback(scheduler.stop, SWEEP_GRACE)
        return scheduler

    async def tick(self, clock: Clock | None = None, *, lease_clock: Clock | None = None) -> str:
        """Every sweep once, then the outbox, as of ``clock`` (default: the runtime's);
        ``lease_clock`` keeps the outbox's leases (`statbot tick --at`: real time)."""
        from bot.sweeps import run_all

        return await run_all(
            self.uow,
            clock or self.clock,
            self.gateway,
            retention=self.settings.retention,
            lease_clock=lease_clock,
        )

    async def start_platforms(self) -> None:
        """Connections that a platform opens itself (Slack's Socket Mode)."""
        if self.slack is not None and self.settings.slack_app_token is not None:
            await self.slack.start_socket_mode()

    async def stop_serving(self, runner: web.AppRunner, scheduler: Sweeper | None) -> None:
        """`statbot serve` stopping: no new work (Socket Mode closed, then the listening
        socket), then the work in flight finishes side by side within its grace and what
        outlives it is cut off.  The runtime's exit closes the rest."""
        if self.slack is not None:
            await self.slack.stop_socket_mode()
        cut: list[int] = []

        def cut_database() -> None:
            # Once, when the first grace is over: what still waits on the database fails
            # at once, instead of a query being cancelled midway (storage/engine.py).
            if not cut:
                cut.append(cut_connections(self.container.engine))
                if cut[0]:
                    log.warning("the shutdown grace is over: cut %d database connections", cut[0])

        waits: list[Awaitable[None]] = [self._stop_http(runner)]
        if scheduler is not None:
            waits.append(scheduler.stop(SWEEP_GRACE, before_cut=cut_database))
        if self.slack is not None:
            waits.append(self.slack.finish(TURN_GRACE, before_cut=cut_database))
        if self.teams is not None:
            waits.append(self.teams.finish(TURN_GRACE, before_cut=cut_database))
        await asyncio.gather(*waits)

    @staticmethod
    async def _stop_http(runner: web.AppRunner) -> None:
        # aiohttp closes the listening socket at once, then waits for the requests in
        # flight; it cannot cancel a handler itself (Teams' turns are cut off by finish),
        # so a request that outlives the grace is left behind rather than waited for.
        try:
            await asyncio.wait_for(runner.cleanup(), TURN_GRACE + SETTLE_WAIT + CANCEL_WAIT)
        except TimeoutError:
            log.warning("requests still running %.0f s after the stop; left behind", TURN_GRACE)

    async def pending_deliveries(self) -> int:
        async with self.uow() as uow:
            return await uow.deliveries.pending_count()


@asynccontextmanager
async def open_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    platforms: bool = True,
    slack: SlackOptions | None = None,
    teams: TeamsOptions | None = None,
    gateways: Mapping[str, ChatGateway] | None = None,
    engine: Engine | None = None,
    uow: UnitOfWorkFactory | None = None,
) -> AsyncIterator[Runtime]:
    """Build a Runtime from ``settings``.

    ``platforms=False`` builds no platform adapter (the console and the demo show the
    messages themselves).  ``gateways`` adds or replaces platform gateways (tests hand in
    fakes).  ``engine`` shares an engine the caller owns (tests) instead of opening one;
    ``uow`` wraps the database (tests that make it slow or failing)."""
    stack = AsyncExitStack()
    try:
        if engine is None:
            engine = create_engine(settings.database_url)
            stack.push_async_callback(close_engine, engine)
        container = Container(
            settings=settings,
            engine=engine,
            uow=uow or SqlUnitOfWorkFactory(session_factory(engine)),
            clock=clock or SystemClock(),
        )
        metrics = Metrics()
        bot = StatBot(container.uow, container.clock)
        bot.on_turn = metrics.turn
        runtime = Runtime(container=container, metrics=metrics, bot=bot, _stack=stack)
        if platforms and settings.slack_enabled:
            runtime.slack = _slack_adapter(container, bot, metrics, slack or SlackOptions())
            stack.push_async_callback(runtime.slack.close, TURN_GRACE)
            runtime.gateways["slack"] = runtime.slack.gateway
        if platforms and (settings.teams_enabled or settings.teams_emulator or teams is not None):
            runtime.teams = _teams_adapter(container, bot, metrics, teams or TeamsOptions())
            stack.push_async_callback(runtime.teams.close)
            runtime.gateways["teams"] = runtime.teams.gateway
        runtime.gateways.update(gateways or {})
        yield runtime
    finally:
        await stack.aclose()


def _slack_adapter(
    container: Container, bot: StatBot, metrics: Metrics, options: SlackOptions
) -> SlackAdapter:
    # Imported here: slack-bolt costs a noticeable part of a second to import, and most
    # commands never need it.
    from adapters.slack.app import SlackAdapter

    return SlackAdapter.create(
        container,
        bot,
        metrics,
        client=options.client,
        process_before_response=options.process_before_response,
        form_deadline=options.form_deadline,
        per_channel_interval=options.per_channel_interval,
        answer_budget=options.answer_budget,
    )


def _teams_adapter(
    container: Container, bot: StatBot, metrics: Metrics, options: TeamsOptions
) -> TeamsAdapter:
    # Imported here: botbuilder is slow to import and most commands never need it.
    from adapters.teams.app import TeamsAdapter

    return TeamsAdapter(container, bot, metrics, sender=options.sender)
