"""What-if questions on a plan: marginal costs and candidate sites (pollnet.plan.whatif)."""

from __future__ import annotations

import numpy as np
import pytest

from pollnet.datasets.synth import generate
from pollnet.errors import UserError
from pollnet.plan import load_costs, whatif
from pollnet.plan.design import DesignState, design_state
from pollnet.plan.model import Plan
from pollnet.plan.params import PlanParameters

from ._graphs import graph, inputs, lonlat

pytest.importorskip("pollnet.plan.steiner")

FAST = PlanParameters(steiner_seconds=0)
CIVIL_ITEMS = (
    "Trench, open cut (with restoration and permits)",
    "Micro-trench (with restoration and permits)",
    "Aerial route on poles",
    "Cable in existing duct",
    "Spare cores of existing fiber",
    "Building drop",
)


def _tee() -> tuple[object, DesignState]:
    #  X0 --100-- 1 --100-- 2 (S0) --100-- 4
    #             |
    #            100
    #             |
    #             3 (S1)
    g = graph([(0, 0), (100, 0), (200, 0), (100, -100), (300, 0)], [(0, 1), (1, 2), (1, 3), (2, 4)])
    return g, design_state(inputs(g, [2, 3], [0]), load_costs(), FAST)


def _civil(plan: Plan) -> float:
    return sum(b.total_rial for b in plan.bom if b.item in CIVIL_ITEMS)


def test_marginal_cost_prunes_the_branch_back_to_the_branch_point() -> None:
    g, state = _tee()
    costs = state.costs
    ask = whatif.WhatIf(state)
    m = ask.marginal
    s0 = ask.index("S0")
    assert m.branch_node[s0] == 1 and m.branch_m[s0] == pytest.approx(100.0)
    assert m.trench_m[s0] == pytest.approx(100.0 + 10.0)  # its street branch and its drop
    edge = int(np.flatnonzero((g.edge_u == 1) & (g.edge_v == 2))[0])
    assert m.trench_rial[s0] == pytest.approx(state.prices.civil_rial[edge])
    assert m.cable_rial[s0] == pytest.approx(100.0 * costs.cable_per_m(12))
    drop = costs.value("drop", "fixed") + 10.0 * (
        costs.value("drop", "per_m") + costs.cable_per_m(12)
    )
    assert m.drop_rial[s0] == pytest.approx(drop)
    ont = costs.value("equipment", "ont") + 2 * costs.value("splice", "per_fiber")
    assert m.equipment_rial[s0] == pytest.approx(ont)  # two stations share one PON port
    # the trench metres and civil work match the plan assembled without the station
    before, after = state.plan(), ask.without(["S0"]).plan()
    assert before.totals.trench_m - after.totals.trench_m == pytest.approx(m.trench_m[s0])
    assert _civil(before) - _civil(after) == pytest.approx(
        m.trench_rial[s0] + drop - 10.0 * costs.cable_per_m(12)
    )
    assert after.totals.connected == 1


def test_a_candidate_on_the_tree_costs_its_drop_and_one_beyond_it_its_street() -> None:
    g, state = _tee()
    costs = state.costs
    ask = whatif.WhatIf(state)
    m = ask.marginal
    # a building 5 m beside S1's trench, halfway down: S0's branch pruned, it joins there
    (near,) = ask.candidates("S0", *lonlat(g, 105.0, -50.0))
    assert (
        near.exchange == 0
        and near.street_rial == 0.0
        and near.drop_m == pytest.approx(5.0, abs=0.05)
    )
    drop5 = costs.value("drop", "fixed") + near.drop_m * (
        costs.value("drop", "per_m") + costs.cable_per_m(12)
    )
    s0 = ask.index("S0")
    assert near.saving_rial == pytest.approx(m.first_route_rial[s0] - drop5 - m.equipment_rial[s0])
    assert near.route_m == pytest.approx(10.0 + 150.0 + 5.0, abs=0.05) and near.budget_ok
    # for S1, a building past S0 joins the tree at S0's node, 100 m of new street away
    (far,) = ask.candidates("S1", *lonlat(g, 300.0, 10.0))
    edge = int(np.flatnonzero((g.edge_u == 2) & (g.edge_v == 4))[0])
    assert far.street_m == pytest.approx(100.0, abs=0.05)
    assert far.street_rial == pytest.approx(state.prices.weight[edge], rel=1e-3)
    assert far.route_m == pytest.approx(10.0 + 300.0 + 10.0, abs=0.05)
    # searching only as far as the station's own cost: a dearer candidate is not found
    (capped,) = ask.candidates("S1", *lonlat(g, 300.0, 10.0), limit_rial=1.0)
    assert capped.exchange == -1 and capped.saving_rial == -np.inf


def test_unknown_or_unserved_station_is_a_user_error() -> None:
    _, state = _tee()
    with pytest.raises(UserError, match="T-404"):
        whatif.WhatIf(state).candidates("T-404", [51.4], [35.7])


@pytest.fixture(scope="module")
def city_state() -> DesignState:
    return whatif.baseline_city(generate(300, 7), params=FAST)


def test_marginal_costs_match_the_plan_without_each_station(city_state: DesignState) -> None:
    state = city_state
    ask = whatif.WhatIf(state)
    m = ask.marginal
    plan = state.plan()
    served = np.flatnonzero(state.owner >= 0)
    assert (m.total_rial[served] > 0).all() and (m.total_rial[state.owner < 0] == 0).all()
    ix = ask
    checked = 0
    cable12 = state.costs.cable_per_m(12)
    for s in served[::8].tolist():
        lay = state.layouts[int(state.owner[s])]
        branch = lay.tree.edge[ix.branch_of(s)]
        if s in state.routes or (ix.use[branch] > 1).any():
            continue  # a second route shares the branch: the plan's accounting keeps its cost
        after = ask.without([s]).plan()
        assert plan.totals.trench_m - after.totals.trench_m == pytest.approx(m.trench_m[s], abs=0.2)
        drop_cable = cable12 * state.inputs.station_drop_m[s] if m.drop_rial[s] else 0.0
        assert _civil(plan) - _civil(after) == pytest.approx(
            m.trench_rial[s] + m.drop_rial[s] - drop_cable,
            abs=10.0,  # BOM lines are whole rials
        )
        checked += 1
    assert checked >= 25


def test_a_candidate_at_the_station_itself_costs_no_more(city_state: DesignState) -> None:
    state = city_state
    ask = whatif.WhatIf(state)
    m = ask.marginal
    ix = ask
    for s in np.flatnonzero(state.owner >= 0)[::10].tolist():
        st = state.inputs.stations[s]
        (same,) = ask.candidates(s, st.lon, st.lat, limit_rial=np.inf)
        assert same.exchange >= 0
        # re-digging its own branch is one way back to the tree; the search finds the cheapest
        branch = state.layouts[int(state.owner[s])].tree.edge[ix.branch_of(s)]
        assert same.street_rial <= state.prices.weight[branch].sum() * (1 + 1e-9)
        assert same.saving_rial == pytest.approx(m.first_route_rial[s] - same.connect_rial)
