"""Benchmark: the site review of the whole synthetic city (issue 14, ``pollnet sites review``).

Every station of the city (8,000 by default) reviewed on the plan's design: its marginal cost,
its LTE backup, its distance to the fibre, and the candidate schools within 500 m priced as
sites instead (a school list of one building per four stations, each 20-60 m off a random
street node). The baseline named in the same run is the design of the plan itself
(``plan.whatif.baseline_city``, what ``pollnet plan`` computes before assembling): the review's
own work is printed as a ratio against it.

    .venv/bin/python benchmarks/bench_sites.py [--stations 8000] [--schools N] [--seed 1]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from pollnet.coverage import lte_backup
from pollnet.datasets.synth import generate
from pollnet.registry import Candidate, StationRecord
from pollnet.sites import PlanPricing, fibre_distances, review_sites
from pollnet.streets.projection import to_lonlat

UTM = 32639  # the synthetic city's metres (pollnet.datasets.synth.CRS)


def schools(city: object, count: int, seed: int) -> list[Candidate]:
    """``count`` buildings 20-60 m off random street nodes of the city, with a capacity."""
    rng = np.random.default_rng(seed)
    x, y = city.node_x, city.node_y  # type: ignore[attr-defined]
    nodes = rng.choice(x.size, size=count, replace=False)
    r, a = rng.uniform(20.0, 60.0, count), rng.uniform(0.0, 2 * np.pi, count)
    lon, lat = to_lonlat(x[nodes] + r * np.cos(a), y[nodes] + r * np.sin(a), UTM)
    capacity = rng.integers(300, 1500, count)
    return [
        Candidate(
            f"SCH-{i:05d}", f"school {i}", float(lat[i]), float(lon[i]), int(capacity[i]), None
        )
        for i in range(count)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=8000)
    parser.add_argument("--schools", type=int, default=0, help="default: a quarter of stations")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    from pollnet.plan.whatif import WhatIf, baseline_city

    city = generate(args.stations, args.seed)
    start = time.perf_counter()
    state = baseline_city(city)
    design_s = time.perf_counter() - start
    print(f"design of the plan ({len(city.stations):,} stations): {design_s:.1f} s (baseline)")
    records = [
        StationRecord(s.code, s.name, s.site, s.address, s.district, None, s.lat, s.lon,
                      s.voters, s.devices, s.critical)
        for s in city.stations
    ]  # fmt: skip
    buildings = schools(city, args.schools or len(records) // 4, args.seed)
    phases: dict[str, float] = {}
    start = time.perf_counter()
    backups = {b.station: b.status for b in lte_backup(records, city.towers)}
    phases["LTE backup"] = time.perf_counter() - start
    start = time.perf_counter()
    fibre = fibre_distances(records, city.existing_fiber, city.exchanges)
    phases["distance to fibre"] = time.perf_counter() - start
    start = time.perf_counter()
    pricing = PlanPricing(WhatIf(state))
    pricing.marginal_rial()
    phases["marginal costs"] = time.perf_counter() - start
    start = time.perf_counter()
    found = review_sites(records, pricing, buildings, backups=backups, fibre_m=fibre)
    phases["candidates priced"] = time.perf_counter() - start
    review_s = sum(phases.values())
    for name, seconds in phases.items():
        print(f"  {name}: {seconds:.2f} s")
    cheaper = [s for s in found.stations if s.cheaper]
    pairs = sum(len(s.cheaper) for s in found.stations)
    print(
        f"review of {len(found.stations):,} stations with {len(buildings):,} schools: "
        f"{review_s:.1f} s; {len(cheaper):,} stations with a cheaper school ({pairs:,} in all), "
        f"saving up to {found.saving_rial / 1e9:,.1f} billion rials"
    )
    print(f"ratio review/design {review_s / design_s:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
