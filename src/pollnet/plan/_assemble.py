"""Turn the design's arrays into the plan's values: trenches, cable runs, splices, BOM, totals."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from pollnet.plan._trees import Layout, Run
from pollnet.plan.costs import PERMIT_METHODS, CostModel, EdgePrices
from pollnet.plan.model import (
    WARNING_CODES,
    BomLine,
    CableRun,
    ExchangePlan,
    Flag,
    Method,
    OpticalBudget,
    Plan,
    PlanTotals,
    RedundantRoute,
    SplicePoint,
    StationPlan,
    StationStatus,
    TrenchSegment,
)
from pollnet.plan.params import PlanParameters
from pollnet.plan.redundancy import SecondRoute
from pollnet.streets.projection import to_lonlat

if TYPE_CHECKING:
    from pollnet.plan.design import DesignInputs

IntArray = NDArray[np.int64]
Coords = tuple[tuple[float, float], ...]

BOM_TRENCH: dict[str, str] = {
    "open_trench": "Trench, open cut (with restoration and permits)",
    "micro_trench": "Micro-trench (with restoration and permits)",
    "aerial": "Aerial route on poles",
    "existing_duct": "Cable in existing duct",
    "existing_fiber": "Spare cores of existing fiber",
}
BOM_DROP = "Building drop"
BOM_CABLE = "Fiber cable, {cores} cores"
BOM_CLOSURE = "Splice closure"
BOM_SPLICE = "Fusion splice"
BOM_SPLITTER = "Splitter 1:{split}"
BOM_ONT = "ONT at a station"
BOM_PORT = "OLT PON port"
BOM_SECOND = "Second routes of critical stations (trench and cable)"


def _r(value: float) -> float:
    return round(float(value), 7)


class Assembler:
    """Builds a :class:`Plan` from the design's per-exchange layouts and per-station results."""

    def __init__(
        self,
        inputs: DesignInputs,
        costs: CostModel,
        params: PlanParameters,
        prices: EdgePrices,
        on_fiber: NDArray[np.bool_],
    ) -> None:
        self.inputs = inputs
        self.costs = costs
        self.params = params
        self.prices = prices
        self.on_fiber = on_fiber
        self.g = inputs.graph
        self.trenches: list[TrenchSegment] = []
        self.civil_rial: dict[int, float] = {}
        self.edge_id: dict[int, int] = {}
        self.exchange_drop: dict[int, int] = {}
        self.station_drop: dict[tuple[int, float, float], int] = {}

    # -- trench segments ------------------------------------------------------------------

    def _edge_coords(self, edges: IntArray) -> dict[int, Coords]:
        g = self.g
        if edges.size == 0:
            return {}
        start, stop = g.geom_indptr[edges], g.geom_indptr[edges + 1]
        counts = stop - start
        index = np.repeat(start - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        lon, lat = to_lonlat(g.geom_x[index], g.geom_y[index], g.crs)
        pairs = list(zip(np.round(lon, 7).tolist(), np.round(lat, 7).tolist(), strict=True))
        out: dict[int, Coords] = {}
        at = 0
        for e, c in zip(edges.tolist(), counts.tolist(), strict=True):
            out[e] = tuple(pairs[at : at + c])
            at += c
        return out

    def _street_segments(self, behind: dict[int, int]) -> None:
        g = self.g
        edges = np.array(sorted(behind), dtype=np.int64)
        coords = self._edge_coords(edges)
        self.civil_rial = self._civil_with_shared_permits(edges)
        for e in edges.tolist():
            self.edge_id[e] = len(self.trenches)
            self.trenches.append(
                TrenchSegment(
                    id=len(self.trenches),
                    edge=e,
                    coords=coords[e],
                    length_m=float(g.edge_length_m[e]),
                    street_class=str(g.class_names[g.edge_class[e]]),
                    street_name=str(g.names[g.edge_name_id[e]]),
                    street_name_en=str(g.names[g.edge_name_en_id[e]]),
                    district=int(g.edge_district[e]),
                    method=self.prices.method(e),
                    cost_rial=self.civil_rial[e],
                    stations_behind=behind[e],
                    street_segment=int(g.edge_segment[e]),
                )
            )

    def _civil_with_shared_permits(self, edges: IntArray) -> dict[int, float]:
        """The civil cost of each dug street edge, with one permit per street segment.

        The prices charge every edge its street's permit when it is dug; where snapping split
        a segment and several of its pieces are dug, the pieces share one permit equally.
        """
        g, prices = self.g, self.prices
        cost = {e: float(prices.civil_rial[e]) for e in edges.tolist()}
        dug = [e for e in edges.tolist() if prices.method(e) in PERMIT_METHODS]
        pieces: dict[int, list[int]] = defaultdict(list)
        for e in dug:
            pieces[int(g.edge_segment[e])].append(e)
        for shared in (p for p in pieces.values() if len(p) > 1):
            for e in shared:
                permit = self.costs.permit(str(g.class_names[g.edge_class[e]]))
                cost[e] -= permit * (1.0 - 1.0 / len(shared))
        return cost

    def _drop(
        self,
        start: tuple[float, float],
        end: tuple[float, float],
        length: float,
        district: int,
        behind: int,
    ) -> int:
        cost = self.costs.value("drop", "fixed") + self.costs.value("drop", "per_m") * length
        segment = TrenchSegment(
            id=len(self.trenches),
            edge=-1,
            coords=((_r(start[0]), _r(start[1])), (_r(end[0]), _r(end[1]))),
            length_m=float(length),
            street_class="",
            street_name="",
            street_name_en="",
            district=district,
            method="drop",
            cost_rial=float(cost),
            stations_behind=behind,
        )
        self.trenches.append(segment)
        return segment.id

    def _exchange_drop(self, x: int) -> int:
        if x not in self.exchange_drop:
            ex = self.inputs.exchanges[x]
            node = int(self.inputs.exchange_node[x])
            street = (float(self.g.node_lon[node]), float(self.g.node_lat[node]))
            adjacency = self.g.adjacency
            first, last = adjacency.indptr[node], adjacency.indptr[node + 1]
            district = int(self.g.edge_district[adjacency.edge[first]]) if last > first else 0
            self.exchange_drop[x] = self._drop(
                (ex.lon, ex.lat), street, float(self.inputs.exchange_drop_m[x]), district, 0
            )
        return self.exchange_drop[x]

    def _station_drop(self, s: int, node: int) -> int:
        st = self.inputs.stations[s]
        key = (node, round(st.lon, 6), round(st.lat, 6))
        if key not in self.station_drop:
            if self.inputs.station_street_lonlat is not None:
                lons, lats = self.inputs.station_street_lonlat
                street = (float(lons[s]), float(lats[s]))
            else:
                street = (float(self.g.node_lon[node]), float(self.g.node_lat[node]))
            self.station_drop[key] = self._drop(
                (st.lon, st.lat), street, float(self.inputs.station_drop_m[s]), st.district, 0
            )
        return self.station_drop[key]

    # -- the plan -------------------------------------------------------------------------

    def plan(
        self,
        *,
        layouts: dict[int, Layout],
        station_local: IntArray,
        owner: IntArray,
        flags: list[list[Flag]],
        budgets: list[OpticalBudget | None],
        routes: dict[int, SecondRoute],
        inputs_digest: str,
        created_at: dt.datetime,
    ) -> Plan:
        inputs, g = self.inputs, self.g
        behind: dict[int, int] = defaultdict(int)
        for lay in layouts.values():
            kept = np.flatnonzero(lay.kept[1:]) + 1
            for e, b in zip(
                lay.tree.edge[kept].tolist(), lay.stations_below[kept].tolist(), strict=True
            ):
                behind[e] += b
        for route in routes.values():
            for e in route.edges:
                behind[e] += 1
        primary_edges = set()
        for lay in layouts.values():
            kept = np.flatnonzero(lay.kept[1:]) + 1
            primary_edges.update(lay.tree.edge[kept].tolist())
        self._street_segments(behind)

        cable_runs: list[CableRun] = []
        splices: list[SplicePoint] = []
        station_plans: list[StationPlan] = []
        drop_counts: dict[int, int] = defaultdict(int)
        exchange_plans: list[ExchangePlan] = []
        splitter_of: dict[tuple[int, int], int] = {}
        fusion = 0
        for x, lay in sorted(layouts.items()):
            ex = inputs.exchanges[x]
            ex_drop = self._exchange_drop(x)
            runs_at: dict[int, list[int]] = defaultdict(list)
            fusion += lay.fusion
            for run in lay.runs:
                for _copy in range(run.parallel):
                    run_id = len(cable_runs)
                    cable_runs.append(self._cable_run(run_id, ex.code, lay, run, ex_drop))
                    runs_at[run.top].append(run_id)
                    runs_at[run.end].append(run_id)
            for c in np.flatnonzero(lay.closure).tolist():
                node = int(lay.tree.nodes[c])
                splices.append(
                    SplicePoint(
                        id=len(splices),
                        lon=_r(g.node_lon[node]),
                        lat=_r(g.node_lat[node]),
                        kind="closure",
                        cable_run_ids=tuple(runs_at[c]),
                        exchange=ex.code,
                    )
                )
            for port, local in enumerate(lay.splitter_node.tolist()):
                node = int(lay.tree.nodes[local])
                lon, lat = (ex.lon, ex.lat) if local == 0 else (g.node_lon[node], g.node_lat[node])
                splitter_of[(x, port)] = len(splices)
                fusion += 2
                splices.append(
                    SplicePoint(
                        id=len(splices),
                        lon=_r(lon),
                        lat=_r(lat),
                        kind="splitter",
                        cable_run_ids=tuple(runs_at[local]),
                        exchange=ex.code,
                        split=self.params.split,
                    )
                )
            exchange_plans.append(
                ExchangePlan(
                    code=ex.code,
                    name=ex.name,
                    lon=ex.lon,
                    lat=ex.lat,
                    pon_ports=ex.pon_ports,
                    ports_used=lay.ports,
                    stations=int(np.count_nonzero(owner == x)),
                )
            )
        for x, ex in enumerate(inputs.exchanges):
            if x not in layouts:
                exchange_plans.append(
                    ExchangePlan(ex.code, ex.name, ex.lon, ex.lat, ex.pon_ports, 0, 0)
                )

        port_of = np.full(len(inputs.stations), -1, dtype=np.int64)
        for x, lay in layouts.items():
            port_of[np.flatnonzero(owner == x)] = lay.station_port
        second_cost = 0.0
        second_m = 0.0
        cable12 = self.costs.cable_per_m(12)
        paths: dict[int, dict[int, tuple[int, ...]]] = {}  # per exchange: local node -> route
        served = 0
        for s, st in enumerate(inputs.stations):
            x = int(owner[s])
            fl = tuple(flags[s])
            blocking = any(f.code not in WARNING_CODES for f in fl)
            status: StationStatus = "flagged" if blocking else "connected"
            if x < 0:
                station_plans.append(
                    StationPlan(
                        code=st.code,
                        lon=st.lon,
                        lat=st.lat,
                        district=st.district,
                        status="flagged",
                        exchange=None,
                        route_trench_ids=(),
                        route_length_m=0.0,
                        drop_length_m=float(inputs.station_drop_m[s])
                        if np.isfinite(inputs.station_drop_m[s])
                        else 0.0,
                        budget=None,
                        flags=fl,
                        name=st.name,
                        site=st.site,
                        critical=st.critical,
                    )
                )
                continue
            served += 1
            lay = layouts[x]
            local = int(station_local[s])
            node = int(lay.tree.nodes[local])
            drop = self._station_drop(s, node)
            drop_counts[drop] += 1
            path = self._route_ids(lay, paths.setdefault(x, {0: ()}), local)
            ex_drop = self.exchange_drop[x]
            route_ids = (ex_drop, *path, drop)
            length = (
                float(inputs.exchange_drop_m[x])
                + float(lay.dist_m[local])
                + float(inputs.station_drop_m[s])
            )
            second: RedundantRoute | None = None
            if s in routes:
                route = routes[s]
                other_drop = self._exchange_drop(route.exchange)
                extra = float(sum(self.civil_rial[e] for e in route.new_edges))
                extra += cable12 * route.length_m
                second_cost += extra
                second_m += route.length_m
                ids = (other_drop, *(self.edge_id[e] for e in route.edges), drop)
                second = RedundantRoute(
                    trench_ids=ids,
                    length_m=route.length_m
                    + float(inputs.exchange_drop_m[route.exchange])
                    + float(inputs.station_drop_m[s]),
                    exchange=inputs.exchanges[route.exchange].code,
                    extra_cost_rial=extra,
                )
                cable_runs.append(
                    CableRun(
                        id=len(cable_runs),
                        exchange=inputs.exchanges[route.exchange].code,
                        trench_ids=ids,
                        length_m=second.length_m,
                        cores=12,
                        stations_downstream=1,
                        coords=self._route_coords(
                            route.edges, int(inputs.exchange_node[route.exchange])
                        ),
                        fibers_used=1,
                        redundant=True,
                    )
                )
            port = int(port_of[s])
            station_plans.append(
                StationPlan(
                    code=st.code,
                    lon=st.lon,
                    lat=st.lat,
                    district=st.district,
                    status=status,
                    exchange=inputs.exchanges[x].code,
                    route_trench_ids=route_ids,
                    route_length_m=length,
                    drop_length_m=float(inputs.station_drop_m[s]),
                    budget=budgets[s],
                    flags=fl,
                    redundant=second,
                    name=st.name,
                    site=st.site,
                    critical=st.critical,
                    pon_port=port,
                    splitter_id=splitter_of[(x, port)],
                )
            )
        for drop, n_st in drop_counts.items():
            t = self.trenches[drop]
            self.trenches[drop] = dataclasses.replace(t, stations_behind=n_st)
        for x, d in self.exchange_drop.items():
            t = self.trenches[d]
            n_st = int(np.count_nonzero(owner == x)) + sum(
                1 for r in routes.values() if r.exchange == x
            )
            self.trenches[d] = dataclasses.replace(t, stations_behind=n_st)

        bom, totals = self._bom(
            cable_runs,
            splices,
            fusion,
            served,
            layouts,
            primary_edges,
            second_cost,
            second_m,
            station_plans,
        )
        return Plan(
            id=None,
            created_at=created_at,
            inputs_digest=inputs_digest,
            cost_model=self.costs.raw,
            stations=tuple(station_plans),
            trenches=tuple(self.trenches),
            cable_runs=tuple(cable_runs),
            splices=tuple(splices),
            bom=tuple(bom),
            totals=totals,
            exchanges=tuple(exchange_plans),
            parameters=self._parameters(),
        )

    def _parameters(self) -> dict[str, Any]:
        """The design settings used, and the credit the street data asks for (OpenStreetMap's
        when the streets came from there), so that every product of the plan can carry it."""
        from pollnet.plan.export import attribution_for

        parameters = self.params.as_dict()
        attribution = attribution_for(self.g)
        if attribution:
            parameters["street_attribution"] = attribution
        return parameters

    def _route_ids(
        self, lay: Layout, known: dict[int, tuple[int, ...]], local: int
    ) -> tuple[int, ...]:
        """The trench ids from the exchange's street node down to tree node ``local``: each
        node's route is its parent's plus one trench, built once per node (``known``)."""
        parent, edge = lay.tree.parent, lay.tree.edge
        chain: list[int] = []
        while local not in known:
            chain.append(local)
            local = int(parent[local])
        ids = known[local]
        for c in reversed(chain):
            ids = (*ids, self.edge_id[int(edge[c])])
            known[c] = ids
        return ids

    def _route_coords(self, edges: tuple[int, ...], start_node: int) -> Coords:
        out: list[tuple[float, float]] = []
        node = start_node
        for e in edges:
            coords = self.trenches[self.edge_id[e]].coords
            if int(self.g.edge_u[e]) != node:
                coords = coords[::-1]
                node = int(self.g.edge_u[e])
            else:
                node = int(self.g.edge_v[e])
            out.extend(coords if not out else coords[1:])
        return tuple(out)

    def _cable_run(
        self, run_id: int, exchange: str, lay: Layout, run: Run, ex_drop: int
    ) -> CableRun:
        top_node = int(lay.tree.nodes[run.top])
        coords = self._route_coords(run.edges, top_node)
        ids = tuple(self.edge_id[e] for e in run.edges)
        length = float(self.g.edge_length_m[list(run.edges)].sum())
        if run.top == 0:
            ids = (ex_drop, *ids)
            length += self.trenches[ex_drop].length_m
            coords = self.trenches[ex_drop].coords + coords[1:] if coords else coords
        return CableRun(
            id=run_id,
            exchange=exchange,
            trench_ids=ids,
            length_m=length,
            cores=run.cores,
            stations_downstream=run.stations,
            coords=coords,
            fibers_used=run.fibers,
            existing=run.existing,
        )

    def _bom(
        self,
        cable_runs: list[CableRun],
        splices: list[SplicePoint],
        fusion: int,
        served: int,
        layouts: dict[int, Layout],
        primary_edges: set[int],
        second_cost: float,
        second_m: float,
        stations: list[StationPlan],
    ) -> tuple[list[BomLine], PlanTotals]:
        costs = self.costs
        lines: list[BomLine] = []

        def add(
            item: str,
            unit: str,
            quantity: float,
            total: float,
            unit_cost: float | None = None,
            **params: Any,
        ) -> None:
            if quantity <= 0:
                return
            each = unit_cost if unit_cost is not None else total / quantity
            line = BomLine(item, unit, round(quantity, 2), round(each), round(total), params)
            lines.append(line)

        by_method: dict[Method, list[float]] = defaultdict(lambda: [0.0, 0.0])
        trench_m = 0.0
        for t in self.trenches:
            if t.edge >= 0 and t.edge not in primary_edges:
                if t.method != "existing_fiber":
                    trench_m += t.length_m
                continue
            if t.method == "drop":
                continue
            by_method[t.method][0] += t.length_m
            by_method[t.method][1] += t.cost_rial
            if t.method != "existing_fiber":
                trench_m += t.length_m
        for method, label in BOM_TRENCH.items():
            m, total = by_method.get(method, [0.0, 0.0])  # type: ignore[call-overload]
            add(label, "m", m, total)
        drops = [t for t in self.trenches if t.method == "drop"]
        drop_m = sum(t.length_m for t in drops)
        trench_m += drop_m
        add(BOM_DROP, "each", len(drops), sum(t.cost_rial for t in drops))

        cable_m: dict[int, float] = defaultdict(float)
        for run in cable_runs:
            if not run.existing and not run.redundant:
                cable_m[run.cores] += run.length_m
        cable_m[12] += drop_m
        for cores in sorted(cable_m):
            add(
                BOM_CABLE,
                "m",
                cable_m[cores],
                cable_m[cores] * costs.cable_per_m(cores),
                costs.cable_per_m(cores),
                cores=cores,
            )
        closures = sum(1 for s in splices if s.kind == "closure")
        add(BOM_CLOSURE, "each", closures, closures * costs.value("splice", "closure"))
        fusion += 2 * served
        add(BOM_SPLICE, "each", fusion, fusion * costs.value("splice", "per_fiber"))
        ports = sum(lay.ports for lay in layouts.values())
        split = self.params.split
        add(BOM_SPLITTER, "each", ports, ports * costs.splitter(split), split=split)
        add(BOM_ONT, "each", served, served * costs.value("equipment", "ont"))
        add(BOM_PORT, "each", ports, ports * costs.value("equipment", "olt_pon_port"))
        routes = sum(1 for s in stations if s.redundant is not None)
        add(BOM_SECOND, "each", routes, second_cost)
        connected = sum(1 for s in stations if s.status == "connected")
        totals = PlanTotals(
            stations=len(stations),
            connected=connected,
            flagged=len(stations) - connected,
            trench_m=round(trench_m, 1),
            cable_m=round(sum(cable_m.values()) + second_m, 1),
            cost_rial=float(sum(line.total_rial for line in lines)),
            redundancy_cost_rial=round(second_cost),
            usd_rate=costs.usd_rate,
        )
        return lines, totals
