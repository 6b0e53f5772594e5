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

from collections import defaultdict, deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from pollnet.errors import UserError
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


def generate(plan: Plan, config: RolloutConfig | None = None) -> WorkOrderSet:
    """The work orders that carry out ``plan``, from the templates of ``config``.

    Without ``config`` the packaged defaults (``templates.toml``) are used.
    """
    if config is None:
        from pollnet.rollout.templates import load_config

        config = load_config()
    builder = _Builder(plan, config)
    builder.build()
    return WorkOrderSet(plan.id, validate_dag(builder.orders))


@dataclass
class _Builder:
    plan: Plan
    config: RolloutConfig
    orders: list[WorkOrder] = field(default_factory=list)
    trench_order: dict[int, str] = field(default_factory=dict)
    run_splice: dict[int, str] = field(default_factory=dict)

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
    ) -> str | None:
        template = self.config.templates[kind]
        if not template.enabled:
            return None
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
        stations = [s for s in self.plan.stations if s.status == "connected" and s.route_trench_ids]
        station_access = {s.code: self._station_access(s) for s in stations}
        self._streets(station_access)
        self._cables()
        for station in stations:
            self._station(station, station_access[station.code])

    def _station_access(self, station: StationPlan) -> str | None:
        return self.add(
            "access",
            f"ST-{station.code}-ACCESS",
            district=station.district,
            subject=station.code,
            quantity=1,
            station=station.code,
        )

    def _streets(self, station_access: Mapping[str, str | None]) -> None:
        drop_access = {}
        for station in self.plan.stations:
            if station.code in station_access and station.route_trench_ids:
                drop_access[station.route_trench_ids[-1]] = station_access[station.code]
        groups: dict[tuple[int, str], list[TrenchSegment]] = defaultdict(list)
        for trench in self.plan.trenches:
            rate = self.config.trench_rates.get(trench.method)
            if rate is None:
                continue
            if trench.method in self.config.permit_methods and trench.edge >= 0:
                groups[(trench.district, street_group(trench))].append(trench)
            else:
                key = self.refs.trench[trench.id]
                self._trench(trench, key, rate, [drop_access.get(trench.id)])
        for (district, group), trenches in sorted(groups.items()):
            street = trenches[0].street_name or trenches[0].street_name_en
            permit = self.add(
                "permit",
                f"PM-{group}",
                district=district,
                subject=street,
                quantity=1,
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
                )

    def _trench(
        self, trench: TrenchSegment, key: str, rate: float, predecessors: list[str | None]
    ) -> str | None:
        added = self.add(
            "trench",
            key,
            district=trench.district,
            subject=trench.street_name or trench.street_name_en or key,
            quantity=trench.length_m,
            rate=rate,
            predecessors=predecessors,
            method=trench.method,
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
        district = streets[0].district if streets else 0
        pull = self.add(
            "cable_pull",
            f"CP-{tag}",
            district=district,
            subject=tag,
            quantity=run.length_m,
            predecessors=[self.trench_order.get(t) for t in run.trench_ids],
        )
        splice = self.add(
            "splice",
            f"SP-{tag}",
            district=district,
            subject=tag,
            quantity=max(run.fibers_used, run.stations_downstream, 1),
            predecessors=[pull],
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
