from dataclasses import replace

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from networkx.algorithms.connectivity import local_edge_connectivity

from pollnet.errors import UserError
from pollnet.model import ExistingFiber
from pollnet.plan import PlanParameters, design, load_costs, plan_network
from pollnet.plan.design import MSG_NO_SECOND_ROUTE, fiber_edges
from pollnet.plan.model import Plan
from tests.plan._graphs import exchange, graph, inputs, lonlat, station

pytest.importorskip("pollnet.plan.steiner")


def street_m(plan: Plan) -> float:
    return sum(t.length_m for t in plan.trenches if t.edge >= 0)


def test_two_stations_share_the_trench_to_their_branch() -> None:
    #  X0 --100-- 1 --100-- 2 (S0)
    #             |
    #            100
    #             |
    #             3 (S1)
    g = graph([(0, 0), (100, 0), (200, 0), (100, -100)], [(0, 1), (1, 2), (1, 3)])
    plan = design(inputs(g, [2, 3], [0]), load_costs(), PlanParameters())
    assert street_m(plan) == pytest.approx(300.0)
    shared = next(t for t in plan.trenches if t.edge >= 0 and t.stations_behind == 2)
    assert shared.length_m == pytest.approx(100.0)
    assert plan.totals.connected == 2
    # the splitter sits at the branch node: one feeder fiber on the shared trench
    (splitter,) = [s for s in plan.splices if s.kind == "splitter"]
    assert (splitter.lon, splitter.lat) == pytest.approx((g.node_lon[1], g.node_lat[1]))
    feeder = [r for r in plan.cable_runs if shared.id in r.trench_ids]
    assert [r.fibers_used for r in feeder] == [1]
    at_exchange = design(
        inputs(g, [2, 3], [0]), load_costs(), PlanParameters(splitter_placement="exchange")
    )
    feeder = [r for r in at_exchange.cable_runs if shared.id in r.trench_ids]
    assert [r.fibers_used for r in feeder] == [2]


def test_cores_follow_the_stations_downstream() -> None:
    # 20 stations at the end of a 3-edge line, splitters in the exchange: 20 fibers -> 48 cores
    g = graph([(0, 0), (100, 0), (200, 0), (300, 0)], [(0, 1), (1, 2), (2, 3)])
    plan = design(
        inputs(g, [3] * 20, [0]),
        load_costs(),
        PlanParameters(splitter_placement="exchange", split=32),
    )
    runs = [r for r in plan.cable_runs if not r.redundant]
    assert len(runs) == 1 and runs[0].cores == 48 and runs[0].fibers_used == 20
    assert runs[0].stations_downstream == 20


def test_exchange_capacity_is_respected() -> None:
    # a line of 11 nodes, exchanges at both ends; X0 can serve 1 port x 4 stations
    g = graph([(100 * i, 0) for i in range(11)], [(i, i + 1) for i in range(10)])
    plan = design(
        inputs(g, [1, 2, 3, 4, 5, 6], [0, 10], ports=[1, 1]), load_costs(), PlanParameters(split=4)
    )
    by_exchange = {x.code: x.stations for x in plan.exchanges}
    assert by_exchange == {"X0": 4, "X1": 2}
    assert plan.totals.connected == 6
    # with too few ports everywhere, the rest is flagged, never dropped silently
    full = design(
        inputs(g, [*list(range(1, 10)), 5], [0, 10], ports=[1, 1]),
        load_costs(),
        PlanParameters(split=4),
    )
    assert full.totals.connected == 8
    flagged = [s for s in full.stations if s.status == "flagged"]
    assert len(flagged) == 2 and all(f.code == "no_capacity" for s in flagged for f in s.flags)


def test_a_station_over_budget_is_flagged_with_a_smaller_split() -> None:
    g = graph([(0, 0), (12_000, 0), (24_500, 0)], [(0, 1), (1, 2)])
    plan = design(inputs(g, [2], [0]), load_costs(), PlanParameters(split=32))
    (s,) = plan.stations
    assert s.status == "flagged" and s.budget is not None and not s.budget.ok
    (flag,) = s.flags
    assert flag.code == "budget_exceeded" and flag.params["split"] == 16
    assert "1:16" in flag.render("en")


def test_critical_station_gets_a_trench_disjoint_second_route() -> None:
    # a square ring: the station at the far corner can be reached both ways round
    g = graph([(0, 0), (100, 0), (100, 100), (0, 100)], [(0, 1), (1, 2), (2, 3), (3, 0)])
    plan = design(inputs(g, [2], [0], critical=[0]), load_costs(), PlanParameters())
    (s,) = plan.stations
    assert s.redundant is not None and s.redundant.extra_cost_rial > 0
    first = {i for i in s.route_trench_ids if plan.trenches[i].edge >= 0}
    second = {i for i in s.redundant.trench_ids if plan.trenches[i].edge >= 0}
    assert first and second and not first & second
    assert plan.totals.redundancy_cost_rial == pytest.approx(s.redundant.extra_cost_rial, rel=1e-6)


def test_flags_for_far_unreachable_duplicate_and_outside_stations() -> None:
    # main street with the exchange; an island street no exchange reaches
    g = graph([(0, 0), (200, 0), (400, 0), (5000, 0), (5200, 0)], [(0, 1), (1, 2), (3, 4)])
    ok = station("OK", *lonlat(g, 200, 20))
    twin = station("TWIN", *lonlat(g, 200, 20), site="another school")
    far = station("FAR", *lonlat(g, 200, 600))
    island = station("ISL", *lonlat(g, 5100, 20))
    away = station("AWAY", *lonlat(g, 90_000, 0))
    x = exchange("X", *lonlat(g, 0, 15))
    plan = plan_network(g, [ok, twin, far, island, away], [x])
    codes = {s.code: (s.status, tuple(f.code for f in s.flags)) for s in plan.stations}
    assert codes["OK"] == ("connected", ("duplicate_coordinates",))
    assert codes["TWIN"] == ("connected", ("duplicate_coordinates",))
    assert codes["FAR"] == ("flagged", ("far_from_street",))
    assert codes["ISL"] == ("flagged", ("unreachable",))
    assert codes["AWAY"] == ("flagged", ("outside_area",))
    assert plan.totals.connected == 2 and plan.totals.flagged == 3


def test_no_exchanges_is_a_user_error() -> None:
    g = graph([(0, 0), (100, 0)], [(0, 1)])
    with pytest.raises(UserError):
        plan_network(g, [station("S", *lonlat(g, 50, 10))], [])


@st.composite
def grids(draw: st.DrawFn) -> tuple[int, int, list[tuple[int, int]], list[int], list[int]]:
    w, h = draw(st.integers(2, 5)), draw(st.integers(2, 5))
    edges = [(r * w + c, r * w + c + 1) for r in range(h) for c in range(w - 1)]
    edges += [(r * w + c, (r + 1) * w + c) for r in range(h - 1) for c in range(w)]
    keep = draw(st.lists(st.booleans(), min_size=len(edges), max_size=len(edges)))
    edges = [e for e, k in zip(edges, keep, strict=True) if k] or edges[:1]
    n = w * h
    stations = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=8))
    exchanges = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3, unique=True))
    return w, h, edges, stations, exchanges


def _check_path(plan: Plan, g: object, ids: tuple[int, ...], start: int, end: int) -> None:
    edges = [plan.trenches[i].edge for i in ids if plan.trenches[i].edge >= 0]
    path = nx.MultiGraph()
    path.add_nodes_from([start, end])
    for e in edges:
        path.add_edge(int(g.edge_u[e]), int(g.edge_v[e]))  # type: ignore[attr-defined]
    assert nx.has_path(path, start, end)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grids())
def test_every_reachable_station_is_connected_and_second_routes_are_disjoint(
    case: tuple[int, int, list[tuple[int, int]], list[int], list[int]],
) -> None:
    w, h, edges, stations, exchanges = case
    g = graph([(150 * (i % w), 150 * (i // w)) for i in range(w * h)], edges)
    nodes_in = set(g.edge_u.tolist()) | set(g.edge_v.tolist())
    full = nx.Graph(list(zip(g.edge_u.tolist(), g.edge_v.tolist(), strict=True)))
    stations = [s for s in stations if s in nodes_in]
    exchanges = [x for x in exchanges if x in nodes_in]
    if not stations or not exchanges:
        return
    plan = design(
        inputs(g, stations, exchanges, critical=list(range(len(stations)))),
        load_costs(),
        PlanParameters(),
    )
    code_node = {f"X{i}": n for i, n in enumerate(exchanges)}
    for s, node in zip(plan.stations, stations, strict=True):
        reachable = any(nx.has_path(full, node, x) for x in exchanges)
        assert (s.status == "connected") == reachable
        if not reachable:
            assert [f.code for f in s.flags] == ["unreachable"]
            continue
        assert s.exchange is not None
        _check_path(plan, g, s.route_trench_ids, code_node[s.exchange], node)
        if s.redundant is not None:
            first = {plan.trenches[i].edge for i in s.route_trench_ids} - {-1}
            second = {plan.trenches[i].edge for i in s.redundant.trench_ids} - {-1}
            assert not first & second
            _check_path(plan, g, s.redundant.trench_ids, code_node[s.redundant.exchange], node)
        elif node not in exchanges:
            # flagged: the reason says whether the streets allow two disjoint routes at all
            (flag,) = [f for f in s.flags if f.code == "no_second_route"]
            flow = full.copy()
            for x in exchanges:
                flow.add_edges_from(
                    [("src", ("a", x)), (("a", x), x), ("src", ("b", x)), (("b", x), x)]
                )
            pairs = local_edge_connectivity(flow, "src", node) >= 2
            assert (flag.message == MSG_NO_SECOND_ROUTE) == pairs
    assert plan.totals.cost_rial == pytest.approx(sum(b.total_rial for b in plan.bom), rel=1e-9)


def test_existing_fiber_is_used_and_an_over_budget_route_moves_to_a_nearer_exchange() -> None:
    # X0 -- 1 km of street -- S -- 26 km of street carrying existing fiber -- X1
    g = graph([(0, 0), (1000, 0), (27_000, 0)], [(0, 1), (1, 2)])
    base = inputs(g, [1], [0, 2])
    fiber = ExistingFiber(
        "F1",
        (
            (float(g.node_lon[1]), float(g.node_lat[1])),
            (float(g.node_lon[2]), float(g.node_lat[2])),
        ),
    )
    plan = design(replace(base, fibers=(fiber,)), load_costs(), PlanParameters())
    (s,) = plan.stations
    # the free ride along the fiber from X1 is 26 km: too long for the optical budget, so the
    # station is moved to X0, 1 km away, and passes
    assert s.status == "connected" and s.exchange == "X0"
    assert s.budget is not None and s.budget.ok and s.budget.fiber_km < 1.1
    alone = design(
        replace(
            base,
            exchanges=base.exchanges[1:],
            exchange_node=base.exchange_node[1:],
            exchange_drop_m=base.exchange_drop_m[1:],
            fibers=(fiber,),
        ),
        load_costs(),
        PlanParameters(),
    )
    (far,) = alone.stations
    assert [t.method for t in alone.trenches if t.edge >= 0] == ["existing_fiber"]
    assert far.status == "flagged" and far.flags[0].code == "budget_exceeded"


def test_a_fiber_line_without_spare_fibres_is_not_reused() -> None:
    g = graph([(0, 0), (1000, 0), (2000, 0)], [(0, 1), (1, 2)])
    line = tuple((float(g.node_lon[i]), float(g.node_lat[i])) for i in (0, 1, 2))
    spare = ExistingFiber("F1", line, spare_fibres=4)
    full = ExistingFiber("F2", line, spare_fibres=0, free_ducts=1)
    assert fiber_edges(g, [spare], 15.0).tolist() == [True, True]
    assert fiber_edges(g, [ExistingFiber("F3", line)], 15.0).tolist() == [True, True]
    assert fiber_edges(g, [full], 15.0).tolist() == [False, False]


def test_a_street_segment_split_by_a_station_needs_one_permit() -> None:
    # X --200-- A --200-- B on one primary street segment (dug by micro-trench, which needs a
    # permit): A's attachment splits it in two pieces.
    g = graph([(0, 0), (400, 0)], [(0, 1)], street="primary")
    costs = load_costs()

    def civil(length_m: float) -> float:  # trench, restoration and a whole permit
        prices = costs.edge_prices(g.class_names, g.edge_class, np.array([length_m]))
        return float(prices.civil_rial[0])

    x = exchange("X", *lonlat(g, 0, 15))
    a = station("A", *lonlat(g, 200, 20))
    b = station("B", *lonlat(g, 400, 20))

    both = plan_network(g, [a, b], [x], costs=costs)
    pieces = [t for t in both.trenches if t.edge >= 0]
    assert len(pieces) == 2 and {t.street_segment for t in pieces} == {0}
    assert {t.method for t in pieces} == {"micro_trench"}
    assert sum(t.length_m for t in pieces) == pytest.approx(400.0)
    assert sum(t.cost_rial for t in pieces) == pytest.approx(civil(400.0))  # one permit, not two

    one = plan_network(g, [a], [x], costs=costs)
    (piece,) = [t for t in one.trenches if t.edge >= 0]
    assert piece.length_m == pytest.approx(200.0, abs=0.01)  # (positions kept to 1e-7 degrees)
    assert piece.cost_rial == pytest.approx(civil(piece.length_m))  # a whole permit all the same
