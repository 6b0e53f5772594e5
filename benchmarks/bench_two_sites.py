"""What a round trip between two sites does to the ledger: commit latency and throughput when
the standby that confirms each commit is 10 ms away, against the same standby on loopback.

A PostgreSQL 15 primary and one standby on this machine, ``synchronous_standby_names = 'ANY 1
(remote)'`` and ``synchronous_commit = on`` (so every commit waits for the standby's flush, as
the quorum does when the confirming standby is at the other site). The standby streams through a
relay in this process that holds every chunk ``--rtt-ms / 2`` milliseconds in each direction
(instead of ``tc netem``, which would slow every process's loopback on a shared machine). The
ledger writer then runs with 64 check-ins in flight, and one at a time, as in
``bench_failover.py``; with the relay at 0 ms the same run gives the baseline.

    .venv/bin/python benchmarks/bench_two_sites.py [--rtt-ms 10] [--seconds 10] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_failover import ledger_figures  # noqa: E402
from tests.pgserver import PostgresServer, free_port  # noqa: E402

from pollnet.cluster.local import postgres_bin  # noqa: E402


class DelayRelay:
    """A TCP relay on 127.0.0.1 that delays every chunk by ``delay_s`` (each direction)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.delay_s = 0.0
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait(10)

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)

        async def serve() -> None:
            await asyncio.start_server(self._relay, "127.0.0.1", self.port)
            ready.set()

        self.loop.run_until_complete(serve())
        self.loop.run_forever()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            while data := await src.read(65536):
                if self.delay_s:
                    self.loop.call_later(self.delay_s, dst.write, data)
                else:
                    dst.write(data)
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rtt-ms", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    bin_dir = postgres_bin()  # the real folder: pg_basebackup lives beside initdb there
    folder = Path(tempfile.mkdtemp(prefix="pollnet-bench-sites-"))
    folder.chmod(0o755)
    primary = PostgresServer(bin_dir, folder)
    standby_data = folder / "standby"
    standby_port = free_port()
    results: dict[str, object] = {"rtt_ms": args.rtt_ms}
    primary.start()
    try:
        relay = DelayRelay(primary.port)
        subprocess.run(
            _as_postgres(
                [str(bin_dir / "pg_basebackup"), "-D", str(standby_data), "-h", "127.0.0.1",
                 "-p", str(relay.port), "-U", "postgres", "-X", "stream", "-R",
                 "-d", f"application_name=remote host=127.0.0.1 port={relay.port}"]
            ),
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        log = folder / "standby.log"
        options = (
            f"-p {standby_port} -c listen_addresses=127.0.0.1 -k {folder} -c max_connections=200"
        )
        subprocess.run(
            _as_postgres(
                [str(bin_dir / "pg_ctl"), "-D", str(standby_data), "-l", str(log), "-o", options,
                 "-w", "start"]
            ),
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        import psycopg

        with psycopg.connect(primary.url("postgres").replace("+psycopg", ""), autocommit=True) as c:
            c.execute("ALTER SYSTEM SET synchronous_standby_names = 'ANY 1 (remote)'")
            c.execute("SELECT pg_reload_conf()")
            deadline = time.monotonic() + 30
            while not c.execute(
                "SELECT 1 FROM pg_stat_replication WHERE application_name = 'remote'"
                " AND sync_state = 'quorum' AND state = 'streaming'"
            ).fetchone():
                assert time.monotonic() < deadline, "the standby never streamed"
                time.sleep(0.2)
        results["loopback"] = ledger_figures(primary.create_database("near"), args.seconds)
        relay.delay_s = args.rtt_ms / 2000
        results["two_sites"] = ledger_figures(primary.create_database("far"), args.seconds)
        near = results["loopback"]["checkins_per_s"]  # type: ignore[index]
        far = results["two_sites"]["checkins_per_s"]  # type: ignore[index]
        results["two_sites_vs_loopback_throughput"] = round(far / near, 2)
        latency = results["two_sites"]["commit_p50_ms"] / 1000  # type: ignore[index]
        # Little's law: check-ins in flight = arrival rate x time each waits for its commit.
        results["in_flight_for_2000_per_s"] = round(2000 * latency, 1)
    except subprocess.CalledProcessError as exc:
        log_text = (folder / "standby.log").read_text() if (folder / "standby.log").exists() else ""
        raise SystemExit(f"{exc}\n{exc.stderr!r}\n{log_text[-2000:]}") from None
    finally:
        subprocess.run(
            _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(standby_data), "-m", "immediate",
                          "-w", "stop"]),
            capture_output=True, timeout=60,
        )  # fmt: skip
        primary.stop()
        shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for name, value in results.items():
        print(f"{name}: {value}")


if __name__ == "__main__":
    main()
