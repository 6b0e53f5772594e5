"""The Steiner solver: invariants, trivial cases, bad input, forests, quality against the MIP."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import dijkstra, minimum_spanning_tree

from pollnet.plan.steiner import solve
from pollnet.plan.steiner.exact import solve_exact
from tests.plan.steiner._cases import assert_valid, edge_lists, random_instance

# A SteinLib-format instance written by hand (not downloaded): a 3x3 grid whose corners are
# terminals, with diagonal spokes to the centre. Its optimum (10) was proved by the MIP and
# checked by hand: four spokes of 2.5, against 12 along three sides of the border.
STP = """33D32945 STP File, STP Format Version 1.0
SECTION Comment
Name    "pollnet-grid3"
Creator "pollnet tests"
END

SECTION Graph
Nodes 9
Edges 16
E 1 2 2
E 2 3 2
E 4 5 2
E 5 6 2
E 7 8 2
E 8 9 2
E 1 4 2
E 4 7 2
E 2 5 2
E 5 8 2
E 3 6 2
E 6 9 2
E 1 5 2.5
E 3 5 2.5
E 7 5 2.5
E 9 5 2.5
END

SECTION Terminals
Terminals 4
T 1
T 3
T 7
T 9
END

EOF
"""


def parse_stp(text: str) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Nodes, edges (0-based) and terminals of a SteinLib STP text."""
    nodes, edges, terminals = 0, [], []
    for line in text.splitlines():
        parts = line.split()
        if parts[:1] == ["Nodes"]:
            nodes = int(parts[1])
        elif parts[:1] == ["E"]:
            edges.append((int(parts[1]) - 1, int(parts[2]) - 1, float(parts[3])))
        elif parts[:1] == ["T"]:
            terminals.append(int(parts[1]) - 1)
    u, v, w = (np.array(x) for x in zip(*edges, strict=True))
    return nodes, u.astype(np.int64), v.astype(np.int64), w, np.array(terminals, dtype=np.int64)


def test_steinlib_instance() -> None:
    n, u, v, w, terminals = parse_stp(STP)
    assert solve_exact(n, u, v, w, terminals).cost == pytest.approx(10.0)
    result = solve(n, u, v, w, terminals)
    assert_valid(result, n, u, v, w)
    assert result.cost == pytest.approx(10.0)
    assert sorted(result.edges.tolist()) == [12, 13, 14, 15]


def test_heuristic_against_exact_on_a_batch() -> None:
    gaps = []
    for seed in range(30):
        n, u, v, w, terminals = random_instance(seed)
        optimum = solve_exact(n, u, v, w, terminals).cost
        result = solve(n, u, v, w, terminals)
        assert_valid(result, n, u, v, w)
        assert result.cost >= optimum - 1e-9
        assert result.cost <= result.initial_cost + 1e-9
        gaps.append(result.cost / optimum - 1.0)
    assert np.mean(gaps) <= 0.02, gaps


@st.composite
def graphs(draw: st.DrawFn) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Small graphs (see :func:`edge_lists`) with some terminals."""
    n, u, v, w = draw(edge_lists(14, 30))
    terminals = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n))
    return n, u, v, w, np.array(terminals, dtype=np.int64)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(graphs())
def test_invariants_on_any_graph(case: tuple[int, np.ndarray, ...]) -> None:
    n, u, v, w, terminals = case
    result = solve(n, u, v, w, terminals)
    assert_valid(result, n, u, v, w)
    reached = np.setdiff1d(result.terminals, result.unreachable)
    assert np.array_equal(np.union1d(reached, result.unreachable), np.unique(terminals))
    if reached.size >= 2:
        optimum = solve_exact(n, u, v, w, reached).cost
        assert result.cost >= optimum - 1e-9
        assert result.cost <= optimum * 1.5 + 1e-9  # far inside Mehlhorn's factor 2
    again = solve(n, u, v, w, terminals)
    assert np.array_equal(again.edges, result.edges)


def test_one_terminal_and_none() -> None:
    u, v, w = np.array([0, 1]), np.array([1, 2]), np.array([1.0, 1.0])
    one = solve(3, u, v, w, [1])
    assert one.edges.size == 0 and one.cost == 0.0
    assert one.nodes.tolist() == [1] and one.unreachable.size == 0
    none = solve(3, u, v, w, [])
    assert none.edges.size == 0 and none.terminals.size == 0


def test_two_terminals_give_a_shortest_path() -> None:
    for seed in range(6):
        n, u, v, w, terminals = random_instance(seed)
        a, b = int(terminals[0]), int(terminals[1])
        result = solve(n, u, v, w, [a, b])
        distance = dijkstra(_cheapest(n, u, v, w), directed=False, indices=a)[b]
        assert result.cost == pytest.approx(distance)
        assert_valid(result, n, u, v, w)


def _cheapest(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    dense = np.full((n, n), np.inf)
    np.minimum.at(dense, (u, v), w)
    np.minimum.at(dense, (v, u), w)
    dense[np.isinf(dense)] = 0.0  # no edge (weights here are >= 1)
    return dense


def test_all_nodes_terminals_give_the_mst() -> None:
    for seed in range(10):
        n, u, v, w, _terminals = random_instance(seed)
        result = solve(n, u, v, w, np.arange(n))
        mst = minimum_spanning_tree(_cheapest(n, u, v, w)).sum()
        assert result.cost == pytest.approx(mst)
        assert result.nodes.size == n


def test_disconnected_terminals_are_reported() -> None:
    # Two components: {0, 1, 2} (three terminals) and {3, 4} (two).
    u, v, w = np.array([0, 1, 3]), np.array([1, 2, 4]), np.array([1.0, 2.0, 5.0])
    result = solve(6, u, v, w, [0, 2, 3, 4, 1, 5])
    assert result.edges.tolist() == [0, 1]
    assert result.unreachable.tolist() == [3, 4, 5]
    # A tie in terminal count goes to the component of the smallest terminal.
    tie = solve(5, u, v, w, [3, 4, 2, 0])
    assert tie.edges.tolist() == [0, 1] and tie.unreachable.tolist() == [3, 4]


def test_parallel_zero_and_infinite_edges() -> None:
    u = np.array([0, 0, 1, 1, 2, 0])
    v = np.array([1, 1, 2, 2, 0, 2])
    w = np.array([4.0, 3.0, 0.0, 0.0, np.inf, 9.0])
    result = solve(3, u, v, w, [0, 2])
    assert result.edges.tolist() == [1, 2]  # the cheaper parallel edge; the first of equals
    assert result.cost == 3.0


def test_bad_input_raises() -> None:
    with pytest.raises(ValueError, match="negative"):
        solve(2, [0], [1], [-1.0], [0, 1])
    with pytest.raises(ValueError, match="NaN"):
        solve(2, [0], [1], [np.nan], [0, 1])
    with pytest.raises(ValueError, match="outside"):
        solve(2, [0], [2], [1.0], [0, 1])
    with pytest.raises(ValueError, match="terminals"):
        solve(2, [0], [1], [1.0], [0, 7])
    with pytest.raises(ValueError, match="differ in length"):
        solve(2, [0], [1, 0], [1.0], [0, 1])


def test_forest_from_roots_matches_a_virtual_root() -> None:
    for seed in range(8):
        n, u, v, w, terminals = random_instance(seed)
        roots = np.array([0, n - 1], dtype=np.int64)
        forest = solve(n, u, v, w, terminals, roots=roots)
        assert_valid(forest, n, u, v, w, roots)
        assert forest.root == -1 and forest.unreachable.size == 0
        # The same problem built by hand: one extra node joined to the roots at zero cost.
        vu = np.concatenate([u, [n, n]])
        vv = np.concatenate([v, roots])
        vw = np.concatenate([w, [0.0, 0.0]])
        optimum = solve_exact(n + 1, vu, vv, vw, np.append(terminals, n)).cost
        assert forest.cost >= optimum - 1e-9
        assert forest.cost <= optimum * 1.05 + 1e-9
        # Each tree of the forest holds exactly one root, and every terminal hangs from one.
        heads = np.flatnonzero((forest.parent < 0) & np.isin(np.arange(n), forest.nodes))
        assert set(heads.tolist()) <= set(roots.tolist())
        for t in terminals.tolist():
            x = t
            while forest.parent[x] >= 0:
                x = int(forest.parent[x])
            assert x in roots.tolist()


def test_forest_reports_terminals_no_root_reaches() -> None:
    u, v, w = np.array([0, 1, 3]), np.array([1, 2, 4]), np.array([1.0, 2.0, 5.0])
    result = solve(5, u, v, w, [2, 3, 4], roots=[0])
    assert result.edges.tolist() == [0, 1]
    assert result.unreachable.tolist() == [3, 4]
    nobody = solve(5, u, v, w, [3], roots=[0])
    assert nobody.edges.size == 0 and nobody.unreachable.tolist() == [3]


def test_forest_terminal_on_a_root_costs_nothing() -> None:
    result = solve(3, [0, 1], [1, 2], [1.0, 1.0], [0, 2], roots=[0, 2])
    assert result.edges.size == 0 and result.cost == 0.0 and result.unreachable.size == 0


def test_deterministic_on_a_street_like_grid() -> None:
    rng = np.random.default_rng(3)
    side = 40
    x, y = np.meshgrid(np.arange(side), np.arange(side))
    node = (y * side + x).ravel()
    right = node[(node % side) < side - 1]
    up = node[node < side * (side - 1)]
    u = np.concatenate([right, up])
    v = np.concatenate([right + 1, up + side])
    keep = rng.random(u.size) > 0.15
    u, v = u[keep], v[keep]
    w = rng.uniform(50, 150, u.size)
    terminals = rng.choice(side * side, 60, replace=False)
    first = solve(side * side, u, v, w, terminals)
    second = solve(side * side, u.copy(), v.copy(), w.copy(), terminals[::-1].copy())
    assert np.array_equal(first.edges, second.edges) and first.cost == second.cost
    assert_valid(first, side * side, u, v, w)
    assert first.cost <= first.initial_cost
