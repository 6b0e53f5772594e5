"""Honest check-ins under attack: alone, with one poisoning device, with 5,000 idle connections.

One ``pollnet serve`` (SQLite, mutual TLS) on 127.0.0.1 and, in the same run, four phases of
``--seconds`` each, every one driven by ``--connections`` honest devices (each with its own
certificate and keep-alive TLS connection, a new voter as soon as the previous one is answered;
the load loop of ``bench_checkins.py``):

1. ``clean``: honest load alone (the baseline);
2. ``poison``: the same, plus one enrolled device sending the issue's poison check-ins (a
   ``device_time`` without a UTC equivalent, ``0001-01-01T00:00:00+14:00``; a NUL in the
   idempotency key; a ``provisional_at`` of year 1) ``--poison-rate`` times a second;
3. ``flood``: the same honest load while a separate process holds ``--idle`` TCP connections
   open to the listener from 40 addresses (127.0.0.2..41), sending nothing, reopening each one
   the service drops (at most 1,000 a second);
4. ``clean again``: honest load alone once more (how much the first three drifted).

Then ``--aborted`` connections that send the start of a TLS ClientHello and reset (the issue saw
the service grow from 76 MB to 1.2 GB after 126,000 of them): the service's resident memory
before, 2 s after (their TLS state is held for the handshake time) and 12 s after (given back).

For each phase: accepted check-ins a second, p50 and p99 latency, other answers, the service's
resident memory and its CPU time per accepted check-in (what the attack costs the service
itself, apart from the load generator and the flooder sharing its cores); then throughput and
p99 of phases 2 and 3 as a ratio of the clean run, against
the issue's target (within 10 %).

    .venv/bin/python benchmarks/bench_hostile.py [--seconds 10] [--connections 32]
        [--idle 5000] [--poison-rate 50]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import selectors
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_checkins import cpu_seconds, device_loop, exchange, start_service  # noqa: E402
from pollnet.link import pki  # noqa: E402

POISON = (
    {"device_time": "0001-01-01T00:00:00+14:00"},
    {"idempotency_key": "poison\u0000key"},
    {"provisional_at": "0001-01-01T00:00:00+14:00"},
)


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def poison_loop(port: int, ctx: ssl.SSLContext, per_s: float, until: float) -> dict[int, int]:
    """One device sending poison check-ins ``per_s`` times a second; answers by status."""
    answers: dict[int, int] = {}
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx)
    sent, start = 0, time.perf_counter()
    try:
        while time.perf_counter() < until:
            body = {
                "national_code": "0499370899",
                "birth_date": "1370/01/15",
                "card_read": True,
                "fingerprint_score": 0.9,
                "device_time": dt.datetime.now(dt.UTC).isoformat(),
                "idempotency_key": str(uuid.uuid4()),
                "provisional_at": None,
                **POISON[sent % len(POISON)],
            }
            status = await exchange(reader, writer, b"/v1/checkins", json.dumps(body).encode())
            answers[status] = answers.get(status, 0) + 1
            sent += 1
            await asyncio.sleep(max(0.0, start + sent / per_s - time.perf_counter()))
    finally:
        writer.close()
    return answers


async def phase(
    port: int,
    contexts: list[ssl.SSLContext],
    seconds: float,
    base: int,
    poison: tuple[ssl.SSLContext, float] | None,
) -> tuple[list[float], dict[int, int], dict[int, int]]:
    """Honest latencies and answers by status (after a 2 s warm-up), and the poison's answers."""
    now = time.perf_counter()
    measure_from, until = now + 2.0, now + 2.0 + seconds
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    jobs = [
        device_loop(port, ctx, base + i * 100_000, until, measure_from, latencies, statuses)
        for i, ctx in enumerate(contexts)
    ]
    poisoned: dict[int, int] = {}
    if poison is not None:
        results = await asyncio.gather(poison_loop(port, *poison, until), *jobs)
        poisoned = results[0]
    else:
        await asyncio.gather(*jobs)
    return latencies, statuses, poisoned


def flood(port: int, count: int, seconds: float) -> None:
    """Hold ``count`` idle TCP connections to ``port`` for ``seconds``, reopening dropped ones.

    Runs in a process of its own (``--flood``); prints how many were open on average and how
    many it had to reopen.
    """
    selector = selectors.DefaultSelector()
    until = time.monotonic() + seconds
    opened = samples = total_open = 0
    next_address = 0
    while time.monotonic() < until:
        budget = 200  # new connections per 0.2 s round: at most 1,000 a second
        while len(selector.get_map()) < count and budget > 0:
            source = f"127.0.0.{2 + next_address % 40}"
            next_address += 1
            sock = socket.socket()
            sock.setblocking(False)
            sock.bind((source, 0))
            try:
                sock.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            except OSError:
                sock.close()
                break
            selector.register(sock, selectors.EVENT_READ)
            opened += 1
            budget -= 1
        for key, _ in selector.select(timeout=0.2):  # readable: the service closed it
            selector.unregister(key.fileobj)
            key.fileobj.close()  # type: ignore[union-attr]
        samples += 1
        total_open += len(selector.get_map())
    for key in list(selector.get_map().values()):
        key.fileobj.close()  # type: ignore[union-attr]
    print(json.dumps({"average_open": total_open / max(samples, 1), "opened": opened}))


def abort_handshakes(port: int, count: int) -> None:
    """Open ``count`` connections that send half a ClientHello, then reset them (``--abort``)."""
    hello = bytes.fromhex("16030100c8010000c40303") + os.urandom(32)
    linger = b"\x01\x00\x00\x00\x00\x00\x00\x00"  # SO_LINGER on, 0 s: close with a reset
    for n in range(count):
        sock = socket.socket()
        try:
            sock.bind((f"127.0.0.{2 + n % 40}", 0))
            sock.connect(("127.0.0.1", port))
            sock.sendall(hello)
        except OSError:
            pass
        finally:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            sock.close()


def report(
    name: str,
    latencies: list[float],
    statuses: dict[int, int],
    seconds: float,
    rss: float,
    cpu: float,
) -> dict[str, float]:
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    accepted = statuses.get(201, 0)
    rate = accepted / seconds
    others = {k: v for k, v in statuses.items() if k != 201}
    per_checkin = cpu / max(accepted, 1) * 1e6
    print(
        f"{name:12s} {rate:8,.0f} accepted/s  p50 {pct(0.5):6.1f} ms  p99 {pct(0.99):6.1f} ms"
        f"  other honest answers {others}  service RSS {rss:,.0f} MB"
        f"  service CPU {per_checkin:,.0f} µs per check-in"
    )
    return {"rate": rate, "p99": pct(0.99), "cpu": per_checkin}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--idle", type=int, default=5000)
    parser.add_argument("--poison-rate", type=float, default=50.0)
    parser.add_argument("--aborted", type=int, default=20_000)
    parser.add_argument(
        "--flood", nargs=3, metavar=("PORT", "COUNT", "SECONDS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.flood:
        flood(int(args.flood[0]), int(args.flood[1]), float(args.flood[2]))
        return

    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    folder = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    try:
        today = dt.datetime.now(dt.UTC).date()
        pki_dir = pki.init_pki(folder / "pki", election_date=today)
        pki.issue_server_cert(pki_dir)
        contexts = [
            pki.device_ssl_context(pki.enroll_device(pki_dir, f"ST-{i // 4}", f"D-{i}"))
            for i in range(args.connections)
        ]
        poisoner = pki.device_ssl_context(pki.enroll_device(pki_dir, "ST-X", "POISON-1"))
        print(
            f"machine: {os.cpu_count()} cores, shared (load average "
            f"{os.getloadavg()[0]:.1f} at start); service, load generator and flood on one host"
        )
        proc, port = start_service(pki_dir, f"sqlite:///{folder / 'bench.db'}", folder / "s.log")
        results: dict[str, dict[str, float]] = {}
        try:
            for n, name in enumerate(("clean", "poison", "flood", "clean again")):
                flooder = None
                if name == "flood":
                    flooder = subprocess.Popen(
                        [
                            sys.executable,
                            __file__,
                            "--flood",
                            str(port),
                            str(args.idle),
                            str(args.seconds + 6),
                        ],
                        stdout=subprocess.PIPE,
                        text=True,
                    )
                    time.sleep(3.0)  # let it reach its count before the devices connect
                poison = (poisoner, args.poison_rate) if name == "poison" else None
                # the 2 s warm-up is in the window: the ratio still holds
                cpu_before = cpu_seconds(proc.pid)
                latencies, statuses, poisoned = runner(
                    phase(port, contexts, args.seconds, n * 10_000_000, poison)
                )
                cpu = (cpu_seconds(proc.pid) - cpu_before) * args.seconds / (args.seconds + 2.0)
                results[name] = report(
                    name, latencies, statuses, args.seconds, rss_mb(proc.pid), cpu
                )
                if poisoned:
                    print(f"{'':12s} the poisoning device's answers: {poisoned}")
                if flooder is not None:
                    out, _ = flooder.communicate(timeout=60)
                    held = json.loads(out.strip().splitlines()[-1])
                    print(
                        f"{'':12s} idle connections held open: {held['average_open']:,.0f} on"
                        f" average of {args.idle:,} wanted; {held['opened']:,} opened in all"
                    )
            before = rss_mb(proc.pid)
            started = time.perf_counter()
            abort_handshakes(port, args.aborted)
            took = time.perf_counter() - started
            time.sleep(2.0)
            soon = rss_mb(proc.pid)
            time.sleep(10.0)  # the handshake time (5 s) and a second: the burst's memory back
            print(
                f"aborted handshakes: {args.aborted:,} in {took:.1f} s; service RSS {before:,.0f}"
                f" MB before, {soon:,.0f} MB 2 s after, {rss_mb(proc.pid):,.0f} MB 12 s after"
            )
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
        clean = results["clean"]
        for name in ("poison", "flood", "clean again"):
            rate = results[name]["rate"] / clean["rate"]
            p99 = results[name]["p99"] / clean["p99"]
            cpu = results[name]["cpu"] / clean["cpu"]
            verdict = "within 10 %" if rate >= 0.9 and p99 <= 1.1 else "NOT within 10 %"
            print(
                f"{name:12s} vs clean: throughput {rate:.2f}, p99 {p99:.2f} ({verdict});"
                f" service CPU per check-in {cpu:.2f}"
            )
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
