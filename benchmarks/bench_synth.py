"""Benchmark: the synthetic city of 10,000 stations on a ~300,000-node street network.

Measures :func:`pollnet.datasets.generate` (streets, districts, schools and stations, exchanges,
towers, fiber; vectorised numpy) against two baselines measured in the same run:

1. *networkx graph construction* of the same city: an ``nx.Graph`` built from the generated
   arrays (nodes with coordinates and district, edges with length, class, names and district)
   and its main connected component. It generates nothing, only builds and checks the graph
   that ``generate`` hands out as arrays.
2. *a plain Python loop variant* of the local-street stage (the largest stage: every lattice
   step of every row and column, segment removal, cul-de-sacs), fed the same lattice and the
   same random draws; its edges are checked identical to the vectorised stage's.

Run: ``.venv/bin/python benchmarks/bench_synth.py [--stations N] [--repeat K]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import networkx as nx
import numpy as np

from pollnet.datasets import SyntheticCity, generate, write
from pollnet.datasets import _lattice as lattice_mod
from pollnet.datasets._lattice import RESIDENTIAL, Edges, Lattice, local_streets, make_lattice
from pollnet.datasets.synth import MIN_NODES, NODES_PER_STATION


def networkx_baseline(city: SyntheticCity) -> float:
    """Seconds to build the city's street graph in networkx and find its main component."""
    started = time.perf_counter()
    graph = nx.Graph()
    x, y = city.node_x.tolist(), city.node_y.tolist()
    lon, lat = city.node_lon.tolist(), city.node_lat.tolist()
    district = city.node_district.tolist()
    for k in range(city.node_count):
        graph.add_node(k, x=x[k], y=y[k], lon=lon[k], lat=lat[k], district=district[k])
    highway, name_fa, name_en = city.edge_highway, city.edge_name_fa, city.edge_name_en
    u, v, length = city.edge_u.tolist(), city.edge_v.tolist(), city.edge_length_m.tolist()
    edge_district = city.edge_district.tolist()
    for k in range(city.edge_count):
        graph.add_edge(
            u[k],
            v[k],
            length=length[k],
            highway=highway[k],
            name=name_fa[k],
            name_en=name_en[k],
            district=edge_district[k],
        )
    main = max(nx.connected_components(graph), key=len)
    dead_ends = sum(1 for _, d in graph.degree() if d == 1)
    assert len(main) >= 0.9 * graph.number_of_nodes() and dead_ends > 0
    return time.perf_counter() - started


def loop_local_streets(
    lattice: Lattice, rng: np.random.Generator, horizontal: bool
) -> list[tuple[int, int]]:
    """The local-street stage written as plain Python loops; returns the kept (u, v) pairs."""
    nx, ny = lattice.nx, lattice.ny
    inside, hood = lattice.inside.tolist(), lattice.hood.tolist()
    if horizontal:
        steps = [(i * nx + j, i * nx + j + 1, i, j) for i in range(ny) for j in range(nx - 1)]
        line_step, across_step = lattice.row_step.tolist(), lattice.col_step.tolist()
        city = lattice.row_class.tolist()
    else:
        steps = [(i * nx + j, (i + 1) * nx + j, j, i) for j in range(nx) for i in range(ny - 1)]
        line_step, across_step = lattice.col_step.tolist(), lattice.row_step.tolist()
        city = lattice.col_class.tolist()
    p_remove = lattice.p_remove.tolist()
    width = max(nx, ny) + 1
    candidates = []
    for a, b, line, along in steps:
        ha, hb = hood[a], hood[b]
        if not (inside[a] and inside[b]):
            continue
        if city[line] > 0:
            candidates.append((a, b, None))
        elif line % line_step[ha] == 0 and line % line_step[hb] == 0:
            step = across_step[ha]
            candidates.append(
                (a, b, (ha, step, along, (ha * width + line) * width + along // step))
            )
    segments = sorted({c[2][3] for c in candidates if c[2] is not None})
    number = {seg: k for k, seg in enumerate(segments)}
    draws = rng.random((3, len(segments))).tolist()
    kept = []
    for a, b, local in candidates:
        if local is not None:
            ha, step, along, seg = local
            k = number[seg]
            first_half = along % step < step // 2
            half = first_half if draws[2][k] < 0.5 else not first_half
            keep_half = step >= 2 and draws[1][k] < lattice_mod._CULDESAC_P and half
            if draws[0][k] < p_remove[ha] and not keep_half:
                continue
        kept.append((a, b))
    return kept


def local_street_stage(target_nodes: int, seed: int) -> tuple[float, float]:
    """Seconds of the vectorised and of the loop local-street stage on the same lattice."""
    lattice = make_lattice(target_nodes, np.random.default_rng(seed))
    started = time.perf_counter()
    edges = Edges()
    rng = np.random.default_rng([seed, 99])
    for horizontal in (True, False):
        local_streets(lattice, rng, edges, horizontal=horizontal)
    ours = time.perf_counter() - started
    u, v, cls, _ = edges.arrays()
    started = time.perf_counter()
    rng = np.random.default_rng([seed, 99])
    kept = [e for horizontal in (True, False) for e in loop_local_streets(lattice, rng, horizontal)]
    loop = time.perf_counter() - started
    assert kept == list(zip(u.tolist(), v.tolist(), strict=True)), "the loop variant differs"
    assert (cls == RESIDENTIAL).any()
    return ours, loop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    times = []
    city = None
    for _ in range(args.repeat):
        started = time.perf_counter()
        city = generate(args.stations, args.seed)
        times.append(time.perf_counter() - started)
    assert city is not None
    ours = statistics.median(times)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        write(city, Path(folder))
        write_s = time.perf_counter() - started
    baseline = networkx_baseline(city)
    target = max(MIN_NODES, round(args.stations * NODES_PER_STATION))
    stage, stage_loop = local_street_stage(target, args.seed)

    print(f"stations              {args.stations:,} (seed {args.seed})")
    print(f"street nodes / edges  {city.node_count:,} / {city.edge_count:,}")
    print(
        f"generate (median of {args.repeat})  {ours:.2f} s  ({city.node_count / ours:,.0f} nodes/s)"
    )
    print(f"  runs                {', '.join(f'{t:.2f}' for t in times)} s")
    print(f"write all files       {write_s:.2f} s")
    print(f"baseline: networkx graph construction of the same city  {baseline:.2f} s")
    print(f"ratio baseline / generate  {baseline / ours:.1f}x")
    print(f"local-street stage: vectorised {stage:.2f} s, plain Python loops {stage_loop:.2f} s")
    print(f"ratio loops / vectorised  {stage_loop / stage:.1f}x (identical edges)")


if __name__ == "__main__":
    main()
