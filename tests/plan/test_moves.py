"""Moving stations to other buildings, re-planned incrementally (pollnet.plan.moves)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from pollnet.cli import cli, main
from pollnet.datasets._store import load_into
from pollnet.datasets.synth import SyntheticCity, generate
from pollnet.errors import UserError
from pollnet.model import RadioType, Tower
from pollnet.plan import latest_plan_id, plan_network, whatif
from pollnet.plan.design import DesignState
from pollnet.plan.model import Plan
from pollnet.plan.moves import Move, apply_moves, compare
from pollnet.plan.params import PlanParameters
from pollnet.store import open_store
from pollnet.streets import from_city, save

from .test_city import _load_stations

pytest.importorskip("pollnet.plan.steiner")

FAST = PlanParameters(steiner_seconds=0)


@pytest.fixture(scope="module")
def city() -> SyntheticCity:
    return generate(300, 7)


@pytest.fixture(scope="module")
def state(city: SyntheticCity) -> DesignState:
    return whatif.baseline_city(city, params=FAST)


def _moved(city: SyntheticCity, move: Move) -> tuple[object, ...]:
    stations = list(city.stations)
    i = [s.code for s in stations].index(move.station)
    stations[i] = dataclasses.replace(
        stations[i], lon=move.lon, lat=move.lat, site=move.target, name=move.name, address=""
    )
    return tuple(stations)


def test_a_move_replans_like_a_full_plan(city: SyntheticCity, state: DesignState) -> None:
    """The full re-plan solves every tree again, the move only the trees it touches: the same
    stations are connected and the totals agree within the heuristic's noise (0.5 %)."""
    before = state.plan()
    for code, dlon, dlat in (("T-00054", 0.002, 0.001), ("T-00241", -0.0015, 0.002)):
        st = state.inputs.stations[whatif.WhatIf(state).index(code)]
        move = Move(code, "SCHOOL-1", st.lon + dlon, st.lat + dlat, "School 1")
        after = apply_moves(state, [move]).plan()
        full = plan_network(
            from_city(city), _moved(city, move), city.exchanges, city.existing_fiber, params=FAST
        )
        assert {s.code: s.status for s in after.stations} == {
            s.code: s.status for s in full.stations
        }
        assert after.totals.cost_rial == pytest.approx(full.totals.cost_rial, rel=0.005)
        assert after.totals.trench_m == pytest.approx(full.totals.trench_m, rel=0.005)
        moved = next(s for s in after.stations if s.code == code)
        assert (moved.lon, moved.lat, moved.site) == (move.lon, move.lat, "SCHOOL-1")
        assert moved.status == "connected" and moved.budget is not None
        # the trees the move did not touch are the baseline's, trench for trench
        untouched = {x.code for x in before.exchanges} - {
            s.exchange for s in (moved, next(p for p in before.stations if p.code == code))
        }
        edges = {(t.edge, t.length_m) for t in before.trenches if t.edge >= 0}
        for s in after.stations:
            if s.exchange in untouched and not s.redundant:
                route = {(after.trenches[i].edge, after.trenches[i].length_m) for i in
                         s.route_trench_ids[1:-1]}  # fmt: skip
                assert route <= edges, s.code
    assert state.plan().totals == before.totals  # the baseline state is not changed


def test_the_report_gives_trench_cost_lte_class_and_work_orders(state: DesignState) -> None:
    before = state.plan()
    code = "T-00026"
    st = state.inputs.stations[whatif.WhatIf(state).index(code)]
    move = Move(code, "SCHOOL-2", st.lon + 0.002, st.lat + 0.001)
    tower = Tower("TW-1", "MCI", RadioType.LTE, move.lat, move.lon + 0.001, 30.0)
    moved = apply_moves(state, [move])
    report = compare(state, moved, [move], [tower])
    # only the changed part is assembled: its difference is the whole plans' difference
    after = moved.plan()
    assert report.trench_m == pytest.approx(after.totals.trench_m - before.totals.trench_m)
    assert report.cost_rial == pytest.approx(
        after.totals.cost_rial - before.totals.cost_rial, abs=1e-4 * before.totals.cost_rial
    )
    assert report.connected_before == before.totals.connected == report.connected_after
    (row,) = report.stations
    assert row.lte_after == "good" and row.lte_before in ("usable", "none", "good")
    assert row.route_m_after != row.route_m_before
    assert report.orders and all(o.added + o.removed + o.changed > 0 for o in report.orders)
    assert any(o.added for o in report.orders)  # its new trenches
    assert report.as_dict()["stations"][0]["target"] == "SCHOOL-2"


def test_work_order_changes_are_those_of_every_order_generated(state: DesignState) -> None:
    """changes() generates only the work whose inputs differ; its counts are those of
    comparing every work order of the two plans (parts and whole plans alike)."""
    from pollnet.rollout.workorders import changes, generate

    def every(before: Plan, after: Plan) -> dict[str, tuple[int, int, int]]:
        first = {o.id: o for o in generate(before)}
        second = {o.id: o for o in generate(after)}
        counts: dict[str, list[int]] = {}
        for key in first.keys() | second.keys():
            row = counts.setdefault((second.get(key) or first[key]).agency, [0, 0, 0])
            if key not in first:
                row[0] += 1
            elif key not in second:
                row[1] += 1
            elif first[key] != second[key]:
                row[2] += 1
        return {a: (r[0], r[1], r[2]) for a, r in sorted(counts.items()) if any(r)}

    ask = whatif.WhatIf(state)
    whole = state.plan()
    assert changes(whole, whole) == {}
    for code, dlon, dlat in (("T-00054", 0.002, 0.001), ("T-00026", -0.002, 0.0015),
                             ("T-00241", 0.0005, -0.002)):  # fmt: skip
        st = state.inputs.stations[ask.index(code)]
        moved = apply_moves(state, [Move(code, "SCHOOL-9", st.lon + dlon, st.lat + dlat)])
        trees = {x for x in state.layouts if state.layouts[x] is not moved.layouts.get(x)}
        trees |= {int(state.owner[ask.index(code)]), int(moved.owner[ask.index(code)])}
        parts = state.plan(exchanges=trees), moved.plan(exchanges=trees)
        found = changes(*parts)
        assert found and found == every(*parts), code
        assert changes(whole, moved.plan()) == every(whole, moved.plan()), code


def test_bad_moves_are_one_line_each_and_change_nothing(state: DesignState) -> None:
    before = state.plan().totals
    st = state.inputs.stations[0]
    g = state.inputs.graph
    far_lon = float(g.node_lon.max()) + 0.5
    bad = [
        Move("T-99999", "SCHOOL-3", st.lon, st.lat),
        Move(st.code, "SCHOOL-4", far_lon, st.lat),
        Move(st.code, "SCHOOL-5", st.lon, st.lat),
    ]
    with pytest.raises(UserError) as caught:
        apply_moves(state, bad)
    lines = caught.value.render("en")
    assert len(lines) == 4, lines
    assert any("T-99999" in line and "no station" in line for line in lines)
    assert any("SCHOOL-4" in line and "outside" in line for line in lines)
    assert sum("more than once" in line for line in lines) == 2
    assert state.plan().totals == before
    assert np.array_equal(whatif.WhatIf(state).marginal.exchange, state.owner)


def test_cli_move_reports_and_stores_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    city = generate(80, 2)
    url = f"sqlite:///{tmp_path / 'p.db'}"
    engine = open_store(url)
    load_into(engine, city)
    _load_stations(engine, city)
    cache = save(from_city(city), tmp_path / "streets.npz")
    config = tmp_path / "pollnet.toml"
    config.write_text("[plan]\nsteiner_seconds = 0\n", encoding="utf-8")
    st = city.stations[5]
    schools = tmp_path / "schools.csv"
    schools.write_text(
        "code,name,lat,lon\n"
        f"SCHOOL-1,School one,{st.lat + 0.001:.6f},{st.lon + 0.002:.6f}\n"
        f"SCHOOL-2,Village school,{st.lat + 0.2:.6f},{st.lon:.6f}\n",
        encoding="utf-8",
    )
    base = ["--db", url, "--config", str(config), "--lang", "en", "plan", "--streets", str(cache)]
    move = ["--move", f"{st.code}=SCHOOL-1", "--candidates", str(schools)]
    result = CliRunner().invoke(cli, [*base, *move, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["plan_id"] is None and "planned again first" in result.stderr  # none stored
    (row,) = report["stations"]
    assert (row["station"], row["target"]) == (st.code, "SCHOOL-1")
    assert report["connected_before"] == report["connected_after"] == 80
    assert isinstance(report["trench_m"], float) and report["work_orders"]
    assert {"plan", "move"} <= set(report["seconds"])
    assert latest_plan_id(engine) is None  # nothing stored
    text = CliRunner().invoke(cli, [*base[:4], "--lang", "fa", *base[6:], *move])
    assert text.exit_code == 0, text.output
    assert "جابه‌جایی‌ها" in text.output and "دستور کارها" in text.output

    bad = ["--move", "T-99999=SCHOOL-1", "--move", f"{st.code}=SCHOOL-404", "--move", "oops"]
    with pytest.raises(SystemExit) as exit_:
        main([*base, *bad, "--candidates", str(schools)])
    assert exit_.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3, err
    assert "no station T-99999" in err[0] and "SCHOOL-404" in err[1]
    assert "STATION=BUILDING" in err[2]
    for args in (["--move", "T-99999=SCHOOL-1"], ["--move", f"{st.code}=SCHOOL-2"]):
        with pytest.raises(SystemExit) as exit_:
            main([*base, *args, "--candidates", str(schools)])
        assert exit_.value.code == 1
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert ("no station T-99999" in line) or ("SCHOOL-2 is outside" in line), line
    with pytest.raises(SystemExit) as exit_:
        main([*base, "--move", f"{st.code}=SCHOOL-1"])
    assert "--candidates FILE" in capsys.readouterr().err
    assert latest_plan_id(engine) is None


def test_plan_move_starts_from_the_stored_plan_until_the_registry_changes(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """pollnet plan keeps its design state; plan --move starts from it (its plan is the stored
    plan, totals exactly) and says so; a registry change makes it plan the registry again."""
    import sqlalchemy as sa

    from pollnet.plan import load_plan
    from pollnet.settings import Settings
    from pollnet.store.schema import core

    city = generate(80, 2)
    engine = open_store(db_url)
    load_into(engine, city)
    _load_stations(engine, city)
    cache = save(from_city(city), tmp_path / "streets.npz")
    config = tmp_path / "pollnet.toml"
    config.write_text("[plan]\nsteiner_seconds = 0\n", encoding="utf-8")
    st = city.stations[5]
    schools = tmp_path / "schools.csv"
    schools.write_text(
        f"code,name,lat,lon\nSCHOOL-1,School one,{st.lat + 0.001:.6f},{st.lon + 0.002:.6f}\n",
        encoding="utf-8",
    )
    base = [
        "--db",
        db_url,
        "--config",
        str(config),
        "--lang",
        "en",
        "plan",
        "--streets",
        str(cache),
    ]
    move = ["--move", f"{st.code}=SCHOOL-1", "--candidates", str(schools), "--json"]
    assert CliRunner().invoke(cli, base).exit_code == 0
    plan_id = latest_plan_id(engine)
    assert plan_id is not None

    with pytest.raises(SystemExit):
        main([*base, *move])
    out, err = capsys.readouterr()
    assert json.loads(out)["plan_id"] == plan_id and "planned again" not in err
    settings = Settings(db_url=db_url, sections={"plan": {"steiner_seconds": 0}})
    state, used = whatif.stored_baseline(engine, settings, streets=cache)
    assert used == plan_id
    assert state.plan().totals == load_plan(engine, plan_id).totals

    with engine.begin() as conn:  # the registry changes: the stored state no longer applies
        conn.execute(sa.update(core.stations).where(core.stations.c.code == st.code).values(
            name="Renamed school"))  # fmt: skip
    assert whatif.stored_baseline(engine, settings, streets=cache)[1] is None
    with pytest.raises(SystemExit):
        main([*base, *move])
    out, err = capsys.readouterr()
    assert json.loads(out)["plan_id"] is None
    assert err.strip() == (
        "no stored plan was made from this registry, streets, cost model and [plan] settings: "
        "the registry is planned again first (pollnet plan stores one)"
    )
