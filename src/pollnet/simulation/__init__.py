"""An election day in miniature: real device clients over mutual TLS against a real service.

:func:`simulate` makes a throw-away PKI, enrols ``stations × devices_per_station`` devices,
starts ``pollnet serve`` in a subprocess on a free port of 127.0.0.1 (unless given the URL of a
running service) and drives every device from one asyncio loop: voters arrive over the day
(compressed into ``duration_s`` seconds), some try to vote again at another station, fiber links
are cut and restored (each station's fiber endpoint is a :class:`LinkProxy`), a few stations lose
both links for a while, and a few devices have skewed clocks. After the run it reads the
service's database and checks that every check-in the service acknowledged is in the ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import multiprocessing
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from pollnet.errors import UserError
from pollnet.link import pki
from pollnet.link.client import Bundle, CheckinResult, DeviceClient
from pollnet.link.ledger import checkin_count, recorded_ids
from pollnet.link.queue import DurableQueue, QueuedCheckin
from pollnet.simulation.proxy import LinkProxy
from pollnet.simulation.scenario import Arrival, Scenario, ScenarioSettings, make_scenario
from pollnet.store import create_engine
from pollnet.store.schema.link import checkin_conflicts

ELECTION = "simulation"
MAX_DEVICES = 2_000  # each holds a TLS connection and two relayed sockets here
MAX_VOTERS = 1_000_000
MAX_DURATION_S = 3_600.0
_LISTENING = re.compile(r"listening on (https://\S+)")


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate. With ``url`` the service is not started: ``pki_dir`` must be its PKI
    (to enrol the simulated devices), ``db_url`` its database (to check nothing was lost) and
    ``election``/``election_date`` its election."""

    stations: int = 3
    devices_per_station: int = 2
    voters: int = 300
    duration_s: float = 10.0
    seed: int = 1
    policy: str = "provisional"
    url: str | None = None
    pki_dir: Path | None = None
    db_url: str | None = None
    election: str = ELECTION
    election_date: dt.date | None = None
    heartbeat_seconds: float | None = None
    drain_timeout_s: float = 30.0
    queue_sync: str = "NORMAL"
    workers: int = 1
    duplicate_share: float = 0.05
    under_age_share: float = 0.03
    fiber_cut_share: float = 0.34
    outage_share: float = 0.2
    skewed_device_share: float = 0.1


@dataclass(frozen=True)
class SimulationReport:
    """What happened. ``lost`` counts acknowledged check-ins missing from the ledger (must be 0);
    ``counted_twice`` voters accepted more than once (must be 0). Latencies (milliseconds) are
    of check-ins the service answered while the operator waited, failovers and backlog replays
    included; ``throughput_per_s`` is answers per second of the run, the offered load unless the
    service falls behind (``bench_checkins.py`` measures the service's limit)."""

    stations: int
    devices: int
    voters: int
    attempts: int
    repeat_attempts: int
    accepted: int
    refused_duplicate: int
    refused: dict[str, int]
    conflicts: int
    provisional: int
    refused_on_device: dict[str, int]
    unsent: int
    lost: int
    counted_twice: int
    ledger_checkins: int | None
    p50_ms: float
    p90_ms: float
    p99_ms: float
    throughput_per_s: float
    elapsed_s: float
    fiber_cuts: int
    outages: int
    failovers: int
    heartbeats: int
    skewed_devices: int

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def simulate(config: SimulationConfig, work_dir: Path | None = None) -> SimulationReport:
    """Run the simulation of ``config`` (files in ``work_dir``, default a temporary folder)."""
    _check(config)
    with _folder(work_dir) as folder:
        election_date = config.election_date or dt.datetime.now(dt.UTC).date()
        devices = config.stations * config.devices_per_station
        # About five heartbeats per device in a run, at most ~200 heartbeats/s in all.
        heartbeat_s = config.heartbeat_seconds or max(1.0, config.duration_s / 5, devices / 200)
        pki_dir = config.pki_dir or _make_pki(folder / "pki", election_date)
        db_url = config.db_url or f"sqlite:///{folder / 'ledger.db'}"
        scenario = make_scenario(
            ScenarioSettings(
                config.stations,
                config.devices_per_station,
                config.voters,
                config.duration_s,
                election_date,
                seed=config.seed,
                duplicate_share=config.duplicate_share,
                under_age_share=config.under_age_share,
                fiber_cut_share=config.fiber_cut_share,
                outage_share=config.outage_share,
                skewed_device_share=config.skewed_device_share,
            )
        )
        bundles = _enroll(pki_dir, folder / "bundles", config, heartbeat_s)
        service = None
        if config.url is None:
            service = ServiceProcess(folder, pki_dir, db_url, config.election, election_date)
            url = service.start(heartbeat_s)
        else:
            url = config.url.rstrip("/")
        try:
            _wait_healthy(url, bundles[0])
            run = _run_devices(config, scenario, bundles, url, folder / "queues")
        finally:
            if service is not None:
                service.stop()
        return _report(config, scenario, run, db_url)


@dataclass
class _Run:
    live: list[tuple[Arrival, CheckinResult]]
    items: list[QueuedCheckin]
    failovers: int
    heartbeats: int
    elapsed_s: float


class ServiceProcess:
    """``pollnet serve`` in a subprocess on a free port of 127.0.0.1, its log in a file."""

    def __init__(
        self, folder: Path, pki_dir: Path, db_url: str, election: str, election_date: dt.date
    ) -> None:
        self.folder = folder
        self.pki_dir = pki_dir
        self.db_url = db_url
        self.election = election
        self.election_date = election_date
        self.log_path = folder / "service.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, heartbeat_seconds: float, timeout_s: float = 60.0) -> str:
        """Start the service; returns its URL once it listens."""
        config = self.folder / "service.toml"
        config.write_text(
            "[link]\n"
            f"pki_dir = {json.dumps(str(self.pki_dir))}\n"
            f"election = {json.dumps(self.election)}\n"
            f"heartbeat_seconds = {float(heartbeat_seconds)}\n"
            f"head_file = {json.dumps(str(self.folder / 'ledger-head.txt'))}\n",
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("POLLNET_")}
        env["POLLNET_ELECTION_DATE"] = self.election_date.isoformat()
        command = [sys.executable, "-m", "pollnet", "--config", str(config), "--db", self.db_url]
        command += ["--lang", "en", "serve", "--host", "127.0.0.1", "--port", "0"]
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=log, env=env, start_new_session=True
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = _LISTENING.search(self.log_path.read_text(errors="replace"))
            if found:
                return found.group(1)
            if self._proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        tail = self.log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"the service did not start:\n{tail}")

    @property
    def pid(self) -> int | None:
        """The service's process id while it runs."""
        return self._proc.pid if self._proc is not None else None

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop the service the way an operator does (SIGINT), then wait for it."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _check(config: SimulationConfig) -> None:
    if not 1 <= config.stations * config.devices_per_station <= MAX_DEVICES:
        raise UserError.of("the simulation takes 1 to {limit} devices", limit=MAX_DEVICES)
    if config.stations < 1 or config.devices_per_station < 1:
        raise UserError.of("the simulation needs at least one station and one device")
    if not 1 <= config.voters <= MAX_VOTERS:
        raise UserError.of("the simulation takes 1 to {limit} voters", limit=MAX_VOTERS)
    if not 0 < config.duration_s <= MAX_DURATION_S:
        raise UserError.of("the duration must be 0 to {limit} seconds", limit=int(MAX_DURATION_S))
    if config.url is not None and (config.pki_dir is None or config.db_url is None):
        raise UserError.of("with --url, the PKI and the database of that service are needed")


@contextlib.contextmanager
def _folder(work_dir: Path | None) -> Iterator[Path]:
    if work_dir is not None:
        work_dir.mkdir(parents=True, exist_ok=True)
        yield work_dir
        return
    with tempfile.TemporaryDirectory(prefix="pollnet-sim-") as name:
        yield Path(name)


def _make_pki(folder: Path, election_date: dt.date) -> Path:
    pki.init_pki(folder, election_date=election_date)
    pki.issue_server_cert(folder, hosts=["127.0.0.1", "localhost"])
    return folder


def device_serial(station: int, device: int) -> str:
    return f"SIM-{station + 1:04d}-D{device + 1}"


def station_code(station: int) -> str:
    return f"SIM-{station + 1:04d}"


def _enroll(
    pki_dir: Path, folder: Path, config: SimulationConfig, heartbeat_s: float
) -> list[Bundle]:
    bundles = []
    for s in range(config.stations):
        for d in range(config.devices_per_station):
            serial = device_serial(s, d)
            out = pki.enroll_device(
                pki_dir,
                station_code(s),
                serial,
                folder / serial,
                heartbeat_seconds=max(1, round(heartbeat_s)),
                reissue=True,  # a new run replaces the simulated devices of an earlier one
            )
            bundles.append(dataclasses.replace(Bundle.load(out), heartbeat_seconds=heartbeat_s))
    return bundles


def _wait_healthy(url: str, bundle: Bundle, timeout_s: float = 30.0) -> None:
    context = pki.device_ssl_context(bundle.folder)
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=url, verify=context, timeout=5, trust_env=False) as client:
        while True:
            try:
                if client.get("/v1/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the service at {url} does not answer")
            time.sleep(0.1)


def _run_devices(
    config: SimulationConfig, scenario: Scenario, bundles: list[Bundle], url: str, queues: Path
) -> _Run:
    """Drive the devices from this process, or split by station over ``config.workers``."""
    workers = max(1, min(config.workers, config.stations))
    if workers == 1:
        return asyncio.run(_drive(config, scenario, bundles, url, queues, time.time()))
    level = logging.getLogger("pollnet.link.device").getEffectiveLevel()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(time.sleep, [0.5] * workers))  # every worker up and imported first
        start_at = time.time() + 0.5
        jobs = []
        for k in range(workers):
            mine = set(range(k, config.stations, workers))
            part = Scenario(
                tuple(a for a in scenario.arrivals if a.station in mine),
                tuple(c for c in scenario.cuts if c.station in mine),
                scenario.skew_s,
            )
            devices = [b for b in bundles if _position(b.serial)[0] in mine]
            jobs.append(
                pool.submit(_drive_in_worker, config, part, devices, url, queues, start_at, level)
            )
        runs = [job.result() for job in jobs]
    return _Run(
        [pair for r in runs for pair in r.live],
        [item for r in runs for item in r.items],
        sum(r.failovers for r in runs),
        sum(r.heartbeats for r in runs),
        max(r.elapsed_s for r in runs),
    )


def _drive_in_worker(
    config: SimulationConfig,
    scenario: Scenario,
    bundles: list[Bundle],
    url: str,
    queues: Path,
    start_at: float,
    log_level: int,
) -> _Run:
    logging.getLogger("pollnet.link.device").setLevel(log_level)
    return asyncio.run(_drive(config, scenario, bundles, url, queues, start_at))


async def _drive(
    config: SimulationConfig,
    scenario: Scenario,
    bundles: list[Bundle],
    url: str,
    queues: Path,
    start_at: float,
) -> _Run:
    """Run the scenario from ``start_at`` (epoch seconds): device workers, link cuts, heartbeat
    loops; then drain the queues. Only the stations of ``bundles`` are driven."""
    target = httpx.URL(url)
    host, port = target.host, target.port or 443
    stations = sorted({_position(b.serial)[0] for b in bundles})
    outage = {c.station for c in scenario.cuts if c.links == "both"}
    fiber = {s: await LinkProxy(host, port).start() for s in stations}
    lte = {s: await LinkProxy(host, port).start() for s in outage}
    retry_s = min(1.0, max(0.1, config.duration_s / 20))
    clients: dict[tuple[int, int], DeviceClient] = {}
    for bundle in bundles:
        s, d = _position(bundle.serial)
        endpoints = {"fiber": fiber[s].url, "lte": lte[s].url if s in lte else url}
        skew = dt.timedelta(seconds=scenario.skew_s.get((s, d), 0.0))
        client = DeviceClient(
            dataclasses.replace(bundle, endpoints=endpoints),
            policy=config.policy,
            queue=DurableQueue(
                queues / f"{bundle.serial}.db",
                pki.queue_key(bundle.folder),
                synchronous=config.queue_sync,
            ),
            timeout_s=10.0,
            connect_timeout_s=2.0,
            retry_s=retry_s,
            clock=_skewed_clock(skew),
            battery=lambda: 90,
        )
        client.open()
        clients[(s, d)] = client

    loop = asyncio.get_running_loop()
    live: list[tuple[Arrival, CheckinResult]] = []
    started = loop.time() + max(0.0, start_at - time.time())
    stop = asyncio.Event()
    beating = [asyncio.create_task(c.run(stop)) for c in clients.values()]
    by_device: dict[tuple[int, int], list[Arrival]] = {}
    for arrival in scenario.arrivals:
        by_device.setdefault((arrival.station, arrival.device), []).append(arrival)

    async def work(device: tuple[int, int], arrivals: list[Arrival]) -> None:
        client = clients[device]
        for arrival in arrivals:
            await asyncio.sleep(max(0.0, started + arrival.at_s - loop.time()))
            live.append((arrival, await client.check_in(arrival.voter)))

    async def cut_links() -> None:
        events = [(c.start_s, "cut", c) for c in scenario.cuts]
        events += [(c.end_s, "restore", c) for c in scenario.cuts]
        for at, action, cut in sorted(events, key=lambda e: e[0]):
            await asyncio.sleep(max(0.0, started + at - loop.time()))
            proxies = [fiber[cut.station]] + ([lte[cut.station]] if cut.links == "both" else [])
            for proxy in proxies:
                await (proxy.cut() if action == "cut" else proxy.restore())

    tasks = [asyncio.create_task(work(dev, arr)) for dev, arr in by_device.items()]
    tasks.append(asyncio.create_task(cut_links()))
    deadline = started + config.duration_s + config.drain_timeout_s
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=deadline - loop.time())
        for proxy in [*fiber.values(), *lte.values()]:
            await proxy.restore()
        while loop.time() < deadline and any(c.queue.depth() for c in clients.values()):
            await asyncio.gather(*(c.replay() for c in clients.values()))
            if any(c.queue.depth() for c in clients.values()):
                await asyncio.sleep(retry_s)
    except TimeoutError:
        pass  # bounded in time: whatever is still queued is reported as unsent
    elapsed = max(0.0, loop.time() - started)
    stop.set()
    for failure in await asyncio.gather(*beating, return_exceptions=True):
        if isinstance(failure, BaseException):
            logging.getLogger("pollnet.link.device").error("heartbeat loop died: %r", failure)
    items = [item for c in clients.values() for item in c.queue.items()]
    run = _Run(
        live,
        items,
        sum(c.failovers for c in clients.values()),
        sum(c.heartbeats for c in clients.values()),
        elapsed,
    )
    for client in clients.values():
        await client.aclose()
        client.queue.close()
    for proxy in [*fiber.values(), *lte.values()]:
        await proxy.close()
    return run


def _report(
    config: SimulationConfig, scenario: Scenario, run: _Run, db_url: str
) -> SimulationReport:
    outcomes = Counter(item.outcome for item in run.items if item.state == "answered")
    on_device = Counter(item.outcome or "" for item in run.items if item.state == "closed")
    accepted_ids = {
        int(item.answer["checkin_id"])
        for item in run.items
        if item.outcome == "accepted" and item.answer and "checkin_id" in item.answer
    }
    conflict_ids = {
        int(item.answer["conflict_id"])
        for item in run.items
        if item.outcome == "conflict" and item.answer and "conflict_id" in item.answer
    }
    voter_of = {result.idempotency_key: a.voter.national_code for a, result in run.live}
    per_voter = Counter(
        voter_of.get(item.idempotency_key) for item in run.items if item.outcome == "accepted"
    )
    latencies = sorted(
        r.latency_s * 1000 for _a, r in run.live if r.link is not None and r.status_code
    )
    engine = create_engine(db_url)
    try:
        found = recorded_ids(engine, accepted_ids)
        with engine.connect() as conn:
            kept = set(
                conn.scalars(
                    sa.select(checkin_conflicts.c.id).where(
                        checkin_conflicts.c.id.in_(sorted(conflict_ids))
                    )
                )
            )
        ledger = checkin_count(engine, config.election)
    finally:
        engine.dispose()
    answered = sum(outcomes.values())
    refused = {
        reason: n
        for reason, n in sorted(outcomes.items())
        if reason not in ("accepted", "conflict", "duplicate")
    }
    return SimulationReport(
        stations=config.stations,
        devices=config.stations * config.devices_per_station,
        voters=config.voters,
        attempts=len(scenario.arrivals),
        repeat_attempts=scenario.repeats,
        accepted=outcomes["accepted"],
        refused_duplicate=outcomes["duplicate"],
        refused={k: v for k, v in refused.items() if k is not None},
        conflicts=outcomes["conflict"],
        provisional=sum(1 for item in run.items if item.provisional_at is not None),
        refused_on_device=dict(sorted(on_device.items())),
        unsent=sum(1 for item in run.items if item.state == "pending"),
        lost=len(accepted_ids - found) + len(conflict_ids - kept),
        counted_twice=sum(1 for voter, n in per_voter.items() if voter and n > 1),
        ledger_checkins=ledger if config.url is None else None,
        p50_ms=_percentile(latencies, 50),
        p90_ms=_percentile(latencies, 90),
        p99_ms=_percentile(latencies, 99),
        throughput_per_s=round(answered / run.elapsed_s, 1) if run.elapsed_s > 0 else 0.0,
        elapsed_s=round(run.elapsed_s, 2),
        fiber_cuts=sum(1 for c in scenario.cuts if c.links == "fiber"),
        outages=sum(1 for c in scenario.cuts if c.links == "both"),
        failovers=run.failovers,
        heartbeats=run.heartbeats,
        skewed_devices=len(scenario.skew_s),
    )


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    if len(sorted_values) == 1:
        return round(sorted_values[0], 2)
    cuts = statistics.quantiles(sorted_values, n=100, method="inclusive")
    return round(cuts[int(q) - 1], 2)


def _position(serial: str) -> tuple[int, int]:
    station, device = serial.removeprefix("SIM-").split("-D")
    return int(station) - 1, int(device) - 1


def _skewed_clock(skew: dt.timedelta) -> Any:
    def clock() -> dt.datetime:
        return dt.datetime.now(dt.UTC) + skew

    return clock


__all__ = ["ServiceProcess", "SimulationConfig", "SimulationReport", "simulate"]
