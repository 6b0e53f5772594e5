import dataclasses
import json
from typing import Any

import pytest
import sqlalchemy as sa

from pollnet.datasets.synth import generate
from pollnet.errors import NotFoundError
from pollnet.plan import latest_plan_id, load_plan, plan_city, save_plan
from pollnet.store import open_store
from pollnet.store.schema.plan import plan_bom

pytest.importorskip("pollnet.plan.steiner")


def test_plan_round_trip(db_url: str) -> None:
    engine = open_store(db_url)
    assert latest_plan_id(engine) is None
    plan = plan_city(generate(60, 3))
    plan_id = save_plan(engine, plan)
    assert latest_plan_id(engine) == plan_id
    back = load_plan(engine, plan_id)
    assert back.id == plan_id
    assert back.stations == tuple(sorted(plan.stations, key=lambda s: s.code))
    assert back.trenches == plan.trenches
    assert back.cable_runs == plan.cable_runs
    assert back.splices == plan.splices
    assert back.bom == plan.bom
    assert back.totals == plan.totals
    assert back.exchanges == plan.exchanges
    assert back.inputs_digest == plan.inputs_digest and len(back.inputs_digest) == 64
    assert back.cost_model == plan.cost_model
    assert back.parameters == plan.parameters
    with pytest.raises(NotFoundError):
        load_plan(engine, "missing")


def test_bom_lines_stored_before_params_load_as_msgids(db_url: str) -> None:
    engine = open_store(db_url)
    plan = plan_city(generate(60, 3))
    plan_id = save_plan(engine, plan)
    legacy = {
        "Fiber cable, {cores} cores": lambda p: f"Fiber cable, {p['cores']} cores",
        "Splitter 1:{split}": lambda p: f"Splitter 1:{p['split']}",
    }
    assert {line.item for line in plan.bom} >= set(legacy)
    with engine.begin() as conn:  # rewrite the lines as the planner once stored them
        for i, line in enumerate(plan.bom):
            old = dataclasses.asdict(line)
            old.pop("params")
            if line.item in legacy:
                old["item"] = legacy[line.item](line.params)
            conn.execute(
                sa.update(plan_bom)
                .where(plan_bom.c.plan_id == plan_id, plan_bom.c.line == i)
                .values(data=json.dumps(old))
            )
    back = load_plan(engine, plan_id)
    assert back.bom == plan.bom
    assert [line.render("fa") for line in back.bom] == [line.render("fa") for line in plan.bom]


def test_migration_matches_the_plan_tables(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from pollnet.store.schema import metadata

    engine = open_store(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    mine = [d for d in diff if _table_of(d) in PLAN_TABLES]
    assert mine == []


PLAN_TABLES = {
    "plans",
    "plan_stations",
    "plan_trenches",
    "plan_cable_runs",
    "plan_splices",
    "plan_exchanges",
    "plan_bom",
}


def _table_of(change: Any) -> str:
    """The table an Alembic autogenerate change is about."""
    if isinstance(change, list):
        change = change[0]
    target = change[1]
    if hasattr(target, "table"):  # an index or a constraint
        return str(target.table.name)
    if hasattr(target, "name") and change[0].endswith("_table"):
        return str(target.name)
    return str(change[2])
