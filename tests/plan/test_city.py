import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from pollnet.cli import cli, main
from pollnet.datasets._store import load_into
from pollnet.datasets.synth import SyntheticCity, generate
from pollnet.model import Station
from pollnet.plan import load_plan, plan_city, run
from pollnet.settings import Settings
from pollnet.store import open_store
from pollnet.store.schema import core
from pollnet.streets import from_city, save

pytest.importorskip("pollnet.plan.steiner")


def test_synthetic_city_end_to_end() -> None:
    city = generate(300, 7)
    plan = plan_city(city)
    t = plan.totals
    assert t.stations == 300
    # the synthetic schools all stand on the main street component, near a street
    assert t.connected + t.flagged == 300 and t.connected >= 295
    for s in plan.stations:
        assert s.status == "connected" or s.flags, s.code
        if s.status == "connected":
            assert s.budget is not None and s.budget.ok
            assert plan.trenches[s.route_trench_ids[-1]].method == "drop"
    ports = {x.code: x for x in plan.exchanges}
    for x in ports.values():
        assert x.ports_used <= x.pon_ports
    assert t.cost_rial == pytest.approx(sum(b.total_rial for b in plan.bom), rel=1e-9)
    assert any(s.redundant for s in plan.stations)
    assert set(plan.phase_seconds) >= {"snap", "forest", "layout", "budget", "assemble"}
    again = plan_city(city)  # deterministic: the same inputs give the same plan
    assert again.inputs_digest == plan.inputs_digest
    assert again.trenches == plan.trenches and again.stations == plan.stations
    assert again.totals == plan.totals


def _add_station(engine: Engine, station: Station) -> None:
    """One station in a site of its own."""
    with engine.begin() as conn:
        site = conn.execute(
            core.sites.insert(),
            {
                "name": station.site,
                "address": "",
                "lat": station.lat,
                "lon": station.lon,
                "district": station.district,
            },
        ).inserted_primary_key[0]
        conn.execute(
            core.stations.insert(),
            {
                "code": station.code,
                "name": station.name,
                "site_id": site,
                "district": station.district,
                "lat": station.lat,
                "lon": station.lon,
                "voters": station.voters,
                "devices": station.devices,
                "critical": station.critical,
                "updated_at": dt.datetime.now(dt.UTC),
            },
        )


def _load_stations(engine: Engine, city: SyntheticCity) -> None:
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        site_id: dict[str, int] = {}
        for i, site in enumerate(city.sites, start=1):
            site_id[site.name] = i
            conn.execute(
                core.sites.insert(),
                {
                    "id": i,
                    "name": site.name,
                    "address": site.address,
                    "lat": site.lat,
                    "lon": site.lon,
                    "district": site.district,
                },
            )
        conn.execute(
            core.stations.insert(),
            [
                {
                    "code": s.code,
                    "name": s.name,
                    "site_id": site_id[s.site],
                    "district": s.district,
                    "lat": s.lat,
                    "lon": s.lon,
                    "voters": s.voters,
                    "devices": s.devices,
                    "critical": s.critical,
                    "updated_at": now,
                }
                for s in city.stations
            ],
        )


def test_cli_plan_json_and_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    city = generate(80, 2)
    url = f"sqlite:///{tmp_path / 'p.db'}"
    engine = open_store(url)
    load_into(engine, city)
    _load_stations(engine, city)
    # one more station in a village 20 km north of the city: outside the streets' area
    far = dataclasses.replace(
        city.stations[0], code="Z-99999", site="village school", lat=city.stations[0].lat + 0.2
    )
    _add_station(engine, far)
    cache = save(from_city(city), tmp_path / "streets.npz")
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", url, "plan", "--streets", str(cache), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["stations"] == 81 and summary["connected"] + summary["flagged"] == 81
    assert summary["flagged"] >= 1
    assert summary["cost_rial"] > 0 and "forest" in summary["seconds"]
    plan = load_plan(open_store(url), summary["plan_id"])
    assert plan.totals.stations == 81
    (village,) = [s for s in plan.stations if s.code == "Z-99999"]
    assert [f.code for f in village.flags] == ["outside_area"]
    text = runner.invoke(cli, ["--db", url, "--lang", "fa", "plan", "--streets", str(cache)])
    assert text.exit_code == 0, text.output
    assert "۸۱" in text.output  # Persian digits
    assert "بیرون از محدودهٔ شبکه" in text.output  # the flag reasons, in Persian
    with pytest.raises(SystemExit) as exit_:
        main(["--db", url, "--lang", "en", "plan", "--streets", str(tmp_path / "none.npz")])
    assert exit_.value.code == 1
    assert "file not found" in capsys.readouterr().err


def test_run_reads_plan_settings_and_a_cost_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    city = generate(60, 4)
    url = f"sqlite:///{tmp_path / 'p.db'}"
    engine = open_store(url)
    load_into(engine, city)
    _load_stations(engine, city)
    cache = save(from_city(city), tmp_path / "streets.npz")
    costs = tmp_path / "costs.toml"
    costs.write_text("[equipment]\nont = 0\n", encoding="utf-8")
    base = run(engine, Settings(db_url=url), streets=cache)
    cheaper = run(
        engine,
        Settings(db_url=url, sections={"plan": {"split": 16, "redundancy": False}}),
        streets=cache,
        costs=costs,
    )
    assert cheaper.parameters["split"] == 16
    assert any(line.render("en") == "Splitter 1:16" for line in cheaper.bom)
    assert not any(s.redundant for s in cheaper.stations)
    assert cheaper.cost_model["equipment"]["ont"] == 0
    (ont,) = [line for line in cheaper.bom if line.item == "ONT at a station"]
    assert ont.quantity == 60 and ont.total_rial == 0
    assert base.inputs_digest != cheaper.inputs_digest
    assert {"load", "store", "forest"} <= set(cheaper.phase_seconds)
    bad = tmp_path / "bad.toml"
    bad.write_text("[cable]\n12 = -5\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_:
        main(["--db", url, "--lang", "en", "plan", "--streets", str(cache), "--costs", str(bad)])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "cable.12 must be a number not below zero" in err and "Traceback" not in err
