"""The exact reduction tests beyond the degree tests: special distance and dual ascent.

Each test must remove nothing an optimal tree needs: on random small graphs the optimum of the
reduced graph is the caller's (brute force on both), and the reduced graph's optimal tree,
mapped back, is a tree of the caller's graph joining the terminals at the same weight. On
hand-made graphs each test removes what it should.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from pollnet.plan.steiner import _graph as sg
from pollnet.plan.steiner import _reduce as sr
from pollnet.plan.steiner import solve
from pollnet.plan.steiner.exact import solve_exact
from tests.plan.steiner._cases import Instance, brute_force, random_instance, tiny_graphs


def _assert_tree(
    n: int, u: np.ndarray, v: np.ndarray, edges: np.ndarray, terminals: np.ndarray
) -> None:
    """``edges`` form one tree holding every terminal."""
    if edges.size == 0:
        assert np.unique(terminals).size <= 1
        return
    nodes = np.unique(np.concatenate([u[edges], v[edges]]))
    assert set(np.unique(terminals).tolist()) <= set(nodes.tolist())
    graph = coo_array((np.ones(edges.size), (u[edges], v[edges])), shape=(n, n))
    _count, labels = connected_components(graph, directed=False)
    assert np.unique(labels[nodes]).size == 1
    assert edges.size == nodes.size - 1, "a cycle"


def _check(case: Instance, upper: float) -> sr.Reduction:
    n, u, v, w, terminals = case
    optimum = brute_force(n, u, v, w, terminals)
    reduction = sr.reduce_exact(n, u, v, w, terminals, upper)
    r = reduction.reduced
    local = r.local[np.unique(terminals)]
    assert (local >= 0).all()
    assert brute_force(r.num_nodes, r.u, r.v, r.w, local) == pytest.approx(optimum, abs=1e-9)
    assert reduction.lower_bound <= optimum + 1e-9
    if np.unique(terminals).size >= 2:
        on_reduced = solve_exact(r.num_nodes, r.u, r.v, r.w, local, reductions=False)
        edges = r.caller_edges(on_reduced.edges)
        _assert_tree(n, u, v, edges, terminals)
        assert float(w[edges].sum()) == pytest.approx(optimum, abs=1e-9)
    return reduction


@settings(max_examples=30, deadline=None, derandomize=True)
@given(tiny_graphs(max_nodes=10))
def test_reductions_keep_the_optimum_against_a_heuristic_bound(case: Instance) -> None:
    n, u, v, w, terminals = case
    _check(case, solve(n, u, v, w, terminals).cost)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(tiny_graphs(max_nodes=10))
def test_reductions_keep_the_optimum_when_the_bound_is_the_optimum(case: Instance) -> None:
    # The tightest upper bound: ties everywhere (weights 0-9) and nothing to spare.
    n, u, v, w, terminals = case
    _check(case, brute_force(n, u, v, w, terminals))


@pytest.mark.parametrize("seed", range(6))
def test_reductions_keep_the_optimum_on_random_graphs(seed: int) -> None:
    n, u, v, w, terminals = random_instance(seed)
    plain = solve_exact(n, u, v, w, terminals, reductions=False)
    reduced = solve_exact(n, u, v, w, terminals)
    assert plain.optimal and reduced.optimal
    assert reduced.cost == pytest.approx(plain.cost, abs=1e-9)
    _assert_tree(n, u, v, reduced.edges, terminals)
    assert reduced.bound <= plain.cost + 1e-9
    sizes = [(step.nodes, step.edges) for step in reduced.steps]
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] < sizes[0]


def _graph(n: int, edges: list[tuple[int, int, float]]) -> sg.SimpleGraph:
    u = np.array([a for a, _, _ in edges], dtype=np.int64)
    v = np.array([b for _, b, _ in edges], dtype=np.int64)
    w = np.array([c for _, _, c in edges], dtype=np.float64)
    return sg.simple_graph(n, u, v, w)


def _removed(g: sg.SimpleGraph, mask: np.ndarray) -> set[tuple[int, int]]:
    return {(int(g.lo[e]), int(g.hi[e])) for e in np.flatnonzero(mask)}


def test_special_distance_removes_an_edge_longer_than_its_bottleneck() -> None:
    # x=0 and y=1 joined by a 10 edge, or by 0-2-3-1 through the terminals 2 and 3 (4 + 4 + 4:
    # longer than 10 as a path, but no stretch between terminals is as long as 10). Every node
    # also has a 20 edge to the hub 4, so nothing has degree two.
    edges = [(0, 1, 10.0), (0, 2, 4.0), (2, 3, 4.0), (3, 1, 4.0)]
    edges += [(x, 4, 20.0) for x in range(4)]
    g = _graph(5, edges)
    terminals = np.array([2, 3])
    # Only the 10 edge goes: every route into the hub has a 20 stretch, as long as its edges.
    assert _removed(g, sr.steiner_distance(g, terminals)) == {(0, 1)}
    # With only 0 and 1 as terminals, the 12 route is one stretch longer than 10: it stays.
    assert not sr.steiner_distance(g, np.array([0, 1])).any()


def test_special_distance_keeps_an_edge_with_an_equally_long_route() -> None:
    # A square of 5 edges with terminals at two opposite corners: each side has a route of
    # stretches exactly as long (through the other terminal), so none may go.
    g = _graph(4, [(0, 1, 5.0), (1, 2, 5.0), (2, 3, 5.0), (3, 0, 5.0)])
    assert not sr.steiner_distance(g, np.array([0, 2])).any()


def test_bound_test_removes_the_detour_and_proves_the_optimum() -> None:
    # Terminals 0 and 1 (edge of 1); nodes 2 and 3 hang between them on 5 and 7 edges.
    g = _graph(4, [(0, 1, 1.0), (0, 2, 5.0), (1, 2, 5.0), (2, 3, 1.0), (3, 0, 7.0), (3, 1, 7.0)])
    lower, edge_out, node_out = sr.bound_test(g, np.array([0, 1]), 0, upper=1.0)
    assert lower == pytest.approx(1.0)
    assert node_out.tolist() == [False, False, True, True]
    assert _removed(g, edge_out) == {(0, 2), (1, 2), (2, 3), (0, 3), (1, 3)}
    # With a weak upper bound (a tree of 11) node 2 (a tree through it costs at least 10)
    # stays, node 3 (at least 1 + 7 + 6 = 14) goes.
    _lower, _edges, node_out = sr.bound_test(g, np.array([0, 1]), 0, upper=11.0)
    assert node_out.tolist() == [False, False, False, True]


def test_dual_ascent_bound_is_the_optimum_on_a_tree() -> None:
    # A star: the optimum is the three arms; dual ascent finds the full bound from any root.
    g = _graph(4, [(0, 3, 2.0), (1, 3, 3.0), (2, 3, 4.0)])
    for root in range(3):
        lower, _edges, _nodes = sr.bound_test(g, np.array([0, 1, 2]), root, upper=9.0)
        assert lower == pytest.approx(9.0)


def test_reduce_exact_maps_back_through_several_rounds() -> None:
    n, u, v, w, terminals = random_instance(3)
    optimum = solve_exact(n, u, v, w, terminals, reductions=False).cost
    reduction = sr.reduce_exact(n, u, v, w, terminals, solve(n, u, v, w, terminals).cost)
    names = [step.name for step in reduction.steps]
    assert names[0] == "degree" and "special distance" in names and "bound" in names
    r = reduction.reduced
    assert r.num_nodes < n and r.u.size < u.size
    assert reduction.lower_bound <= optimum + 1e-9
    # Every kept node and edge stands for a caller's one; removed ones map to -1.
    assert np.array_equal(r.local[r.node], np.arange(r.num_nodes))
    kept = r.edge_of[r.edge_of >= 0]
    assert set(kept.tolist()) <= set(range(r.u.size))
