import pytest

from pollnet.datasets.synth import generate
from pollnet.errors import NotFoundError
from pollnet.plan import latest_plan_id, load_plan, plan_city, save_plan
from pollnet.store import open_store

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
