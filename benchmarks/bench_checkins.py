"""Sustained accepted check-ins per second over mutual TLS, against the raw database's limit.

Runs ``pollnet serve`` as a subprocess (uvicorn + httptools + uvloop) on 127.0.0.1 and drives it
from this process with an asyncio load loop: ``--connections`` devices, each with its own client
certificate and one keep-alive TLS connection, each sending a new voter's check-in as soon as the
previous one is answered. Every check-in is a distinct valid voter, so every answer should be 201.

With ``--heartbeat-devices N`` the same run also carries the heartbeats of N devices every 30 s
(N / 30 a second), paced at a fixed rate and multiplexed over 16 keep-alive TLS connections, each
with a certificate of its own (20,000 TLS connections, or enrolling 20,000 certificates, would be
too heavy for the 2-core machine that also runs the service). The request rate, TLS and HTTP work
and the heartbeat writer's rows per second are those of N devices; the board holds 16 devices
(``bench_link.py`` uses 1,000 certificates and open-loop pacing for the latency view).

Baseline, measured in the same run on the same disk: single-row durable inserts per second
(one transaction and one fsync per row: SQLite WAL with ``synchronous=FULL``; PostgreSQL with
``synchronous_commit=on``). The ratio says how much group commit buys over the naive design.

    .venv/bin/python benchmarks/bench_checkins.py [--seconds 10] [--connections 64] [--no-pg]
        [--heartbeat-devices 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import shutil
import signal
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pollnet.link import pki  # noqa: E402
from pollnet.link.national_code import check_digit  # noqa: E402
from pollnet.store import open_store  # noqa: E402

SERVE = [sys.executable, "-c", "from pollnet.cli import main; main()", "serve"]


def voter_code(n: int) -> str:
    first = f"{(n * 7919 + 12345) % 10**9:09d}"
    return first + str(check_digit(first))


def raw_sqlite_limit(folder: Path, seconds: float) -> float:
    """Single-row inserts, each its own transaction, WAL + synchronous=FULL."""
    conn = sqlite3.connect(folder / "raw.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, h TEXT UNIQUE, at TEXT)")
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        conn.execute("BEGIN")
        conn.execute("INSERT INTO t (h, at) VALUES (?, ?)", (uuid.uuid4().hex, time.time()))
        conn.execute("COMMIT")
        count += 1
    elapsed = time.perf_counter() - start
    conn.close()
    return count / elapsed


def raw_pg_limit(url: str, seconds: float) -> float:
    """Single-row inserts, each its own transaction, synchronous_commit=on."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute("SET synchronous_commit TO on")
        conn.execute(
            "CREATE TABLE raw_t (id SERIAL PRIMARY KEY, h TEXT UNIQUE, at DOUBLE PRECISION)"
        )
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            conn.execute(
                "INSERT INTO raw_t (h, at) VALUES (%s, %s)", (uuid.uuid4().hex, time.time())
            )
            count += 1
        return count / (time.perf_counter() - start)


def start_service(pki_dir: Path, db_url: str, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    env = {**os.environ, "POLLNET_DB": db_url, "POLLNET_LANG": "en"}
    with log.open("ab") as err:
        proc = subprocess.Popen(
            [*SERVE, "--pki", str(pki_dir), "--port", "0"],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
            cwd=log.parent,  # its signed ledger head goes to pollnet-data/ there
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.findall(r"https://127\.0\.0\.1:(\d+)", log.read_text())
        if found and healthy(int(found[-1]), pki_dir):
            return proc, int(found[-1])
        if proc.poll() is not None:
            raise SystemExit(log.read_text())
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("the service did not start")


def healthy(port: int, pki_dir: Path) -> bool:
    """Whether the service answers ``GET /v1/health`` (it has started, lifespan and all)."""
    import httpx

    ctx = pki.device_ssl_context(pki_dir / "bundles" / "D-0")
    try:
        with httpx.Client(verify=ctx) as client:
            return client.get(f"https://127.0.0.1:{port}/v1/health").status_code == 200
    except httpx.TransportError:
        return False


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: bytes, body: bytes
) -> int:
    """One HTTP/1.1 POST on a kept-alive connection; returns the status code."""
    writer.write(
        b"POST " + path + b" HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        b"content-type: application/json\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )
    head = await reader.readuntil(b"\r\n\r\n")
    length = re.search(rb"content-length: (\d+)", head, re.I)
    await reader.readexactly(int(length.group(1)) if length else 0)
    return int(head[9:12])


async def heartbeat_loop(port: int, ctx: ssl.SSLContext, per_s: float, until: float) -> int:
    """Heartbeats at ``per_s`` a second on one connection until ``until``; returns how many."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx)
    sent, start = 0, time.perf_counter()
    try:
        while time.perf_counter() < until:
            body = json.dumps(
                {
                    "link": "fiber",
                    "queue_depth": 0,
                    "device_time": dt.datetime.now(dt.UTC).isoformat(),
                    "software_version": "1.0.0",
                    "battery": 90,
                }
            ).encode()
            await exchange(reader, writer, b"/v1/heartbeats", body)
            sent += 1
            await asyncio.sleep(max(0.0, start + sent / per_s - time.perf_counter()))
    finally:
        writer.close()
    return sent


async def device_loop(
    port: int,
    ctx: ssl.SSLContext,
    first_voter: int,
    until: float,
    measure_from: float,
    latencies: list[float],
    statuses: dict[int, int],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx)
    n = first_voter
    try:
        while time.perf_counter() < until:
            body = json.dumps(
                {
                    "national_code": voter_code(n),
                    "birth_date": "1370/01/15",
                    "card_read": True,
                    "fingerprint_score": 0.93,
                    "device_time": dt.datetime.now(dt.UTC).isoformat(),
                    "idempotency_key": str(uuid.uuid4()),
                    "provisional_at": None,
                }
            ).encode()
            n += 1
            started = time.perf_counter()
            status = await exchange(reader, writer, b"/v1/checkins", body)
            done = time.perf_counter()
            if started >= measure_from:
                latencies.append(done - started)
                statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def drive(
    port: int,
    contexts: list[ssl.SSLContext],
    seconds: float,
    warmup: float,
    base: int,
    service_pid: int,
    beat_contexts: list[ssl.SSLContext],
    beats_per_s: float,
) -> tuple[list[float], dict[int, int], float, float, float]:
    """Latencies, answers by status, elapsed seconds, service and load-generator CPU seconds."""
    now = time.perf_counter()
    measure_from, until = now + warmup, now + warmup + seconds
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def cpu_window() -> tuple[float, float]:
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        service0, own0 = cpu_seconds(service_pid), time.process_time()
        await asyncio.sleep(max(0.0, until - time.perf_counter()))
        return cpu_seconds(service_pid) - service0, time.process_time() - own0

    window = asyncio.ensure_future(cpu_window())
    beats = [
        heartbeat_loop(port, ctx, beats_per_s / len(beat_contexts), until)
        for ctx in beat_contexts
        if beats_per_s > 0
    ]
    results = await asyncio.gather(
        *(
            device_loop(port, ctx, base + i * 1_000_000, until, measure_from, latencies, statuses)
            for i, ctx in enumerate(contexts)
        ),
        *beats,
    )
    statuses[-1] = sum(r for r in results if isinstance(r, int))  # heartbeats answered
    service_cpu, own_cpu = await window
    return latencies, statuses, seconds, service_cpu, own_cpu


def run_backend(
    name: str,
    db_url: str,
    pki_dir: Path,
    contexts: list[ssl.SSLContext],
    folder: Path,
    seconds: float,
    raw: float,
    beat_contexts: list[ssl.SSLContext],
    beats_per_s: float,
) -> dict[str, float]:
    open_store(db_url).dispose()
    proc, port = start_service(pki_dir, db_url, folder / f"serve-{name}.log")
    try:
        try:
            import uvloop

            runner = uvloop.run
        except ImportError:
            runner = asyncio.run
        latencies, statuses, elapsed, service_cpu, own_cpu = runner(
            drive(port, contexts, seconds, 3.0, 0, proc.pid, beat_contexts, beats_per_s)
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    latencies.sort()
    accepted = statuses.get(201, 0)
    rate = accepted / elapsed

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    print(
        f"{name}: {rate:,.0f} accepted check-ins/s over mTLS ({accepted:,} in {elapsed:.0f} s, "
        f"{len(contexts)} devices, heartbeats {statuses.pop(-1, 0) / (elapsed + 3):,.0f}/s "
        f"of {beats_per_s:,.0f}/s asked), "
        f"p50 {pct(0.5):.1f} ms, p99 {pct(0.99):.1f} ms, "
        f"other answers { ({k: v for k, v in statuses.items() if k != 201}) }"
    )
    per = service_cpu / max(accepted, 1) * 1e6
    print(
        f"{name}: service CPU {per:.0f} µs per check-in ({service_cpu:.1f} s in the window, "
        f"{service_cpu / elapsed * 100:.0f}% of a core); load generator "
        f"{own_cpu / max(accepted, 1) * 1e6:.0f} µs per check-in; one idle core would serve "
        f"about {1e6 / per:,.0f}/s; load average now {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{name}: raw durable single-row inserts/s on the same disk {raw:,.0f}; "
        f"ratio service/raw {rate / raw:.2f}"
    )
    return {"rate": rate, "p50": pct(0.5), "p99": pct(0.99), "raw": raw, "cpu_us": per}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL run")
    parser.add_argument(
        "--heartbeat-devices",
        type=int,
        default=0,
        help="also send the heartbeats of this many devices (every 30 s) on 16 connections",
    )
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-checkins-"))  # /tmp: the same disk as the repo
    try:
        today = dt.datetime.now(dt.UTC).date()
        pki_dir = pki.init_pki(folder / "pki", election_date=today)
        pki.issue_server_cert(pki_dir)
        contexts = []
        for i in range(args.connections):
            bundle = pki.enroll_device(pki_dir, f"ST-{i // 4}", f"D-{i}")
            ctx = pki.device_ssl_context(bundle)
            contexts.append(ctx)
        beat_contexts = []
        for i in range(16 if args.heartbeat_devices else 0):
            bundle = pki.enroll_device(pki_dir, f"HB-{i // 4}", f"HB-{i}")
            beat_contexts.append(pki.device_ssl_context(bundle))
        beats_per_s = args.heartbeat_devices / 30
        print(f"machine: {os.cpu_count()} cores; load generator and service on the same host")
        raw = raw_sqlite_limit(folder, 3.0)
        run_backend(
            "sqlite",
            f"sqlite:///{folder / 'bench.db'}",
            pki_dir,
            contexts,
            folder,
            args.seconds,
            raw,
            beat_contexts,
            beats_per_s,
        )
        if not args.no_pg:
            from tests.pgserver import find_pg_bin, throwaway

            bin_dir = find_pg_bin()
            if bin_dir is None:
                print("postgresql: skipped (no server binaries)")
                return
            with throwaway(bin_dir) as server:
                raw_pg = raw_pg_limit(server.create_database("bench_raw"), 3.0)
                run_backend(
                    "postgresql",
                    server.create_database("bench_link"),
                    pki_dir,
                    contexts,
                    folder,
                    args.seconds,
                    raw_pg,
                    beat_contexts,
                    beats_per_s,
                )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
