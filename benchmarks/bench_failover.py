"""The failover drill, many times over: nothing acknowledged lost, nobody accepted twice, and
how long writes stop; with the ledger's throughput on the quorum against a lone primary.

Starts a local cluster (``pollnet cluster up``: etcd x3, PostgreSQL 15 x3 under Patroni, quorum
``ANY 1``) and runs the drill of ``pollnet.cluster.drill`` ``--runs`` times per fault: two
``pollnet serve`` processes on the cluster's multi-host URL, simulated devices with repeat voters
and both services in their bundles, the fault injected a few seconds in. Reports per fault:
acknowledged check-ins lost (must be 0), voters accepted twice (0), audit problems (0), and the
write outage p50 / max (target <= 15 s).

Then the baseline, in the same run on the same disk: the ledger writer's throughput (64 check-ins
in flight, group commit) and its one-at-a-time commit latency, on the cluster (every commit waits
for one standby's flush) and on a lone PostgreSQL 15 server with ``synchronous_commit = on`` and no
standby. Not run in CI (``tests/cluster/test_drill.py`` runs one drill per fault there).

    .venv/bin/python benchmarks/bench_failover.py [--runs 20] [--faults primary,primary-machine]
        [--seconds 10] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.pgserver import find_pg_bin, throwaway  # noqa: E402

from pollnet.cluster import local  # noqa: E402
from pollnet.cluster.drill import DrillConfig, drill  # noqa: E402
from pollnet.link.checkin import Checkin, voter_hash  # noqa: E402
from pollnet.link.ledger import Ledger  # noqa: E402
from pollnet.link.national_code import check_digit  # noqa: E402
from pollnet.store import open_store  # noqa: E402

KEY = b"b" * 32


def _code(n: int) -> str:
    first = f"{(n * 7919 + 12345) % 10**9:09d}"
    return first + str(check_digit(first))


def _checkin(n: int) -> Checkin:
    return Checkin(
        device=f"B-{n % 64}",
        station=f"ST-{n % 64}",
        idempotency_key=str(uuid.uuid4()),
        voter_hash=voter_hash(KEY, _code(n)),
        device_time=dt.datetime.now(dt.UTC),
        provisional_at=None,
        card_read=True,
        fingerprint_score=0.9,
    )


def ledger_figures(url: str, seconds: float) -> dict[str, float]:
    """Check-ins per second with 64 in flight, and the p50 latency of one commit at a time."""
    engine = open_store(url)
    counter = iter(range(10**9))

    async def load(ledger: Ledger) -> int:
        done = 0
        until = time.monotonic() + seconds

        async def one() -> None:
            nonlocal done
            while time.monotonic() < until:
                answer = await ledger.record_async(_checkin(next(counter)))
                assert answer.status_code == 201, answer.body
                done += 1

        await asyncio.gather(*(one() for _ in range(64)))
        return done

    with Ledger(engine, "bench") as ledger:
        started = time.monotonic()
        done = asyncio.run(load(ledger))
        rate = done / (time.monotonic() - started)
        latencies = []
        until = time.monotonic() + min(seconds, 5)
        while time.monotonic() < until:
            t0 = time.perf_counter()
            assert ledger.record(_checkin(next(counter))).status_code == 201
            latencies.append(time.perf_counter() - t0)
    engine.dispose()
    return {
        "checkins_per_s": round(rate, 1),
        "commit_p50_ms": round(statistics.median(latencies) * 1000, 2),
        "batches_mean": round(done / max(1, ledger.batches), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--faults", default="primary,primary-machine")
    parser.add_argument("--seconds", type=float, default=10.0, help="throughput run length")
    parser.add_argument("--duration", type=float, default=12.0, help="seconds per drill")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="pollnet-bench-failover-"))
    folder.chmod(0o755)
    results: dict[str, object] = {"runs": args.runs, "machine_cpus": __import__("os").cpu_count()}
    try:
        started = time.monotonic()
        layout = local.up(folder / "cluster", local.free_base_port())
        results["cluster_up_s"] = round(time.monotonic() - started, 1)
        for fault in args.faults.split(","):
            reports = []
            for run in range(args.runs):
                config = DrillConfig(
                    fault=fault, duration_s=args.duration, fault_at_s=3.0, seed=run + 1
                )
                report = drill(layout, config, folder / f"{fault}-{run}")
                reports.append(report)
                print(
                    f"{fault} #{run + 1}: outage {report.outage_s:.1f} s, acknowledged"
                    f" {report.acknowledged}, lost {report.lost}, accepted twice"
                    f" {report.accepted_twice}, audit problems {report.audit_problems},"
                    f" {report.outcomes}",
                    file=sys.stderr,
                    flush=True,
                )
                shutil.rmtree(folder / f"{fault}-{run}", ignore_errors=True)
            outages = sorted(r.outage_s for r in reports)
            results[fault] = {
                "runs": len(reports),
                "acknowledged": sum(r.acknowledged for r in reports),
                "acknowledged_lost": sum(r.lost for r in reports),
                "accepted_twice": sum(r.accepted_twice + r.ledger_voters_twice for r in reports),
                "audit_problems": sum(r.audit_problems for r in reports),
                "outage_p50_s": round(statistics.median(outages), 1),
                "outage_max_s": max(outages),
                "provisional_during_outage": sum(r.outcomes.get("provisional", 0) for r in reports),
            }
        quorum_url = layout.database_url
        results["quorum"] = ledger_figures(quorum_url, args.seconds)
        bin_dir = find_pg_bin()
        assert bin_dir is not None
        with throwaway(bin_dir) as server:
            results["lone_primary"] = ledger_figures(server.create_database("bench"), args.seconds)
        quorum = results["quorum"]["checkins_per_s"]  # type: ignore[index]
        lone = results["lone_primary"]["checkins_per_s"]  # type: ignore[index]
        results["quorum_vs_lone_throughput"] = round(quorum / lone, 2)
    finally:
        local.down(folder / "cluster")
        shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for name, value in results.items():
        print(f"{name}: {value}")


if __name__ == "__main__":
    main()
