"""Benchmark: matching a fiber import's lines onto the street graph
(:func:`pollnet.plan.design.street_metres_along`, what ``pollnet fiber import`` runs).

The synthetic city's street graph and existing fiber lines, each line also split into pieces of
a few hundred metres (a company's file lists cable sections, not whole routes). Baseline,
measured in the same run on the same lines: the plain way, the planner's own
:func:`pollnet.plan.design.fiber_edges` once per line (one KD-tree and one pass over every street
edge per line), its street metres checked equal to ours.

Run: ``.venv/bin/python benchmarks/bench_fiber_match.py [--stations 10000] [--piece-points 8]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from pollnet.datasets import generate
from pollnet.model import ExistingFiber
from pollnet.plan.design import fiber_edges, street_metres_along
from pollnet.streets import from_city


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=10_000)
    parser.add_argument("--piece-points", type=int, default=8, help="points per line section")
    parser.add_argument("--tolerance-m", type=float, default=15.0)
    args = parser.parse_args()
    city = generate(args.stations, 1)
    graph = from_city(city)
    step = args.piece_points
    lines = [
        ExistingFiber(f"{f.code}-{i}", f.coords[i : i + step + 1])
        for f in city.existing_fiber
        for i in range(0, len(f.coords) - 1, step)
    ]
    print(
        f"city: {args.stations:,} stations, {graph.num_edges:,} street edges, "
        f"{len(lines):,} fiber line sections"
    )
    start = time.perf_counter()
    ours = street_metres_along(graph, lines, args.tolerance_m)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    plain = np.array(
        [float(graph.edge_length_m[fiber_edges(graph, [f], args.tolerance_m)].sum()) for f in lines]
    )
    plain_s = time.perf_counter() - start
    assert np.allclose(ours, plain), "street metres differ from the per-line baseline"
    print(f"street_metres_along: {ours_s:.2f} s ({int((ours > 0).sum()):,} lines along streets)")
    print(f"baseline (fiber_edges per line): {plain_s:.2f} s")
    print(f"ratio: {plain_s / ours_s:.1f}x")


if __name__ == "__main__":
    main()
