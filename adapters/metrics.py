"""Prometheus metrics, one registry per running app (tests build many apps)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter(
            "statbot_http_requests_total", "HTTP requests", ["route", "status"], registry=r
        )
        self.latency = Histogram("statbot_http_request_seconds", "HTTP request time", ["route"], registry=r)
        self.sweeps = Counter("statbot_sweeps_total", "Sweep runs", ["sweep"], registry=r)
        self.sweep_errors = Counter("statbot_sweep_errors_total", "Sweeps that failed", ["sweep"], registry=r)
        self.deliveries = Counter(
            "statbot_deliveries_total", "Deliveries by outcome", ["outcome"], registry=r
        )
        self.outbox = Gauge("statbot_outbox_pending", "Deliveries waiting to be sent", registry=r)
