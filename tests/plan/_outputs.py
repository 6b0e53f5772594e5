"""A small real plan for the output tests: the synthetic city plus one station far from any
street (so one station is flagged), planned once per test session."""

from __future__ import annotations

import functools

from pollnet.datasets.synth import generate
from pollnet.model import Station
from pollnet.plan import plan_network
from pollnet.plan.model import Plan
from pollnet.streets import StreetGraph, from_city

STATIONS = 120
SEED = 5
FAR_CODE = "T-FAR"


@functools.cache
def city_plan() -> tuple[Plan, StreetGraph, tuple[Station, ...]]:
    """``(plan, graph, registry stations)``; the last station stands 5 km outside the city."""
    city = generate(STATIONS, SEED)
    graph = from_city(city)
    first = city.stations[0]
    far = Station(
        code=FAR_CODE,
        name="شعبه دور",
        site="مدرسه دور",
        address="",
        district=first.district,
        lat=float(graph.node_lat.max()) + 0.05,
        lon=float(graph.node_lon.max()) + 0.05,
        voters=100,
        devices=2,
    )
    stations = (*city.stations, far)
    plan = plan_network(graph, stations, city.exchanges, city.existing_fiber)
    return plan, graph, stations
