"""Work orders from a plan made by the real planner (the synthetic city of pollnet.datasets)."""

from __future__ import annotations

import datetime as dt

import pytest

from pollnet.plan.model import Plan
from pollnet.rollout.schedule import forecast
from pollnet.rollout.templates import load_config
from pollnet.rollout.workorders import WorkOrderSet, generate, reconcile


@pytest.fixture(scope="module")
def plan() -> Plan:
    from pollnet.datasets.synth import generate as synthetic_city
    from pollnet.plan import plan_city

    return plan_city(synthetic_city(120, 3))


@pytest.fixture(scope="module")
def orders(plan: Plan) -> WorkOrderSet:
    return generate(plan)


def test_every_connected_station_gets_its_work_and_its_route_first(
    plan: Plan, orders: WorkOrderSet
) -> None:
    connected = [s for s in plan.stations if s.status == "connected"]
    assert sorted(orders.stations()) == sorted(s.code for s in connected)
    trench_orders = {o.id for o in orders if o.kind == "trench"}
    rates = load_config().trench_rates
    for s in connected[:40]:
        before = orders.ancestors(f"ST-{s.code}-ONT")
        dug = [t for t in s.route_trench_ids if plan.trenches[t].method in rates]
        assert dug
        # every dug trench on the route, whatever its identifier, is an ancestor of the ONT
        route_orders = {o for o in before if o in trench_orders}
        assert len(route_orders) >= len(
            {plan.trenches[t].edge for t in dug if plan.trenches[t].edge >= 0}
        )
        assert f"ST-{s.code}-OTEST" in orders.by_id[f"ST-{s.code}-E2E"].predecessors


def test_regenerating_the_same_plan_keeps_everything(plan: Plan, orders: WorkOrderSet) -> None:
    again = generate(plan)
    diff = reconcile({o.id: "planned" for o in orders}, again)
    assert diff.added == () and diff.cancelled == () and len(diff.kept) == len(orders)


def test_the_real_plan_schedules(orders: WorkOrderSet) -> None:
    result = forecast(orders, load_config(), dt.date(2026, 11, 29), dt.date(2028, 2, 25))
    assert result.schedule.last_ready() is not None
    assert len(result.schedule.station_ready()) == len(orders.stations())
