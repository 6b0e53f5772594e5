"""The live readiness: each station's class from its devices' latest heartbeats, and a hub that
reads them every ``poll_seconds`` and pushes what changed to every open page.

Five classes, each its own colour and its own count: **ready** (every device on fiber),
**lte** (every device heard, one or more on the LTE backup), **silent** (some devices heard,
not all), **offline** (devices were heard, none within three heartbeat intervals) and
**not_installed** (no device of the station has ever reported). The hub reads the database
once per tick for all viewers, so fifty open pages cost what one does.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pollnet.link.heartbeat import MISSED_INTERVALS
from pollnet.store.schema import core
from pollnet.store.schema.link import device_states

CLASSES = ("ready", "lte", "silent", "offline", "not_installed")
TROUBLE = ("offline", "silent", "lte")
"""The classes of the problem list, the worst first."""


@dataclass(frozen=True)
class Status:
    """A station's class now: devices heard within three intervals (``online``) of
    ``expected``, how many of them on LTE, and since when it has been in trouble (None: not in
    trouble, or not known)."""

    cls: str
    online: int
    expected: int
    on_lte: int
    since: dt.datetime | None = None

    def as_list(self) -> list[object]:
        """Compact JSON: ``[class, online, expected, on_lte, since (epoch seconds or null)]``."""
        since = round(self.since.timestamp()) if self.since else None
        return [self.cls, self.online, self.expected, self.on_lte, since]


def classify(
    devices: Iterable[tuple[str, dt.datetime]], expected: int, now: dt.datetime, interval_s: float
) -> Status:
    """The class of one station from its devices' ``(link, last_seen)`` (pure)."""
    window = dt.timedelta(seconds=MISSED_INTERVALS * interval_s)
    heard = list(devices)
    want = max(expected, len(heard))
    if not heard:
        return Status("not_installed", 0, want, 0)
    online = [(link, seen) for link, seen in heard if seen >= now - window]
    lte = sum(1 for link, _ in online if link != "fiber")
    if not online:
        return Status("offline", 0, want, 0, max(seen for _, seen in heard) + window)
    if len(online) < want:
        gone = [seen + window for _, seen in heard if seen < now - window]
        return Status("silent", len(online), want, lte, min(gone) if gone else None)
    if lte:
        return Status("lte", len(online), want, lte)
    return Status("ready", len(online), want, 0)


def read_devices(engine: Engine) -> dict[str, list[tuple[str, dt.datetime]]]:
    """Every device's station, link and last heartbeat (UTC), by station."""
    out: dict[str, list[tuple[str, dt.datetime]]] = {}
    columns = (device_states.c.station, device_states.c.link, device_states.c.last_seen)
    with engine.connect() as conn:
        for station, link, seen in conn.execute(sa.select(*columns)):
            at = seen if seen.tzinfo is not None else seen.replace(tzinfo=dt.UTC)
            out.setdefault(station, []).append((link, at))
    return out


def read_expected(engine: Engine) -> dict[str, int]:
    """Every registered station's number of devices."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(core.stations.c.code, core.stations.c.devices))
        return {code: devices for code, devices in rows}


def statuses(
    devices: Mapping[str, list[tuple[str, dt.datetime]]],
    expected: Mapping[str, int],
    now: dt.datetime,
    interval_s: float,
) -> dict[str, Status]:
    """Every registered or reporting station's status (pure)."""
    codes = set(expected) | set(devices)
    return {
        code: classify(devices.get(code, ()), expected.get(code, 0), now, interval_s)
        for code in sorted(codes)
    }


def counts(states: Mapping[str, Status]) -> dict[str, int]:
    """How many stations are in each class."""
    found = Counter(s.cls for s in states.values())
    return {cls: found[cls] for cls in CLASSES}


class Hub:
    """Reads the statuses every ``poll_s`` seconds and hands each open page what changed.

    A station entering a trouble class whose start the heartbeats do not tell (on LTE) gets
    the moment the hub first saw it so; the registry is read again every ``registry_s``.
    """

    def __init__(
        self,
        engine: Engine,
        interval_s: float,
        poll_s: float,
        clock: Callable[[], dt.datetime],
        registry_s: float = 60.0,
    ) -> None:
        self.engine = engine
        self.interval_s = interval_s
        self.poll_s = poll_s
        self.clock = clock
        self.registry_s = registry_s
        self.states: dict[str, Status] = {}
        self.version = 0
        self._expected: dict[str, int] = {}
        self._expected_at = -1e18
        self._listeners: set[asyncio.Queue[dict[str, list[object]]]] = set()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.last_tick = -1e18

    def refresh(self) -> dict[str, Status]:
        """Read the database once; keep and return the stations whose status changed."""
        loop_time = self.clock().timestamp()
        if loop_time - self._expected_at > self.registry_s:
            self._expected, self._expected_at = read_expected(self.engine), loop_time
        now = self.clock()
        fresh = statuses(read_devices(self.engine), self._expected, now, self.interval_s)
        changed: dict[str, Status] = {}
        for code, status in fresh.items():
            old = self.states.get(code)
            if status.cls in TROUBLE and status.since is None:
                kept = old.since if old is not None and old.cls == status.cls else None
                status = Status(status.cls, status.online, status.expected, status.on_lte,
                                kept or now)  # fmt: skip
            if old != status:
                changed[code] = status
        self.states.update(changed)
        for code in set(self.states) - set(fresh):
            del self.states[code]
        if changed or not self.version:
            self.version += 1
        return changed

    def subscribe(self) -> asyncio.Queue[dict[str, list[object]]]:
        """A queue that receives every change (station code -> :meth:`Status.as_list`); the
        hub polls while anyone listens."""
        queue: asyncio.Queue[dict[str, list[object]]] = asyncio.Queue(maxsize=64)
        self._listeners.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, list[object]]]) -> None:
        self._listeners.discard(queue)

    def listening(self, queue: asyncio.Queue[dict[str, list[object]]]) -> bool:
        """False once the hub dropped ``queue`` (its page fell 64 changes behind)."""
        return queue in self._listeners

    async def tick(self) -> None:
        """Read once and hand the changes to every listener."""
        async with self._lock:
            changed = await asyncio.to_thread(self.refresh)
            self.last_tick = asyncio.get_running_loop().time()
        if not changed:
            return
        message = {code: s.as_list() for code, s in changed.items()}
        for queue in list(self._listeners):
            if queue.full():  # a page that stopped reading; it reconnects and starts afresh
                self._listeners.discard(queue)
            else:
                queue.put_nowait(message)

    async def fresh(self) -> dict[str, Status]:
        """The statuses, read now unless the polling just did."""
        loop = asyncio.get_running_loop()
        if loop.time() - self.last_tick > self.poll_s * 2 or not self.version:
            await self.tick()
        return self.states

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while self._listeners:
            await self.tick()
            await asyncio.sleep(self.poll_s)
