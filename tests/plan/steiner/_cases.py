"""Graphs and checks shared by the Steiner solver's tests."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree

from pollnet.plan.steiner import SteinerResult

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
Instance = tuple[int, IntArray, IntArray, FloatArray, IntArray]


@st.composite
def edge_lists(
    draw: st.DrawFn, max_nodes: int, max_edges: int
) -> tuple[int, IntArray, IntArray, FloatArray]:
    """Small graphs, possibly disconnected, with zero weights, parallel edges and self loops."""
    n = draw(st.integers(1, max_nodes))
    m = draw(st.integers(0, max_edges))
    ends = st.integers(0, n - 1)
    u = np.array(draw(st.lists(ends, min_size=m, max_size=m)), dtype=np.int64)
    v = np.array(draw(st.lists(ends, min_size=m, max_size=m)), dtype=np.int64)
    w = np.array(draw(st.lists(st.integers(0, 9), min_size=m, max_size=m)), dtype=np.float64)
    return n, u, v, w


@st.composite
def tiny_graphs(draw: st.DrawFn, max_nodes: int = 9) -> Instance:
    """Connected graphs of 2..``max_nodes`` nodes (a random tree plus up to 12 more edges,
    parallel ones and loops included), weights 0-9, any non-empty terminal set."""
    n = draw(st.integers(2, max_nodes))
    chain = [(i, draw(st.integers(0, i - 1))) for i in range(1, n)]  # connected
    extra = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=12))
    pairs = chain + extra
    w = draw(st.lists(st.integers(0, 9), min_size=len(pairs), max_size=len(pairs)))
    terminals = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    u = np.array([a for a, _ in pairs], dtype=np.int64)
    v = np.array([b for _, b in pairs], dtype=np.int64)
    return n, u, v, np.array(w, dtype=np.float64), np.array(terminals, dtype=np.int64)


def random_instance(seed: int, low: int = 20, high: int = 60) -> Instance:
    """A connected random graph of ``low..high`` nodes, integer weights 1-19, 3-8 terminals."""
    rng = np.random.default_rng([7, seed])
    n = int(rng.integers(low, high + 1))
    tree_v = np.array([rng.integers(0, i) for i in range(1, n)], dtype=np.int64)
    extra = int(n * rng.uniform(0.5, 2.0))
    u = np.concatenate([np.arange(1, n), rng.integers(0, n, extra)]).astype(np.int64)
    v = np.concatenate([tree_v, rng.integers(0, n, extra)]).astype(np.int64)
    w = rng.integers(1, 20, u.size).astype(np.float64)
    terminals = rng.choice(n, int(rng.integers(3, 9)), replace=False).astype(np.int64)
    return n, u, v, w, terminals


def assert_valid(
    result: SteinerResult,
    n: int,
    u: IntArray,
    v: IntArray,
    w: FloatArray,
    roots: IntArray | None = None,
) -> None:
    """The result is a tree (or forest) joining its reachable terminals, pruned, costed right."""
    edges = result.edges
    assert edges.dtype == np.int64
    assert np.array_equal(edges, np.unique(edges))
    assert abs(result.cost - float(w[edges].sum())) < 1e-9
    reached = np.setdiff1d(result.terminals, result.unreachable)
    if roots is not None:  # a terminal standing on a root needs no edge
        reached = np.setdiff1d(reached, roots)
    if edges.size == 0:
        return
    nodes = np.unique(np.concatenate([u[edges], v[edges]]))
    extra = np.setdiff1d(result.nodes, nodes)  # only terminals standing on roots
    assert set(nodes.tolist()) <= set(result.nodes.tolist())
    assert extra.size == 0 or (roots is not None and set(extra.tolist()) <= set(roots.tolist()))
    assert set(reached.tolist()) <= set(nodes.tolist())
    graph = coo_array((np.ones(edges.size), (u[edges], v[edges])), shape=(n, n))
    _count, labels = connected_components(graph, directed=False)
    trees = np.unique(labels[nodes]).size
    assert edges.size == nodes.size - trees, "a cycle"
    degree = np.bincount(np.concatenate([u[edges], v[edges]]), minlength=n)
    leaves = np.flatnonzero(degree == 1)
    if result.root >= 0:  # one tree: every leaf is a terminal
        assert trees == 1
        assert set(leaves.tolist()) <= set(result.terminals.tolist())
    has = result.parent >= 0
    e = result.parent_edge[has]
    child, parent = np.flatnonzero(has), result.parent[has]
    assert np.all(((u[e] == child) & (v[e] == parent)) | ((v[e] == child) & (u[e] == parent)))
    assert np.array_equal(np.sort(e), edges)


def brute_force(n: int, u: IntArray, v: IntArray, w: FloatArray, terminals: IntArray) -> float:
    """The optimum by trying every set of Steiner nodes (MST of the induced subgraph)."""
    terminals = np.unique(terminals)
    others = np.setdiff1d(np.arange(n), terminals)
    best = np.inf
    for k in range(others.size + 1):
        for extra in itertools.combinations(others.tolist(), k):
            nodes = np.concatenate([terminals, np.asarray(extra, dtype=np.int64)])
            best = min(best, _mst_cost(n, u, v, w, nodes))
    return float(best)


def _mst_cost(n: int, u: IntArray, v: IntArray, w: FloatArray, nodes: IntArray) -> float:
    inside = np.zeros(n, dtype=bool)
    inside[nodes] = True
    keep = inside[u] & inside[v] & (u != v)
    if nodes.size <= 1:
        return 0.0
    index = np.full(n, -1)
    index[nodes] = np.arange(nodes.size)
    a, b, ww = index[u[keep]], index[v[keep]], w[keep]
    # +1 on every weight (and -(k-1) after) keeps zero-weight edges in scipy's MST.
    best: dict[tuple[int, int], float] = {}
    for x, y, z in zip(a.tolist(), b.tolist(), ww.tolist(), strict=True):
        pair = (min(x, y), max(x, y))
        best[pair] = min(best.get(pair, np.inf), z)
    if not best:
        return np.inf
    rows = np.array([p[0] for p in best])
    cols = np.array([p[1] for p in best])
    vals = np.array(list(best.values())) + 1.0
    graph = coo_array((vals, (rows, cols)), shape=(nodes.size, nodes.size))
    count, _labels = connected_components(graph, directed=False)
    if count > 1:
        return np.inf
    return float(minimum_spanning_tree(graph.tocsr()).sum()) - (nodes.size - 1)
