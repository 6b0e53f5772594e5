"""A synthetic :class:`~pollnet.plan.model.Plan` of any size, built directly from the contract.

For benchmarks and demos of the rollout when no real plan of that size exists: each exchange
feeds a random tree of street trenches (routes a few dozen segments deep), stations hang off its
nodes by building drops, and cable runs go between splice nodes of the tree. Deterministic for a
given ``seed``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from pollnet.plan.model import (
    CableRun,
    Method,
    OpticalBudget,
    Plan,
    PlanTotals,
    StationPlan,
    TrenchSegment,
)

_STREET_METHODS: tuple[Method, ...] = ("open_trench", "micro_trench", "existing_duct", "aerial")
_METHOD_WEIGHTS = (0.5, 0.3, 0.15, 0.05)


def synthetic_plan(
    stations: int = 8000,
    *,
    exchanges: int | None = None,
    districts: int = 22,
    streets_per_district: int = 40,
    seed: int = 1,
) -> Plan:
    """A connected plan of ``stations`` stations spread over ``districts`` municipal districts."""
    rng = np.random.default_rng(seed)
    n_exchanges = exchanges or max(1, stations // 200)
    trenches: list[TrenchSegment] = []
    runs: list[CableRun] = []
    plans: list[StationPlan] = []

    def trench(edge: int, district: int, method: Method, street: int) -> int:
        tid = len(trenches)
        length = float(rng.uniform(30, 200)) if method != "drop" else float(rng.uniform(10, 60))
        lon, lat = 51.2 + tid * 1e-6, 35.6 + tid * 1e-6
        trenches.append(
            TrenchSegment(
                id=tid,
                edge=edge,
                coords=((lon, lat), (lon + 1e-4, lat + 1e-4)),
                length_m=round(length, 1),
                street_class="residential" if method != "drop" else "drop",
                street_name=f"خیابان {street}" if method != "drop" else "",
                street_name_en=f"Street {street}" if method != "drop" else "",
                district=district,
                method=method,
                cost_rial=length * 4.0e6,
                stations_behind=0,
            )
        )
        return tid

    per_exchange = np.array_split(np.arange(stations), n_exchanges)
    next_edge = 0
    for x, members in enumerate(per_exchange):
        code = f"EX{x:03d}"
        district = x % districts + 1
        head = trench(-1, district, "drop", 0)
        # Tree nodes: path of trench ids from the exchange drop, and the nearest splice node.
        paths: list[tuple[int, ...]] = [(head,)]
        splice_of: list[int] = [0]
        is_splice = [True]
        for s in members:
            parent = int(rng.integers(max(0, len(paths) - 8), len(paths)))
            path = paths[parent]
            for _ in range(int(rng.integers(1, 3))):
                method = _STREET_METHODS[int(rng.choice(4, p=_METHOD_WEIGHTS))]
                street = int(rng.integers(0, streets_per_district))
                path = (*path, trench(next_edge, district, method, street))
                next_edge += 1
            paths.append(path)
            splice = bool(rng.random() < 0.15)
            anchor = parent if is_splice[parent] else splice_of[parent]
            is_splice.append(splice)
            splice_of.append(anchor)
            if splice:
                start = len(paths[anchor]) if anchor else 0
                run_trenches = path[start:]
                runs.append(
                    CableRun(
                        id=len(runs),
                        exchange=code,
                        trench_ids=run_trenches,
                        length_m=sum(trenches[t].length_m for t in run_trenches),
                        cores=48,
                        stations_downstream=8,
                        coords=(),
                        fibers_used=8,
                    )
                )
            drop = trench(-1, district, "drop", 0)
            route = (*path, drop)
            loss = float(rng.uniform(14.0, 25.0))
            plans.append(
                StationPlan(
                    code=f"S{int(s):05d}",
                    lon=51.2,
                    lat=35.6,
                    district=district,
                    status="connected",
                    exchange=code,
                    route_trench_ids=route,
                    route_length_m=sum(trenches[t].length_m for t in route),
                    drop_length_m=trenches[drop].length_m,
                    budget=OpticalBudget(1.0, 4, 2, 17.0, round(loss, 2), 28.0, 3.0, True),
                )
            )
    trench_m = sum(t.length_m for t in trenches)
    return Plan(
        id=f"synthetic-{stations}-{seed}",
        created_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        inputs_digest=f"synthetic:{stations}:{seed}",
        cost_model={},
        stations=tuple(plans),
        trenches=tuple(trenches),
        cable_runs=tuple(runs),
        splices=(),
        bom=(),
        totals=PlanTotals(stations, stations, 0, trench_m, trench_m, 0.0, 0.0, 0.0),
    )
