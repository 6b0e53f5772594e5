"""Benchmark: the synthetic city of 10,000 stations on a ~300,000-node street network.

Measures :func:`pollnet.datasets.generate` (streets, districts, schools and stations, exchanges,
towers, fiber; vectorised numpy) and, as the named baseline measured in the same run, *networkx
graph construction* of the same city: an ``nx.Graph`` built from the generated arrays (nodes with
their coordinates and district, edges with length, class, names and district) and its main
connected component. The baseline generates nothing; it only builds and checks the graph that
``generate`` hands out as arrays, so the ratio understates the gap to a networkx generator.

Run: ``.venv/bin/python benchmarks/bench_synth.py [--stations N] [--repeat K]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import networkx as nx

from pollnet.datasets import SyntheticCity, generate, write


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

    print(f"stations              {args.stations:,} (seed {args.seed})")
    print(f"street nodes / edges  {city.node_count:,} / {city.edge_count:,}")
    print(
        f"generate (median of {args.repeat})  {ours:.2f} s  ({city.node_count / ours:,.0f} nodes/s)"
    )
    print(f"  runs                {', '.join(f'{t:.2f}' for t in times)} s")
    print(f"write all files       {write_s:.2f} s")
    print(f"baseline: networkx graph construction of the same city  {baseline:.2f} s")
    print(f"ratio baseline / generate  {baseline / ours:.1f}x")


if __name__ == "__main__":
    main()
