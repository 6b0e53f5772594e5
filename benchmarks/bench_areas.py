"""Benchmark: which county holds each of 100,000 stations, and each street of a whole city.

Uses the five real counties of the Tehran electoral district (``../shared/data``, OpenStreetMap,
ODbL) and the synthetic city of 10,000 stations (``pollnet.datasets.synth``):

1. :meth:`pollnet.areas.AreaSet.locate` for ``--points`` uniform random points over the
   counties' bounding box (prepared polygons, vectorised), against the baseline *a shapely
   ``contains`` per point and polygon* (a Python loop, run on ``--brute`` points and scaled),
   with the answers checked equal on that subset;
2. :func:`pollnet.areas.assign_streets` on the city's street graph (every edge's midpoint).

Run: ``.venv/bin/python benchmarks/bench_areas.py [--points N] [--brute N] [--stations N]``
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import shapely

from pollnet.areas import AreaKind, AreaSet, assign_streets, read_areas

COUNTIES = (
    Path(__file__).resolve().parents[1].parent / "shared/data/tehran-electoral-district"
) / "counties.geojson"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--brute", type=int, default=2_000)
    parser.add_argument("--stations", type=int, default=10_000)
    args = parser.parse_args()
    path = (
        COUNTIES
        if COUNTIES.is_file()
        else Path("/work/shared") / COUNTIES.relative_to(COUNTIES.parents[2])
    )
    every = AreaSet(tuple(read_areas(path, kind="county")))
    polygons = [a.polygon for a in every]
    x0, y0, x1, y1 = shapely.union_all(polygons).bounds
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(x0, x1, args.points), rng.uniform(y0, y1, args.points)

    start = time.perf_counter()
    found = every.locate(AreaKind.COUNTY, lon, lat)
    ours = time.perf_counter() - start

    start = time.perf_counter()
    brute = np.full(args.brute, -1)
    for i in range(args.brute):
        point = shapely.Point(lon[i], lat[i])
        for k, polygon in enumerate(polygons):
            if polygon.contains(point):
                brute[i] = k
                break
    per_point = (time.perf_counter() - start) / args.brute
    assert np.array_equal(brute, found[: args.brute]), "the baseline disagrees"
    scaled = per_point * args.points
    print(f"machine: {platform.machine()} {platform.processor() or ''}".strip())
    print(
        f"points: {args.points:,} over {len(polygons)} counties; inside one: "
        f"{int((found >= 0).sum()):,}"
    )
    rate = args.points / ours
    print(f"locate (prepared polygons, vectorised): {ours:.3f} s ({rate:,.0f} points/s)")
    print(
        f"baseline contains per point (scaled from {args.brute:,}): {scaled:.2f} s "
        f"-> {scaled / ours:.0f}x"
    )

    from pollnet.datasets.synth import generate
    from pollnet.streets import from_city

    graph = from_city(generate(args.stations, 1))
    start = time.perf_counter()
    _, report = assign_streets(graph, every)
    streets = time.perf_counter() - start
    print(
        f"streets: {graph.num_edges:,} edges assigned in {streets:.3f} s; outside every "
        f"county: {report.outside_edges:,}"
    )


if __name__ == "__main__":
    main()
