"""Moving stations to other buildings, re-planned incrementally: ``pollnet plan --move``.

>>> moves = [Move("T-00012", "SCHOOL-123", 51.41, 35.70)]
>>> after = apply_moves(state, moves)                       # doctest: +SKIP
>>> report = compare(state, after, moves, towers)           # doctest: +SKIP

:func:`apply_moves` takes a :class:`~pollnet.plan.design.DesignState` (from
:func:`pollnet.plan.whatif.baseline`) and returns a new one in which each moved station stands
at its target (snapped to the streets as stations are). Only the trees of the exchanges
involved change (the station's old exchange, whose tree loses the station's branch, and the
exchange whose tree its new site joins most cheaply by a street path: its own, or one with a
free PON port); they and any tree whose street edge the new site's snapping split are laid out
again; then the optical budgets and their repair rounds, and the second routes of the critical
stations of the trees involved whose route changed, as the design does them. Every other tree
stays as it was. :func:`compare` reports the difference: trench, cost, each moved station's
exchange, route and LTE backup class, and the work orders that appear, disappear or change,
per agency (generated only for the work whose inputs the moves changed).

The result is a plan for the registry *with the moves made*; nothing is stored. To make a move
real, change the station's site in the registry and plan again.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from pollnet.errors import Location, Problem, UserError
from pollnet.plan.costs import EdgePrices
from pollnet.plan.design import DesignState, nearest_exchange_once
from pollnet.plan.model import WARNING_CODES
from pollnet.plan.redundancy import SecondRoute
from pollnet.plan.whatif import WhatIf, copy_state
from pollnet.settings import BoundingBox
from pollnet.streets import StreetGraph

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.engine import Engine

    from pollnet.coverage import RadioSettings
    from pollnet.model import Tower
    from pollnet.rollout.templates import RolloutConfig
    from pollnet.settings import Settings

IntArray = NDArray[np.int64]

MSG_UNKNOWN_STATION = "{move}: there is no station {code} in the registry"
MSG_TWICE = "{move}: station {code} is moved more than once"
MSG_OUTSIDE = "{move}: building {target} is outside the street network's area"
MSG_FAR = (
    "{move}: building {target} is {distance} m from the nearest street "
    "(more than {limit} m, [plan] max_drop_m)"
)
MSG_UNREACHABLE = "{move}: no exchange reaches the streets at building {target}"
MSG_SYNTAX = "{move}: write it as STATION=BUILDING, e.g. T-00012=SCHOOL-123"
MSG_UNKNOWN_TARGET = "{move}: there is no building {target} in the candidates file"
MSG_NO_CANDIDATES = "--move needs --candidates FILE: the list of buildings the moves go to"

_BUDGET_ROUNDS = 3


@dataclass(frozen=True)
class Move:
    """Station ``station`` (registry code) to building ``target`` (a candidate's code) at
    ``lon``/``lat`` (WGS84 degrees); ``name`` is the building's name, if known."""

    station: str
    target: str
    lon: float
    lat: float
    name: str = ""

    @property
    def text(self) -> str:
        return f"{self.station}={self.target}"


def apply_moves(
    state: DesignState, moves: Sequence[Move], *, bbox: BoundingBox | None = None
) -> DesignState:
    """A new state with every station of ``moves`` at its target, re-planned incrementally.

    Raises a :class:`UserError` with one problem per bad move (unknown station, a station moved
    twice, a building outside the area, too far from a street, or on streets no exchange
    reaches); ``state`` is never changed.
    """
    from pollnet.plan._inputs import outside_area
    from pollnet.streets import INVALID, TOO_FAR, UNREACHABLE, snap, split_edges
    from pollnet.streets.projection import to_lonlat

    ask = WhatIf(state)
    inputs, g = state.inputs, state.inputs.graph
    problems: list[Problem] = []
    seen: Counter[str] = Counter(m.station for m in moves)
    for m in moves:
        if m.station not in ask.by_code:
            problems.append(_problem(MSG_UNKNOWN_STATION, m, code=m.station))
        elif seen[m.station] > 1:
            problems.append(_problem(MSG_TWICE, m, code=m.station))
    count = len(moves)
    lon = np.array([m.lon for m in moves] + [x.lon for x in inputs.exchanges], dtype=np.float64)
    lat = np.array([m.lat for m in moves] + [x.lat for x in inputs.exchanges], dtype=np.float64)
    snaps = snap(
        g,
        lon,
        lat,
        max_drop_m=state.params.max_drop_m,
        roots=np.arange(count, lon.size),
    )
    outside = outside_area(g, snaps.x[:count], snaps.y[:count], lon[:count], lat[:count], bbox)
    for i, m in enumerate(moves):
        bits = int(snaps.flags[i])
        if outside[i] or bits & INVALID:
            problems.append(_problem(MSG_OUTSIDE, m))
        elif bits & TOO_FAR:
            problems.append(
                _problem(
                    MSG_FAR,
                    m,
                    distance=round(float(snaps.drop_m[i])),
                    limit=round(state.params.max_drop_m),
                )
            )
        elif bits & UNREACHABLE:
            problems.append(_problem(MSG_UNREACHABLE, m))
    if problems:
        raise UserError(problems)

    # Where each moved station joins: the tree its new site reaches most cheaply, with the
    # station's own branch pruned (its own exchange, or one with a free PON port).
    stations = [ask.index(m.station) for m in moves]
    joins: list[int] = []
    for i, s in enumerate(stations):
        own = int(state.owner[s])
        pruned = ask.pruned_nodes(s) if own >= 0 else set()
        found = ask.search(int(snaps.edge[i]), float(snaps.along_m[i]), own, pruned, np.inf)
        joins.append(found[0] if found else own)

    # The new sites on the street graph: split edges keep their id for the first piece and
    # their other pieces are appended, so every tree and route stays valid once the pieces are
    # added to it.
    graph2, node = split_edges(g, snaps, points=np.arange(count))
    pieces = _pieces(g, graph2, snaps.edge[:count])
    out = copy_state(state)
    on_fiber = np.concatenate(
        [state.on_fiber, np.zeros(graph2.num_edges - g.num_edges, dtype=bool)]
    )
    for e, chain in pieces.items():
        on_fiber[chain] = state.on_fiber[e]
    changed_edges = np.array(
        sorted({e for chain in pieces.values() for e in chain}), dtype=np.int64
    )
    out.on_fiber = on_fiber
    out.prices = _extend_prices(state, graph2, on_fiber, changed_edges)
    relaid: set[int] = set()
    for x, edges in enumerate(out.edge_sets):
        split_here = [e for e in pieces if np.isin(e, edges).any()]
        if split_here:
            extra = [p for e in split_here for p in pieces[e][1:]]
            out.edge_sets[x] = np.concatenate([edges, np.asarray(extra, dtype=np.int64)])
            relaid.add(x)
    for s, route in list(out.routes.items()):
        if any(e in pieces for e in route.edges):
            out.routes[s] = _split_route(
                route, pieces, graph2, int(inputs.exchange_node[route.exchange])
            )

    station_list = list(inputs.stations)
    station_node = inputs.station_node.copy()
    station_drop = inputs.station_drop_m.copy()
    street_lon, street_lat = (
        (a.copy() for a in inputs.station_street_lonlat)
        if inputs.station_street_lonlat is not None
        else (
            graph2.node_lon[np.maximum(station_node, 0)],
            graph2.node_lat[np.maximum(station_node, 0)],
        )
    )
    flags = [tuple(f) for f in inputs.station_flags] or [() for _ in station_list]
    new_lon, new_lat = to_lonlat(snaps.proj_x[:count], snaps.proj_y[:count], g.crs)
    involved: set[int] = set()
    for i, (m, s) in enumerate(zip(moves, stations, strict=True)):
        station_list[s] = dataclasses.replace(
            station_list[s],
            lon=m.lon,
            lat=m.lat,
            site=m.target,
            name=m.name or station_list[s].name,
            address="",
        )
        station_node[s] = int(node[i])
        station_drop[s] = float(snaps.drop_m[i])
        street_lon[s], street_lat[s] = float(new_lon[i]), float(new_lat[i])
        flags[s] = ()
        old = int(state.owner[s])
        involved |= {x for x in (old, joins[i]) if x >= 0}
        out.node[s] = int(node[i])
        out.owner[s] = joins[i]
        out.flags[s] = []
        out.failing.pop(s, None)
        out.routes.pop(s, None)
        out.route_flags.pop(s, None)
    out.inputs = dataclasses.replace(
        inputs,
        graph=graph2,
        stations=tuple(station_list),
        station_node=station_node,
        station_drop_m=station_drop,
        station_flags=tuple(flags),
        station_street_lonlat=(np.asarray(street_lon), np.asarray(street_lat)),
    )
    # Each tree involved: its old tree with the moved stations' branches pruned and each new
    # site joined by its cheapest street path. The tree is not solved again: on the city, a
    # tree solved alone within its share of the search budget saved at most 0.7 % of the
    # patched tree's price (10 moves of bench_plan.py, never the 1 % that would be worth
    # changing the routes, second routes and work orders of stations the move does not
    # concern) and took up to half the move's time.
    for s in stations:
        old = int(state.owner[s])
        if old >= 0:
            branch = state.layouts[old].tree.edge[ask.branch_of(s)]
            branch = np.array([p for e in branch.tolist() for p in pieces.get(e, [e])])
            out.edge_sets[old] = out.edge_sets[old][~np.isin(out.edge_sets[old], branch)]
    for i, x in enumerate(joins):
        if x >= 0:
            path = _join_path(out, out.edge_sets[x], x, int(node[i]))
            out.edge_sets[x] = np.unique(np.concatenate([out.edge_sets[x], path]))
    out.lay_out(sorted(relaid | involved))

    nearest = nearest_exchange_once(graph2, inputs.exchange_node.astype(np.int64))
    touched = set(involved) | relaid
    budget_moves = out.check_budgets(nearest, touched)
    for _round in range(_BUDGET_ROUNDS):
        if not out.move_for_budget(budget_moves):
            break
        touched |= {int(out.owner[s]) for s, _ in budget_moves} | {k for _, k in budget_moves}
        budget_moves = out.check_budgets(nearest, touched)
    if state.params.redundancy:
        # Second routes again for the moved stations and for the critical stations whose first
        # route changed; every other second route stays as it was.
        again = set(stations)
        for s in np.flatnonzero(np.isin(out.owner, sorted(involved))).tolist():
            if s in again or not inputs.stations[s].critical:
                continue
            x, was = int(out.owner[s]), int(state.owner[s])
            if was < 0 or s not in state.routes:
                again.add(s)
                continue
            first = [p for e in state.layouts[was].path_edges(int(state.station_local[s]))
                     for p in pieces.get(e, [e])]  # fmt: skip
            if x != was or out.layouts[x].path_edges(int(out.station_local[s])) != first:
                again.add(s)
        out.second_routes(sorted(again))
    return out


def _join_path(state: DesignState, tree: IntArray, x: int, start: int) -> IntArray:
    """The street edges of the cheapest path from node ``start`` to the tree of exchange ``x``
    (its ``tree`` edges, or its street node when it has none); empty when none is reachable."""
    g = state.inputs.graph
    targets = set(g.edge_u[tree].tolist()) | set(g.edge_v[tree].tolist())
    targets.add(int(state.inputs.exchange_node[x]))
    weight = state.prices.weight
    adjacency = g.adjacency
    indptr, nbr, via = adjacency.indptr, adjacency.node, adjacency.edge
    best = {start: 0.0}
    came: dict[int, int] = {}
    heap = [(0.0, start)]
    while heap:
        cost, at = heapq.heappop(heap)
        if cost > best[at]:
            continue
        if at in targets:
            path: list[int] = []
            while at != start:
                e = came[at]
                path.append(e)
                at = int(g.edge_u[e]) if int(g.edge_v[e]) == at else int(g.edge_v[e])
            return np.asarray(path, dtype=np.int64)
        for k in range(int(indptr[at]), int(indptr[at + 1])):
            e = int(via[k])
            w = float(weight[e])
            nxt = int(nbr[k])
            if np.isfinite(w) and cost + w < best.get(nxt, np.inf):
                best[nxt] = cost + w
                came[nxt] = e
                heapq.heappush(heap, (cost + w, nxt))
    return np.zeros(0, dtype=np.int64)


def _problem(message: str, move: Move, **params: object) -> Problem:
    return Problem(
        message, {"move": move.text, "target": move.target, **params}, Location(column="--move")
    )


def _pieces(g: StreetGraph, graph2: StreetGraph, split: IntArray) -> dict[int, list[int]]:
    """For each edge the new sites split, its pieces in order from its ``edge_u`` end."""
    first_new = g.num_edges
    if graph2.num_edges == first_new:
        return {}
    starts = {int(graph2.edge_u[e]): e for e in range(first_new, graph2.num_edges)}
    out: dict[int, list[int]] = {}
    for e in sorted({int(x) for x in split.tolist() if x >= 0}):
        chain = [e]
        end = int(g.edge_v[e])
        at = int(graph2.edge_v[e])
        while at != end and at in starts:
            chain.append(starts[at])
            at = int(graph2.edge_v[starts[at]])
        if len(chain) > 1:
            out[e] = chain
    return out


def _extend_prices(
    state: DesignState, graph2: StreetGraph, on_fiber: NDArray[np.bool_], changed: IntArray
) -> EdgePrices:
    """The edge prices on the split graph: the split edges' pieces priced afresh."""
    old = state.prices
    extra = graph2.num_edges - old.weight.size
    method = np.concatenate([old.method_index, np.full(extra, -2, dtype=old.method_index.dtype)])
    civil = np.concatenate([old.civil_rial, np.full(extra, np.inf)])
    weight = np.concatenate([old.weight, np.full(extra, np.inf)])
    if changed.size:
        fresh = state.costs.edge_prices(
            graph2.class_names,
            graph2.edge_class[changed],
            graph2.edge_length_m[changed],
            on_fiber[changed],
        )
        method[changed] = fresh.method_index
        civil[changed] = fresh.civil_rial
        weight[changed] = fresh.weight
    return EdgePrices(method, civil, weight)


def _split_route(
    route: SecondRoute, pieces: dict[int, list[int]], graph2: StreetGraph, start: int
) -> SecondRoute:
    """``route`` on the split graph: each split edge replaced by its pieces, in route order."""
    edges: list[int] = []
    node = start
    for e in route.edges:
        chain = pieces.get(e, [e])
        if int(graph2.edge_u[chain[0]]) != node and int(graph2.edge_v[chain[-1]]) == node:
            chain = chain[::-1]
        for p in chain:
            edges.append(p)
            node = int(graph2.edge_v[p]) if int(graph2.edge_u[p]) == node else int(graph2.edge_u[p])
    new = [p for e in route.new_edges for p in pieces.get(e, [e])]
    return SecondRoute(tuple(edges), route.exchange, route.length_m, tuple(new))


# -- the report -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StationMove:
    """A moved station before and after: exchange, route length (metres, drops included) and
    LTE backup class (``good``, ``usable``, ``none``; None when the registry has no towers)."""

    station: str
    target: str
    exchange_before: str | None
    exchange_after: str | None
    route_m_before: float
    route_m_after: float
    lte_before: str | None
    lte_after: str | None


@dataclass(frozen=True)
class OrderChanges:
    """For one agency: work orders that appear, disappear, or stay with other contents."""

    agency: str
    added: int
    removed: int
    changed: int


@dataclass(frozen=True)
class MoveReport:
    """What the moves change: trench (metres) and cost (rials), after minus before (negative:
    less), the stations connected before and after, each moved station, the work orders;
    ``plan_id`` is the stored plan the moves start from (None: the registry planned again)."""

    trench_m: float
    cost_rial: float
    connected_before: int
    connected_after: int
    stations: tuple[StationMove, ...]
    orders: tuple[OrderChanges, ...]
    seconds: Mapping[str, float] = dataclasses.field(default_factory=dict)
    plan_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "trench_m": round(self.trench_m, 1),
            "cost_rial": round(self.cost_rial),
            "connected_before": self.connected_before,
            "connected_after": self.connected_after,
            "stations": [dataclasses.asdict(s) for s in self.stations],
            "work_orders": [dataclasses.asdict(o) for o in self.orders],
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "plan_id": self.plan_id,
        }


def compare(
    before_state: DesignState,
    after_state: DesignState,
    moves: Sequence[Move],
    towers: Sequence[Tower] = (),
    radio: RadioSettings | None = None,
    config: RolloutConfig | None = None,
) -> MoveReport:
    """The difference the ``moves`` make between the design ``before`` and ``after`` them.

    Only the part of the plan the moves changed is assembled (the trees of the exchanges
    involved, their stations and second routes), before and after; the difference of the two
    parts is the difference of the whole plans but for street permits shared with other trees'
    trenches and other stations' second routes that run in the changed trenches.
    """
    from pollnet.coverage import lte_backup
    from pollnet.rollout.workorders import changes

    before, after = before_state.layouts, after_state.layouts
    changed = {x for x in before.keys() | after.keys() if before.get(x) is not after.get(x)}
    index = {st.code: s for s, st in enumerate(after_state.inputs.stations)}
    for m in moves:
        s = index[m.station]
        was, now = int(before_state.owner[s]), int(after_state.owner[s])
        changed |= {x for x in (was, now) if x >= 0}
    part_before = before_state.plan(exchanges=changed)
    part_after = after_state.plan(exchanges=changed)
    old = {s.code: s for s in part_before.stations}
    new = {s.code: s for s in part_after.stations}
    moved = [(old[m.station], new[m.station], m) for m in moves]
    lte: dict[str, str | None] = {}
    if towers:
        places = [p for a, b, _ in moved for p in (a, b)]
        for i, backup in enumerate(lte_backup(places, towers, radio)):
            lte[f"{i % 2}{places[i].code}"] = backup.status
    stations = tuple(
        StationMove(
            station=m.station,
            target=m.target,
            exchange_before=a.exchange,
            exchange_after=b.exchange,
            route_m_before=round(a.route_length_m, 1),
            route_m_after=round(b.route_length_m, 1),
            lte_before=lte.get(f"0{a.code}"),
            lte_after=lte.get(f"1{b.code}"),
        )
        for a, b, m in moved
    )
    counts = changes(part_before, part_after, config)
    orders = tuple(OrderChanges(agency, *row) for agency, row in counts.items())
    return MoveReport(
        trench_m=part_after.totals.trench_m - part_before.totals.trench_m,
        cost_rial=part_after.totals.cost_rial - part_before.totals.cost_rial,
        connected_before=_connected(before_state),
        connected_after=_connected(after_state),
        stations=stations,
        orders=orders,
    )


def _connected(state: DesignState) -> int:
    """How many stations the plan of ``state`` connects (served, no flag but warnings)."""
    count = 0
    for s in np.flatnonzero(state.owner >= 0).tolist():
        flags = [*state.flags[s], *([state.failing[s]] if s in state.failing else [])]
        count += all(f.code in WARNING_CODES for f in flags)
    return count


def parse_moves(
    texts: Sequence[str],
    candidates: Path | str | None,
    bbox: BoundingBox,
    stations: Collection[str] | None = None,
    osm_tags: Sequence[str] | None = None,
) -> tuple[Move, ...]:
    """``STATION=BUILDING`` texts as moves to the buildings of the ``candidates`` file (read
    and checked by :func:`pollnet.registry.read_candidates`, an OpenStreetMap file's buildings
    chosen by ``osm_tags``); one problem per bad move, a station not among ``stations`` (the
    registry's codes, when given) included."""
    from pollnet.registry import read_candidates

    if not texts:
        return ()
    if candidates is None:
        raise UserError.of(MSG_NO_CANDIDATES, column="--candidates")
    buildings = {c.code: c for c in read_candidates(candidates, bbox, osm_tags)}
    problems: list[Problem] = []
    moves: list[Move] = []
    for text in texts:
        station, _, target = (part.strip() for part in text.partition("="))
        if not station or not target:
            problems.append(Problem(MSG_SYNTAX, {"move": text}, Location(column="--move")))
            continue
        move = Move(station, target, 0.0, 0.0)
        if stations is not None and station not in stations:
            problems.append(_problem(MSG_UNKNOWN_STATION, move, code=station))
        building = buildings.get(target)
        if building is None:
            problems.append(_problem(MSG_UNKNOWN_TARGET, move))
            continue
        moves.append(Move(station, target, building.lon, building.lat, building.name))
    if problems:
        raise UserError(problems)
    return tuple(moves)


def run(
    engine: Engine,
    settings: Settings,
    moves: Sequence[str],
    candidates: Path | str | None,
    *,
    streets: Path | str | None = None,
    costs: Path | str | None = None,
) -> MoveReport:
    """``pollnet plan --move``: start from the plan ``pollnet plan`` stored last (its design
    state, when it was made from the registry, streets, costs and settings at hand; otherwise
    the registry planned again as ``pollnet plan`` does, nothing stored), make the ``moves``
    (``STATION=BUILDING``) incrementally and report the difference.

    ``seconds`` in the report: ``plan`` (the plan as it is: its stored state read, or the
    registry designed again) and ``move`` (the moves re-planned, and the changed part of the
    plan assembled and compared: LTE classes and work orders included).
    """
    import time

    from pollnet.coverage import RadioSettings, read_towers
    from pollnet.plan._inputs import read_inputs
    from pollnet.plan.whatif import stored_baseline
    from pollnet.registry import osm_tags
    from pollnet.rollout.templates import load_config

    known = {s.code for s in read_inputs(engine)[0]}
    parsed = parse_moves(moves, candidates, settings.bbox, known, osm_tags(settings))
    start = time.perf_counter()
    state, plan_id = stored_baseline(engine, settings, streets=streets, costs=costs)
    planned = time.perf_counter()
    after = apply_moves(state, parsed, bbox=settings.bbox)
    radio = RadioSettings.from_mapping(settings.section("coverage"), settings.source)
    config = load_config(settings.section("rollout"))
    report = compare(state, after, parsed, read_towers(engine), radio, config)
    seconds = {"plan": planned - start, "move": time.perf_counter() - planned}
    return dataclasses.replace(report, seconds=seconds, plan_id=plan_id)
