"""Work orders from a plan: templates, identifiers, the DAG rules, regeneration."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pollnet.errors import ConfigError, UserError
from pollnet.plan.costs import PERMIT_METHODS
from pollnet.plan.worklists import write_municipality
from pollnet.rollout.synthetic import synthetic_plan
from pollnet.rollout.templates import load_config
from pollnet.rollout.workorders import WorkOrder, WorkOrderSet, generate, reconcile, validate_dag
from tests.rollout.plans import make_plan, station, trench, two_stations


def test_plan_and_rollout_agree_which_street_works_need_a_permit(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    trenches = (
        trench(0, -1),
        trench(1, 10, street="Valiasr"),
        trench(2, 11, "aerial", street="Golha"),
        trench(3, 12, "micro_trench", street="Enghelab"),
        trench(4, -1),
    )
    plan = make_plan((station("A", (0, 1, 2, 3, 4)),), trenches)
    orders = generate(plan)
    permitted = {
        orders.by_id[p].subject
        for o in orders
        if o.kind == "trench"
        for p in o.predecessors
        if orders.by_id[p].kind == "permit"
    }
    assert permitted == {"خیابان Valiasr", "خیابان Enghelab"}  # not the aerial street
    book = load_workbook(write_municipality(plan, tmp_path / "m.xlsx", "en"))
    rows = list(book["Street works"].iter_rows(values_only=True))
    col = {name: i for i, name in enumerate(rows[0])}
    permits = {
        r[col["street"]]: r[col["permits"]]
        for r in rows[1:]
        if r[col["method"]] and not str(r[col["street"]]).startswith("total")
    }
    assert permits == {"خیابان Valiasr": 1, "خیابان Enghelab": 1, "خیابان Golha": 0}
    assert {k for k, n in permits.items() if n} == permitted


def test_permit_methods_are_not_a_rollout_setting() -> None:
    with pytest.raises(ConfigError) as raised:
        load_config({"streets": {"permit_methods": ["aerial"]}})
    assert "cost model" in raised.value.render("en")[0]


def kinds(orders: WorkOrderSet) -> dict[str, str]:
    return {o.id: o.kind for o in orders}


def test_two_stations_get_the_standard_work_orders() -> None:
    orders = generate(two_stations())
    ids = set(orders.by_id)
    assert {"PM-03-valiasr", "RS-03-valiasr", "PM-03-enghelab", "RS-03-enghelab"} <= ids
    assert {"TR-10", "TR-11", "TR-12", "TR-DROP-A", "TR-DROP-B", "TR-DROP-EX1"} <= ids
    assert "TR-13" not in ids  # existing duct: no civil work
    for code in ("A", "B"):
        for task in ("ACCESS", "ONT", "OTEST", "LTE", "DEVICE", "E2E"):
            assert f"ST-{code}-{task}" in ids
    assert sum(1 for k in kinds(orders).values() if k == "cable_pull") == 3
    agencies = {o.kind: o.agency for o in orders}
    assert agencies["permit"] == agencies["restoration"] == "municipality"
    assert agencies["trench"] == agencies["ont"] == agencies["splice"] == "telecom"
    assert agencies["access"] == "education"
    assert agencies["device_install"] == agencies["e2e_test"] == "election_office"


def test_durations_follow_quantities_and_rates() -> None:
    config = load_config()
    orders = generate(two_stations(), config)
    open_trench = orders.by_id["TR-10"]  # 120 m at 60 m per crew-day
    assert open_trench.duration_days == 2.0 and open_trench.crew
    micro = orders.by_id["TR-12"]  # 120 m at 250 m per crew-day, rounded up to half days
    assert micro.duration_days == 0.5
    permit = orders.by_id["PM-03-valiasr"]
    assert permit.duration_days == 10 and not permit.crew


def test_optical_test_carries_the_planned_threshold() -> None:
    orders = generate(two_stations())
    # 2.5 dBm launch - 20 dB planned loss - 3 dB tolerance = -20.5 dBm
    assert orders.by_id["ST-A-OTEST"].min_rx_dbm == -20.5
    # 2.5 - 24 - 3 = -24.5, still above the -27 dBm sensitivity
    assert orders.by_id["ST-B-OTEST"].min_rx_dbm == -24.5


def test_dependency_rules_on_a_small_plan() -> None:
    orders = generate(two_stations())
    pre = {o.id: set(o.predecessors) for o in orders}
    assert pre["TR-10"] == {"PM-03-valiasr"}
    assert {"TR-10", "TR-11"} <= pre["RS-03-valiasr"]
    assert "ST-A-ACCESS" in pre["TR-DROP-A"]
    assert pre["ST-A-OTEST"] == {"ST-A-ONT"}
    assert {"ST-A-DEVICE", "ST-A-OTEST"} == pre["ST-A-E2E"]
    assert "ST-A-ACCESS" in pre["ST-A-DEVICE"]
    before_b = orders.ancestors("ST-B-ONT")
    # every trench on B's route (the shared ones too) comes first; and nothing of A's own
    assert {"TR-DROP-EX1", "TR-10", "TR-12", "TR-DROP-B", "PM-03-enghelab"} <= before_b
    assert "TR-11" not in before_b and "TR-DROP-A" not in before_b


@pytest.fixture(scope="module")
def city() -> WorkOrderSet:
    return generate(synthetic_plan(150, exchanges=3, districts=3, seed=7))


def test_every_shared_trench_comes_before_every_station_behind_it(city: WorkOrderSet) -> None:
    plan = synthetic_plan(150, exchanges=3, districts=3, seed=7)
    trench_ids = {o.subject for o in city if o.kind == "trench"}
    assert trench_ids
    by_tid: dict[int, str] = {}
    for o in city:
        if o.kind == "trench" and o.id.startswith("TR-") and o.id[3:].isdigit():
            by_tid[int(o.id[3:])] = o.id
    edges = {t.id: t.edge for t in plan.trenches}
    for s in plan.stations:
        before = city.ancestors(f"ST-{s.code}-ONT")
        for tid in s.route_trench_ids:
            if edges[tid] >= 0 and edges[tid] in by_tid:
                assert by_tid[edges[tid]] in before, (s.code, tid)


def test_dag_rules_hold_on_a_synthetic_city(city: WorkOrderSet) -> None:
    assert validate_dag(city.orders)
    position = {o.id: i for i, o in enumerate(city)}
    for order in city:
        for pred in order.predecessors:
            assert position[pred] < position[order.id]
        kinds_before = {city.by_id[p].kind for p in order.predecessors}
        if order.kind == "trench" and order.method in PERMIT_METHODS:
            assert kinds_before == {"permit"}
        elif order.kind == "trench":
            assert "permit" not in kinds_before
        if order.kind == "restoration":
            assert kinds_before == {"trench"}
        if order.kind == "splice":
            assert kinds_before == {"cable_pull"}
        if order.kind == "cable_pull":
            assert kinds_before <= {"trench"}
        if order.kind == "e2e_test":
            assert f"ST-{order.station}-OTEST" in order.predecessors
            assert "access" in {city.by_id[a].kind for a in city.ancestors(order.id)}


def test_a_cycle_is_rejected() -> None:
    a = WorkOrder("A", "permit", "municipality", 1, "x", 1, "permit", 1, False, ("B",))
    b = WorkOrder("B", "trench", "telecom", 1, "x", 1, "m", 1, True, ("A",))
    c = WorkOrder("C", "trench", "telecom", 1, "x", 1, "m", 1, True, ())
    with pytest.raises(UserError, match="cycle"):
        validate_dag([c, a, b])


def test_unknown_and_duplicate_work_orders_are_rejected() -> None:
    a = WorkOrder("A", "permit", "municipality", 1, "x", 1, "permit", 1, False, ("Z",))
    with pytest.raises(UserError, match="unknown work order Z"):
        validate_dag([a])
    b = dataclasses.replace(a, predecessors=())
    with pytest.raises(UserError, match="duplicate"):
        validate_dag([b, b])


def test_validate_dag_sorts_an_unsorted_list() -> None:
    a = WorkOrder("A", "permit", "municipality", 1, "x", 1, "permit", 1, False, ())
    b = WorkOrder("B", "trench", "telecom", 1, "x", 1, "m", 1, True, ("A",))
    assert [o.id for o in validate_dag([b, a])] == ["A", "B"]


def test_identifiers_are_stable_across_regeneration() -> None:
    assert list(generate(two_stations()).by_id) == list(generate(two_stations()).by_id)


def test_replan_lists_added_and_cancelled_work() -> None:
    first = generate(two_stations())
    plan = two_stations()
    kept = tuple(t for t in plan.trenches if t.id not in (3, 5, 6))
    trenches = (*kept, trench(7, 20, street="Azadi"), trench(8, -1))
    stations = (plan.stations[0], station("C", (0, 1, 7, 8)))
    second = generate(make_plan(stations, trenches, plan.cable_runs[:2]))
    stored = {o.id: "planned" for o in first} | {"ST-A-ONT": "done", "OLD": "cancelled"}
    diff = reconcile(stored, second)
    assert "ST-C-E2E" in diff.added and "TR-20" in diff.added and "PM-03-azadi" in diff.added
    assert "ST-B-E2E" in diff.cancelled and "TR-12" in diff.cancelled
    assert "PM-03-enghelab" in diff.cancelled
    assert "ST-A-ONT" in diff.kept and "TR-10" in diff.kept
    assert diff.reactivated == ()
    again = reconcile({**stored, "ST-C-E2E": "cancelled"}, second)
    assert again.reactivated == ("ST-C-E2E",)


def test_a_disabled_template_drops_its_work_and_dependencies() -> None:
    config = load_config({"templates": {"lte_sim": {"enabled": False}}})
    orders = generate(two_stations(), config)
    assert not [o for o in orders if o.kind == "lte_sim"]
    assert orders.by_id["ST-A-DEVICE"].predecessors == ("ST-A-ACCESS",)


def test_flagged_stations_get_no_work() -> None:
    plan = two_stations()
    flagged = dataclasses.replace(plan.stations[1], status="flagged", route_trench_ids=())
    orders = generate(dataclasses.replace(plan, stations=(plan.stations[0], flagged)))
    assert orders.stations() == ["A"]


def test_permit_ids_keep_non_latin_street_names_readable() -> None:
    persian = dataclasses.replace(trench(1, 10), street_name="خیابان آزادی", street_name_en="")
    finnish = dataclasses.replace(
        trench(2, 11, district=12), street_name="Äänekoskentie 3", street_name_en=""
    )
    plan = make_plan(
        (station("A", (0, 1, 2, 3)),), (trench(0, -1), persian, finnish, trench(3, -1))
    )
    permits = sorted(o.id for o in generate(plan) if o.kind == "permit")
    assert permits == ["PM-03-خیابان-آزادی", "PM-12-äänekoskentie-3"]
    restorations = sorted(o.id for o in generate(plan) if o.kind == "restoration")
    assert restorations == ["RS-03-خیابان-آزادی", "RS-12-äänekoskentie-3"]
