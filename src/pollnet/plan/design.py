"""The fiber network design: from streets, exchanges and stations to a :class:`Plan`.

Phases (each timed into ``Plan.phase_seconds``):

1. ``prices``: every street edge's price with its cheapest allowed method (the cost model), and
   the edges along existing fiber (no trench).
2. ``forest``: one Steiner forest from all exchanges to every reachable station (a virtual root
   joined to each exchange), so stations share trenches wherever that is cheaper.
3. ``capacity``: exchanges with more stations than PON ports x split shed their boundary
   stations to the nearest exchange with spare ports; those trees are solved again.
4. ``layout``: per exchange, PON ports of ``split`` neighbouring stations, a splitter at their
   branch point, fibers and cable sizes on every trench, cable runs and splice closures.
5. ``budget``: every station's optical budget; a failing station is flagged with the best
   alternative (a nearer exchange, or a smaller split).
6. ``redundancy``: a trench-disjoint second route for each critical station.
7. ``assemble``: trench segments, cable runs, splice points, bill of materials and totals.

Stations flagged before the design (too far from a street, outside the area, ...) and
stations on street components without an exchange are left out of the network and flagged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csgraph

from pollnet.errors import UserError
from pollnet.model import Exchange, ExistingFiber, Station
from pollnet.plan import _forest, redundancy
from pollnet.plan._assemble import Assembler
from pollnet.plan._trees import Layout, build_tree, lay_out
from pollnet.plan.budget import SPLITTER_LOSS_DB, optical_budget
from pollnet.plan.costs import CostModel, EdgePrices
from pollnet.plan.model import (
    FLAG_BUDGET,
    FLAG_NO_CAPACITY,
    FLAG_NO_SECOND_ROUTE,
    FLAG_UNREACHABLE,
    WARNING_CODES,
    Flag,
    OpticalBudget,
    Plan,
)
from pollnet.plan.params import PlanParameters
from pollnet.streets.graph import StreetGraph
from pollnet.streets.projection import to_xy

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

MSG_UNREACHABLE = (
    "no exchange reaches this station's part of the street network: import the streets that "
    "join it to the network (a wider extract, or more classes in [streets] classes)"
)
MSG_NO_ROUTE = (
    "no exchange reaches this station along streets the cost model lets fiber follow: allow a "
    "method for the street classes between them in the cost model ([plan] costs)"
)
MSG_NO_CAPACITY = (
    "every exchange that can reach this station has all its PON ports in use: add PON ports "
    "at one of them, or use a larger split ([plan] split)"
)
MSG_BUDGET_EXCHANGE = (
    "optical loss {loss} dB plus margin {margin} dB exceeds the {budget} dB budget; "
    "connecting it to exchange {exchange} ({km} km of street) would pass"
)
MSG_BUDGET_SPLIT = (
    "optical loss {loss} dB plus margin {margin} dB exceeds the {budget} dB budget; "
    "a 1:{split} splitter on its PON port would pass"
)
MSG_BUDGET_NONE = (
    "optical loss {loss} dB plus margin {margin} dB exceeds the {budget} dB budget; "
    "no nearer exchange or smaller split passes (consider a class C+ OLT port)"
)
MSG_NO_SECOND_ROUTE = (
    "no affordable second route avoids the first route's trenches; a trench-disjoint pair of "
    "routes exists if the first route is changed"
)
MSG_NO_DISJOINT_PAIR = (
    "the streets allow no two routes without a shared trench to this station "
    "(a dead end or a single bridge on the way): its LTE backup is its second path"
)

_BUDGET_ROUNDS = 3
_REUSE_SHARE = 0.3  # search weight of an already dug trench for second routes, share of full


@dataclass(frozen=True, eq=False)
class DesignInputs:
    """What the design works on: the street graph and where stations and exchanges attach.

    ``station_node``/``exchange_node`` are street nodes (-1: not attached);
    ``*_drop_m`` are the building drops in metres; ``station_flags`` are flags raised before
    the design (snapping, validation), one tuple per station.
    """

    graph: StreetGraph
    stations: tuple[Station, ...]
    station_node: IntArray
    station_drop_m: FloatArray
    exchanges: tuple[Exchange, ...]
    exchange_node: IntArray
    exchange_drop_m: FloatArray
    fibers: tuple[ExistingFiber, ...] = ()
    station_flags: tuple[tuple[Flag, ...], ...] = ()
    station_street_lonlat: tuple[FloatArray, FloatArray] | None = None


@dataclass(eq=False)
class DesignState:
    """The design before assembly: what :mod:`pollnet.plan.whatif` changes and assembles again.

    Per exchange: its tree's street edges (``edge_sets``) and PON layout (``layouts``); per
    station: its street node in the design (``node``, -1: left out), its exchange (``owner``,
    -1: not served), its local node in its exchange's tree (``station_local``), the flags raised
    before the optical budget (``flags``), its budget and the budget's flag (``failing``), and a
    critical station's second route (``routes``) or the flag saying why it has none
    (``route_flags``). ``capacity`` is how many stations each exchange can serve.
    """

    inputs: DesignInputs
    costs: CostModel
    params: PlanParameters
    prices: EdgePrices
    on_fiber: NDArray[np.bool_]
    node: IntArray
    owner: IntArray
    capacity: IntArray
    edge_sets: list[IntArray]
    layouts: dict[int, Layout]
    station_local: IntArray
    flags: list[list[Flag]]
    budgets: list[OpticalBudget | None] = field(default_factory=list)
    failing: dict[int, Flag] = field(default_factory=dict)
    routes: dict[int, redundancy.SecondRoute] = field(default_factory=dict)
    route_flags: dict[int, Flag] = field(default_factory=dict)

    def tree_seconds(self, stations: int) -> float:
        """A re-solved exchange tree's share of the search budget: its share of the stations,
        so that all the trees of one repair round together get at most the forest's budget."""
        return self.params.steiner_seconds * stations / max(1, int((self.node >= 0).sum()))

    def solve_tree(self, x: int) -> IntArray:
        """The street edges of a Steiner tree from exchange ``x`` to the stations it owns."""
        g = self.inputs.graph
        mine = self.node[self.owner == x]
        return _forest.exchange_tree_edges(
            g.num_nodes,
            g.edge_u,
            g.edge_v,
            self.prices.weight,
            int(self.inputs.exchange_node[x]),
            mine,
            (g.node_x, g.node_y),
            self.tree_seconds(mine.size),
        )

    def resolve(self, exchanges: Sequence[int]) -> None:
        """Solve the trees of ``exchanges`` again for the stations they own, and lay them out."""
        for x in exchanges:
            self.edge_sets[x] = self.solve_tree(x)
        self.lay_out(exchanges)

    def lay_out(self, exchanges: Sequence[int]) -> None:
        """Lay the trees of ``exchanges`` out again (their edges as they are)."""
        for x in exchanges:
            self.layouts.pop(x, None)
        _lay_out_trees(
            self.inputs,
            self.params,
            self.on_fiber,
            self.node,
            self.owner,
            self.edge_sets,
            sorted(exchanges),
            self.layouts,
            self.station_local,
            self.flags,
        )

    def check_budgets(
        self,
        nearest: Callable[[], tuple[FloatArray, IntArray]],
        exchanges: Collection[int] | None = None,
    ) -> list[tuple[int, int]]:
        """The optical budget of every served station (or only of the stations of
        ``exchanges``, the others' kept); returns the moves that would repair failures."""
        owner = self.owner
        if exchanges is not None:
            owner = np.where(np.isin(owner, list(exchanges)), owner, -1)
        budgets, failing, moves = _budgets(
            self.inputs, self.params, self.layouts, self.station_local, owner, nearest
        )
        if exchanges is None:
            self.budgets, self.failing = budgets, failing
            return moves
        for s in np.flatnonzero(owner >= 0).tolist():
            self.budgets[s] = budgets[s]
            self.failing.pop(s, None)
        self.failing.update(failing)
        return moves

    def move_for_budget(self, moves: Sequence[tuple[int, int]]) -> bool:
        """Move failing stations to the exchanges that would pass (those with a free port) and
        solve the trees involved again; False when no station moved."""
        owner = self.owner
        load = np.bincount(owner[owner >= 0], minlength=len(self.inputs.exchanges))
        changed: set[int] = set()
        for s, k in moves:
            if k != owner[s] and load[k] < self.capacity[k]:
                changed |= {int(owner[s]), k}
                load[owner[s]] -= 1
                load[k] += 1
                owner[s] = k
        if changed:
            self.resolve(sorted(changed))
        return bool(changed)

    def second_routes(self, stations: Sequence[int] | None = None) -> None:
        """Find the second routes of the critical served ``stations`` (default: all of them)."""
        if stations is None:
            stations = range(len(self.inputs.stations))
        wanted = [s for s in stations if self.inputs.stations[s].critical and self.owner[s] >= 0]
        for s in stations:
            self.routes.pop(s, None)
            self.route_flags.pop(s, None)
        if not wanted:
            return
        kept = [e for route in self.routes.values() for e in route.edges]
        found, flags = _second_routes(
            self.inputs,
            self.costs,
            self.prices,
            self.layouts,
            self.station_local,
            self.owner,
            wanted,
            np.asarray(kept, dtype=np.int64),
        )
        self.routes.update(found)
        self.route_flags.update(flags)

    def plan(
        self,
        *,
        inputs_digest: str = "",
        created_at: dt.datetime | None = None,
        exchanges: Collection[int] | None = None,
    ) -> Plan:
        """Assemble the plan: trenches, cable runs, splices, bill of materials and totals.

        With ``exchanges``, a part of the plan: only those exchanges' trees, stations and second
        routes (the other stations are listed as not served). Two parts over the same
        exchanges differ as the whole plans do, but for street permits shared with other
        trees' trenches and second routes of other stations running in these trees' trenches.
        """
        flags = [list(f) for f in self.flags]
        for s, flag in self.failing.items():
            flags[s].append(flag)
        for s, flag in self.route_flags.items():
            flags[s].append(flag)
        layouts, owner, routes = self.layouts, self.owner, self.routes
        if exchanges is not None:
            layouts = {x: lay for x, lay in layouts.items() if x in exchanges}
            owner = np.where(np.isin(owner, list(exchanges)), owner, -1)
            routes = {s: r for s, r in routes.items() if owner[s] >= 0}
        assembler = Assembler(self.inputs, self.costs, self.params, self.prices, self.on_fiber)
        return assembler.plan(
            layouts=layouts,
            station_local=self.station_local,
            owner=owner,
            flags=flags,
            budgets=self.budgets,
            routes=routes,
            inputs_digest=inputs_digest,
            created_at=created_at or dt.datetime.now(dt.UTC),
        )


def design(
    inputs: DesignInputs,
    costs: CostModel,
    params: PlanParameters,
    *,
    inputs_digest: str = "",
    clock: Callable[[], float] = time.perf_counter,
    phase_seconds: dict[str, float] | None = None,
) -> Plan:
    """The cheapest network this heuristic finds that reaches every reachable station."""
    seconds = dict(phase_seconds or {})
    state = design_state(inputs, costs, params, clock=clock, phase_seconds=seconds)
    mark = clock()
    plan = state.plan(inputs_digest=inputs_digest)
    seconds["assemble"] = clock() - mark
    return dataclasses.replace(plan, phase_seconds=seconds)


def design_state(
    inputs: DesignInputs,
    costs: CostModel,
    params: PlanParameters,
    *,
    clock: Callable[[], float] = time.perf_counter,
    phase_seconds: dict[str, float] | None = None,
) -> DesignState:
    """Phases 1 to 6 of the design (all but the assembly); times go into ``phase_seconds``."""
    if not inputs.exchanges:
        raise UserError.of("there are no exchanges: the plan needs at least one")
    g = inputs.graph
    n = g.num_nodes
    u, v = g.edge_u, g.edge_v
    seconds = phase_seconds if phase_seconds is not None else {}
    mark = clock()

    def lap(phase: str) -> None:
        nonlocal mark
        now = clock()
        seconds[phase] = seconds.get(phase, 0.0) + now - mark
        mark = now

    # 1. prices
    on_fiber, prices = _prices(inputs, costs)
    lap("prices")

    # 2. forest
    count = len(inputs.stations)
    flags = [list(f) for f in inputs.station_flags] or [[] for _ in range(count)]
    blocked = np.array([any(f.code not in WARNING_CODES for f in fl) for fl in flags], dtype=bool)
    node = np.where(blocked, -1, inputs.station_node).astype(np.int64)
    exchange_node = inputs.exchange_node.astype(np.int64)
    ex_ok = exchange_node >= 0
    matrix = _forest.weighted_matrix(n, u, v, prices.weight)
    _, label = csgraph.connected_components(matrix, directed=False)
    served_labels = np.unique(label[exchange_node[ex_ok]])
    reachable = (node >= 0) & np.isin(label[np.maximum(node, 0)], served_labels)
    for s in np.flatnonzero((node >= 0) & ~reachable).tolist():
        flags[s].append(Flag(FLAG_UNREACHABLE, MSG_NO_ROUTE))
    node = np.where(reachable, node, -1)
    safe_exchange = np.where(ex_ok, exchange_node, 0)
    edges, owner = _forest.solve_forest(
        n, u, v, prices.weight, node, exchange_node, params.steiner_seconds
    )
    lap("forest")

    # 3. capacity
    capacity = np.array([x.pon_ports * params.split for x in inputs.exchanges]) * ex_ok
    owner, changed, unserved = _forest.repair_capacity(matrix, node, safe_exchange, owner, capacity)
    for s in np.flatnonzero(unserved).tolist():
        flags[s].append(Flag(FLAG_NO_CAPACITY, MSG_NO_CAPACITY))
    state = DesignState(
        inputs=inputs,
        costs=costs,
        params=params,
        prices=prices,
        on_fiber=on_fiber,
        node=node,
        owner=owner,
        capacity=capacity,
        edge_sets=list(edges),
        layouts={},
        station_local=np.full(count, -1, dtype=np.int64),
        flags=flags,
    )
    for x in np.flatnonzero(changed).tolist():
        state.edge_sets[x] = state.solve_tree(x)
    lap("capacity")

    # 4. layout
    state.lay_out(range(len(inputs.exchanges)))
    lap("layout")

    # 5. budget, and up to three rounds of repair: a failing station whose nearest exchange by
    # street (with a free port) would pass moves there, and the trees of the exchanges involved
    # are solved and laid out again.
    nearest = nearest_exchange_once(g, exchange_node)
    moves = state.check_budgets(nearest)
    for _round in range(_BUDGET_ROUNDS):
        if not state.move_for_budget(moves):
            break
        moves = state.check_budgets(nearest)
    lap("budget")

    # 6. redundancy
    if params.redundancy:
        state.second_routes()
    lap("redundancy")
    return state


def restore_state(
    inputs: DesignInputs,
    costs: CostModel,
    params: PlanParameters,
    *,
    node: IntArray,
    owner: IntArray,
    capacity: IntArray,
    edge_sets: Sequence[IntArray],
    flags: list[list[Flag]],
    routes: dict[int, redundancy.SecondRoute],
    route_flags: dict[int, Flag],
) -> DesignState:
    """The state :func:`design_state` made, from what it decided (each station's node and
    exchange, each tree's street edges, the flags it raised, the second routes): the prices,
    the trees' layouts and the optical budgets are computed again, as the design computed them
    last, so the state's plan is the design's plan."""
    on_fiber, prices = _prices(inputs, costs)
    state = DesignState(
        inputs=inputs,
        costs=costs,
        params=params,
        prices=prices,
        on_fiber=on_fiber,
        node=np.asarray(node, dtype=np.int64).copy(),
        owner=np.asarray(owner, dtype=np.int64).copy(),
        capacity=np.asarray(capacity, dtype=np.int64).copy(),
        edge_sets=[np.asarray(e, dtype=np.int64) for e in edge_sets],
        layouts={},
        station_local=np.full(len(inputs.stations), -1, dtype=np.int64),
        flags=[list(f) for f in flags],
        routes=dict(routes),
        route_flags=dict(route_flags),
    )
    state.lay_out(range(len(inputs.exchanges)))
    state.check_budgets(nearest_exchange_once(inputs.graph, inputs.exchange_node.astype(np.int64)))
    return state


def _prices(inputs: DesignInputs, costs: CostModel) -> tuple[NDArray[np.bool_], EdgePrices]:
    """Phase 1: the street edges along reusable existing fibre, and every edge's price."""
    g = inputs.graph
    on_fiber = fiber_edges(g, inputs.fibers, costs.value("existing_fiber", "tolerance_m"))
    return on_fiber, costs.edge_prices(g.class_names, g.edge_class, g.edge_length_m, on_fiber)


def fiber_edges(
    graph: StreetGraph, fibers: Sequence[ExistingFiber], tolerance_m: float
) -> NDArray[np.bool_]:
    """Street edges along existing fiber with spare cores: both ends and the middle within
    ``tolerance_m`` metres of the line (lines known to have no spare fibre are left out)."""
    on = np.zeros(graph.num_edges, dtype=bool)
    lines = [f.coords for f in fibers if len(f.coords) >= 2 and f.reusable]
    if not lines or graph.num_edges == 0:
        return on
    from scipy.spatial import cKDTree

    points, _ = _line_points(graph, lines, tolerance_m)
    tree = cKDTree(points)
    ok = np.ones(graph.num_edges, dtype=bool)
    for px, py in _edge_probes(graph):
        dist, _ = tree.query(np.column_stack([px, py]), distance_upper_bound=tolerance_m)
        ok &= np.isfinite(dist)
    return ok


def street_metres_along(
    graph: StreetGraph, fibers: Sequence[ExistingFiber], tolerance_m: float
) -> FloatArray:
    """Metres of street each line runs along, by :func:`fiber_edges`' rule (both ends and the
    middle of an edge within ``tolerance_m`` of that one line), spare cores or not."""
    metres = np.zeros(len(fibers))
    lines = [f.coords if len(f.coords) >= 2 else () for f in fibers]
    if graph.num_edges == 0 or not any(lines):
        return metres
    from scipy.spatial import cKDTree

    points, owner = _line_points(graph, lines, tolerance_m)
    tree = cKDTree(points)
    probes = _edge_probes(graph)
    candidate = np.ones(graph.num_edges, dtype=bool)
    for px, py in probes:  # near some line at all: the few edges worth a closer look
        dist, _ = tree.query(np.column_stack([px, py]), distance_upper_bound=tolerance_m)
        candidate &= np.isfinite(dist)
    edges = np.flatnonzero(candidate)
    near = [
        [set(owner[f].tolist()) for f in tree.query_ball_point(
            np.column_stack([px[edges], py[edges]]), r=tolerance_m
        )]
        for px, py in probes
    ]  # fmt: skip
    for j, edge in enumerate(edges.tolist()):
        for line in near[0][j] & near[1][j] & near[2][j]:
            metres[line] += float(graph.edge_length_m[edge])
    return metres


def _line_points(
    graph: StreetGraph, lines: Sequence[Sequence[tuple[float, float]]], tolerance_m: float
) -> tuple[FloatArray, IntArray]:
    """Points every ``tolerance_m / 3`` metres (at least 1 m) along each (lon, lat) line, in
    the graph's projected metres, and the index of the line each lies on."""
    step = max(1.0, tolerance_m / 3.0)
    points: list[FloatArray] = []
    owner: list[IntArray] = []
    for index, coords in enumerate(lines):
        if len(coords) < 2:
            continue
        lon, lat = np.asarray(coords, dtype=np.float64).T
        x, y = to_xy(lon, lat, graph.crs)
        seg = np.hypot(np.diff(x), np.diff(y))
        for i in range(seg.size):
            k = max(1, int(np.ceil(seg[i] / step)))
            t = np.linspace(0.0, 1.0, k + 1)
            points.append(
                np.column_stack([x[i] + t * (x[i + 1] - x[i]), y[i] + t * (y[i + 1] - y[i])])
            )
            owner.append(np.full(k + 1, index, dtype=np.int64))
    return np.concatenate(points), np.concatenate(owner)


def _edge_probes(graph: StreetGraph) -> list[tuple[FloatArray, FloatArray]]:
    """Each edge's start, end and middle (projected metres): where it is compared with a line."""
    mx, my = graph.edge_midpoints()
    return [
        (graph.node_x[graph.edge_u], graph.node_y[graph.edge_u]),
        (graph.node_x[graph.edge_v], graph.node_y[graph.edge_v]),
        (mx, my),
    ]


def _budgets(
    inputs: DesignInputs,
    params: PlanParameters,
    layouts: dict[int, Layout],
    station_local: IntArray,
    owner: IntArray,
    nearest_exchange: Callable[[], tuple[FloatArray, IntArray]],
) -> tuple[list[OpticalBudget | None], dict[int, Flag], list[tuple[int, int]]]:
    """Each served station's optical budget; a failing one is flagged with an alternative.

    The alternatives, best first: a direct route (shortest street path, one splitter) from the
    nearest exchange by street, which may be its own; else a smaller split on its PON port.
    """
    optics = params.optics
    budgets: list[OpticalBudget | None] = [None] * len(inputs.stations)
    failing: dict[int, Flag] = {}
    moves: list[tuple[int, int]] = []
    for s, x in enumerate(owner.tolist()):
        if x < 0:
            continue
        lay = layouts[x]
        local = int(station_local[s])
        route = float(inputs.exchange_drop_m[x] + lay.dist_m[local] + inputs.station_drop_m[s])
        splices = lay.splices_to_station(local)
        budget = optical_budget(route, splices, params.split, optics)
        budgets[s] = budget
        if budget.ok:
            continue
        common = {
            "loss": round(budget.total_loss_db, 1),
            "margin": budget.margin_db,
            "budget": budget.budget_db,
        }
        flag: Flag | None = None
        nearest = nearest_exchange()
        node = int(inputs.station_node[s])
        k = int(nearest[1][node])
        if k >= 0:
            d = float(nearest[0][node] + inputs.exchange_drop_m[k] + inputs.station_drop_m[s])
            if d < route and optical_budget(d, 2, params.split, optics).ok:
                moves.append((s, k))
                flag = Flag(
                    FLAG_BUDGET,
                    MSG_BUDGET_EXCHANGE,
                    {**common, "exchange": inputs.exchanges[k].code, "km": round(d / 1000, 2)},
                )
        if flag is None:
            for smaller in sorted((q for q in SPLITTER_LOSS_DB if q < params.split), reverse=True):
                if optical_budget(route, splices, smaller, optics).ok:
                    flag = Flag(FLAG_BUDGET, MSG_BUDGET_SPLIT, {**common, "split": smaller})
                    break
        failing[s] = flag or Flag(FLAG_BUDGET, MSG_BUDGET_NONE, common)
    return budgets, failing, moves


def _lay_out_trees(
    inputs: DesignInputs,
    params: PlanParameters,
    on_fiber: NDArray[np.bool_],
    node: IntArray,
    owner: IntArray,
    edge_sets: list[IntArray],
    exchanges: Sequence[int],
    layouts: dict[int, Layout],
    station_local: IntArray,
    flags: list[list[Flag]],
) -> None:
    """Build and lay out the trees of ``exchanges`` into ``layouts`` (in place)."""
    g = inputs.graph
    for x in exchanges:
        mine = np.flatnonzero(owner == x)
        if mine.size == 0:
            continue
        tree = build_tree(
            g.num_nodes, g.edge_u, g.edge_v, edge_sets[x], int(inputs.exchange_node[x])
        )
        local = tree.local()
        places = np.array([local.get(int(node[s]), -1) for s in mine], dtype=np.int64)
        for s in mine[places < 0]:
            flags[s].append(Flag(FLAG_UNREACHABLE, MSG_UNREACHABLE))
            owner[s] = -1
        mine, places = mine[places >= 0], places[places >= 0]
        station_local[mine] = places
        layouts[x] = lay_out(
            tree,
            places.tolist(),
            g.edge_length_m,
            on_fiber,
            split=params.split,
            placement=params.splitter_placement,
            spare=params.cable_spare,
        )


def nearest_exchange_once(
    g: StreetGraph, exchange_node: IntArray
) -> Callable[[], tuple[FloatArray, IntArray]]:
    """:func:`_nearest_exchange`, computed on the first call only (most plans never need it)."""
    found: list[tuple[FloatArray, IntArray]] = []

    def nearest() -> tuple[FloatArray, IntArray]:
        if not found:
            found.append(_nearest_exchange(g, exchange_node))
        return found[0]

    return nearest


def _nearest_exchange(g: StreetGraph, exchange_node: IntArray) -> tuple[FloatArray, IntArray]:
    """For every street node, the street distance in metres to its nearest exchange and which."""
    attached = np.flatnonzero(exchange_node >= 0)
    matrix = _forest.weighted_matrix(g.num_nodes, g.edge_u, g.edge_v, g.edge_length_m)
    dist, _, source = csgraph.dijkstra(
        matrix,
        directed=False,
        indices=exchange_node[attached],
        min_only=True,
        return_predecessors=True,
    )
    which = np.full(g.num_nodes, -1, dtype=np.int64)
    found = source >= 0
    first = {
        int(n): int(k)
        for k, n in reversed(list(zip(attached, exchange_node[attached], strict=True)))
    }
    lookup = np.full(g.num_nodes, -1, dtype=np.int64)
    for n, k in first.items():
        lookup[n] = k
    which[found] = lookup[source[found]]
    return np.asarray(dist, dtype=np.float64), which


def _second_routes(
    inputs: DesignInputs,
    costs: CostModel,
    prices: EdgePrices,
    layouts: dict[int, Layout],
    station_local: IntArray,
    owner: IntArray,
    wanted: Sequence[int],
    dug: IntArray,
) -> tuple[dict[int, redundancy.SecondRoute], dict[int, Flag]]:
    """The second routes of the ``wanted`` stations, and the flags of those without one
    (``dug``: street edges other second routes already dig)."""
    g = inputs.graph
    in_plan = np.zeros(g.num_edges, dtype=bool)
    in_plan[dug] = True
    for lay in layouts.values():
        kept = np.flatnonzero(lay.kept[1:]) + 1
        in_plan[lay.tree.edge[kept]] = True
    requests = [
        (
            int(layouts[int(owner[s])].tree.nodes[station_local[s]]),
            layouts[int(owner[s])].path_edges(int(station_local[s])),
        )
        for s in wanted
    ]
    cable_w = costs.cable_per_m(12) * g.edge_length_m
    reuse_w = np.maximum(np.maximum(cable_w, _REUSE_SHARE * prices.weight), 1e-3)
    found = redundancy.second_routes(
        g.num_nodes,
        g.edge_u,
        g.edge_v,
        prices.weight,
        reuse_w,
        in_plan,
        g.edge_length_m,
        requests,
        inputs.exchange_node.astype(np.int64),
    )
    out: dict[int, redundancy.SecondRoute] = {}
    flags: dict[int, Flag] = {}
    usable = np.isfinite(prices.weight)
    pairs: redundancy.DisjointPairs | None = None
    for s, (node, first), route in zip(wanted, requests, found, strict=True):
        if route is not None:
            out[s] = route
        elif first:
            if pairs is None:
                pairs = redundancy.DisjointPairs(
                    g.num_nodes, g.edge_u, g.edge_v, usable, inputs.exchange_node
                )
            pair = pairs.exists(node)
            message = MSG_NO_SECOND_ROUTE if pair else MSG_NO_DISJOINT_PAIR
            flags[s] = Flag(FLAG_NO_SECOND_ROUTE, message)
    return out, flags
