"""Work orders from a plan: who must do what, in which order, for every station to be ready.

Identifiers say what a work order is about, so that regenerating after a re-plan finds the same
work again. They are built on the plan's stable references (:mod:`pollnet.plan.refs`, the same
names the work lists and map layers use): ``PM-<street group>`` (permit) and ``RS-...``
(restoration) per street group; the trench's own ``TR-...`` per trench segment; ``CP-<cable
run>`` (cable pull) and ``SP-...`` (splicing) per cable run; ``ST-<station>-<TASK>`` per station.
Plan-internal integer ids are not used: the planner numbers them afresh on every run.

The dependencies form a DAG: permit -> trench -> restoration; a cable pull after its trenches;
splicing after the pull; a station's ONT after every trench on its route and the splicing of
every cable run feeding it; the building drop after the school's access; the optical test after
the ONT; device installation after access (with power) and the LTE SIM; the end-to-end test (the
station is ready) after the devices and a passed optical test.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict, deque
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy.spatial import cKDTree

from pollnet.areas.model import AreaKind, AreaSet
from pollnet.errors import UserError
from pollnet.model import Agency
from pollnet.plan.model import CableRun, Plan, StationPlan, TrenchSegment
from pollnet.plan.refs import PlanRefs, street_group
from pollnet.rollout.templates import RolloutConfig

STATION_TASKS: Mapping[str, str] = {
    "access": "ACCESS",
    "ont": "ONT",
    "optical_test": "OTEST",
    "lte_sim": "LTE",
    "device_install": "DEVICE",
    "e2e_test": "E2E",
}
"""Station-level kinds and the suffix of their identifiers."""

READY_KIND = "e2e_test"
"""The work order whose completion makes a station ready (device verified)."""


@dataclass(frozen=True)
class WorkOrder:
    """One piece of work for one agency, with what must be finished before it can start.

    ``duration_days`` is working days of one crew (or a lead time when ``crew`` is false);
    ``quantity`` is in ``unit`` (metres, splices, stations); ``min_rx_dbm`` is set on optical
    tests: the lowest measured received power that passes.
    """

    id: str
    kind: str
    agency: str
    district: int
    subject: str
    quantity: float
    unit: str
    duration_days: float
    crew: bool
    predecessors: tuple[str, ...] = ()
    station: str | None = None
    method: str | None = None
    min_rx_dbm: float | None = None
    county: str = ""
    municipality: str = ""
    education_district: str = ""

    @property
    def scope(self) -> str:
        """The area the work's agency acts in: each municipality is its own agency for street
        works and permits, each education district its own for school works ('' for the
        telecom company and the election office, and where no area is known)."""
        if self.agency == Agency.MUNICIPALITY:
            return self.municipality
        if self.agency == Agency.EDUCATION:
            return self.education_district
        return ""

    def area(self, kind: str) -> str:
        """The code of the area of ``kind`` (county, municipality, education_district) the work
        lies in, '' when unknown."""
        value: str = getattr(self, kind)
        return value


@dataclass(frozen=True)
class AreaLookup:
    """What work orders need to know their areas: the areas, and each station's areas as the
    registry assigned them (station code -> kind -> area code; a station file's education
    district wins over the polygon)."""

    areas: AreaSet
    stations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


_ORDER_AREA_KINDS = (AreaKind.COUNTY, AreaKind.MUNICIPALITY, AreaKind.EDUCATION_DISTRICT)


@dataclass(frozen=True)
class WorkOrderSet:
    """The work orders of one plan, in a topological order (every predecessor first)."""

    plan_id: str | None
    orders: tuple[WorkOrder, ...]

    def __iter__(self) -> Iterator[WorkOrder]:
        return iter(self.orders)

    def __len__(self) -> int:
        return len(self.orders)

    @cached_property
    def by_id(self) -> Mapping[str, WorkOrder]:
        """Work orders by identifier."""
        return {o.id: o for o in self.orders}

    @cached_property
    def successors(self) -> Mapping[str, tuple[str, ...]]:
        """For each work order, the ones that wait on it."""
        after: dict[str, list[str]] = defaultdict(list)
        for order in self.orders:
            for pred in order.predecessors:
                after[pred].append(order.id)
        return {k: tuple(v) for k, v in after.items()}

    def ancestors(self, order_id: str) -> set[str]:
        """Every work order that must be finished before ``order_id`` can start."""
        seen: set[str] = set()
        stack = list(self.by_id[order_id].predecessors)
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(self.by_id[current].predecessors)
        return seen

    def descendants(self, order_ids: Iterable[str]) -> set[str]:
        """Every work order that waits, directly or not, on any of ``order_ids``."""
        seen: set[str] = set()
        stack = list(order_ids)
        while stack:
            for nxt in self.successors.get(stack.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return seen

    def stations(self) -> list[str]:
        """The codes of the stations that have work orders."""
        return [o.station for o in self.orders if o.kind == READY_KIND and o.station]


def in_areas(
    orders: WorkOrderSet, filters: Mapping[str, str], *, upstream: bool = False
) -> WorkOrderSet:
    """The work orders in every area of ``filters`` (kind -> area code, kinds ``county``,
    ``municipality``, ``education_district``), in order; all of them when ``filters`` is empty.

    With ``upstream`` the work they wait on is kept too (wherever it lies), so the result can
    be scheduled; without it, predecessors outside the result are dropped from each order.
    """
    if not filters:
        return orders
    keep = {o.id for o in orders if all(o.area(k) == v for k, v in filters.items())}
    if upstream:
        for order_id in list(keep):
            keep |= orders.ancestors(order_id)
    chosen = [o for o in orders if o.id in keep]
    if not upstream:
        chosen = [
            dataclasses.replace(o, predecessors=tuple(p for p in o.predecessors if p in keep))
            for o in chosen
        ]
    return WorkOrderSet(orders.plan_id, tuple(chosen))


def validate_dag(orders: Iterable[WorkOrder]) -> tuple[WorkOrder, ...]:
    """``orders`` in a topological order; a :class:`UserError` on a cycle or unknown reference."""
    items = list(orders)
    by_id: dict[str, WorkOrder] = {}
    for order in items:
        if order.id in by_id:
            raise UserError.of("duplicate work order: {id}", id=order.id)
        by_id[order.id] = order
    if _topologically_sorted(items):
        return tuple(items)  # as generate() builds them
    waiting = {o.id: len(o.predecessors) for o in items}
    after: dict[str, list[str]] = defaultdict(list)
    for order in items:
        for pred in order.predecessors:
            if pred not in by_id:
                raise UserError.of(
                    "work order {id} depends on unknown work order {pred}", id=order.id, pred=pred
                )
            after[pred].append(order.id)
    queue = deque(o.id for o in items if not o.predecessors)
    ordered: list[WorkOrder] = []
    while queue:
        current = queue.popleft()
        ordered.append(by_id[current])
        for nxt in after[current]:
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                queue.append(nxt)
    if len(ordered) != len(items):
        stuck = sorted(k for k, v in waiting.items() if v > 0)
        raise UserError.of(
            "work order dependencies form a cycle through {id}", id=stuck[0], count=len(stuck)
        )
    return tuple(ordered)


def _topologically_sorted(items: list[WorkOrder]) -> bool:
    """Whether every predecessor comes before its work order (so there is no cycle)."""
    seen: set[str] = set()
    add = seen.add
    for order in items:
        for pred in order.predecessors:
            if pred not in seen:
                return False
        add(order.id)
    return True


def generate(
    plan: Plan, config: RolloutConfig | None = None, areas: AreaLookup | None = None
) -> WorkOrderSet:
    """The work orders that carry out ``plan``, from the templates of ``config``.

    Without ``config`` the packaged defaults (``templates.toml``) are used. A street work whose
    street has no municipal district (0: outside every district polygon) takes the district of
    the nearest station, so no work order is in district 0. With ``areas`` every work order
    gets the county, municipality and education district it lies in.
    """
    if config is None:
        from pollnet.rollout.templates import load_config

        config = load_config()
    builder = _Builder(plan, config)
    builder.build()
    orders = builder.orders
    if areas is not None:
        orders = _with_areas(orders, builder.points, areas)
    return WorkOrderSet(plan.id, validate_dag(orders))


def changes(
    before: Plan, after: Plan, config: RolloutConfig | None = None
) -> dict[str, tuple[int, int, int]]:
    """Per agency, how many work orders ``after`` adds, removes and changes against ``before``.

    The counts of comparing ``generate(before)`` with ``generate(after)`` by identifier, but
    only the work of the stations, street groups, other trenches and cable runs whose inputs
    differ between the plans is generated (the rest would come out the same): a re-plan that
    changes a few stations of a large tree compares in a fraction of the time.
    """
    if config is None:
        from pollnet.rollout.templates import load_config

        config = load_config()
    sides = (_Builder(before, config), _Builder(after, config))
    old, new = (side.signatures() for side in sides)
    differ = {key for key in old.keys() | new.keys() if old.get(key) != new.get(key)}
    first, second = (side.orders_of(differ) for side in sides)
    counts: dict[str, list[int]] = {}
    for key in first.keys() | second.keys():
        order = second.get(key) or first[key]
        row = counts.setdefault(order.agency, [0, 0, 0])
        if key not in first:
            row[0] += 1
        elif key not in second:
            row[1] += 1
        elif first[key] != second[key]:
            row[2] += 1
    return {agency: (row[0], row[1], row[2]) for agency, row in sorted(counts.items()) if any(row)}


def _with_areas(
    orders: list[WorkOrder], points: Mapping[str, tuple[float, float]], lookup: AreaLookup
) -> list[WorkOrder]:
    """``orders`` with their areas: a station's work from the station's areas, the rest from
    the polygon holding the work's place."""
    placed = [o.id for o in orders if o.id in points]
    lon = np.array([points[i][0] for i in placed], dtype=np.float64)
    lat = np.array([points[i][1] for i in placed], dtype=np.float64)
    found = {kind: lookup.areas.codes(kind, lon, lat) for kind in _ORDER_AREA_KINDS}
    row = {order_id: n for n, order_id in enumerate(placed)}
    out = []
    for order in orders:
        values: dict[str, str] = {}
        own = lookup.stations.get(order.station or "", {})
        for kind in _ORDER_AREA_KINDS:
            value = own.get(kind.value, "")
            if not value and order.id in row:
                value = str(found[kind][row[order.id]])
            values[kind.value] = value
        out.append(
            dataclasses.replace(
                order,
                county=values["county"],
                municipality=values["municipality"],
                education_district=values["education_district"],
            )
        )
    return out


def _middle(coords: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """The middle of a (lon, lat) polyline's middle shape point or middle segment."""
    if not coords:
        return (float("nan"), float("nan"))
    (lon0, lat0), (lon1, lat1) = coords[(len(coords) - 1) // 2], coords[len(coords) // 2]
    return ((float(lon0) + float(lon1)) / 2.0, (float(lat0) + float(lat1)) / 2.0)


@dataclass
class _Builder:
    plan: Plan
    config: RolloutConfig
    orders: list[WorkOrder] = field(default_factory=list)
    trench_order: dict[int, str] = field(default_factory=dict)
    run_splice: dict[int, str] = field(default_factory=dict)

    points: dict[str, tuple[float, float]] = field(default_factory=dict)
    district_of: dict[int, int] = field(default_factory=dict)
    station_access: dict[str, str | None] = field(default_factory=dict)
    groups: dict[tuple[int, str], list[TrenchSegment]] = field(default_factory=dict)
    single: list[TrenchSegment] = field(default_factory=list)

    @cached_property
    def refs(self) -> PlanRefs:
        return PlanRefs(self.plan)

    def add(
        self,
        kind: str,
        order_id: str,
        *,
        district: int,
        subject: str,
        quantity: float,
        predecessors: Iterable[str | None] = (),
        rate: float | None = None,
        station: str | None = None,
        method: str | None = None,
        min_rx_dbm: float | None = None,
        at: tuple[float, float] | None = None,
    ) -> str | None:
        template = self.config.templates[kind]
        if not template.enabled:
            return None
        if at is not None:
            self.points[order_id] = at
        if template.lead_days is not None:
            duration = template.lead_days
        else:
            per_day = rate if rate is not None else template.rate
            assert per_day is not None
            duration = self.config.duration(quantity, per_day)
        preds = tuple(dict.fromkeys([p for p in predecessors if p is not None]))
        self.orders.append(
            WorkOrder(
                order_id,
                kind,
                template.agency,
                district,
                subject,
                round(quantity, 1),
                template.unit,
                duration,
                template.lead_days is None,
                preds,
                station,
                method,
                min_rx_dbm,
            )
        )
        return order_id

    def build(self) -> None:
        stations = self._connected()
        self._districts()
        station_access = {s.code: self._station_access(s) for s in stations}
        self._streets(station_access)
        self._cables()
        for station in stations:
            self._station(station, station_access[station.code])

    def _connected(self) -> list[StationPlan]:
        """The stations that get work: connected, with a route."""
        return [s for s in self.plan.stations if s.status == "connected" and s.route_trench_ids]

    # -- what each piece of work is made from, for :func:`changes` -------------------------

    def signatures(self) -> dict[tuple[object, ...], object]:
        """What the work of each station, street group, other trench and cable run is
        generated from, by a key that names it in any plan (``("S", station)``, ``("G",
        district, street group)``, ``("T", trench)``, ``("R", cable run)``): two plans whose
        signatures of a key agree give it the same work orders. Fills the identifiers of the
        work orders the others wait on, as :meth:`build` would, without making them."""
        self._districts()
        templates, refs, tags = self.config.templates, self.refs.trench, self.refs.cable_run
        stations = self._connected()
        access = templates["access"].enabled
        self.station_access = {s.code: f"ST-{s.code}-ACCESS" if access else None for s in stations}
        drop_access = self._drop_access(self.station_access)
        self.groups, self.single = self._street_groups()
        if templates["trench"].enabled:
            for trench in self.plan.trenches:
                if trench.method in self.config.trench_rates:
                    self.trench_order[trench.id] = refs[trench.id]
        for run in self.plan.cable_runs:
            tag = tags[run.id]
            pull = f"CP-{tag}" if templates["cable_pull"].enabled else None
            splice = f"SP-{tag}" if templates["splice"].enabled else None
            self.run_splice[run.id] = splice or pull or ""

        def trench_signature(t: TrenchSegment) -> tuple[object, ...]:
            return (
                refs[t.id], self.district_of[t.id], t.street_name, t.street_name_en,
                t.length_m, t.method, t.edge >= 0, _middle(t.coords),
            )  # fmt: skip

        out: dict[tuple[object, ...], object] = {}
        for trench in self.single:
            out[("T", refs[trench.id])] = (trench_signature(trench), drop_access.get(trench.id))
        for (district, group), trenches in self.groups.items():
            out[("G", district, group)] = tuple(trench_signature(t) for t in trenches)
        by_id = {t.id: t for t in self.plan.trenches}
        ending: dict[int, list[str]] = defaultdict(list)
        for run in self.plan.cable_runs:
            streets = [by_id[t] for t in run.trench_ids if by_id[t].edge >= 0] or [
                by_id[t] for t in run.trench_ids
            ]
            first = (self.district_of[streets[0].id], _middle(streets[0].coords)) if streets else ()
            out[("R", tags[run.id])] = (
                dataclasses.replace(run, id=0, trench_ids=(), coords=()),
                tuple(self.trench_order.get(t) for t in run.trench_ids),
                first,
            )
            if run.trench_ids:
                ending[run.trench_ids[-1]].append(tags[run.id])
        ends = {t: tuple(found) for t, found in ending.items()}
        for station in stations:
            ids = station.route_trench_ids
            out[("S", station.code)] = (
                station.district, station.lon, station.lat, station.exchange,
                station.budget.total_loss_db if station.budget else 0.0,
                tuple(map(refs.__getitem__, ids)),
                tuple(map(ends.get, ids)),  # the cable runs ending on its route, in order
            )  # fmt: skip
        return out

    def orders_of(self, keys: Collection[tuple[object, ...]]) -> dict[str, WorkOrder]:
        """The work orders of the pieces of work named by ``keys`` (see :meth:`signatures`,
        which must run first), by identifier."""
        self.orders = []
        refs, tags = self.refs.trench, self.refs.cable_run
        drop_access = self._drop_access(self.station_access)
        for trench in self.single:
            if ("T", refs[trench.id]) in keys:
                self._single_trench(trench, drop_access)
        for (district, group), trenches in self.groups.items():
            if ("G", district, group) in keys:
                self._group((district, group), trenches)
        by_id = {t.id: t for t in self.plan.trenches}
        for run in self.plan.cable_runs:
            if ("R", tags[run.id]) in keys:
                self._cable(run, by_id)
        for station in self._connected():
            if ("S", station.code) in keys:
                self._station_access(station)
                self._station(station, self.station_access[station.code])
        return {o.id: o for o in self.orders}

    def _districts(self) -> None:
        """Each trench's district; a trench outside every district takes the nearest
        station's."""
        trenches = self.plan.trenches
        self.district_of = {t.id: t.district for t in trenches}
        lost = [t for t in trenches if t.district <= 0]
        known = [s for s in self.plan.stations if s.district > 0]
        if not lost or not known:
            return
        lat0 = np.radians(np.mean([s.lat for s in known]))
        tree = cKDTree([(s.lon * np.cos(lat0), s.lat) for s in known])
        mid = [_middle(t.coords) for t in lost]
        _, nearest = tree.query([(lon * np.cos(lat0), lat) for lon, lat in mid])
        for trench, k in zip(lost, np.atleast_1d(nearest), strict=True):
            self.district_of[trench.id] = known[int(k)].district

    def _station_access(self, station: StationPlan) -> str | None:
        return self.add(
            "access",
            f"ST-{station.code}-ACCESS",
            district=station.district,
            subject=station.code,
            quantity=1,
            station=station.code,
            at=(station.lon, station.lat),
        )

    def _streets(self, station_access: Mapping[str, str | None]) -> None:
        drop_access = self._drop_access(station_access)
        groups, single = self._street_groups()
        for trench in single:
            self._single_trench(trench, drop_access)
        for key, trenches in sorted(groups.items()):
            self._group(key, trenches)

    def _drop_access(self, station_access: Mapping[str, str | None]) -> dict[int, str | None]:
        """The access work order of the station each building drop serves, by trench id."""
        drop_access = {}
        for station in self.plan.stations:
            if station.code in station_access and station.route_trench_ids:
                drop_access[station.route_trench_ids[-1]] = station_access[station.code]
        return drop_access

    def _street_groups(
        self,
    ) -> tuple[dict[tuple[int, str], list[TrenchSegment]], list[TrenchSegment]]:
        """The street trenches that need a permit, by (district, street group), and the other
        trenches with a work rate, in plan order."""
        groups: dict[tuple[int, str], list[TrenchSegment]] = defaultdict(list)
        single: list[TrenchSegment] = []
        for trench in self.plan.trenches:
            if trench.method not in self.config.trench_rates:
                continue
            if trench.method in self.config.permit_methods and trench.edge >= 0:
                district = self.district_of[trench.id]
                placed = dataclasses.replace(trench, district=district)
                groups[(district, street_group(placed))].append(trench)
            else:
                single.append(trench)
        return groups, single

    def _single_trench(self, trench: TrenchSegment, drop_access: Mapping[int, str | None]) -> None:
        rate = self.config.trench_rates[trench.method]
        self._trench(trench, self.refs.trench[trench.id], rate, [drop_access.get(trench.id)])

    def _group(self, key: tuple[int, str], trenches: Sequence[TrenchSegment]) -> None:
        """A street group's permit, its trenches and their restoration."""
        district, group = key
        street = trenches[0].street_name or trenches[0].street_name_en
        at = _middle(trenches[0].coords)
        permit = self.add(
            "permit",
            f"PM-{group}",
            district=district,
            subject=street,
            quantity=1,
            at=at,
        )
        dug = []
        for trench in trenches:
            rate = self.config.trench_rates[trench.method]
            dug.append(self._trench(trench, self.refs.trench[trench.id], rate, [permit]))
        restored = [t for t in trenches if t.method in self.config.restore_methods]
        if restored:
            self.add(
                "restoration",
                f"RS-{group}",
                district=district,
                subject=street,
                quantity=sum(t.length_m for t in restored),
                predecessors=dug,
                at=at,
            )

    def _trench(
        self, trench: TrenchSegment, key: str, rate: float, predecessors: list[str | None]
    ) -> str | None:
        added = self.add(
            "trench",
            key,
            district=self.district_of[trench.id],
            subject=trench.street_name or trench.street_name_en or key,
            quantity=trench.length_m,
            rate=rate,
            predecessors=predecessors,
            method=trench.method,
            at=_middle(trench.coords),
        )
        if added:
            self.trench_order[trench.id] = added
        return added

    def _cables(self) -> None:
        by_id = {t.id: t for t in self.plan.trenches}
        for run in self.plan.cable_runs:
            self._cable(run, by_id)

    def _cable(self, run: CableRun, trenches: Mapping[int, TrenchSegment]) -> None:
        tag = self.refs.cable_run[run.id]
        streets = [trenches[t] for t in run.trench_ids if trenches[t].edge >= 0] or [
            trenches[t] for t in run.trench_ids
        ]
        district = self.district_of[streets[0].id] if streets else 0
        at = _middle(streets[0].coords) if streets else None
        pull = self.add(
            "cable_pull",
            f"CP-{tag}",
            district=district,
            subject=tag,
            quantity=run.length_m,
            predecessors=[self.trench_order.get(t) for t in run.trench_ids],
            at=at,
        )
        splice = self.add(
            "splice",
            f"SP-{tag}",
            district=district,
            subject=tag,
            quantity=max(run.fibers_used, run.stations_downstream, 1),
            predecessors=[pull],
            at=at,
        )
        self.run_splice[run.id] = splice or pull or ""

    def _station(self, station: StationPlan, access: str | None) -> None:
        code, district = station.code, station.district
        ids = {kind: f"ST-{code}-{suffix}" for kind, suffix in STATION_TASKS.items()}

        def add(
            kind: str, preds: Iterable[str | None], min_rx_dbm: float | None = None
        ) -> str | None:
            return self.add(
                kind,
                ids[kind],
                district=district,
                subject=code,
                quantity=1,
                predecessors=preds,
                station=code,
                min_rx_dbm=min_rx_dbm,
                at=(station.lon, station.lat),
            )

        route = set(station.route_trench_ids)
        feeding = [
            r
            for r in self._runs_ending_on(station.route_trench_ids)
            if r.exchange == station.exchange and route.issuperset(r.trench_ids)
        ]
        covered = {t for r in feeding for t in r.trench_ids}
        fiber = [self.run_splice[r.id] or None for r in feeding] + [
            self.trench_order.get(t) for t in station.route_trench_ids if t not in covered
        ]
        ont = add("ont", [access, *fiber])
        loss = station.budget.total_loss_db if station.budget else 0.0
        test = add("optical_test", [ont], min_rx_dbm=self.config.optical.min_rx_dbm(loss))
        sim = add("lte_sim", [access])
        device = add("device_install", [access, sim])
        add("e2e_test", [device, test])

    @cached_property
    def _runs_by_last_trench(self) -> Mapping[int, list[CableRun]]:
        index: dict[int, list[CableRun]] = defaultdict(list)
        for run in self.plan.cable_runs:
            if run.trench_ids:
                index[run.trench_ids[-1]].append(run)
        return index

    def _runs_ending_on(self, route: Iterable[int]) -> list[CableRun]:
        index = self._runs_by_last_trench
        return [r for t in route if t in index for r in index[t]]


@dataclass(frozen=True)
class Regeneration:
    """What regenerating work orders changed against the stored ones (identifiers, sorted).

    ``kept`` keep their status; ``cancelled`` are no longer in the plan and are kept with the
    status cancelled; ``reactivated`` were cancelled before and are in the plan again.
    """

    added: tuple[str, ...]
    cancelled: tuple[str, ...]
    kept: tuple[str, ...]
    reactivated: tuple[str, ...]

    def summary(self) -> dict[str, int]:
        """The counts, as ``pollnet work generate --json`` prints them."""
        return {
            "added": len(self.added),
            "cancelled": len(self.cancelled),
            "kept": len(self.kept),
            "reactivated": len(self.reactivated),
        }


def reconcile(stored: Mapping[str, str], fresh: WorkOrderSet) -> Regeneration:
    """Compare ``fresh`` work orders with ``stored`` ones (identifier -> status)."""
    new_ids = set(fresh.by_id)
    old_live = {k for k, v in stored.items() if v != "cancelled"}
    old_cancelled = set(stored) - old_live
    return Regeneration(
        added=tuple(sorted(new_ids - set(stored))),
        cancelled=tuple(sorted(old_live - new_ids)),
        kept=tuple(sorted(new_ids & old_live)),
        reactivated=tuple(sorted(new_ids & old_cancelled)),
    )
