"""The fiber plan: routes from telecom exchanges to every polling station along real streets.

>>> plan = run(engine, settings, streets="pollnet-data/streets.npz")  # doctest: +SKIP
>>> plan.totals.connected, plan.totals.cost_rial                       # doctest: +SKIP

:func:`plan_network` is the pure core (a street graph and registry values in, a :class:`Plan`
out); :func:`run` reads the inputs from the store and a street cache, plans, and stores the plan
with its inputs digest and cost model so it can be reproduced.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from pollnet.model import Exchange, ExistingFiber, Station
from pollnet.plan.budget import Optics, optical_budget
from pollnet.plan.costs import CostModel, load_costs
from pollnet.plan.design import DesignInputs, DesignState, design, design_state
from pollnet.plan.model import Flag, Plan, PlanTotals, StationPlan
from pollnet.plan.params import PlanParameters
from pollnet.plan.store import latest_plan_id, load_plan, save_plan
from pollnet.settings import BoundingBox, Settings
from pollnet.streets import StreetGraph

__all__ = [
    "CostModel",
    "DesignInputs",
    "Flag",
    "Optics",
    "Plan",
    "PlanParameters",
    "PlanTotals",
    "StationPlan",
    "design",
    "latest_plan_id",
    "load_costs",
    "load_plan",
    "optical_budget",
    "plan_city",
    "plan_network",
    "run",
    "save_plan",
]


def plan_network(
    graph: StreetGraph,
    stations: Sequence[Station],
    exchanges: Sequence[Exchange],
    fibers: Sequence[ExistingFiber] = (),
    *,
    costs: CostModel | None = None,
    params: PlanParameters | None = None,
    bbox: BoundingBox | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> Plan:
    """Plan the network for ``stations`` from ``exchanges`` on ``graph`` (nothing is stored)."""
    return _plan_and_state(
        graph, stations, exchanges, fibers, costs=costs, params=params, bbox=bbox, clock=clock
    )[0]


def _plan_and_state(
    graph: StreetGraph,
    stations: Sequence[Station],
    exchanges: Sequence[Exchange],
    fibers: Sequence[ExistingFiber],
    *,
    costs: CostModel | None,
    params: PlanParameters | None,
    bbox: BoundingBox | None,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[Plan, DesignState]:
    """:func:`plan_network`, and the design state the plan was assembled from."""
    from pollnet.plan._inputs import digest, prepare

    costs = costs or load_costs()
    params = params or PlanParameters()
    start = clock()
    inputs = prepare(graph, stations, exchanges, fibers, params, bbox)
    snapped = clock()
    inputs_digest = digest(graph, stations, exchanges, fibers, costs, params)
    seconds = {"snap": snapped - start, "digest": clock() - snapped}
    state = design_state(inputs, costs, params, clock=clock, phase_seconds=seconds)
    mark = clock()
    plan = state.plan(inputs_digest=inputs_digest)
    seconds["assemble"] = clock() - mark
    return dataclasses.replace(plan, phase_seconds=seconds), state


def plan_city(city: Any, **options: Any) -> Plan:
    """Plan a :class:`pollnet.datasets.synth.SyntheticCity` (options as :func:`plan_network`)."""
    from pollnet.streets import from_city

    return plan_network(
        from_city(city), city.stations, city.exchanges, city.existing_fiber, **options
    )


def run(
    engine: Engine,
    settings: Settings,
    *,
    streets: Path | str | None = None,
    costs: Path | str | None = None,
    store: bool = True,
) -> Plan:
    """Plan from the registry in ``engine`` and the street cache; store and return the plan.

    ``streets`` defaults to the streets settings' cache file; ``costs`` to ``[plan] costs``
    (merged over the packaged defaults).
    """
    from pollnet import streets as street_layer
    from pollnet.plan._inputs import read_inputs

    params = PlanParameters.from_mapping(settings.section("plan"), settings.source)
    cost_model = load_costs(costs or params.costs)
    cache = Path(streets) if streets else street_layer.StreetsConfig.from_settings(settings).cache
    start = time.perf_counter()
    graph = street_layer.load(cache)
    stations, exchanges, fibers = read_inputs(engine)
    loaded = time.perf_counter() - start
    plan, state = _plan_and_state(
        graph, stations, exchanges, fibers, costs=cost_model, params=params, bbox=settings.bbox
    )
    seconds = {"load": loaded, **plan.phase_seconds}
    if store:
        from pollnet.plan.state import state_digest

        start = time.perf_counter()
        kept = (state, state_digest(plan.inputs_digest, settings.bbox))
        plan_id = save_plan(engine, plan, state=kept)
        seconds["store"] = time.perf_counter() - start
        return dataclasses.replace(plan, id=plan_id, phase_seconds=seconds)
    return dataclasses.replace(plan, phase_seconds=seconds)
