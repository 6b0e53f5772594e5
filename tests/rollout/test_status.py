"""Status updates: every validation error, chains within one file, unchanged rows."""

from __future__ import annotations

import datetime as dt

import pytest

from pollnet.rollout.status import OrderState, StatusUpdate, apply_updates
from pollnet.rollout.workorders import WorkOrderSet, generate
from tests.rollout.plans import two_stations

TODAY = dt.date(2026, 11, 29)
DAY = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def orders() -> WorkOrderSet:
    return generate(two_stations())


def done(order_id: str, day: dt.date = DAY, **extra: object) -> OrderState:
    return OrderState(order_id, "done", day, day, **extra)  # type: ignore[arg-type]


def chain_done(orders: WorkOrderSet, order_id: str) -> dict[str, OrderState]:
    """Every predecessor (direct or not) of ``order_id`` done on DAY."""
    return {a: done(a) for a in orders.ancestors(order_id)}


def problems(
    orders: WorkOrderSet, states: dict[str, OrderState], *updates: StatusUpdate
) -> list[str]:
    return [p.render("en") for p in apply_updates(orders, states, updates, TODAY).problems]


def row(
    order_id: str, status: str | None = None, date: dt.date | None = None, **kw: object
) -> StatusUpdate:
    return StatusUpdate(order_id, status, date, file="sheet.xlsx", row=3, **kw)  # type: ignore[arg-type]


def test_unknown_id(orders: WorkOrderSet) -> None:
    assert problems(orders, {}, row("TR-999", "done")) == [
        "sheet.xlsx, row 3, column id: unknown work order: TR-999"
    ]


def test_bad_status_value(orders: WorkOrderSet) -> None:
    [text] = problems(orders, {}, row("PM-03-valiasr", "finished"))
    assert "column status: not a status: finished" in text


def test_date_in_the_future(orders: WorkOrderSet) -> None:
    [text] = problems(orders, {}, row("PM-03-valiasr", "done", TODAY + dt.timedelta(days=1)))
    assert "column date: date 2026-11-30 is in the future" in text


def test_finishing_before_a_predecessor_is_done(orders: WorkOrderSet) -> None:
    [text] = problems(orders, {}, row("TR-10", "done", DAY))
    assert "TR-10 cannot be done before PM-03-valiasr is done" in text


def test_finishing_earlier_than_a_predecessor_finished(orders: WorkOrderSet) -> None:
    states = {"PM-03-valiasr": done("PM-03-valiasr", DAY)}
    [text] = problems(orders, states, row("TR-10", "done", DAY - dt.timedelta(days=2)))
    assert "before PM-03-valiasr was done on 2026-11-20" in text


def test_a_failed_optical_test_cannot_be_done(orders: WorkOrderSet) -> None:
    states = chain_done(orders, "ST-A-OTEST")
    [text] = problems(orders, states, row("ST-A-OTEST", "done", DAY, measured_rx_dbm=-23.0))
    assert "optical test failed: -23.0 dBm is below the required -20.5 dBm" in text
    [text] = problems(orders, states, row("ST-A-OTEST", "done", DAY))
    assert "needs the measured received power" in text
    outcome = apply_updates(
        orders, states, [row("ST-A-OTEST", "failed", DAY, measured_rx_dbm=-23.0)], TODAY
    )
    assert not outcome.problems and outcome.states["ST-A-OTEST"].status == "failed"
    passed = apply_updates(
        orders, states, [row("ST-A-OTEST", "done", DAY, measured_rx_dbm=-19.0)], TODAY
    )
    assert not passed.problems and passed.states["ST-A-OTEST"].measured_rx_dbm == -19.0


def test_only_tests_can_fail(orders: WorkOrderSet) -> None:
    [text] = problems(orders, {}, row("PM-03-valiasr", "failed", DAY))
    assert "only a test can fail" in text


def test_cancelled_work_cannot_be_updated(orders: WorkOrderSet) -> None:
    states = {"OLD-1": OrderState("OLD-1", "cancelled")}
    [text] = problems(orders, states, row("OLD-1", "done", DAY))
    assert "work order OLD-1 is cancelled" in text


def test_the_same_id_twice_in_a_file(orders: WorkOrderSet) -> None:
    first = StatusUpdate("PM-03-valiasr", "in_progress", DAY, file="f.csv", row=1)
    second = StatusUpdate("PM-03-valiasr", "done", DAY, file="f.csv", row=2)
    [text] = problems(orders, {}, first, second)
    assert "row 2" in text and "appears twice (also in row 1)" in text


def test_reopening_work_whose_successor_is_done(orders: WorkOrderSet) -> None:
    states = {"PM-03-valiasr": done("PM-03-valiasr"), "TR-10": done("TR-10")}
    [text] = problems(orders, states, row("PM-03-valiasr", "in_progress", DAY))
    assert "cannot reopen PM-03-valiasr: TR-10 after it is done" in text


def test_rows_of_one_file_can_finish_a_chain_in_order(orders: WorkOrderSet) -> None:
    updates = [
        StatusUpdate("PM-03-valiasr", "done", DAY, file="f.csv", row=1),
        StatusUpdate("TR-10", "in_progress", DAY, file="f.csv", row=2),
    ]
    outcome = apply_updates(orders, {}, updates, TODAY)
    assert not outcome.problems and outcome.applied == 2
    assert outcome.states["TR-10"].started_on == DAY
    fields = {(c.order_id, c.field) for c in outcome.changes}
    assert ("PM-03-valiasr", "status") in fields and ("PM-03-valiasr", "done_on") in fields


def test_rows_repeating_the_stored_state_are_skipped(orders: WorkOrderSet) -> None:
    states = {"PM-03-valiasr": done("PM-03-valiasr")}
    outcome = apply_updates(orders, states, [row("PM-03-valiasr", "done", DAY)], TODAY)
    assert outcome.applied == 0 and not outcome.problems and not outcome.changes


def test_every_problem_of_a_row_is_reported(orders: WorkOrderSet) -> None:
    texts = problems(orders, {}, row("TR-10", "done", TODAY + dt.timedelta(days=3)))
    assert len(texts) == 2
