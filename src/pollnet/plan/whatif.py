"""What-if questions on a plan: what each station costs, and what another site would save.

>>> state = baseline(engine, settings)        # the design of the registry, unassembled
>>> ask = WhatIf(state)                       # indexes the state once; it is not changed
>>> ask.marginal.total_rial[ask.index("T-00012")]
>>> ask.candidates("T-00012", lon, lat)       # arrays of candidate sites, WGS84 degrees

(The lines above need a registry, so they are not run as doctests.) The API, kept stable:

- :func:`baseline` (a registry and the street cache, as ``pollnet plan`` reads them) and
  :func:`baseline_city` (a synthetic city) return a :class:`~pollnet.plan.design.DesignState`:
  the design before its assembly; ``state.plan()`` assembles it into a
  :class:`~pollnet.plan.model.Plan`.
- :attr:`WhatIf.marginal`: for every station at once, what the plan saves without it
  (:class:`MarginalCosts`): its branch pruned back to the nearest branch point or other
  station (trench metres, civil work with the street permits shared as the plan shares them,
  cable), its building drop when no other station shares it, its ONT and splices, a PON port
  and splitter when its exchange needs one more port only because of it, the exchange's drop
  when it is the exchange's only station, and a critical station's second route. Not counted:
  the cable of the shared route above its branch point (one fibre fewer may let a cable step
  down a size) and splice closures its branch alone made.
- :meth:`WhatIf.candidates`: for candidate sites (WGS84 lon/lat, snapped to the streets as
  stations are), what connecting each instead of a station would cost and save
  (:class:`CandidateCost`): the station's branch pruned, the candidate joined along the
  cheapest streets to the nearest node of a remaining tree (its own exchange's, or that of any
  exchange with a free PON port), by a search bounded by what the station costs.
- :meth:`WhatIf.without`: the state with stations left out as the marginal cost prunes them
  (each tree laid out again, not solved again), to assemble and compare.

Money is rials of the cost model; lengths are metres; stations are given by registry code
(or by index into ``state.inputs.stations``).
"""

from __future__ import annotations

import dataclasses
import heapq
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pollnet.errors import UserError
from pollnet.plan.budget import optical_budget
from pollnet.plan.costs import BUILD_METHODS, PERMIT_METHODS, CostModel
from pollnet.plan.design import DesignInputs, DesignState, design_state
from pollnet.plan.model import cores_for
from pollnet.plan.params import PlanParameters
from pollnet.streets.snap import SegmentIndex

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from pollnet.settings import Settings

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

__all__ = [
    "CandidateCost",
    "MarginalCosts",
    "WhatIf",
    "baseline",
    "baseline_city",
    "copy_state",
    "stored_baseline",
]

_MERGE_M = 0.5  # metres: a point this near an edge's end is at that end (as split_edges says)

MSG_UNKNOWN_STATION = "station {code} is not in the registry"
MSG_NOT_SERVED = "station {code} is not connected in the plan: it has no marginal cost to compare"


@dataclass(frozen=True, eq=False)
class MarginalCosts:
    """What the plan would save without each station, in the registry's station order.

    Stations the plan does not serve have zeros everywhere and ``exchange == -1``.
    ``branch_node`` is the street node where a station's pruned branch meets the rest of its
    exchange's tree (its own node when nothing is pruned; the exchange's node when its whole
    tree goes); ``branch_m`` the metres of street pruned (existing fibre included).
    """

    codes: tuple[str, ...]
    exchange: IntArray
    trench_m: FloatArray
    branch_m: FloatArray
    trench_rial: FloatArray
    cable_rial: FloatArray
    drop_rial: FloatArray
    equipment_rial: FloatArray
    second_route_rial: FloatArray
    branch_node: IntArray

    @property
    def first_route_rial(self) -> FloatArray:
        """Everything but the second route: what another site for the station would replace."""
        return self.trench_rial + self.cable_rial + self.drop_rial + self.equipment_rial

    @property
    def total_rial(self) -> FloatArray:
        """The plan's cost with the station minus its cost without it."""
        return self.first_route_rial + self.second_route_rial


@dataclass(frozen=True)
class CandidateCost:
    """Connecting a candidate site instead of a station.

    ``exchange`` is the index of the exchange whose tree it joins (-1: no tree within the
    search's reach, or the candidate is not near a street; then ``connect_rial`` is ``inf``).
    ``connect_rial`` is the new street route (civil work and the smallest cable), the
    candidate's building drop and the station's equipment; ``saving_rial`` is the station's
    :attr:`MarginalCosts.first_route_rial` minus it (positive: the candidate is cheaper).
    ``route_m`` is the candidate's fibre length from its exchange (drops included) and
    ``budget_ok`` whether that passes the optical budget on a PON port of the plan's split.
    """

    lon: float
    lat: float
    exchange: int
    street_m: float
    street_rial: float
    drop_m: float
    drop_rial: float
    connect_rial: float
    saving_rial: float
    route_m: float
    budget_ok: bool


def baseline(
    engine: Engine,
    settings: Settings,
    *,
    streets: Path | str | None = None,
    costs: Path | str | None = None,
) -> DesignState:
    """The design of the registry in ``engine`` (as ``pollnet plan`` makes it), unassembled."""
    inputs, cost_model, params, _digest = _registry_inputs(engine, settings, streets, costs)
    return design_state(inputs, cost_model, params)


MSG_NOT_STORED = (
    "no stored plan was made from this registry, streets, cost model and [plan] "
    "settings: the registry is planned again first (pollnet plan stores one)"
)


def stored_baseline(
    engine: Engine,
    settings: Settings,
    *,
    streets: Path | str | None = None,
    costs: Path | str | None = None,
) -> tuple[DesignState, str | None]:
    """The design state of the plan ``pollnet plan`` stored last, and that plan's id, when it
    was made from the registry, streets, cost model and settings at hand; otherwise the
    registry designed again (:func:`baseline`) and None."""
    from pollnet.plan.state import load_state, state_digest
    from pollnet.plan.store import latest_plan_id

    inputs, cost_model, params, digest = _registry_inputs(engine, settings, streets, costs)
    plan_id = latest_plan_id(engine)
    if plan_id is not None:
        kept = state_digest(digest, settings.bbox)
        state = load_state(engine, plan_id, inputs, cost_model, params, kept)
        if state is not None:
            return state, plan_id
    return design_state(inputs, cost_model, params), None


def _registry_inputs(
    engine: Engine,
    settings: Settings,
    streets: Path | str | None,
    costs: Path | str | None,
) -> tuple[DesignInputs, CostModel, PlanParameters, str]:
    """What ``pollnet plan`` designs from: the registry snapped to the street cache, the cost
    model, the ``[plan]`` parameters, and their inputs digest."""
    from pollnet import streets as street_layer
    from pollnet.plan._inputs import digest, prepare, read_inputs
    from pollnet.plan.costs import load_costs

    params = PlanParameters.from_mapping(settings.section("plan"), settings.source)
    cost_model = load_costs(costs or params.costs)
    cache = Path(streets) if streets else street_layer.StreetsConfig.from_settings(settings).cache
    graph = street_layer.load(cache)
    stations, exchanges, fibers = read_inputs(engine)
    inputs = prepare(graph, stations, exchanges, fibers, params, settings.bbox)
    return (
        inputs,
        cost_model,
        params,
        digest(graph, stations, exchanges, fibers, cost_model, params),
    )


def baseline_city(city: object, **options: object) -> DesignState:
    """The design of a :class:`pollnet.datasets.synth.SyntheticCity`, unassembled.

    ``options``: ``costs`` (a :class:`CostModel`) and ``params`` (:class:`PlanParameters`).
    """
    from pollnet.plan._inputs import prepare
    from pollnet.plan.costs import CostModel, load_costs
    from pollnet.plan.params import PlanParameters
    from pollnet.streets import from_city

    costs = options.get("costs") or load_costs()
    params = options.get("params") or PlanParameters()
    assert isinstance(costs, CostModel) and isinstance(params, PlanParameters)
    inputs = prepare(
        from_city(city),
        city.stations,  # type: ignore[attr-defined]
        city.exchanges,  # type: ignore[attr-defined]
        city.existing_fiber,  # type: ignore[attr-defined]
        params,
    )
    return design_state(inputs, costs, params)


def _unreachable(lon: float, lat: float, drop_m: float) -> CandidateCost:
    inf = float("inf")
    return CandidateCost(float(lon), float(lat), -1, inf, inf, drop_m, inf, inf, -inf, inf, False)


class WhatIf:
    """What-if questions on one design state (which it does not change).

    Built once per state (it indexes which exchange's tree each street node lies in and how
    many trees and second routes use each street edge); the questions are then cheap.
    """

    def __init__(self, state: DesignState) -> None:
        self.state = state
        g = state.inputs.graph
        self.g = g
        self.by_code = {st.code: i for i, st in enumerate(state.inputs.stations)}
        k = len(state.inputs.exchanges)
        self.load = np.bincount(state.owner[state.owner >= 0], minlength=k)
        # street node -> (exchange, local node) of the tree it lies in (first tree wins)
        self.node_exchange = np.full(g.num_nodes, -1, dtype=np.int64)
        self.node_local = np.full(g.num_nodes, -1, dtype=np.int64)
        self.use = np.zeros(g.num_edges, dtype=np.int64)
        for x, lay in sorted(state.layouts.items()):
            kept = np.flatnonzero(lay.kept)
            nodes = lay.tree.nodes[kept]
            free = self.node_exchange[nodes] < 0
            self.node_exchange[nodes[free]] = x
            self.node_local[nodes[free]] = kept[free]
            self.use[lay.tree.edge[kept[kept > 0]]] += 1
        for route in state.routes.values():
            self.use[list(route.edges)] += 1

    def index(self, station: str | int) -> int:
        """The index of a station given by registry code (or already an index)."""
        if isinstance(station, int):
            return station
        found = self.by_code.get(station)
        if found is None:
            raise UserError.of(MSG_UNKNOWN_STATION, field="station", code=station)
        return found

    def candidates(
        self,
        station: str | int,
        lon: ArrayLike,
        lat: ArrayLike,
        *,
        limit_rial: float | None = None,
    ) -> tuple[CandidateCost, ...]:
        """The cost and saving of connecting each candidate (lon/lat, WGS84) instead of ``station``.

        The search from a candidate stops at ``limit_rial`` of street route (default: the station's
        first-route marginal cost, beyond which no candidate can be cheaper); a candidate with no
        tree within it gets ``exchange == -1`` and an infinite cost.
        """
        from pollnet.streets import snap

        state, ix = self.state, self
        s = self.index(station)
        code = state.inputs.stations[s].code
        if state.owner[s] < 0:
            raise UserError.of(MSG_NOT_SERVED, field="station", code=code)
        m = ix.marginal
        saveable = float(m.first_route_rial[s])
        equipment = float(m.equipment_rial[s])
        limit = saveable if limit_rial is None else limit_rial
        lon_a = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        lat_a = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        g = state.inputs.graph
        exchanges = state.inputs.exchanges
        snaps = snap(  # with the exchanges as roots: a candidate joins the streets they reach
            g,
            np.concatenate([lon_a, [x.lon for x in exchanges]]),
            np.concatenate([lat_a, [x.lat for x in exchanges]]),
            max_drop_m=state.params.max_drop_m,
            roots=np.arange(lon_a.size, lon_a.size + len(exchanges)),
            index=self.segments,
        )
        pruned = ix.pruned_nodes(s)
        own = int(state.owner[s])
        out: list[CandidateCost] = []
        for c in range(lon_a.size):
            e = int(snaps.edge[c])
            drop_m = float(snaps.drop_m[c]) if e >= 0 else float("nan")
            if e < 0 or int(snaps.flags[c]) != 0:
                out.append(_unreachable(lon_a[c], lat_a[c], drop_m))
                continue
            drop_rial = ix.drop_rial(drop_m)
            found = ix.search(
                e, float(snaps.along_m[c]), own, pruned, limit - drop_rial - equipment
            )
            if found is None:
                out.append(_unreachable(lon_a[c], lat_a[c], drop_m))
                continue
            x, street_rial, street_m, from_exchange_m = found
            connect = street_rial + drop_rial + equipment
            route = float(state.inputs.exchange_drop_m[x]) + from_exchange_m + drop_m
            ok = optical_budget(route, 2, state.params.split, state.params.optics).ok
            out.append(
                CandidateCost(
                    lon=float(lon_a[c]),
                    lat=float(lat_a[c]),
                    exchange=x,
                    street_m=street_m,
                    street_rial=street_rial,
                    drop_m=drop_m,
                    drop_rial=drop_rial,
                    connect_rial=connect,
                    saving_rial=saveable - connect,
                    route_m=route,
                    budget_ok=ok,
                )
            )
        return tuple(out)

    @cached_property
    def segments(self) -> SegmentIndex:
        """The street graph's segment index, for snapping candidates (built once)."""
        return SegmentIndex(self.g)

    # -- marginal costs -------------------------------------------------------------------

    def drop_rial(self, drop_m: float) -> float:
        costs = self.state.costs
        per_m = costs.value("drop", "per_m") + costs.cable_per_m(12)
        return costs.value("drop", "fixed") + per_m * drop_m

    @cached_property
    def marginal(self) -> MarginalCosts:
        """Every station's marginal cost in the plan (see the module's description)."""
        state, g = self.state, self.g
        costs, params = state.costs, state.params
        n = len(state.inputs.stations)
        zeros = np.zeros(n)
        trench_m, branch_m = zeros.copy(), zeros.copy()
        trench_rial, cable_rial = zeros.copy(), zeros.copy()
        drop_rial, equipment, second = zeros.copy(), zeros.copy(), zeros.copy()
        branch_node = np.full(n, -1, dtype=np.int64)
        dig_codes = [i for i, m in enumerate(BUILD_METHODS) if m in PERMIT_METHODS]
        method_dug = np.isin(state.prices.method_index, dig_codes)
        in_plan = self.use > 0
        pieces = np.bincount(
            g.edge_segment[in_plan & method_dug & (g.edge_segment >= 0)],
            minlength=int(g.edge_segment.max(initial=0)) + 1,
        )
        permit = np.array([costs.permit(str(c)) for c in g.class_names])
        digging = ~state.on_fiber
        per_station = costs.value("equipment", "ont") + 2 * costs.value("splice", "per_fiber")
        per_port = (
            costs.value("equipment", "olt_pon_port")
            + costs.splitter(params.split)
            + 2 * costs.value("splice", "per_fiber")
        )
        drops: dict[tuple[int, float, float], int] = defaultdict(int)
        for s in np.flatnonzero(state.owner >= 0).tolist():
            drops[self._drop_key(s)] += 1
        for x, lay in state.layouts.items():
            mine = np.flatnonzero(state.owner == x)
            if mine.size == 0:
                continue
            locals_ = state.station_local[mine]
            parent = lay.tree.parent
            edge = lay.tree.edge
            port = float(per_port) if mine.size % params.split == 1 else 0.0
            only = mine.size == 1
            for s, local in zip(mine.tolist(), locals_.tolist(), strict=True):
                nodes = self.branch_of(s)
                top = int(parent[nodes[-1]]) if nodes else local
                branch_node[s] = int(lay.tree.nodes[top])
                edges = edge[nodes] if nodes else np.zeros(0, dtype=np.int64)
                edges = edges[self.use[edges] == 1]
                lengths = g.edge_length_m[edges]
                branch_m[s] = float(lengths.sum())
                trench_m[s] = float(lengths[digging[edges]].sum())
                trench_rial[s] = self._civil(edges, method_dug, pieces, permit)
                cores = [cores_for(int(lay.fibers[c]), params.cable_spare) for c in nodes]
                local_of = dict(zip(edge[nodes].tolist(), cores, strict=True)) if nodes else {}
                cable_rial[s] = sum(
                    float(g.edge_length_m[e]) * costs.cable_per_m(local_of[e])
                    for e in edges.tolist()
                    if digging[e]
                )
                if drops[self._drop_key(s)] == 1:
                    drop_m = float(state.inputs.station_drop_m[s])
                    trench_m[s] += drop_m
                    drop_rial[s] = self.drop_rial(drop_m)
                equipment[s] = per_station + port
                if only:
                    ex_drop = float(state.inputs.exchange_drop_m[x])
                    trench_m[s] += ex_drop
                    drop_rial[s] += self.drop_rial(ex_drop)
                route = state.routes.get(s)
                if route is not None:
                    new = np.asarray(route.new_edges, dtype=np.int64)
                    new = new[self.use[new] == 1] if new.size else new
                    second[s] = float(state.prices.civil_rial[new].sum()) + costs.cable_per_m(
                        12
                    ) * float(route.length_m)
                    trench_m[s] += float(g.edge_length_m[new].sum())
        return MarginalCosts(
            codes=tuple(st.code for st in state.inputs.stations),
            exchange=state.owner.copy(),
            trench_m=trench_m,
            branch_m=branch_m,
            trench_rial=trench_rial,
            cable_rial=cable_rial,
            drop_rial=drop_rial,
            equipment_rial=equipment,
            second_route_rial=second,
            branch_node=branch_node,
        )

    def _drop_key(self, s: int) -> tuple[int, float, float]:
        """Stations with the same key share one building drop (as the assembly shares them)."""
        st = self.state.inputs.stations[s]
        lay = self.state.layouts[int(self.state.owner[s])]
        node = int(lay.tree.nodes[self.state.station_local[s]])
        return (node, round(st.lon, 6), round(st.lat, 6))

    def _civil(
        self,
        edges: IntArray,
        method_dug: NDArray[np.bool_],
        pieces: IntArray,
        permit: FloatArray,
    ) -> float:
        """The civil work the plan saves without ``edges``: each dug piece of a street segment
        carries its whole permit in the prices, and the plan shares one permit among the dug
        pieces of a segment, so the permit goes only with the segment's last piece."""
        if edges.size == 0:
            return 0.0
        g = self.g
        total = float(self.state.prices.civil_rial[edges].sum())
        dug = edges[method_dug[edges] & (g.edge_segment[edges] >= 0)]
        if dug.size:
            segments, removed = np.unique(g.edge_segment[dug], return_counts=True)
            total -= float(permit[g.edge_class[dug]].sum())
            order = np.argsort(g.edge_segment[dug], kind="stable")
            first = dug[order][np.searchsorted(g.edge_segment[dug][order], segments)]
            whole = removed == pieces[segments]
            total += float(permit[g.edge_class[first]][whole].sum())
        return total

    # -- the plan without stations -------------------------------------------------------

    def without(self, stations: Sequence[str | int]) -> DesignState:
        """A copy of ``state`` with ``stations`` left out: each one's branch pruned as
        :func:`marginal_costs` prunes it, its tree laid out again (not solved again), its second
        route dropped. The stations stay in the registry's list, unserved and without flags."""
        state, ix = self.state, self
        out = copy_state(state)
        changed: set[int] = set()
        for station in stations:
            s = self.index(station)
            x = int(state.owner[s])
            if x < 0:
                continue
            lay = state.layouts[x]
            pruned = lay.tree.edge[ix.branch_of(s)]
            kept = np.flatnonzero(lay.kept[1:]) + 1
            tree_edges = lay.tree.edge[kept]
            out.edge_sets[x] = tree_edges[~np.isin(tree_edges, pruned)]
            out.owner[s] = -1
            out.station_local[s] = -1
            out.budgets[s] = None
            out.failing.pop(s, None)
            out.routes.pop(s, None)
            out.route_flags.pop(s, None)
            changed.add(x)
        out.lay_out(sorted(changed))
        return out

    # -- the search from a candidate ------------------------------------------------------

    def branch_of(self, s: int) -> list[int]:
        """The local nodes of station ``s``'s pruned branch, bottom up: the nodes with no other
        station below them (none when it shares its node with another station)."""
        x = int(self.state.owner[s])
        if x < 0:
            return []
        lay = self.state.layouts[x]
        below, parent = lay.stations_below, lay.tree.parent
        nodes: list[int] = []
        c = int(self.state.station_local[s])
        while c > 0 and below[c] == 1:
            nodes.append(c)
            c = int(parent[c])
        return nodes

    def pruned_nodes(self, s: int) -> set[int]:
        """The street nodes of station ``s``'s pruned branch (its own node included)."""
        lay = self.state.layouts[int(self.state.owner[s])]
        return {int(lay.tree.nodes[c]) for c in self.branch_of(s)}

    def search(
        self, edge: int, along_m: float, own: int, pruned: set[int], limit: float
    ) -> tuple[int, float, float, float] | None:
        """The cheapest street route from a point ``along_m`` metres along ``edge`` to a tree
        node of exchange ``own`` or of an exchange with a free port (not in ``pruned``).

        Returns (exchange, rials, metres, metres from the exchange to the point), or None
        when no such node lies within ``limit`` rials.
        """
        state, g = self.state, self.g
        weight, length = state.prices.weight, g.edge_length_m
        if limit < 0 or not np.isfinite(weight[edge]):
            return None
        free = self.load < state.capacity
        total = float(g.geometry_length_m[edge])
        share = min(1.0, max(0.0, along_m / max(total, 1e-9)))
        if along_m <= _MERGE_M or along_m >= total - _MERGE_M:  # at an end, as snapping merges
            share = round(share)
        u, v = int(g.edge_u[edge]), int(g.edge_v[edge])
        ends = ((u, share), (v, 1.0 - share))

        def usable(node: int) -> int:
            x = int(self.node_exchange[node])
            if x < 0 or node in pruned or not (x == own or free[x]):
                return -1
            return x

        # The point lies on a tree edge: joined where it stands.
        xu, xv = usable(u), usable(v)
        if xu >= 0 and xu == xv and self.use[edge] > 0:
            lay = state.layouts[xu]
            du = float(lay.dist_m[self.node_local[u]])
            dv = float(lay.dist_m[self.node_local[v]])
            from_x = min(du + share * float(length[edge]), dv + (1 - share) * float(length[edge]))
            return xu, 0.0, 0.0, from_x
        adjacency = g.adjacency
        best: dict[int, float] = {}
        metres: dict[int, float] = {}
        heap: list[tuple[float, float, int]] = []
        for node, part in ends:
            cost, m = part * float(weight[edge]), part * float(length[edge])
            if cost < best.get(node, np.inf):
                best[node], metres[node] = cost, m
                heapq.heappush(heap, (cost, m, node))
        indptr, nbr, via = adjacency.indptr, adjacency.node, adjacency.edge
        while heap:
            cost, m, node = heapq.heappop(heap)
            if cost > limit:
                return None
            if cost > best.get(node, np.inf):
                continue
            x = usable(node)
            if x >= 0:
                lay = state.layouts[x]
                return x, cost, m, m + float(lay.dist_m[self.node_local[node]])
            for k in range(int(indptr[node]), int(indptr[node + 1])):
                e = int(via[k])
                w = float(weight[e])
                if not np.isfinite(w):
                    continue
                nxt = int(nbr[k])
                c2 = cost + w
                if c2 < best.get(nxt, np.inf):
                    best[nxt], metres[nxt] = c2, m + float(length[e])
                    heapq.heappush(heap, (c2, metres[nxt], nxt))
        return None


def copy_state(state: DesignState) -> DesignState:
    """A copy of ``state`` that can be changed without touching it (street graph shared)."""
    return dataclasses.replace(
        state,
        node=state.node.copy(),
        owner=state.owner.copy(),
        edge_sets=list(state.edge_sets),
        layouts=dict(state.layouts),
        station_local=state.station_local.copy(),
        flags=[list(f) for f in state.flags],
        budgets=list(state.budgets),
        failing=dict(state.failing),
        routes=dict(state.routes),
        route_flags=dict(state.route_flags),
    )
