"""Small hand-made plans for the rollout tests, written against the plan contract."""

from __future__ import annotations

import datetime as dt

from pollnet.plan.model import (
    CableRun,
    Method,
    OpticalBudget,
    Plan,
    PlanTotals,
    StationPlan,
    TrenchSegment,
)


def trench(
    tid: int,
    edge: int,
    method: Method = "open_trench",
    *,
    street: str = "Valiasr",
    district: int = 3,
    length: float = 120.0,
) -> TrenchSegment:
    """One trench segment; ``edge == -1`` makes it a building drop."""
    return TrenchSegment(
        id=tid,
        edge=edge,
        coords=((51.4 + tid * 1e-3, 35.7), (51.4 + tid * 1e-3, 35.701)),
        length_m=length,
        street_class="residential",
        street_name=f"خیابان {street}" if edge >= 0 else "",
        street_name_en=street if edge >= 0 else "",
        district=district,
        method=method if edge >= 0 else "drop",
        cost_rial=1.0e6,
        stations_behind=1,
    )


def station(
    code: str,
    route: tuple[int, ...],
    *,
    district: int = 3,
    loss: float = 20.0,
    exchange: str = "EX1",
) -> StationPlan:
    """A connected station whose fiber follows ``route`` (trench ids from the exchange)."""
    return StationPlan(
        code=code,
        lon=51.4,
        lat=35.7,
        district=district,
        status="connected",
        exchange=exchange,
        route_trench_ids=route,
        route_length_m=100.0 * len(route),
        drop_length_m=20.0,
        budget=OpticalBudget(1.0, 4, 2, 17.0, loss, 28.0, 3.0, True),
    )


def make_plan(
    stations: tuple[StationPlan, ...],
    trenches: tuple[TrenchSegment, ...],
    runs: tuple[CableRun, ...] = (),
    plan_id: str = "p1",
) -> Plan:
    """A plan holding exactly the given parts."""
    return Plan(
        id=plan_id,
        created_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        inputs_digest="test",
        cost_model={},
        stations=stations,
        trenches=trenches,
        cable_runs=runs,
        splices=(),
        bom=(),
        totals=PlanTotals(len(stations), len(stations), 0, 0.0, 0.0, 0.0, 0.0, 0.0),
    )


def run(rid: int, trench_ids: tuple[int, ...], exchange: str = "EX1") -> CableRun:
    """A 24-core cable run laid in ``trench_ids``."""
    return CableRun(rid, exchange, trench_ids, 100.0 * len(trench_ids), 24, 2, (), fibers_used=2)


def two_stations() -> Plan:
    """Exchange drop 0, a shared street trench 1 (Valiasr), then each station's own street
    trench (2: Valiasr, 3: Enghelab, micro-trench) and building drop (4, 5); an existing duct
    (6) on station B's way; a feeder cable over 0-1 and one distribution cable per station."""
    trenches = (
        trench(0, -1),
        trench(1, 10),
        trench(2, 11),
        trench(3, 12, "micro_trench", street="Enghelab"),
        trench(4, -1),
        trench(5, -1),
        trench(6, 13, "existing_duct", street="Enghelab"),
    )
    stations = (station("A", (0, 1, 2, 4)), station("B", (0, 1, 6, 3, 5), loss=24.0))
    runs = (run(0, (0, 1)), run(1, (2, 4)), run(2, (6, 3, 5)))
    return make_plan(stations, trenches, runs)
