"""A failover drill: services and devices on a local cluster while a machine is lost.

Two ``pollnet serve`` processes write one ledger on the cluster (each through the multi-host
URL); simulated devices check voters in through them (some voters come twice, at another
device) with the service endpoints in their bundles; during the run one fault is injected:

- ``primary``: the primary's PostgreSQL is killed (SIGKILL); Patroni hands over to a standby;
- ``primary-machine``: the primary's Patroni and PostgreSQL are killed together (a machine
  gone); a standby takes over once the leader key expires (Patroni's ttl);
- ``replication-stall``: the primary's replication link to every standby stops (its WAL
  senders are stopped with SIGSTOP for ``stall_s``): no commit can reach the quorum meanwhile;
- ``standby-stall``: the link to one standby stops: the other standby keeps the quorum;
- ``service``: one of the services is killed (SIGKILL): devices move to the next endpoint;
- ``none``: nothing (a baseline).

The report counts what must be zero (acknowledged check-ins missing from the ledger, voters
accepted twice online, audit problems) and measures the write outage: the longest time during
which no device got an answer from the ledger. Used by ``tests/cluster/test_drill.py`` (CI) and
``benchmarks/bench_failover.py``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import os
import random
import secrets
import signal
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from pollnet.cluster.local import (
    ClusterLayout,
    Member,
    cluster_status,
    member_pids,
    postmaster_pid,
    start_member,
    wait_for_quorum,
)
from pollnet.errors import UserError
from pollnet.link import pki
from pollnet.link.audit import verify_audit
from pollnet.link.client import CheckinResult, DeviceClient, Voter
from pollnet.link.ledger import recorded_ids
from pollnet.simulation import ServiceProcess
from pollnet.simulation.scenario import national_codes
from pollnet.store.engine import open_store
from pollnet.store.schema.link import checkins

FAULTS = ("none", "primary", "primary-machine", "replication-stall", "standby-stall", "service")
ELECTION = "drill"
ANSWERED = ("accepted", "duplicate", "conflict")


@dataclass(frozen=True)
class DrillConfig:
    """One drill: the fault, the devices and their pace, when the fault comes (seconds)."""

    fault: str = "primary"
    devices: int = 8
    voters: int = 2000
    repeat_share: float = 0.2
    interval_s: float = 0.05
    duration_s: float = 15.0
    fault_at_s: float = 3.0
    stall_s: float = 5.0
    services: int = 2
    seed: int = 1
    drain_s: float = 60.0


@dataclass(frozen=True)
class DrillReport:
    """What happened; ``lost``, ``accepted_twice`` and ``audit_problems`` must be 0."""

    fault: str
    attempts: int
    outcomes: dict[str, int]
    acknowledged: int
    lost: int
    accepted_twice: int
    ledger_checkins: int
    ledger_voters_twice: int
    audit_problems: int
    outage_s: float
    answered_per_s: float
    elapsed_s: float
    fault_detail: str = ""
    answers: list[tuple[float, str]] = field(default_factory=list, repr=False)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("answers")
        return data


@dataclass
class _Attempt:
    device: int
    code: str
    sent: float
    answered: float
    result: CheckinResult


def drill(layout: ClusterLayout, config: DrillConfig, folder: Path) -> DrillReport:
    """Run ``config`` on the running cluster ``layout``; files go to ``folder``.

    The ledger is a new database of the cluster; the cluster is healthy again (quorum met by
    both standbys) when this returns, or :class:`UserError` says it did not heal in time.
    """
    if config.fault not in FAULTS:
        raise UserError.of("unknown fault {fault}", fault=config.fault)
    folder.mkdir(parents=True, exist_ok=True)
    db_url = _new_database(layout)
    engine = open_store(db_url)
    today = dt.datetime.now(dt.UTC).date()
    pki_dir = pki.init_pki(folder / "pki", election_date=today)
    pki.issue_server_cert(pki_dir)
    services = [
        ServiceProcess(folder / f"service{i + 1}", pki_dir, db_url, ELECTION, today)
        for i in range(config.services)
    ]
    try:
        for service in services:
            service.folder.mkdir(parents=True, exist_ok=True)
        urls = [service.start(heartbeat_seconds=300) for service in services]
        clients = []
        for d in range(config.devices):
            serial = f"DRILL-D{d + 1:03d}"
            ordered = urls[d % len(urls) :] + urls[: d % len(urls)]  # spread the devices
            bundle = pki.enroll_device(
                pki_dir,
                f"DRILL-{d // 2 + 1:03d}",
                serial,
                folder / "devices" / serial,
                endpoints={"fiber": ordered},
            )
            clients.append(
                DeviceClient(
                    bundle, policy="provisional", timeout_s=5.0, connect_timeout_s=1.0, retry_s=1.0
                )
            )
        started = time.monotonic()
        attempts, replays, fault_detail, fault_time = asyncio.run(
            _drive(clients, config, lambda: _inject(layout, config, services))
        )
        elapsed = time.monotonic() - started
    finally:
        for service in services:
            service.stop()  # one the drill killed is only reaped (its pid is not signalled)
        _heal(layout)
    return _report(engine, config, attempts, replays, elapsed, fault_detail, fault_time, started)


def _new_database(layout: ClusterLayout) -> str:
    import psycopg

    name = f"drill_{secrets.token_hex(4)}"
    admin = layout.database_url.replace(f"/{layout.database}?", "/postgres?")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return layout.database_url.replace(f"/{layout.database}?", f"/{name}?")


async def _drive(
    clients: list[DeviceClient], config: DrillConfig, inject: Any
) -> tuple[list[_Attempt], list[CheckinResult], str, float]:
    rng = random.Random(config.seed)
    codes = national_codes(rng, config.voters)
    fresh = iter(codes)
    seen: list[str] = []
    start = time.monotonic()
    attempts: list[_Attempt] = []
    fault: dict[str, Any] = {"detail": "", "at": float("nan")}

    def next_voter() -> str:
        if seen and rng.random() < config.repeat_share:
            return rng.choice(seen)
        code = next(fresh, None)
        if code is None:
            return rng.choice(seen)
        seen.append(code)
        return code

    async def device(n: int, client: DeviceClient) -> None:
        while time.monotonic() - start < config.duration_s:
            code = next_voter()
            sent = time.monotonic()
            result = await client.check_in(Voter(code, "1360/01/01", True, 0.9))
            attempts.append(_Attempt(n, code, sent, time.monotonic(), result))
            await asyncio.sleep(config.interval_s)

    async def injector() -> None:
        await asyncio.sleep(config.fault_at_s)
        fault["at"] = time.monotonic()
        fault["detail"] = await asyncio.to_thread(inject)

    for client in clients:
        client.open()
    try:
        await asyncio.gather(injector(), *(device(n, c) for n, c in enumerate(clients)))
        replays: list[CheckinResult] = []
        deadline = time.monotonic() + config.drain_s
        while time.monotonic() < deadline:
            for client in clients:
                replays += await client.replay()
            if not any(c.queue.depth() or c.queue.unknown() for c in clients):
                break
            await asyncio.sleep(0.5)
    finally:
        for client in clients:
            await client.aclose()
    return attempts, replays, str(fault["detail"]), float(fault["at"])


def _inject(layout: ClusterLayout, config: DrillConfig, services: list[ServiceProcess]) -> str:
    """Inject ``config.fault``; returns what was done (for the report)."""
    if config.fault == "none":
        return "nothing"
    if config.fault == "service":
        pid = services[0].pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        return f"service 1 (pid {pid}) killed"
    primary = _primary(layout)
    if config.fault == "primary":
        pid = postmaster_pid(layout, primary)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        return f"PostgreSQL of {primary.name} (pid {pid}) killed"
    if config.fault == "primary-machine":
        for pid in member_pids(layout, primary):
            os.kill(pid, signal.SIGKILL)
        return f"Patroni and PostgreSQL of {primary.name} killed"
    senders = _walsenders(layout, primary)
    if config.fault == "standby-stall":
        senders = senders[:1]
    for pid in senders:
        os.kill(pid, signal.SIGSTOP)
    time.sleep(config.stall_s)
    for pid in senders:
        os.kill(pid, signal.SIGCONT)
    return f"{len(senders)} WAL sender(s) of {primary.name} stopped for {config.stall_s:g} s"


def _primary(layout: ClusterLayout) -> Member:
    name = cluster_status(layout).primary
    return next(m for m in layout.members if m.name == name)


def _walsenders(layout: ClusterLayout, member: Member) -> list[int]:
    """The PIDs of ``member``'s WAL sender processes (children of its postmaster)."""
    parent = postmaster_pid(layout, member)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"walsender" in cmdline:
            found.append(int(entry.name))
    return sorted(found)


def _heal(layout: ClusterLayout, timeout_s: float = 90.0) -> None:
    """Bring a killed member back and wait until both standbys confirm commits again."""
    for member in layout.members:
        start_member(layout, member)
    wait_for_quorum(layout, timeout_s)


def _report(
    engine: sa.Engine,
    config: DrillConfig,
    attempts: list[_Attempt],
    replays: list[CheckinResult],
    elapsed: float,
    fault_detail: str,
    fault_time: float,
    started: float,
) -> DrillReport:
    outcomes = Counter(a.result.outcome for a in attempts)
    for result in replays:
        outcomes[f"later:{result.outcome}"] += 1
    results = [a.result for a in attempts] + replays
    ids = {
        int(r.answer["checkin_id"])
        for r in results
        if r.outcome == "accepted" and r.answer is not None and "checkin_id" in r.answer
    }
    accepted_by_code: dict[str, set[int]] = {}
    for a in attempts:
        answer = a.result.answer
        if a.result.outcome == "accepted" and answer is not None and "checkin_id" in answer:
            accepted_by_code.setdefault(a.code, set()).add(int(answer["checkin_id"]))
    engine.dispose()  # its pooled connections may lead to the primary that was lost
    found = recorded_ids(engine, ids)
    with engine.connect() as conn:
        total = conn.scalar(sa.select(sa.func.count()).select_from(checkins)) or 0
        twice = conn.scalar(
            sa.select(sa.func.count()).select_from(
                sa.select(checkins.c.voter_hash)
                .group_by(checkins.c.election, checkins.c.voter_hash)
                .having(sa.func.count() > 1)
                .subquery()
            )
        )
    audit = verify_audit(engine)
    engine.dispose()
    answered = sorted(
        a.answered - started
        for a in attempts
        if a.result.outcome in ANSWERED and a.result.status_code is not None
    )
    edges = [0.0, *answered, elapsed]
    gaps = [b - a for a, b in itertools.pairwise(edges)]
    return DrillReport(
        fault=config.fault,
        attempts=len(attempts),
        outcomes=dict(sorted(outcomes.items())),
        acknowledged=len(ids),
        lost=len(ids - found),
        accepted_twice=sum(len(v) > 1 for v in accepted_by_code.values()),
        ledger_checkins=int(total),
        ledger_voters_twice=int(twice or 0),
        audit_problems=len(audit.problems),
        outage_s=round(max(gaps[1:-1], default=0.0), 2),
        answered_per_s=round(len(answered) / max(elapsed, 1e-9), 1),
        elapsed_s=round(elapsed, 1),
        fault_detail=fault_detail,
        answers=[(t, "") for t in answered],
    )


__all__ = ["FAULTS", "DrillConfig", "DrillReport", "drill"]
