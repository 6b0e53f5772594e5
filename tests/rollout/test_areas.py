"""Work orders in their areas: a municipality per street works, an education district per
school works, no district 0, filters by area, and each area's crews."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest
import shapely

from pollnet.areas import Area, AreaKind, AreaSet
from pollnet.plan.model import Plan
from pollnet.rollout import AreaLookup, CrewChange, generate, in_areas, load_config, schedule
from pollnet.rollout.workorders import WorkOrder, WorkOrderSet


@pytest.fixture(scope="module")
def plan() -> Plan:
    from pollnet.datasets.synth import generate as synthetic_city
    from pollnet.plan import plan_city

    return plan_city(synthetic_city(120, 3))


def halves(plan: Plan) -> AreaSet:
    """Two municipalities (west and east of the middle station) and two education districts
    (south and north), covering the whole plan, plus one county over everything."""
    lon = np.array([c[0] for t in plan.trenches for c in t.coords])
    lat = np.array([c[1] for t in plan.trenches for c in t.coords])
    x0, y0, x1, y1 = lon.min() - 0.01, lat.min() - 0.01, lon.max() + 0.01, lat.max() + 0.01
    xm = float(np.median([s.lon for s in plan.stations]))
    ym = float(np.median([s.lat for s in plan.stations]))
    return AreaSet(
        (
            Area(AreaKind.COUNTY, "c", "", "C", shapely.box(x0, y0, x1, y1)),
            Area(AreaKind.MUNICIPALITY, "west", "", "West", shapely.box(x0, y0, xm, y1)),
            Area(AreaKind.MUNICIPALITY, "east", "", "East", shapely.box(xm, y0, x1, y1)),
            Area(AreaKind.EDUCATION_DISTRICT, "1", "", "", shapely.box(x0, y0, x1, ym), 1),
            Area(AreaKind.EDUCATION_DISTRICT, "2", "", "", shapely.box(x0, ym, x1, y1), 2),
        )
    )


def test_every_work_order_gets_its_areas_and_its_agency_scope(plan: Plan) -> None:
    every = halves(plan)
    first = next(s for s in plan.stations if s.status == "connected")
    # the registry says the first station is in education district 7 (its file said so)
    orders = generate(plan, areas=AreaLookup(every, {first.code: {"education_district": "7"}}))
    assert all(o.county == "c" for o in orders)
    assert {o.municipality for o in orders} == {"west", "east"}
    for order in orders:
        if order.agency == "municipality":
            assert order.scope == order.municipality != ""
        elif order.agency == "education":
            assert order.scope == order.education_district != ""
        else:
            assert order.scope == ""
    access = orders.by_id[f"ST-{first.code}-ACCESS"]
    assert access.education_district == "7" and access.scope == "7"
    station = next(s for s in plan.stations if s.status == "connected" and s.code != first.code)
    west = shapely.box(*every.get(AreaKind.MUNICIPALITY, "west").polygon.bounds)  # type: ignore[union-attr]
    expected = "west" if west.contains(shapely.Point(station.lon, station.lat)) else "east"
    assert orders.by_id[f"ST-{station.code}-E2E"].municipality == expected
    # without areas nothing is assigned, and the identifiers are the same
    bare = generate(plan)
    assert {o.id for o in bare} == {o.id for o in orders}
    assert all(o.municipality == o.county == "" for o in bare)


def test_no_work_order_is_in_district_zero(plan: Plan) -> None:
    lost = {t.id for t in plan.trenches[::3]}
    outside = dataclasses.replace(
        plan,
        trenches=tuple(
            dataclasses.replace(t, district=0) if t.id in lost else t for t in plan.trenches
        ),
    )
    orders = generate(outside)
    assert min(o.district for o in orders) >= 1
    # a lost trench takes the district of the nearest station
    checked = 0
    known = [s for s in plan.stations if s.district > 0]
    lat0 = np.radians(np.mean([s.lat for s in known]))
    for trench in plan.trenches:
        order = orders.by_id.get(f"TR-{trench.edge}")
        if trench.id not in lost or trench.edge < 0 or order is None:
            continue
        coords = trench.coords
        mid = (np.array(coords[(len(coords) - 1) // 2]) + np.array(coords[len(coords) // 2])) / 2
        nearest = min(
            known, key=lambda s: ((s.lon - mid[0]) * np.cos(lat0)) ** 2 + (s.lat - mid[1]) ** 2
        )
        assert order.district == nearest.district
        checked += 1
    assert checked > 5


def test_filters_keep_the_area_and_optionally_what_it_waits_on(plan: Plan) -> None:
    orders = generate(plan, areas=AreaLookup(halves(plan)))
    west = in_areas(orders, {"municipality": "west"})
    assert 0 < len(west) < len(orders)
    assert {o.municipality for o in west} == {"west"}
    assert all(p in west.by_id for o in west for p in o.predecessors)
    both = in_areas(orders, {"municipality": "west", "education_district": "1"})
    assert {(o.municipality, o.education_district) for o in both} == {("west", "1")}
    upstream = in_areas(orders, {"municipality": "west"}, upstream=True)
    assert set(west.by_id) <= set(upstream.by_id)
    for order in upstream:
        assert all(p in upstream.by_id for p in order.predecessors)
    assert in_areas(orders, {}) is orders
    assert len(in_areas(orders, {"county": "elsewhere"})) == 0


def _restoration(order_id: str, municipality: str) -> WorkOrder:
    return WorkOrder(
        order_id, "restoration", "municipality", 1, "street", 600.0, "m", 5.0, True,
        municipality=municipality,
    )  # fmt: skip


def test_each_municipality_has_its_own_crews() -> None:
    config = load_config({"crews": {"default": {"municipality": 1}}})
    start = dt.date(2026, 11, 29)
    shared = WorkOrderSet(None, (_restoration("a", "tehran"), _restoration("b", "tehran")))
    own = WorkOrderSet(None, (_restoration("a", "tehran"), _restoration("b", "eslamshahr")))
    one = schedule(shared, config, start)
    two = schedule(own, config, start)
    # one crew: one after the other; two agencies: side by side
    assert one.finish_date("a") != one.finish_date("b")
    assert two.finish_date("b") == two.finish_date("a")
    assert max(two.finish_date("a"), two.finish_date("b")) < max(
        one.finish_date("a"), one.finish_date("b")
    )


def test_crews_per_area_from_the_settings() -> None:
    config = load_config(
        {"crews": {"default": {"municipality": 1}, "area": {"eslamshahr": {"municipality": 2}}}}
    )
    assert config.crews.count("municipality", 1, "eslamshahr") == 2
    assert config.crews.count("municipality", 1, "tehran") == 1
    assert config.crews.count("municipality", 1) == 1
    start = dt.date(2026, 11, 29)
    two = WorkOrderSet(
        None, (_restoration("a", "eslamshahr"), _restoration("b", "eslamshahr"))
    )  # fmt: skip
    sched = schedule(two, config, start)
    assert sched.finish_date("a") == sched.finish_date("b")  # Eslamshahr has two crews
    # a what-if for every district adds to the area's crews too
    more = config.crews.changed((CrewChange("municipality", None, 1),), {1})
    assert more.count("municipality", 1, "eslamshahr") == 3
    assert more.count("municipality", 1, "tehran") == 2
