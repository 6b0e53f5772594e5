"""Rollout benchmark: generate and schedule a whole synthetic city; apply a bulk status file.

Targets (issue 5): 8,000 stations (~60,000 work orders, ~200 crews) generated and scheduled in
at most 10 s; a 10,000-row status file validated and applied in at most 5 s. The baseline for
the schedule is a plain earliest-start (first come, first served) list schedule of the same work
orders in the same run: the forecast finish of the last station is compared.

By default the plan is built directly from the plan contract (``pollnet.rollout.synthetic``, about
60,000-70,000 work orders). ``--real`` plans the synthetic city of ``pollnet.datasets`` with the
real planner first (its time is not counted; its short street edges make about 110,000 work
orders).

Run: .venv/bin/python benchmarks/bench_rollout.py [--stations 8000] [--real] [--db URL]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from pollnet.rollout import store
from pollnet.rollout.schedule import forecast
from pollnet.rollout.sheets import read_updates
from pollnet.rollout.synthetic import synthetic_plan
from pollnet.rollout.templates import load_config
from pollnet.rollout.workorders import generate
from pollnet.store import open_store

START = dt.date(2026, 11, 29)
ELECTION = dt.date(2028, 2, 25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=8000)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--db", help="database URL for the bulk update (default: a SQLite file)")
    parser.add_argument("--real", action="store_true", help="plan with the real planner first")
    args = parser.parse_args()

    t = time.perf_counter()
    if args.real:
        from pollnet.datasets.synth import generate as synthetic_city
        from pollnet.plan import plan_city

        plan = plan_city(synthetic_city(args.stations, 1402))
        source = "the real planner on the synthetic city"
    else:
        plan = synthetic_plan(args.stations)
        source = "synthetic, from the contract"
    t_plan = time.perf_counter() - t
    config = load_config()
    districts = sorted({s.district for s in plan.stations})
    crews = sum(config.crews.count(a, d) for a in config.crews.default for d in districts)

    t = time.perf_counter()
    orders = generate(plan, config)
    t_generate = time.perf_counter() - t
    t = time.perf_counter()
    by_path = forecast(orders, config, START, ELECTION)
    t_schedule = time.perf_counter() - t
    t = time.perf_counter()
    fcfs = forecast(orders, config, START, ELECTION, priority="earliest_start")
    t_fcfs = time.perf_counter() - t

    def mean_ready(f: object) -> float:
        ready = f.schedule.station_ready().values()  # type: ignore[attr-defined]
        return statistics.mean((d - START).days for d in ready)

    last_cp, last_fcfs = by_path.schedule.last_ready(), fcfs.schedule.last_ready()
    assert last_cp is not None and last_fcfs is not None
    edges = sum(len(o.predecessors) for o in orders)
    print(
        f"plan ({source}): {len(plan.stations)} stations, "
        f"{len(plan.trenches)} trench segments, {len(plan.cable_runs)} cable runs "
        f"({t_plan:.2f} s, not counted)"
    )
    print(
        f"work orders: {len(orders)} with {edges} dependencies; crews: {crews} "
        f"in {len(districts)} districts"
    )
    print(
        f"generate: {t_generate:.2f} s; critical-path schedule + forecast: {t_schedule:.2f} s; "
        f"total {t_generate + t_schedule:.2f} s (target <= 10 s)"
    )
    print(f"earliest-start (FCFS) schedule: {t_fcfs:.2f} s")
    ratio = by_path.schedule.finish_t.max() / fcfs.schedule.finish_t.max()
    print(
        f"last station ready: critical path {last_cp} vs FCFS {last_fcfs} "
        f"({(last_fcfs - last_cp).days} days earlier; working-day makespan ratio {ratio:.3f})"
    )
    print(
        f"mean station ready (days from {START}): critical path {mean_ready(by_path):.0f} vs "
        f"FCFS {mean_ready(fcfs):.0f}; stations at risk (deadline {by_path.deadline}): "
        f"{len(by_path.at_risk)} vs {len(fcfs.at_risk)}"
    )

    folder = Path(tempfile.mkdtemp(prefix="bench-rollout-"))
    url = args.db or f"sqlite:///{folder / 'rollout.db'}"
    engine = open_store(url)
    now = dt.datetime.now(dt.UTC)
    t = time.perf_counter()
    store.save_work_orders(engine, orders, by="bench", now=now)
    t_save = time.perf_counter() - t
    roots = [o.id for o in orders if not o.predecessors]
    others = [o.id for o in orders if o.predecessors]
    rows = [(i, "done") for i in roots[: args.rows]]
    rows += [(i, "in_progress") for i in others[: args.rows - len(rows)]]
    path = folder / "status.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["شناسه", "وضعیت", "تاریخ", "توضیحات"])
        for order_id, status in rows:
            out.writerow(
                [
                    order_id,
                    "انجام‌شده" if status == "done" else "در حال انجام",
                    "۱۴۰۵/۰۸/۲۰",
                    "گزارش هفتگی",
                ]
            )
    t = time.perf_counter()
    updates, problems = read_updates(path)
    outcome = store.update_status(
        engine,
        updates,
        by="bench",
        agency=None,
        source=str(path),
        today=START,
        now=now,
        problems=problems,
    )
    t_bulk = time.perf_counter() - t
    print(f"store {len(orders)} work orders: {t_save:.2f} s ({engine.dialect.name}, not counted)")
    print(f"machine: 2 cores, shared with other work; load average {os.getloadavg()[0]:.1f}")
    print(
        f"bulk status file: {len(rows)} rows, {outcome.applied} applied, "
        f"{len(outcome.changes)} history entries in {t_bulk:.2f} s (target <= 5 s)"
    )
    engine.dispose()
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
