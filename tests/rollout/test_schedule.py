"""The crew-limited list scheduler: precedence, crew limits, priorities, forecasts, what-ifs."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pollnet.errors import ConfigError, UserError
from pollnet.rollout.schedule import Schedule, forecast, schedule
from pollnet.rollout.status import OrderState
from pollnet.rollout.synthetic import synthetic_plan
from pollnet.rollout.templates import CrewChange, Crews, load_config
from pollnet.rollout.workorders import WorkOrder, WorkOrderSet, generate, validate_dag
from tests.rollout.plans import two_stations

START = dt.date(2026, 11, 29)  # a Sunday (1405/09/08)
ELECTION = dt.date(2028, 2, 25)


def config_with(crews: dict[str, int], by_district: dict[tuple[str, int], int] | None = None):  # type: ignore[no-untyped-def]
    return dataclasses.replace(load_config(), crews=Crews(crews, by_district or {}))


def order(
    oid: str,
    days: float,
    agency: str = "telecom",
    preds: tuple[str, ...] = (),
    crew: bool = True,
    district: int = 1,
) -> WorkOrder:
    return WorkOrder(oid, "trench", agency, district, oid, 1, "m", days, crew, preds)


def check_invariants(result: Schedule, crews: Crews) -> None:
    orders = result.orders
    for i, o in enumerate(orders):
        assert result.finish_t[i] == pytest.approx(result.start_t[i] + o.duration_days)
        for p in o.predecessors:
            assert result.start_t[i] >= result.finish_t[result.index[p]] - 1e-9
    # crew limits: sweep the start/finish events of each pool
    pools: dict[tuple[str, int], list[tuple[float, int]]] = {}
    for i, o in enumerate(orders):
        if o.crew and o.duration_days > 0:
            events = pools.setdefault((o.agency, o.district), [])
            events += [(float(result.finish_t[i]), -1), (float(result.start_t[i]), 1)]
    for (agency, district), events in pools.items():
        running = 0
        for _, step in sorted(events):
            running += step
            assert running <= crews.count(agency, district)


def test_critical_path_beats_first_come_first_served_on_a_constructed_case() -> None:
    # One telecom crew. Four short jobs become ready first; the chain A1 -> A2 (A2 by another
    # agency, 5 days) should start first so A2 runs while the crew does the short jobs.
    orders = WorkOrderSet(
        None,
        validate_dag(
            [
                *[order(f"B{k}", 1) for k in range(4)],
                order("A1", 1),
                order("A2", 5, agency="municipality", preds=("A1",)),
            ]
        ),
    )
    config = config_with({"telecom": 1, "municipality": 1})
    by_path = schedule(orders, config, START, priority="critical_path")
    fcfs = schedule(orders, config, START, priority="earliest_start")
    assert by_path.finish_t.max() == 6.0
    assert fcfs.finish_t.max() == 10.0
    check_invariants(by_path, config.crews)
    check_invariants(fcfs, config.crews)


def test_critical_path_is_no_worse_on_the_synthetic_city() -> None:
    orders = generate(synthetic_plan(300, exchanges=3, districts=3, seed=3))
    config = load_config()
    by_path = schedule(orders, config, START)
    fcfs = schedule(orders, config, START, priority="earliest_start")
    assert by_path.last_ready() is not None and fcfs.last_ready() is not None
    assert by_path.last_ready() <= fcfs.last_ready()
    check_invariants(by_path, config.crews)
    check_invariants(fcfs, config.crews)


@st.composite
def random_dags(draw: st.DrawFn) -> WorkOrderSet:
    n = draw(st.integers(min_value=1, max_value=40))
    items = []
    for i in range(n):
        preds = draw(st.lists(st.integers(0, max(i - 1, 0)), max_size=3, unique=True)) if i else []
        items.append(
            order(
                f"W{i}",
                draw(st.sampled_from([0.5, 1.0, 2.0, 3.5])),
                agency=draw(st.sampled_from(["telecom", "municipality"])),
                preds=tuple(f"W{p}" for p in preds),
                crew=draw(st.booleans()),
                district=draw(st.integers(1, 2)),
            )
        )
    return WorkOrderSet(None, validate_dag(items))


@settings(max_examples=60, deadline=None)
@given(orders=random_dags(), telecom=st.integers(1, 3), municipality=st.integers(1, 2))
def test_every_schedule_respects_precedence_and_crews(
    orders: WorkOrderSet, telecom: int, municipality: int
) -> None:
    config = config_with({"telecom": telecom, "municipality": municipality})
    for priority in ("critical_path", "earliest_start"):
        result = schedule(orders, config, START, priority=priority)  # type: ignore[arg-type]
        check_invariants(result, config.crews)
        # the critical chain of any work order runs through its predecessors back to a root
        last = orders.orders[int(np.argmax(result.finish_t))].id
        chain = result.chain(last)
        assert chain[-1].order_id == last
        assert not orders.by_id[chain[0].order_id].predecessors


def test_done_work_keeps_its_date_and_in_progress_goes_first() -> None:
    orders = WorkOrderSet(
        None,
        validate_dag(
            [
                order("A", 2),
                order("B", 3),
                order("C", 1, preds=("A",)),
            ]
        ),
    )
    config = config_with({"telecom": 1})
    states = {
        "A": OrderState("A", "done", START - dt.timedelta(days=9), START - dt.timedelta(days=5)),
        "B": OrderState("B", "in_progress", START - dt.timedelta(days=1)),
    }
    result = schedule(orders, config, START, states)
    assert result.finish_date("A") == START - dt.timedelta(days=5)
    assert result.start_t[result.index["B"]] == 0.0
    assert result.start_t[result.index["C"]] == 3.0


def test_dates_follow_the_working_calendar() -> None:
    orders = WorkOrderSet(None, validate_dag([order("A", 5.0)]))
    result = schedule(orders, config_with({"telecom": 1}), START)
    # Sunday start: Sun, Mon, Tue, Wed full, Thursday half, Friday off, Saturday half done.
    assert result.start_date("A") == START
    assert result.finish_date("A") == START + dt.timedelta(days=6)


def test_forecast_lists_late_stations_with_their_chain() -> None:
    orders = generate(two_stations())
    config = config_with({"telecom": 1, "municipality": 1, "education": 1, "election_office": 1})
    early = forecast(orders, config, START, ELECTION)
    assert early.at_risk == ()
    ready = early.schedule.station_ready()
    assert set(ready) == {"A", "B"}
    late = forecast(orders, config, START, ready["A"])
    codes = {r.station for r in late.at_risk}
    assert "A" in codes
    item = next(r for r in late.at_risk if r.station == "A")
    assert item.chain[-1].order_id == "ST-A-E2E"
    assert item.chain[0].order_id.startswith(("PM-", "ST-A-ACCESS", "TR-"))
    assert late.deadline < ready["A"]
    assert early.schedule.district_ready() == {3: max(ready.values())}


def test_extra_crews_move_the_forecast_earlier() -> None:
    orders = generate(synthetic_plan(200, exchanges=2, districts=2, seed=5))
    config = load_config()
    before = forecast(orders, config, START, ELECTION)
    after = forecast(
        orders, config, START, ELECTION, crew_changes=(CrewChange.parse("telecom:1=+4"),)
    )
    b, a = before.schedule.district_ready(), after.schedule.district_ready()
    assert a[1] < b[1]


def test_crew_changes_parse() -> None:
    assert CrewChange.parse("telecom:5=+3") == CrewChange("telecom", 5, 3)
    assert CrewChange.parse("education=-1") == CrewChange("education", None, -1)
    crews = Crews({"telecom": 4}).changed((CrewChange("telecom", None, 2),), {1, 2})
    assert crews.count("telecom", 1) == crews.count("telecom", 2) == 6
    for bad in ("telecom:5", "police:1=+1", "telecom:x=+1", "telecom:1=lots"):
        with pytest.raises(ConfigError, match="not a crew change"):
            CrewChange.parse(bad)


def test_a_crew_change_for_a_district_without_work_is_refused() -> None:
    orders = generate(synthetic_plan(40, exchanges=2, districts=2, seed=2))
    typo = (CrewChange.parse("telecom:99=+2"),)
    with pytest.raises(ConfigError) as raised:
        forecast(orders, load_config(), START, ELECTION, crew_changes=typo)
    assert raised.value.render("en") == [
        "option --crews: no work orders in district 99 (districts with work: 1-2)"
    ]
    assert raised.value.render("fa")[0].startswith("گزینه --crews: ")


def test_no_crews_is_a_user_error() -> None:
    orders = WorkOrderSet(None, validate_dag([order("A", 1)]))
    with pytest.raises(UserError, match="no crews of telecom in district 1"):
        schedule(orders, config_with({"telecom": 0}), START)


def test_the_search_finds_the_fewest_crews_that_meet_the_deadline() -> None:
    from pollnet.rollout.schedule import suggest_crews

    orders = generate(synthetic_plan(200, exchanges=2, districts=2, seed=5))
    config = load_config()
    start, election = dt.date(2026, 11, 1), dt.date(2027, 3, 1)
    assert forecast(orders, config, start, election).at_risk
    found = suggest_crews(orders, config, start, election)
    assert found.meets_deadline and found.changes and found.tried < 30
    assert not forecast(orders, config, start, election, crew_changes=found.changes).at_risk
    for change in found.changes:  # one crew fewer of any agency misses the deadline again
        fewer = tuple(
            dataclasses.replace(c, delta=c.delta - 1) if c is change else c for c in found.changes
        )
        assert forecast(orders, config, start, election, crew_changes=fewer).at_risk
    assert found.as_option() == " ".join(f"{c.agency}=+{c.delta}" for c in found.changes)
    assert all(CrewChange.parse(o) for o in found.as_option().split())
    # so early that waiting times alone make it late: no number of crews helps
    hopeless = suggest_crews(orders, config, start, start + dt.timedelta(days=20))
    assert not hopeless.meets_deadline and hopeless.changes == ()
    on_time = suggest_crews(orders, config, start, dt.date(2028, 2, 25))
    assert on_time.meets_deadline and on_time.changes == () and on_time.tried == 1
