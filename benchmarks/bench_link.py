"""Check-in latency while 20,000 devices heartbeat every 30 s, against check-ins alone.

The throughput of check-ins on their own is ``bench_checkins.py``'s job; this benchmark asks
whether the heartbeats of a whole district (20,000 devices every 30 s ≈ 667 heartbeats/s) raise
the check-in p99 above the 100 ms target. One ``pollnet serve`` subprocess (SQLite default, on
127.0.0.1, started by :class:`pollnet.simulation.ServiceProcess`), one run, two phases:

1. **baseline**: check-ins alone at a fixed offered rate (each of ``--rates``, per second) from
   ``--checkin-devices`` devices, each with its own certificate and keep-alive TLS connection;
2. **with heartbeats**: the same check-in load plus ``--devices`` simulated devices heartbeating
   every ``--interval`` seconds.

Latency is measured from each request's *scheduled* send time (no coordinated omission), so a
stalled service shows up in the percentiles. The heartbeats of the 20,000 simulated devices are
carried by ``--identities`` real device certificates (enrolling 20,000 would take minutes; the
request rate and the TLS work per request are the same, the service's board holds fewer devices).

    .venv/bin/python benchmarks/bench_link.py [--seconds 10] [--rates 500,1000] [--devices 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import re
import shutil
import ssl
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from pollnet.link import pki
from pollnet.simulation import ServiceProcess
from pollnet.simulation.scenario import national_codes

_LENGTH = re.compile(rb"content-length: (\d+)", re.I)


@dataclass
class Samples:
    """Latencies in seconds and answers by HTTP status, of one kind of request."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def add(self, latency: float, status: int) -> None:
        self.latencies.append(latency)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: bytes, body: bytes
) -> int:
    """One HTTP/1.1 POST on a keep-alive connection; returns the status code."""
    writer.write(
        b"POST " + path + b" HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    head = await reader.readuntil(b"\r\n\r\n")
    found = _LENGTH.search(head)
    await reader.readexactly(int(found.group(1)) if found else 0)
    return int(head[9:12])


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def paced(
    connection: Connection,
    rate: float,
    start: float,
    until: float,
    measure_from: float,
    path: bytes,
    make_body: object,
    samples: Samples,
) -> None:
    """Send at ``rate``/s on one connection from ``start``; latency from the scheduled time."""
    reader, writer = connection
    gap = 1.0 / rate
    due = start
    try:
        while due < until:
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            status = await exchange(reader, writer, path, make_body())  # type: ignore[operator]
            if due >= measure_from:
                samples.add(time.perf_counter() - due, status)
            due += gap
    except BaseException:
        writer.close()
        raise


async def connect(port: int, contexts: list[ssl.SSLContext]) -> list[Connection]:
    """One keep-alive TLS connection per device certificate, a few handshakes at a time."""
    gate = asyncio.Semaphore(50)

    async def one(ctx: ssl.SSLContext) -> Connection:
        async with gate:
            return await asyncio.open_connection("127.0.0.1", port, ssl=ctx)

    return list(await asyncio.gather(*(one(ctx) for ctx in contexts)))


def checkin_bodies(codes: list[str]) -> object:
    pool = iter(codes)

    def body() -> bytes:
        return json.dumps(
            {
                "national_code": next(pool),
                "birth_date": "1370/01/15",
                "card_read": True,
                "fingerprint_score": 0.93,
                "device_time": dt.datetime.now(dt.UTC).isoformat(),
                "idempotency_key": str(uuid.uuid4()),
                "provisional_at": None,
            }
        ).encode()

    return body


def heartbeat_body(rng: random.Random) -> object:
    def body() -> bytes:
        return json.dumps(
            {
                "link": "fiber" if rng.random() < 0.95 else "lte",
                "queue_depth": 0,
                "device_time": dt.datetime.now(dt.UTC).isoformat(),
                "software_version": "bench",
                "battery": rng.randrange(20, 101),
            }
        ).encode()

    return body


async def phase(
    port: int,
    checkin_ctx: list[ssl.SSLContext],
    heartbeat_ctx: list[ssl.SSLContext],
    args: argparse.Namespace,
    codes: list[str],
) -> tuple[Samples, Samples, float]:
    """One measured phase (heartbeats when ``heartbeat_ctx`` is not empty)."""
    rng = random.Random(7)
    checkins, beats = Samples(), Samples()
    # Every connection and TLS handshake first, so the schedule starts with all of them ready.
    checkin_conns = await connect(port, checkin_ctx)
    heartbeat_conns = await connect(port, heartbeat_ctx)
    start = time.perf_counter() + 0.2
    measure_from = start + 2.0
    until = measure_from + args.seconds
    per_conn = args.rate / len(checkin_ctx)
    body = checkin_bodies(codes)
    tasks = [
        paced(
            conn,
            per_conn,
            start + i / args.rate,
            until,
            measure_from,
            b"/v1/checkins",
            body,
            checkins,
        )
        for i, conn in enumerate(checkin_conns)
    ]
    if heartbeat_ctx:
        beat_rate = args.devices / args.interval
        per_identity = beat_rate / len(heartbeat_ctx)
        tasks += [
            paced(
                conn,
                per_identity,
                start + rng.uniform(0, 1 / per_identity),
                until,
                measure_from,
                b"/v1/heartbeats",
                heartbeat_body(rng),
                beats,
            )
            for conn in heartbeat_conns
        ]
    await asyncio.gather(*tasks)
    # Achieved rates over the measured window: from its start to the last answer in it.
    elapsed = max(args.seconds, time.perf_counter() - measure_from)
    for reader_writer in [*checkin_conns, *heartbeat_conns]:
        reader_writer[1].close()
    return checkins, beats, elapsed


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux ``/proc``)."""
    if pid is None or not Path(f"/proc/{pid}/stat").exists():
        return float("nan")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(
    runner: object, work: object, service: ServiceProcess
) -> tuple[Samples, Samples, float]:
    """Run one phase; print the CPU the service and this load generator spent on it."""
    service_cpu, own_cpu, wall = cpu_seconds(service.pid), time.process_time(), time.perf_counter()
    result: tuple[Samples, Samples, float] = runner(work)  # type: ignore[operator]
    wall = time.perf_counter() - wall
    service_cpu = cpu_seconds(service.pid) - service_cpu
    own_cpu = time.process_time() - own_cpu
    requests = len(result[0].latencies) + len(result[1].latencies)
    print(
        f"  CPU over {wall:.0f} s: service {service_cpu:.1f} s "
        f"({1000 * service_cpu / max(1, requests):.2f} ms per measured request), "
        f"load generator {own_cpu:.1f} s"
    )
    return result


def report(name: str, checkins: Samples, beats: Samples, seconds: float) -> None:
    accepted = checkins.statuses.get(201, 0)
    line = (
        f"{name}: {accepted / seconds:,.0f} accepted check-ins/s, "
        f"p50 {checkins.pct(0.5):.1f} ms, p90 {checkins.pct(0.9):.1f} ms, "
        f"p99 {checkins.pct(0.99):.1f} ms"
    )
    others = {k: v for k, v in checkins.statuses.items() if k != 201}
    if others:
        line += f", other answers {others}"
    print(line)
    if beats.latencies:
        print(
            f"{name}: {len(beats.latencies) / seconds:,.0f} heartbeats/s answered, "
            f"p50 {beats.pct(0.5):.1f} ms, p99 {beats.pct(0.99):.1f} ms, answers {beats.statuses}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per phase")
    parser.add_argument(
        "--rates",
        type=lambda text: [float(x) for x in text.split(",")],
        default=[500.0, 1000.0],
        help="offered check-ins per second, one pair of phases each (500,1000)",
    )
    parser.add_argument("--checkin-devices", type=int, default=32)
    parser.add_argument(
        "--devices", type=int, default=20_000, help="simulated heartbeating devices"
    )
    parser.add_argument("--interval", type=float, default=30.0, help="heartbeat interval, s")
    parser.add_argument("--identities", type=int, default=1000, help="certificates carrying them")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-link-"))
    try:
        today = dt.datetime.now(dt.UTC).date()
        pki_dir = pki.init_pki(folder / "pki", election_date=today)
        pki.issue_server_cert(pki_dir)
        started = time.perf_counter()
        checkin_ctx = [
            pki.device_ssl_context(pki.enroll_device(pki_dir, f"CK-{i // 4:03d}", f"CK-{i}"))
            for i in range(args.checkin_devices)
        ]
        heartbeat_ctx = [
            pki.device_ssl_context(pki.enroll_device(pki_dir, f"HB-{i // 4:04d}", f"HB-{i}"))
            for i in range(args.identities)
        ]
        print(
            f"machine: {os.cpu_count()} cores, shared; service and load generator on 127.0.0.1; "
            f"{args.checkin_devices + args.identities} certificates enrolled in "
            f"{time.perf_counter() - started:.1f} s"
        )
        service = ServiceProcess(
            folder, pki_dir, f"sqlite:///{folder / 'ledger.db'}", "bench", today
        )
        port = int(service.start(heartbeat_seconds=args.interval).rsplit(":", 1)[1])
        sizes = [int(rate * (args.seconds + 3) * 1.2) for rate in args.rates]
        codes = national_codes(random.Random(1), 2 * sum(sizes))  # distinct voters throughout
        try:
            try:
                import uvloop

                runner = uvloop.run
            except ImportError:
                runner = asyncio.run
            for rate, needed in zip(args.rates, sizes, strict=True):
                args.rate = rate
                mine, codes = codes[: 2 * needed], codes[2 * needed :]
                alone = measured(runner, phase(port, checkin_ctx, [], args, mine[:needed]), service)
                report(f"{rate:g}/s offered, check-ins alone", *alone)
                loaded = measured(
                    runner, phase(port, checkin_ctx, heartbeat_ctx, args, mine[needed:]), service
                )
                report(f"{rate:g}/s offered, with {args.devices:,} devices heartbeating", *loaded)
                base_p99, load_p99 = alone[0].pct(0.99), loaded[0].pct(0.99)
                verdict = "within" if load_p99 <= 100 else "ABOVE"
                print(
                    f"{rate:g}/s offered: check-in p99 with heartbeats / alone: "
                    f"{load_p99:.1f} / {base_p99:.1f} ms = "
                    f"{load_p99 / base_p99 if base_p99 else float('nan'):.2f}x; "
                    f"{verdict} the 100 ms target"
                )
        finally:
            service.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
