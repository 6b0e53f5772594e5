"""The Steiner solver's reduction and compiled kernels, each against a plain reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.sparse.csgraph import dijkstra, minimum_spanning_tree

from pollnet.plan.steiner import _graph as sg
from pollnet.plan.steiner import _kernels as kernels
from pollnet.plan.steiner import _reduce as sr
from pollnet.plan.steiner.exact import solve_exact
from tests.plan.steiner._cases import edge_lists, random_instance


def bent_grid(size: int, bends: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """A ``size`` x ``size`` street grid (nodes ``0..size*size-1``) whose every block side has
    ``bends`` degree-2 nodes, and a dead-end street of three 10 m segments hanging off three
    corners (the last edges; the very last node is the far end of the last one)."""
    u: list[int] = []
    v: list[int] = []
    n = size * size

    def street(a: int, b: int | None, pieces: int) -> None:
        nonlocal n
        previous = a
        for _ in range(pieces - 1):
            u.append(previous)
            v.append(n)
            previous, n = n, n + 1
        u.append(previous)
        if b is None:
            b, n = n, n + 1
        v.append(b)

    for r in range(size):
        for c in range(size):
            x = r * size + c
            if c + 1 < size:
                street(x, x + 1, bends + 1)
            if r + 1 < size:
                street(x, x + size, bends + 1)
    for corner in (0, size - 1, size * size - 1):
        street(corner, None, 3)
    return n, np.array(u), np.array(v), np.full(len(u), 10.0)


def test_reduction_contracts_chains_and_peels_dead_ends() -> None:
    n, u, v, w = bent_grid(5, 3)
    terminals = np.array([0, 12, 24])
    reduced = sr.reduce(n, u, v, w, terminals)
    # What stays: the grid nodes but corners 4 and 20, which have two streets once the dead end
    # at 4 is peeled; each block side becomes one 40 m edge, and the two sides at either corner
    # one 80 m edge.
    corners = [4, 20]
    assert reduced.num_nodes == 23
    assert np.array_equal(reduced.node, np.setdiff1d(np.arange(25), corners))
    assert np.array_equal(reduced.local[corners], [-1, -1])
    assert np.array_equal(reduced.node[reduced.local[terminals]], terminals)
    assert sorted(reduced.w.tolist()) == [40.0] * 36 + [80.0] * 2
    # Every street edge stands for its block side; the dead ends stand for nothing.
    assert np.count_nonzero(reduced.edge_of < 0) == 9
    per_edge = np.bincount(reduced.edge_of[reduced.edge_of >= 0])
    assert np.array_equal(per_edge, np.where(reduced.w == 80.0, 8, 4))
    assert np.array_equal(reduced.caller_edges(np.arange(38)), np.flatnonzero(reduced.edge_of >= 0))


def test_reduction_keeps_terminals_on_chains_and_dead_ends() -> None:
    n, u, v, w = bent_grid(3, 2)
    leaf = n - 1  # the far end of the last dead end
    middle = 9  # the first bend node of the first block side
    reduced = sr.reduce(n, u, v, w, np.array([0, middle, leaf]))
    assert reduced.local[middle] >= 0 and reduced.local[leaf] >= 0
    path_to_leaf = reduced.edge_of[-3:]
    assert (path_to_leaf >= 0).all()


def test_reduction_drops_loops_cycles_and_bad_edges() -> None:
    # 0-1-2-0 is a loop through 0 (1 and 2 have degree two); 3-4-5-3 is a lone cycle; 0-6 with
    # 6 a terminal; a self loop at 6 and an infinite edge 0-6 are ignored.
    u = np.array([0, 1, 2, 3, 4, 5, 0, 6, 0])
    v = np.array([1, 2, 0, 4, 5, 3, 6, 6, 6])
    w = np.array([1.0, 1, 1, 1, 1, 1, 2, 1, np.inf])
    reduced = sr.reduce(7, u, v, w, np.array([0, 6]))
    assert reduced.num_nodes == 2
    assert np.array_equal(reduced.node, [0, 6])
    assert reduced.u.tolist() == [0] and reduced.v.tolist() == [1] and reduced.w.tolist() == [2.0]
    assert reduced.edge_of.tolist() == [-1, -1, -1, -1, -1, -1, 0, -1, -1]


@pytest.mark.parametrize("seed", range(12))
def test_reduction_keeps_the_optimum(seed: int) -> None:
    n, u, v, w, terminals = random_instance(seed, 15, 40)
    # Sparser than the solver's cases, so that chains and dead ends occur.
    keep = np.r_[np.arange(n - 1), n - 1 + np.flatnonzero(np.arange(u.size - n + 1) % 4 == 0)]
    u, v, w = u[keep], v[keep], w[keep]
    terminals = np.unique(terminals)
    reduced = sr.reduce(n, u, v, w, terminals)
    assert reduced.num_nodes < n
    optimum = solve_exact(n, u, v, w, terminals)
    on_reduced = solve_exact(
        reduced.num_nodes, reduced.u, reduced.v, reduced.w, reduced.local[terminals]
    )
    assert on_reduced.cost == pytest.approx(optimum.cost)
    expanded = reduced.caller_edges(on_reduced.edges)
    assert float(w[expanded].sum()) == pytest.approx(optimum.cost)


def reference_matrix(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Dense adjacency with the cheapest parallel edge (inf: none)."""
    dense = np.full((n, n), np.inf)
    for a, b, x in zip(u.tolist(), v.tolist(), w.tolist(), strict=True):
        if a != b:
            dense[a, b] = dense[b, a] = min(dense[a, b], x)
    return dense


@settings(max_examples=80, deadline=None, derandomize=True)
@given(edge_lists(30, 80), st.data())
def test_simple_graph_voronoi_and_boundary(
    graph: tuple[int, np.ndarray, np.ndarray, np.ndarray], data: st.DataObject
) -> None:
    n, u, v, w = graph
    g = sg.simple_graph(n, u, v, w)
    dense = reference_matrix(n, u, v, w)
    rebuilt = np.full((n, n), np.inf)
    rebuilt[g.lo, g.hi] = rebuilt[g.hi, g.lo] = g.weight
    assert np.array_equal(rebuilt, dense)
    assert np.array_equal(w[g.edge_id], g.weight)  # each simple edge is a cheapest caller edge
    rows = np.repeat(np.arange(n), np.diff(g.matrix.indptr))
    stored = np.full((n, n), np.inf)
    stored[rows, g.matrix.indices] = g.matrix.data
    assert np.array_equal(stored, dense)
    assert np.array_equal(g.lo[g.arc_edge], np.minimum(rows, g.matrix.indices))

    sources = np.array(sorted(data.draw(st.sets(st.integers(0, n - 1), min_size=1))))
    limit = data.draw(st.sampled_from([np.inf, 3.0, 0.0]))
    dist, pred, base = sg.voronoi(g, sources, limit)
    # scipy reads the CSR's explicit zeros as edges, like the kernel.
    expected = dijkstra(g.matrix, indices=sources, min_only=True, limit=limit)
    assert np.allclose(dist, expected)
    reached = np.isfinite(dist)
    assert np.isin(base[reached], sources).all() and (base[~reached] == -1).all()
    for x in np.flatnonzero(reached & (pred >= 0)).tolist():  # each node hangs off its pred
        assert dist[x] == pytest.approx(dist[pred[x]] + dense[x, pred[x]])
        assert base[x] == base[pred[x]]

    p, q, cross, length = sg.boundary(g, dist, base)
    assert (p < q).all() and np.all(np.diff(length) >= 0)
    assert np.unique(p * n + q).size == p.size
    for a, b, e, x in zip(p.tolist(), q.tolist(), cross.tolist(), length.tolist(), strict=True):
        ends = {int(base[g.lo[e]]), int(base[g.hi[e]])}
        assert ends == {a, b}
        assert x == pytest.approx(dist[g.lo[e]] + g.weight[e] + dist[g.hi[e]])
    # No crossing edge joins a pair more cheaply than the one reported (or an unreported pair).
    best = {(a, b): x for a, b, x in zip(p.tolist(), q.tolist(), length.tolist(), strict=True)}
    for e in range(g.num_edges):
        a, b = int(base[g.lo[e]]), int(base[g.hi[e]])
        if a >= 0 and b >= 0 and a != b:
            total = dist[g.lo[e]] + g.weight[e] + dist[g.hi[e]]
            assert best[(min(a, b), max(a, b))] <= total + 1e-12


@settings(max_examples=60, deadline=None, derandomize=True)
@given(edge_lists(30, 80), st.data())
def test_induced_mst_is_minimum(
    graph: tuple[int, np.ndarray, np.ndarray, np.ndarray], data: st.DataObject
) -> None:
    n, u, v, w = graph
    g = sg.simple_graph(n, u, v, w + 1.0)  # positive, so that scipy sees every edge
    nodes = np.array(sorted(data.draw(st.sets(st.integers(0, n - 1), min_size=1))))
    chosen = sg.induced_mst(g, nodes)
    inside = np.isin(g.lo, nodes) & np.isin(g.hi, nodes)
    assert inside[chosen].all() and np.array_equal(chosen, np.unique(chosen))
    induced = sparse.coo_array(
        (g.weight[inside], (g.lo[inside], g.hi[inside])), shape=(n, n)
    ).tocsr()
    assert g.weight[chosen].sum() == pytest.approx(minimum_spanning_tree(induced).sum())


def test_orient_gives_parents_towards_the_root() -> None:
    a = np.array([0, 1, 1, 5])
    b = np.array([1, 2, 3, 6])
    nodes, parent, edge = kernels.orient(7, a, b, 2)
    assert nodes.tolist() == [0, 1, 2, 3]
    assert parent.tolist() == [1, 2, -1, 1, -1, -1, -1]
    assert edge.tolist() == [0, 1, -1, 2, -1, -1, -1]
