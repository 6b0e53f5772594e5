"""The exact MIP reference against brute force, and its input checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from pollnet.plan.steiner.exact import solve_exact
from tests.plan.steiner._cases import brute_force, random_instance, tiny_graphs


@settings(max_examples=40, deadline=None, derandomize=True)
@given(tiny_graphs())
def test_exact_equals_brute_force(case: tuple[int, np.ndarray, ...]) -> None:
    n, u, v, w, terminals = case
    result = solve_exact(n, u, v, w, terminals)
    assert result.optimal
    assert result.cost == pytest.approx(brute_force(n, u, v, w, terminals), abs=1e-9)
    assert result.cost == pytest.approx(float(w[result.edges].sum()), abs=1e-9)


def test_exact_square_with_centre() -> None:
    # Corners 0-3 joined through centre 4 (weight 1 each) or along the sides (1.9 each).
    u = np.array([0, 1, 2, 3, 0, 1, 2, 3])
    v = np.array([4, 4, 4, 4, 1, 2, 3, 0])
    w = np.array([1, 1, 1, 1, 1.9, 1.9, 1.9, 1.9])
    result = solve_exact(5, u, v, w, [0, 1, 2, 3])
    assert result.optimal and result.cost == pytest.approx(4.0)
    assert result.edges.tolist() == [0, 1, 2, 3]
    assert result.bound == pytest.approx(4.0)


def test_exact_rejects_disconnected_terminals_and_negative_weights() -> None:
    with pytest.raises(ValueError, match="different connected components"):
        solve_exact(4, [0, 2], [1, 3], [1.0, 1.0], [0, 3])
    with pytest.raises(ValueError, match="negative"):
        solve_exact(2, [0], [1], [-1.0], [0, 1])


def test_exact_single_terminal_is_empty() -> None:
    result = solve_exact(3, [0, 1], [1, 2], [1.0, 1.0], [2])
    assert result.edges.size == 0 and result.cost == 0.0 and result.optimal


def test_exact_out_of_time_falls_back_on_the_heuristic_tree() -> None:
    # No time for HiGHS: with the reductions it still holds the heuristic's tree as its start
    # and returns it (a valid tree, its weight at least the bound); without, there is no tree.
    n, u, v, w, _terminals = random_instance(5, 300, 400)
    terminals = np.arange(0, n, 10)
    result = solve_exact(n, u, v, w, terminals, time_limit=0.0)
    nodes = np.unique(np.concatenate([u[result.edges], v[result.edges]]))
    assert set(terminals.tolist()) <= set(nodes.tolist())
    assert result.edges.size == nodes.size - 1
    assert result.cost == pytest.approx(float(w[result.edges].sum()))
    assert result.bound <= result.cost + 1e-9
    with pytest.raises(ValueError, match="no tree"):
        solve_exact(n, u, v, w, terminals, time_limit=0.0, reductions=False)
