"""Work orders in the database (SQLite and PostgreSQL): regeneration, updates, history."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import sqlalchemy as sa

from pollnet.errors import UserError
from pollnet.rollout import store
from pollnet.rollout.status import StatusUpdate
from pollnet.rollout.templates import load_config
from pollnet.rollout.workorders import generate
from pollnet.store import open_store
from pollnet.store.schema.rollout import history, work_orders
from tests.rollout.plans import make_plan, station, trench, two_stations

NOW = dt.datetime(2026, 11, 29, 8, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
DAY = dt.date(2026, 11, 20)


def test_generate_store_and_load_back(db_url: str) -> None:
    engine = open_store(db_url)
    orders, diff = store.generate_into_store(
        engine, two_stations(), load_config(), by="tester", now=NOW, today=TODAY
    )
    assert len(diff.added) == len(orders) and not diff.cancelled
    loaded, states = store.load_work_orders(engine)
    assert loaded.orders == orders.orders
    assert all(s.status == "planned" and s.due_on is not None for s in states.values())
    entries = store.read_history(engine, "ST-A-E2E")
    assert [(e.field, e.old, e.new, e.changed_by) for e in entries] == [
        ("status", None, "planned", "tester")
    ]


def test_regeneration_keeps_status_and_cancels_what_left_the_plan(db_url: str) -> None:
    engine = open_store(db_url)
    store.save_work_orders(engine, generate(two_stations()), by="t", now=NOW)
    store.update_status(
        engine,
        [StatusUpdate("PM-03-valiasr", "done", DAY)],
        by="ali",
        agency="municipality",
        source="cli",
        today=TODAY,
        now=NOW,
    )
    plan = two_stations()
    kept = tuple(t for t in plan.trenches if t.id not in (3, 5, 6))
    replanned = make_plan(
        (plan.stations[0], station("C", (0, 1, 7, 8))),
        (*kept, trench(7, 20, street="Azadi"), trench(8, -1)),
        plan.cable_runs[:2],
        plan_id="p2",
    )
    diff = store.save_work_orders(engine, generate(replanned), by="t", now=NOW)
    assert "ST-C-E2E" in diff.added and "ST-B-E2E" in diff.cancelled
    orders, states = store.load_work_orders(engine)
    assert states["PM-03-valiasr"].status == "done" and states["PM-03-valiasr"].done_on == DAY
    assert states["ST-B-E2E"].status == "cancelled"
    assert "ST-B-E2E" not in orders.by_id and "ST-C-E2E" in orders.by_id
    with engine.connect() as conn:
        assert (
            conn.scalar(
                sa.select(sa.func.count())
                .select_from(work_orders)
                .where(work_orders.c.id == "ST-B-E2E")
            )
            == 1
        )
    [cancel] = [e for e in store.read_history(engine, "ST-B-E2E") if e.new == "cancelled"]
    assert cancel.old == "planned" and cancel.source == "generate p2"
    back = store.save_work_orders(engine, generate(two_stations()), by="t", now=NOW)
    assert "ST-B-E2E" in back.reactivated


def test_every_update_is_kept_in_the_history(db_url: str) -> None:
    engine = open_store(db_url)
    store.save_work_orders(engine, generate(two_stations()), by="t", now=NOW)
    for status, note in (("in_progress", "crew on site"), ("done", "finished")):
        store.update_status(
            engine,
            [StatusUpdate("PM-03-valiasr", status, DAY, note=note)],
            by="ali",
            agency="municipality",
            source="cli",
            today=TODAY,
            now=NOW,
        )
    entries = [e for e in store.read_history(engine, "PM-03-valiasr") if e.source == "cli"]
    statuses = [(e.old, e.new) for e in entries if e.field == "status"]
    assert statuses == [("planned", "in_progress"), ("in_progress", "done")]
    assert {e.changed_by for e in entries} == {"ali"}
    assert {e.agency for e in entries} == {"municipality"}
    notes = [(e.old, e.new) for e in entries if e.field == "note"]
    assert notes == [("", "crew on site"), ("crew on site", "finished")]


def test_a_bulk_update_with_an_error_changes_nothing(db_url: str) -> None:
    engine = open_store(db_url)
    store.save_work_orders(engine, generate(two_stations()), by="t", now=NOW)
    updates = [
        StatusUpdate("PM-03-valiasr", "done", DAY, file="f.csv", row=1),
        StatusUpdate("NOPE", "done", DAY, file="f.csv", row=2),
    ]
    before = store.read_history(engine)
    with pytest.raises(UserError, match="row 2, column id: unknown work order: NOPE"):
        store.update_status(
            engine, updates, by="ali", agency=None, source="f.csv", today=TODAY, now=NOW
        )
    _, states = store.load_work_orders(engine)
    assert states["PM-03-valiasr"].status == "planned"
    assert store.read_history(engine) == before
    outcome = store.update_status(
        engine,
        updates,
        by="ali",
        agency=None,
        source="f.csv",
        today=TODAY,
        now=NOW,
        skip_invalid=True,
    )
    assert (outcome.applied, outcome.rejected) == (1, 1)
    _, states = store.load_work_orders(engine)
    assert states["PM-03-valiasr"].status == "done"


def test_due_dates_and_no_work_orders(db_url: str) -> None:
    engine = open_store(db_url)
    with pytest.raises(UserError, match="no work orders yet"):
        store.require_work_orders(engine)
    orders = generate(two_stations())
    store.save_work_orders(engine, orders, by="t", now=NOW)
    store.set_due_dates(engine, {"TR-10": DAY})
    _, states = store.load_work_orders(engine)
    assert states["TR-10"].due_on == DAY
    assert dataclasses.replace(states["TR-10"], due_on=None).due_on is None
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(history)) == len(orders)


def test_reopening_checks_the_stored_successors(db_url: str) -> None:
    engine = open_store(db_url)
    store.save_work_orders(engine, generate(two_stations()), by="t", now=NOW)
    for order_id in ("PM-03-valiasr", "TR-10"):
        store.update_status(
            engine,
            [StatusUpdate(order_id, "done", DAY)],
            by="ali",
            agency="telecom",
            source="cli",
            today=TODAY,
            now=NOW,
        )
    with pytest.raises(UserError, match="cannot reopen PM-03-valiasr: TR-10 after it is done"):
        store.update_status(
            engine,
            [StatusUpdate("PM-03-valiasr", "in_progress", DAY)],
            by="ali",
            agency=None,
            source="cli",
            today=TODAY,
            now=NOW,
        )
    store.update_status(
        engine,
        [StatusUpdate("TR-10", "in_progress", DAY)],
        by="ali",
        agency=None,
        source="cli",
        today=TODAY,
        now=NOW,
    )
    _, states = store.load_work_orders(engine)
    assert states["TR-10"].status == "in_progress" and states["TR-10"].done_on is None
