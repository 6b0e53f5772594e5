"""Prometheus metrics of the service: check-ins, refusals by reason, latency, stations by state.

Each service owns its own :class:`prometheus_client.CollectorRegistry` (no global state), so
tests can run several services in one process.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from pollnet.link.heartbeat import STATES, StationReadiness

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_STATUS = {201: "accepted", 200: "conflict", 409: "duplicate", 422: "refused", 503: "unavailable"}


class LinkMetrics:
    """The service's counters and histograms; ``readiness`` gives station states at scrape."""

    def __init__(self, readiness: Callable[[dt.datetime], Sequence[StationReadiness]]) -> None:
        self.registry = CollectorRegistry()
        self.checkins = Counter(
            "pollnet_checkins",
            "Check-in answers by outcome (accepted, conflict, duplicate, refused, unavailable...).",
            ["outcome"],
            registry=self.registry,
        )
        self.refusals = Counter(
            "pollnet_checkin_refusals",
            "Refused check-ins by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "pollnet_checkin_latency_seconds",
            "Time from a check-in's arrival to its durable answer, in seconds.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.heartbeats = Counter(
            "pollnet_heartbeats", "Heartbeats received.", ["link"], registry=self.registry
        )
        self.registry.register(_StationCollector(readiness))

    def observe_checkin(self, status_code: int, body: bytes, seconds: float) -> None:
        """Count one answered check-in that took ``seconds``."""
        outcome = _STATUS.get(status_code, "malformed")
        self.checkins.labels(outcome).inc()
        if status_code == 409:
            self.refusals.labels("duplicate").inc()
        elif status_code == 422:
            self.refusals.labels(json.loads(body).get("reason", "unknown")).inc()
        self.latency.observe(seconds)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)


class _StationCollector(Collector):
    def __init__(self, readiness: Callable[[dt.datetime], Sequence[StationReadiness]]) -> None:
        self._readiness = readiness

    def collect(self) -> Iterator[GaugeMetricFamily]:
        counts = dict.fromkeys(STATES, 0)
        for station in self._readiness(dt.datetime.now(dt.UTC)):
            counts[station.state] += 1
        family = GaugeMetricFamily(
            "pollnet_stations",
            "Stations by link state (ready, degraded, offline).",
            labels=["state"],
        )
        for state, count in counts.items():
            family.add_metric([state], count)
        yield family
