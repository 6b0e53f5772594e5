"""Prometheus metrics of the service: check-ins, refusals by reason, latency, stations by state.

The hot path only bumps plain counters and one bucket of a latency histogram kept here (a
``prometheus_client`` histogram costs microseconds per observation, a lock and a loop over its
buckets); a collector turns them into Prometheus families when ``/metrics`` is scraped. Each
service owns its own :class:`prometheus_client.CollectorRegistry` (no global state), so tests can
run several services in one process. Everything is updated on the service's event loop thread.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import logging
from collections.abc import Callable, Iterator, Sequence

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from pollnet.cluster.replication import ReplicationWatch
from pollnet.link.heartbeat import STATES, StationReadiness, WriterHealth

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_STATUS = {201: "accepted", 200: "conflict", 409: "duplicate", 422: "refused", 503: "unavailable"}
log = logging.getLogger("pollnet.link.metrics")


class LinkMetrics:
    """The service's counters and latency histogram; ``readiness`` gives station states at scrape.

    ``checkins`` counts answers by outcome, ``refusals`` refused check-ins by reason,
    ``heartbeats`` heartbeats by link; ``latency_counts[i]`` the check-ins that took at most
    ``LATENCY_BUCKETS[i]`` seconds and more than the bucket before (the last: more than all).
    ``conflicts`` counts the conflicts each device caused (a resend of the same check-in does
    not count again); ``conflict_alert`` is the count from which a device is flagged.
    """

    def __init__(
        self,
        readiness: Callable[[dt.datetime], Sequence[StationReadiness]],
        *,
        conflict_alert: int = 10,
        heartbeat_writer: Callable[[], WriterHealth] | None = None,
    ) -> None:
        self.checkins: dict[str, int] = {}
        self.refusals: dict[str, int] = {}
        self.heartbeats: dict[str, int] = {}
        self.conflicts: dict[str, int] = {}
        self.conflict_alert = conflict_alert
        self.latency_counts = [0] * (len(LATENCY_BUCKETS) + 1)
        self.latency_sum = 0.0
        self.registry = CollectorRegistry()
        self.registry.register(_CountersCollector(self))
        self.registry.register(_StationCollector(readiness))
        if heartbeat_writer is not None:
            self.registry.register(_WriterCollector(heartbeat_writer))

    def observe_checkin(
        self,
        status_code: int,
        body: bytes,
        seconds: float,
        *,
        device: str = "",
        replayed: bool = False,
    ) -> None:
        """Count one answered check-in of ``device`` that took ``seconds``.

        ``replayed``: the answer is the stored one of an earlier request with the same key.
        """
        outcome = _STATUS.get(status_code, "malformed")
        if status_code in (409, 422):
            reason = str(json.loads(body).get("reason", "unknown"))
            self.refusals[reason] = self.refusals.get(reason, 0) + 1
            if status_code == 409 and reason != "duplicate":
                outcome = "refused"
        elif status_code == 200 and device and not replayed:
            count = self.conflicts[device] = self.conflicts.get(device, 0) + 1
            if count == self.conflict_alert:
                log.warning(
                    "device %s has caused %d conflicts (the alert threshold)", device, count
                )
        self.checkins[outcome] = self.checkins.get(outcome, 0) + 1
        self.latency_counts[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.latency_sum += seconds

    def observe_heartbeat(self, link: str) -> None:
        """Count one heartbeat received on ``link``."""
        self.heartbeats[link] = self.heartbeats.get(link, 0) + 1

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)


class _CountersCollector(Collector):
    def __init__(self, metrics: LinkMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m = self._metrics
        yield _counter(
            "pollnet_checkins",
            "Check-in answers by outcome (accepted, conflict, duplicate, refused, unavailable...).",
            "outcome",
            m.checkins,
        )
        yield _counter(
            "pollnet_checkin_refusals", "Refused check-ins by reason.", "reason", m.refusals
        )
        yield _counter("pollnet_heartbeats", "Heartbeats received.", "link", m.heartbeats)
        yield _counter(
            "pollnet_checkin_conflicts",
            "Conflicts (replayed offline check-ins of voters recorded elsewhere) by device.",
            "device",
            m.conflicts,
        )
        yield GaugeMetricFamily(
            "pollnet_conflict_alert_threshold",
            "Conflicts of one device from which it is flagged ([link] conflict_alert_per_device).",
            value=m.conflict_alert,
        )
        yield GaugeMetricFamily(
            "pollnet_devices_over_conflict_alert",
            "Devices that caused at least pollnet_conflict_alert_threshold conflicts.",
            value=sum(1 for count in m.conflicts.values() if count >= m.conflict_alert),
        )
        cumulative, buckets = 0, []
        for bound, count in zip((*LATENCY_BUCKETS, float("inf")), m.latency_counts, strict=True):
            cumulative += count
            buckets.append((_bound(bound), float(cumulative)))
        yield HistogramMetricFamily(
            "pollnet_checkin_latency_seconds",
            "Time from a check-in's arrival to its durable answer, in seconds.",
            buckets=buckets,
            sum_value=m.latency_sum,
        )


def _counter(name: str, documentation: str, label: str, counts: dict[str, int]) -> Metric:
    family = CounterMetricFamily(name, documentation, labels=[label])
    for value, count in sorted(counts.items()):
        family.add_metric([value], float(count))
    return family


def _bound(value: float) -> str:
    return "+Inf" if value == float("inf") else repr(value)


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


class _WriterCollector(Collector):
    """The heartbeat writer's health (see :class:`pollnet.link.heartbeat.WriterHealth`)."""

    def __init__(self, health: Callable[[], WriterHealth]) -> None:
        self._health = health

    def collect(self) -> Iterator[Metric]:
        health = self._health()
        yield GaugeMetricFamily(
            "pollnet_heartbeat_writer_up",
            "1 while the heartbeat writer's last write succeeded, else 0 (failing, stalled).",
            value=1 if health.state == "ok" else 0,
        )
        state = GaugeMetricFamily(
            "pollnet_heartbeat_writer_state", "The heartbeat writer's state.", labels=["state"]
        )
        for name in ("ok", "failing", "stalled", "stopped"):
            state.add_metric([name], 1 if health.state == name else 0)
        yield state
        yield GaugeMetricFamily(
            "pollnet_heartbeats_pending",
            "Heartbeats received and not yet written to the database.",
            value=health.pending,
        )
        yield CounterMetricFamily(
            "pollnet_heartbeat_write_failures",
            "Heartbeat writes that failed (the beats were kept and retried).",
            value=health.failures,
        )
        yield CounterMetricFamily(
            "pollnet_heartbeats_dropped",
            "Heartbeats given up: refused by the database on their own, or too many pending.",
            value=health.dropped,
        )
        if health.last_written is not None:
            yield GaugeMetricFamily(
                "pollnet_heartbeat_last_write_timestamp_seconds",
                "When the heartbeat writer last wrote successfully (Unix time).",
                value=health.last_written.timestamp(),
            )


class ReplicationCollector(Collector):
    """The replicated ledger as the service sees it: the primary, each standby's lag, the quorum.

    ``watch`` is the service's :class:`pollnet.cluster.ReplicationWatch`; nothing is reported on
    SQLite.
    """

    def __init__(self, watch: ReplicationWatch) -> None:
        self._watch = watch

    def collect(self) -> Iterator[Metric]:
        watch = self._watch
        if not watch.enabled:
            return
        status = watch.status
        yield GaugeMetricFamily(
            "pollnet_ledger_primary_reachable",
            "1 when the service reaches a database node that takes writes (the primary).",
            value=1.0 if watch.reachable else 0.0,
        )
        primary = GaugeMetricFamily(
            "pollnet_ledger_primary", "The node the service writes to (1).", labels=["node"]
        )
        lag = GaugeMetricFamily(
            "pollnet_ledger_standby_lag_bytes",
            "WAL the primary has written that a standby has not replayed yet.",
            labels=["standby", "sync_state"],
        )
        replay = GaugeMetricFamily(
            "pollnet_ledger_standby_replay_lag_seconds",
            "How long a standby took to replay the newest WAL it confirmed.",
            labels=["standby"],
        )
        if status is not None and watch.reachable:
            primary.add_metric([status.node], 1.0)
            for standby in status.standbys:
                lag.add_metric([standby.name, standby.sync_state], float(standby.lag_bytes))
                if standby.replay_lag_s is not None:
                    replay.add_metric([standby.name], standby.replay_lag_s)
        yield primary
        yield lag
        yield replay
        reachable = status is not None and watch.reachable
        yield GaugeMetricFamily(
            "pollnet_ledger_quorum_required",
            "Standbys that must confirm a commit (synchronous_standby_names; 0: asynchronous).",
            value=float(status.required) if reachable and status is not None else 0.0,
        )
        yield GaugeMetricFamily(
            "pollnet_ledger_standbys_confirming",
            "Standbys streaming that can confirm a commit now.",
            value=float(status.acknowledging) if reachable and status is not None else 0.0,
        )
        yield GaugeMetricFamily(
            "pollnet_ledger_quorum_met",
            "1 when enough standbys confirm commits (a check-in can be acknowledged).",
            value=1.0 if reachable and status is not None and status.quorum_met else 0.0,
        )
