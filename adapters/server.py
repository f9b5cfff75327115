"""One aiohttp server for everything: Slack, Teams, health and metrics (DESIGN.md §4)."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Generic, Protocol, TypeVar

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from adapters import logs
from adapters.container import Container
from adapters.metrics import Metrics
from bot.checkins.models import CheckInState
from bot.ports import DatabaseUnavailable
from storage.outage import outage_of
from storage.stats import Figures, figures, outbox

log = logging.getLogger(__name__)

# /healthz and /metrics answer within these even when the database hangs: a load balancer
# or Prometheus gives up after a few seconds, and "the database is unreachable" is an
# answer, silence is not.
HEALTH_TIMEOUT = 1.5
METRICS_TIMEOUT = 1.5

T = TypeVar("T")


class SharedRead(Generic[T]):
    """A probe route's database read, at most one in flight.  A request waits at most
    ``timeout`` for it (then TimeoutError); requests that arrive meanwhile wait for the
    same read instead of each taking a pooled connection to a hung server.  A read that
    outlives its requests ends at the driver's own timeouts and counts in the outage."""

    def __init__(self, read: Callable[[], Awaitable[T]], timeout: float) -> None:
        self._read = read
        self.timeout = timeout
        self._task: asyncio.Task[tuple[T | None, Exception | None]] | None = None

    async def __call__(self) -> T:
        task = self._task
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            task = self._task = asyncio.ensure_future(self._settled())
        done, _ = await asyncio.wait({task}, timeout=self.timeout)
        if task not in done:
            raise TimeoutError(f"no answer from the database within {self.timeout} s")
        value, error = task.result()
        if error is not None:
            raise error
        return value  # type: ignore[return-value]  # set whenever error is None

    async def _settled(self) -> tuple[T | None, Exception | None]:
        # Never raises: a read nobody waits for any more must not leave an error unread.
        try:
            return await self._read(), None
        except Exception as exc:
            return None, exc


def _unreachable(exc: Exception) -> bool:
    return isinstance(exc, TimeoutError | DatabaseUnavailable)


CONTAINER = web.AppKey("container", Container)
METRICS = web.AppKey("metrics", Metrics)


class HttpHandler(Protocol):
    async def handle_http(self, request: web.Request) -> web.StreamResponse: ...


def is_loopback(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


def build_web_app(
    container: Container,
    metrics: Metrics,
    *,
    slack: HttpHandler | None = None,
    teams: HttpHandler | None = None,
) -> web.Application:
    app = web.Application(middlewares=[_measure, _request_log])
    app[CONTAINER] = container
    app[METRICS] = metrics

    def scheduler_state() -> str:
        running = metrics.scheduler_running
        if running is None:
            return "off"  # --no-scheduler, or cron runs `statbot tick`
        return "running" if running() else "stopped"

    outage = outage_of(container.engine)
    health_read = SharedRead(lambda: outage.read(lambda: outbox(container.engine)), HEALTH_TIMEOUT)
    metrics_read = SharedRead(lambda: outage.read(lambda: figures(container.engine)), METRICS_TIMEOUT)

    async def healthz(request: web.Request) -> web.Response:
        """Database reachable, scheduler running, outbox backlog and the age of its oldest
        message.  503 when the database cannot be reached (within HEALTH_TIMEOUT, however
        long a hung server would keep it) or the scheduler stopped."""
        scheduler = scheduler_state()
        try:
            found = await health_read()
        except Exception as exc:
            # The class only: a driver's message can name the host, user or password.
            database = "unreachable" if _unreachable(exc) else type(exc).__name__
            failed = {"status": "unhealthy", "database": database, "scheduler": scheduler}
            return web.json_response(failed, status=503)
        oldest = found.oldest_undelivered
        age = max((container.clock.now() - oldest).total_seconds(), 0.0) if oldest is not None else None
        healthy = scheduler != "stopped"
        body: dict[str, object] = {
            "status": "ok" if healthy else "unhealthy",
            "database": "ok",
            "scheduler": scheduler,
            "outbox": {"backlog": found.backlog, "oldest_undelivered_seconds": age},
        }
        return web.json_response(body, status=200 if healthy else 503)

    async def prometheus(request: web.Request) -> web.Response:
        """The in-process series always, within METRICS_TIMEOUT; the gauges read from the
        database only when that read worked (statbot_database_reachable says which)."""
        found: Figures | None = None
        try:
            found = await metrics_read()
        except Exception as exc:
            if not _unreachable(exc):
                # Not an outage (the outage logs its own start and end): say what broke.
                log.warning("could not read the figures kept in the database (%s)", type(exc).__name__)
        metrics.database_reachable.set(0 if found is None else 1)
        body = generate_latest(metrics.registry)
        if found is not None:
            metrics.outbox.set(found.backlog)
            oldest = found.oldest_undelivered
            metrics.outbox_age.set((container.clock.now() - oldest).total_seconds() if oldest else 0)
            for state in (*CheckInState, *found.checkins):
                metrics.checkins.labels(state).set(found.checkins.get(state, 0))
            metrics.escalations.clear()
            for step, count in found.escalations.items():
                metrics.escalations.labels(str(step)).set(count)
            body += generate_latest(metrics.db_registry)
        response = web.Response(body=body)
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        return response

    async def slack_events(request: web.Request) -> web.StreamResponse:
        if slack is None:
            return web.json_response({"error": "Slack is not configured on this statbot"}, status=404)
        return await slack.handle_http(request)

    async def teams_messages(request: web.Request) -> web.StreamResponse:
        if not container.settings.microsoft_app_id and not is_loopback(request):
            reason = "unauthenticated activities are accepted from loopback only"
            log.warning("Teams request refused (401): %s", reason)
            return web.json_response({"error": reason}, status=401)
        if teams is None:
            return web.json_response({"error": "Teams is not configured on this statbot"}, status=501)
        return await teams.handle_http(request)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", prometheus)
    app.router.add_post("/slack/events", slack_events)
    app.router.add_post("/api/messages", teams_messages)
    # Teams' hosted chart images (a URL under STATBOT_PUBLIC_URL with a signed id).
    for method, path, handler in getattr(teams, "routes", list)():
        app.router.add_route(method, path, handler)
    return app


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _measure(request: web.Request, handler: Handler) -> web.StreamResponse:
    metrics = request.app[METRICS]
    route = request.match_info.route.resource.canonical if request.match_info.route.resource else "other"
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        metrics.requests.labels(route, str(status)).inc()
        metrics.latency.labels(route).observe(time.perf_counter() - started)


# Which platform a route serves, for the log line of each request.
_PLATFORMS = {"/slack/events": "slack", "/api/messages": "teams"}
access_log = logging.getLogger("statbot.http")


@web.middleware
async def _request_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One line per request (method, route, status, duration) with a request id that every
    line logged while handling it carries too.  Never the body: it holds people's words."""
    request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex[:16]
    route = request.match_info.route.resource.canonical if request.match_info.route.resource else "other"
    logs.unbind_all()
    logs.bind(request_id=request_id, **({"platform": _PLATFORMS[route]} if route in _PLATFORMS else {}))
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers.setdefault("X-Request-Id", request_id)
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        # Probes come every few seconds: an unhealthy answer is not news each time (an
        # outage logs its own start and end).
        probe = route in ("/healthz", "/metrics") and status in (200, 503)
        level = logging.DEBUG if probe else logging.INFO
        access_log.log(
            level,
            "%s %s %s",
            request.method,
            route,
            status,
            extra={"method": request.method, "route": route, "status": status, "duration_ms": duration_ms},
        )
        logs.unbind_all()
