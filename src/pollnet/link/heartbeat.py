"""Heartbeats on the service side: each device's current state, its history, station readiness.

A station is **ready** when every one of its devices reported within the last three heartbeat
intervals and all of them on fiber; **degraded** when one is on LTE or one is missing; **offline**
when none reported for three intervals. The expected number of devices is the registry's
(``stations.devices``) when the station is registered, else the devices that ever reported.

The service keeps the current state in memory and writes it (and the history) in batches from a
thread of its own about once a second: heartbeats are frequent (20,000 devices every 30 s) and,
unlike check-ins, losing the last second of them on a crash loses nothing that matters.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from pollnet.link.checkin import MalformedRequest, is_clean_text, timestamp
from pollnet.link.pki import DeviceIdentity
from pollnet.store.bulk import insert_many
from pollnet.store.schema import core
from pollnet.store.schema.link import device_states, heartbeats, station_states

LINKS = ("fiber", "lte")
STATES = ("ready", "degraded", "offline")
MISSED_INTERVALS = 3
MAX_QUEUE_DEPTH = 2**31 - 1
"""The largest ``queue_depth`` (the column is a 32-bit integer on PostgreSQL)."""
MAX_PENDING = 200_000
"""The most heartbeats kept for writing while the database fails (the oldest go first)."""
STALLED_AFTER_S = 10.0
"""A write that has not finished after this long makes the writer ``stalled`` in its health."""
log = logging.getLogger("pollnet.link.heartbeat")


@dataclass(frozen=True)
class Heartbeat:
    """One report of a device: which link it uses, its queue depth, clock skew in seconds."""

    device: str
    station: str
    link: str
    queue_depth: int
    clock_skew_s: float
    software_version: str
    battery: int | None
    received_at: dt.datetime


@dataclass(frozen=True)
class StationReadiness:
    """A station's state now, with its district (``None`` when not in the registry)."""

    station: str
    district: int | None
    state: str
    devices_online: int
    devices_expected: int
    on_lte: int


@dataclass(frozen=True)
class WriterHealth:
    """How the heartbeat writer is doing, for ``/v1/health`` and ``/metrics``.

    ``state`` is ``ok`` (its last write succeeded), ``failing`` (its last write failed: it keeps
    the beats and retries), ``stalled`` (a write has been waiting for the database for more than
    :data:`STALLED_AFTER_S`) or ``stopped`` (not running). ``pending`` beats wait to be written;
    ``failures`` counts failed writes, ``dropped`` beats given up (the database refused that
    beat alone, or more than :data:`MAX_PENDING` waited); ``last_written`` is when a write last
    succeeded; ``last_error`` the last failure, one line.
    """

    state: str
    pending: int
    failures: int
    dropped: int
    last_written: dt.datetime | None
    last_error: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "pending": self.pending,
            "failures": self.failures,
            "dropped": self.dropped,
            "last_written": self.last_written.isoformat() if self.last_written else None,
            "last_error": self.last_error,
        }


def parse_heartbeat(
    body: Mapping[str, Any], identity: DeviceIdentity, now: dt.datetime
) -> Heartbeat:
    """The heartbeat in a ``POST /v1/heartbeats`` body; :class:`MalformedRequest` if unreadable."""
    link = body.get("link")
    if link not in LINKS:
        raise MalformedRequest("link must be fiber or lte")
    depth = body.get("queue_depth")
    if not isinstance(depth, int) or isinstance(depth, bool) or not 0 <= depth <= MAX_QUEUE_DEPTH:
        raise MalformedRequest(f"queue_depth must be a whole number from 0 to {MAX_QUEUE_DEPTH}")
    version = body.get("software_version")
    if not isinstance(version, str) or not 0 < len(version) <= 64 or not is_clean_text(version):
        raise MalformedRequest(
            "software_version must be 1 to 64 characters, without control characters"
        )
    battery = body.get("battery")
    if battery is not None and (
        not isinstance(battery, int) or isinstance(battery, bool) or not 0 <= battery <= 100
    ):
        raise MalformedRequest("battery must be a whole number from 0 to 100, or null")
    text = body.get("device_time")
    if not isinstance(text, str):
        raise MalformedRequest("device_time must be an ISO 8601 time with an offset")
    device_time = timestamp(text, "device_time")
    return Heartbeat(
        device=identity.serial,
        station=identity.station,
        link=str(link),
        queue_depth=depth,
        clock_skew_s=(device_time - now).total_seconds(),
        software_version=version,
        battery=battery,
        received_at=now,
    )


def station_state(
    devices: Iterable[tuple[str, dt.datetime]],
    expected: int,
    now: dt.datetime,
    interval_s: float,
) -> str:
    """The state of a station from its devices' ``(link, last_seen)`` (see the module doc)."""
    cutoff = now - dt.timedelta(seconds=MISSED_INTERVALS * interval_s)
    online = [link for link, seen in devices if _utc(seen) >= cutoff]
    if not online:
        return "offline"
    if len(online) < expected or any(link != "fiber" for link in online):
        return "degraded"
    return "ready"


class HeartbeatBoard:
    """The current state of every device, kept in memory and written out in batches."""

    def __init__(
        self, engine: Engine, *, interval_s: float = 30.0, lock_timeout_s: float = 5.0
    ) -> None:
        self.engine = engine
        self.interval_s = interval_s
        self.lock_timeout_s = lock_timeout_s
        self._lock = threading.Lock()
        self._flushing = threading.Lock()  # one write at a time (the thread, stop(), tests)
        self._failures = 0
        self._consecutive_failures = 0
        self._dropped = 0
        self._last_written: dt.datetime | None = None
        self._last_error: str | None = None
        self._writing_since: float | None = None
        self._devices: dict[str, Heartbeat] = {}
        self._by_station: dict[str, dict[str, Heartbeat]] = {}
        self._pending: list[Heartbeat] = []
        self._station_state: dict[str, str] = {}
        self._expected: dict[str, int] = {}
        self._districts: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._load()

    def _load(self) -> None:
        with self.engine.connect() as conn:
            for row in conn.execute(sa.select(device_states)):
                self._keep(
                    Heartbeat(
                        row.device,
                        row.station,
                        row.link,
                        row.queue_depth,
                        row.clock_skew_s,
                        row.software_version,
                        row.battery,
                        _utc(row.last_seen),
                    )
                )
            for row in conn.execute(
                sa.select(core.stations.c.code, core.stations.c.devices, core.stations.c.district)
            ):
                self._expected[row.code] = row.devices
                self._districts[row.code] = row.district

    def _keep(self, beat: Heartbeat) -> None:
        old = self._devices.get(beat.device)
        if old is not None and old.station != beat.station:
            self._by_station[old.station].pop(beat.device, None)
        self._devices[beat.device] = beat
        self._by_station.setdefault(beat.station, {})[beat.device] = beat

    def record(self, beat: Heartbeat) -> str:
        """Take ``beat`` in; returns its station's state now."""
        with self._lock:
            self._keep(beat)
            self._pending.append(beat)
        return self.state_of(beat.station, beat.received_at)

    def state_of(self, station: str, now: dt.datetime) -> str:
        """The state of ``station`` at ``now``."""
        with self._lock:
            beats = self._by_station.get(station, {})
            devices = [(b.link, b.received_at) for b in beats.values()]
        return station_state(devices, self._expected.get(station, 0), now, self.interval_s)

    def readiness(self, now: dt.datetime) -> list[StationReadiness]:
        """Every station known (registered or reporting), with its state at ``now``."""
        with self._lock:
            beats = list(self._devices.values())
        return readiness_of(beats, self._expected, self._districts, now, self.interval_s)

    def start(self) -> None:
        """Start writing heartbeats out about once a second."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="heartbeat-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Write what is pending (one last try) and stop."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        try:
            self.flush()
        except Exception:
            log.warning("the last heartbeats could not be written at stop", exc_info=True)

    def health(self) -> WriterHealth:
        """The writer's health now (see :class:`WriterHealth`)."""
        with self._lock:
            pending = len(self._pending)
        since = self._writing_since
        if self._thread is None or not self._thread.is_alive():
            state = "stopped"
        elif since is not None and time.monotonic() - since > STALLED_AFTER_S:
            state = "stalled"
        elif self._consecutive_failures:
            state = "failing"
        else:
            state = "ok"
        return WriterHealth(
            state, pending, self._failures, self._dropped, self._last_written, self._last_error
        )

    def _run(self) -> None:
        """Write about once a second; after a failure retry later (up to 10 s), never stop."""
        delay = 1.0
        while not self._stop.wait(delay):
            try:
                self.flush()
                delay = 1.0
            except Exception:
                # flush() kept the beats and recorded the failure; the thread must not die.
                delay = min(10.0, 1.0 * 2**self._consecutive_failures)

    def flush(self) -> None:
        """Write pending heartbeats, device states and station state changes.

        On a failure of the database (a dropped connection, a lock held too long) the beats
        stay pending for the next try and the error is raised; a beat the database refuses on
        its own is dropped (and counted) and the others are written.
        """
        with self._flushing:
            with self._lock:
                pending, self._pending = self._pending, []
            if not pending:
                return
            self._writing_since = time.monotonic()
            try:
                self._dropped += self._write_isolating(pending)
            except Exception as exc:
                self._failures += 1
                self._consecutive_failures += 1
                self._last_error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
                log.warning(
                    "heartbeats not written (%d pending, failure %d): %s",
                    len(pending),
                    self._consecutive_failures,
                    self._last_error,
                )
                self._keep_pending(pending)
                raise
            finally:
                self._writing_since = None
            self._consecutive_failures = 0
            self._last_written = dt.datetime.now(dt.UTC)

    def _keep_pending(self, beats: list[Heartbeat]) -> None:
        """Put ``beats`` back before what arrived meanwhile; beyond MAX_PENDING drop the oldest."""
        with self._lock:
            self._pending = beats + self._pending
            excess = len(self._pending) - MAX_PENDING
            if excess > 0:
                del self._pending[:excess]
                self._dropped += excess

    def _write_isolating(self, beats: Sequence[Heartbeat]) -> int:
        """Write ``beats``; a part the database refuses is split down to the beat that fails.

        Returns how many beats were dropped; raises on a failure of the database itself.
        """
        try:
            self._write(beats)
            return 0
        except (OperationalError, InterfaceError):
            raise
        except Exception:
            if len(beats) == 1:
                log.error("a heartbeat of device %s cannot be written: dropped", beats[0].device)
                return 1
        half = len(beats) // 2
        return self._write_isolating(beats[:half]) + self._write_isolating(beats[half:])

    def _write(self, pending: Sequence[Heartbeat]) -> None:
        now = max(b.received_at for b in pending)
        # Rows are made before the transaction: on SQLite it holds the one write lock, which the
        # ledger's writer waits for.
        sqlite = self.engine.dialect.name == "sqlite"
        history = [_beat_values(b, sqlite) for b in pending]
        latest = {b.device: row for b, row in zip(pending, history, strict=True)}
        states = {station: self.state_of(station, now) for station in {b.station for b in pending}}
        states = {k: v for k, v in states.items() if self._station_state.get(k) != v}
        changes = [{"station": k, "state": v, "since": now} for k, v in states.items()]
        timeout_ms = int(self.lock_timeout_s * 1000)
        with self.engine.begin() as conn:
            busy_ms = conn.exec_driver_sql("PRAGMA busy_timeout").scalar() if sqlite else None
            if conn.dialect.name == "postgresql":
                # Heartbeats are not acknowledged data: a crash may lose the last second of
                # them (the next beat restores the state), so their commit does not wait for
                # the WAL flush the ledger's check-ins wait for. A lock held by someone else
                # fails the write after lock_timeout_s (it is retried) instead of blocking.
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO off")
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = {timeout_ms}")
            elif sqlite:
                conn.exec_driver_sql(f"PRAGMA busy_timeout={timeout_ms}")
            try:
                _write_beats(conn, history, list(latest.values()))
                if changes:
                    conn.execute(station_states.insert(), changes)
            finally:
                if sqlite:  # the pooled connection goes back with the engine's own timeout
                    with contextlib.suppress(Exception):
                        conn.exec_driver_sql(f"PRAGMA busy_timeout={int(busy_ms or 0)}")
        self._station_state.update(states)  # committed: the states the database now holds


def readiness_of(
    beats: Sequence[Heartbeat],
    expected: Mapping[str, int],
    districts: Mapping[str, int],
    now: dt.datetime,
    interval_s: float,
) -> list[StationReadiness]:
    """Station readiness from the devices' latest heartbeats (pure: no database)."""
    by_station: dict[str, list[Heartbeat]] = {code: [] for code in expected}
    for beat in beats:
        by_station.setdefault(beat.station, []).append(beat)
    cutoff = now - dt.timedelta(seconds=MISSED_INTERVALS * interval_s)
    result = []
    for code, station_beats in sorted(by_station.items()):
        devices = [(b.link, b.received_at) for b in station_beats]
        online = [b for b in station_beats if _utc(b.received_at) >= cutoff]
        want = max(expected.get(code, 0), len(station_beats))
        result.append(
            StationReadiness(
                station=code,
                district=districts.get(code),
                state=station_state(devices, want, now, interval_s),
                devices_online=len(online),
                devices_expected=want,
                on_lte=sum(1 for b in online if b.link == "lte"),
            )
        )
    return result


def states_by_district(
    stations: Sequence[StationReadiness],
) -> list[tuple[int | None, Counter[str]]]:
    """How many stations are in each state, per district (by number; unregistered last)."""
    districts: dict[int | None, Counter[str]] = {}
    for s in stations:
        districts.setdefault(s.district, Counter())[s.state] += 1
    return sorted(districts.items(), key=lambda item: (item[0] is None, item[0] or 0))


def readiness(engine: Engine, now: dt.datetime, interval_s: float = 30.0) -> list[StationReadiness]:
    """Station readiness from the database (what ``pollnet status`` prints)."""
    board = HeartbeatBoard(engine, interval_s=interval_s)
    return board.readiness(now)


_BEAT_COLUMNS = (
    "device",
    "station",
    "link",
    "queue_depth",
    "clock_skew_s",
    "software_version",
    "battery",
)


def _beat_values(beat: Heartbeat, sqlite: bool) -> tuple[Any, ...]:
    """A heartbeat's row: ``_BEAT_COLUMNS`` and its time (SQLite: SQLAlchemy's naive UTC text)."""
    utc = beat.received_at.astimezone(dt.UTC)
    return (
        beat.device,
        beat.station,
        beat.link,
        beat.queue_depth,
        beat.clock_skew_s,
        beat.software_version,
        beat.battery,
        utc.replace(tzinfo=None).isoformat(" ", "microseconds") if sqlite else utc,
    )


def _write_beats(
    conn: Connection, history: Sequence[tuple[Any, ...]], latest: Sequence[tuple[Any, ...]]
) -> None:
    """Add the ``history`` rows and upsert the ``latest`` device states (``_beat_values`` rows).

    Plain SQL with tuples on the driver (:mod:`pollnet.store.bulk`): at 20,000 devices every
    30 s, SQLAlchemy's per-row parameter processing cost more than the database.
    """
    insert_many(conn, heartbeats.name, (*_BEAT_COLUMNS, "received_at"), history)
    updates = ", ".join(f"{c} = excluded.{c}" for c in (*_BEAT_COLUMNS[1:], "last_seen"))
    insert_many(
        conn,
        device_states.name,
        (*_BEAT_COLUMNS, "last_seen"),
        latest,
        f" ON CONFLICT (device) DO UPDATE SET {updates}",
    )


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


__all__ = [
    "Heartbeat",
    "HeartbeatBoard",
    "StationReadiness",
    "WriterHealth",
    "parse_heartbeat",
    "readiness",
    "readiness_of",
    "states_by_district",
    "station_state",
]
