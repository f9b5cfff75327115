"""Prometheus metrics, one registry per running app (tests build many apps).

Counters move as things happen (requests, turns, sweeps, deliveries); the gauges for
state kept in the database (outbox backlog and age, check-ins by state, open escalations
by step) are read from it when /metrics is scraped, so every replica reports the same.
They live in a registry of their own (``db_registry``): a scrape that cannot read the
database in time leaves them out rather than repeat stale numbers, and says so in
``statbot_database_reachable``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from bot.deliveries.jobs import MAX_ATTEMPTS
from bot.deliveries.models import Delivery
from bot.ports import ChatGateway, DeliveryError

# How long a person waits for an answer: sub-second buckets matter most.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)


def delivery_kind(delivery: Delivery) -> str:
    """What a delivery is (prompt, reminder, escalation, digest, followup…): the first part
    of its idempotency key, which every writer sets from a small fixed set."""
    kind = delivery.idempotency_key.partition(":")[0]
    return kind[:32] if kind.replace("_", "").replace("-", "").isalnum() else "other"


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    # The gauges read from the database at each scrape (served only when that read worked).
    db_registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    # Set when a scheduler is built: whether it is running (None: this process has none).
    scheduler_running: Callable[[], bool] | None = None

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter(
            "statbot_http_requests_total", "HTTP requests", ["route", "status"], registry=r
        )
        self.latency = Histogram(
            "statbot_http_request_seconds",
            "HTTP request time",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.turns = Counter(
            "statbot_turns_total", "Turns by kind and outcome", ["kind", "outcome"], registry=r
        )
        self.sweeps = Counter("statbot_sweeps_total", "Sweep runs", ["sweep"], registry=r)
        self.sweep_errors = Counter("statbot_sweep_errors_total", "Sweeps that failed", ["sweep"], registry=r)
        self.last_sweep = Gauge(
            "statbot_last_sweep_timestamp_seconds", "When a sweep last ran in this process", registry=r
        )
        self.deliveries = Counter(
            "statbot_deliveries_total", "Deliveries by outcome", ["outcome"], registry=r
        )
        self.sends = Counter(
            "statbot_delivery_sends_total",
            "Delivery send attempts by platform, kind and outcome (sent, retried, failed)",
            ["platform", "kind", "outcome"],
            registry=r,
        )
        self.database_reachable = Gauge(
            "statbot_database_reachable",
            "1 when this scrape read the figures kept in the database, 0 when it could not in time",
            registry=r,
        )
        d = self.db_registry
        self.outbox = Gauge("statbot_outbox_pending", "Deliveries waiting to be sent", registry=d)
        self.outbox_age = Gauge(
            "statbot_outbox_oldest_seconds", "Age of the oldest delivery waiting to be sent", registry=d
        )
        self.checkins = Gauge("statbot_checkins", "Check-ins by state", ["state"], registry=d)
        self.escalations = Gauge(
            "statbot_escalations_open", "Open escalation chains by step", ["step"], registry=d
        )

    def turn(self, kind: str, outcome: str) -> None:
        self.turns.labels(kind, outcome).inc()

    def swept(self) -> None:
        self.last_sweep.set(time.time())


class MeteredGateway:
    """A platform's gateway that counts each send by platform, kind and outcome."""

    def __init__(self, platform: str, inner: ChatGateway, metrics: Metrics) -> None:
        self.platform = platform
        self.inner = inner
        self.metrics = metrics

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def send(self, delivery: Delivery) -> str | None:
        kind = delivery_kind(delivery)
        try:
            ref = await self.inner.send(delivery)
        except DeliveryError as exc:
            final = exc.permanent or delivery.attempts >= MAX_ATTEMPTS
            self.metrics.sends.labels(self.platform, kind, "failed" if final else "retried").inc()
            raise
        self.metrics.sends.labels(self.platform, kind, "sent").inc()
        return ref
