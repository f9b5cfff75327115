"""One aiohttp server for everything: Slack, Teams, health and metrics (DESIGN.md §4)."""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from adapters.container import Container
from adapters.metrics import Metrics

log = logging.getLogger(__name__)

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
    app = web.Application(middlewares=[_measure])
    app[CONTAINER] = container
    app[METRICS] = metrics

    async def healthz(request: web.Request) -> web.Response:
        try:
            async with container.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:
            return web.json_response({"status": "unhealthy", "database": str(exc)[:200]}, status=503)
        return web.json_response({"status": "ok", "database": "ok"})

    async def prometheus(request: web.Request) -> web.Response:
        try:
            async with container.uow() as uow:
                metrics.outbox.set(await uow.deliveries.pending_count())
        except Exception:
            log.warning("could not read the outbox size", exc_info=True)
        response = web.Response(body=generate_latest(metrics.registry))
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        return response

    async def slack_events(request: web.Request) -> web.StreamResponse:
        if slack is None:
            return web.json_response({"error": "Slack is not configured on this statbot"}, status=404)
        return await slack.handle_http(request)

    async def teams_messages(request: web.Request) -> web.StreamResponse:
        if teams is not None:
            return await teams.handle_http(request)
        if not container.settings.microsoft_app_id and not is_loopback(request):
            return web.json_response(
                {"error": "unauthenticated activities are accepted from loopback only"}, status=401
            )
        return web.json_response({"error": "the Teams adapter is not available yet"}, status=501)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", prometheus)
    app.router.add_post("/slack/events", slack_events)
    app.router.add_post("/api/messages", teams_messages)
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
