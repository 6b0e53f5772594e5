"""Temporary LTE cells: the fewest sites covering every station without backup, per operator;
the command line."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from pollnet.cli import cli
from pollnet.coverage import RadioSettings, lte_backup
from pollnet.coverage.cells import (
    CandidateSite,
    CellSettings,
    _greedy,
    coverage_matrix,
    plan_cells,
)
from pollnet.coverage.pathloss import uma_nlos_db
from pollnet.errors import ConfigError, UserError
from tests.coverage.test_backup import at, station, tower

RADIO = RadioSettings()
CELL = CellSettings(height_m=15.0, tx_power_dbm=40.0)


def rsrp(distance_m: float) -> float:
    """The coverage model's RSRP of a temporary cell, written out independently."""
    eirp = 40.0 - 10 * np.log10(12 * 100) + RADIO.antenna_gain_dbi - RADIO.feeder_loss_db
    loss = float(uma_nlos_db(distance_m, CELL.height_m, RADIO.device_height_m, 1.8))
    return float(eirp - loss - RADIO.indoor_loss_db)


def reach_m() -> float:
    near, far = 0.0, 5000.0
    for _ in range(50):
        mid = (near + far) / 2
        near, far = (mid, far) if rsrp(mid) >= RADIO.usable_dbm else (near, mid)
    return near


def test_fewest_sites_cover_every_station_without_backup() -> None:
    r = reach_m()
    assert 300 < r < 3000  # a plausible small cell
    # Stations along a line, spaced 0.6 reach apart: a cell at a station covers itself and its
    # neighbours, so 9 stations need 3 sites; a tower 200 km away gives no backup at all.
    stations = [station(f"S{i}", i * 0.6 * r, critical=i == 4) for i in range(9)]
    towers = [tower("FAR", "MCI", 0.0, 200_000.0)]
    backups = lte_backup(stations, towers, RADIO)
    assert all(b.status == "none" for b in backups)
    (plan,) = plan_cells(stations, backups, towers, RADIO, CELL)
    assert plan.operator == "MCI" and plan.method == "exact"
    assert len(plan.sites) == 3 == plan.lower_bound and plan.uncovered == ()
    covered = sorted(code for site in plan.sites for code in site.stations)
    assert covered == sorted(s.code for s in stations)  # each exactly once in the lists
    by_code = {s.code: s for s in stations}
    for site in plan.sites:
        for code in site.stations:
            s = by_code[code]
            east = abs(s.lon - site.lon) / abs(stations[1].lon - stations[0].lon) * 0.6 * r
            assert rsrp(east) >= RADIO.usable_dbm - 0.01
    assert plan.sites[0].critical == 1 and plan.sites[0].stations[0] == "S4"  # critical first


def test_the_cover_is_minimal_by_brute_force() -> None:
    rng = np.random.default_rng(3)
    r = reach_m()
    stations = [
        station(f"S{i}", float(x)) for i, x in enumerate(np.sort(rng.uniform(0, 6 * r, 10)))
    ]
    extra = [
        CandidateSite(f"C{i}", "candidate", *at(float(x), 0.0)) for i, x in enumerate([r, 3 * r])
    ]
    towers = [tower("FAR", "MCI", 0.0, 200_000.0)]
    backups = lte_backup(stations, towers, RADIO)
    (plan,) = plan_cells(stations, backups, towers, RADIO, CELL, extra)
    sites = [CandidateSite(s.code, "station", s.lat, s.lon) for s in stations] + extra
    cover = coverage_matrix(stations, sites, RADIO, CELL).toarray() > 0
    fewest = next(
        k
        for k in range(1, len(sites) + 1)
        if any(
            cover[list(c)].any(axis=0).all() for c in itertools.combinations(range(len(sites)), k)
        )
    )
    assert len(plan.sites) == fewest
    chosen = [next(i for i, s in enumerate(sites) if s.code == x.code) for x in plan.sites]
    assert cover[chosen].any(axis=0).all()


def test_greedy_covers_everything_critical_first() -> None:
    from scipy import sparse

    matrix = sparse.csr_array(
        np.array([[1, 1, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 1, 1, 1], [1, 0, 0, 0, 1]])
    )
    critical = np.array([False, False, False, True, False])
    chosen = _greedy(matrix, critical)
    assert chosen[0] == 2  # the most critical first (ties: most stations)
    assert (matrix.toarray()[chosen].sum(axis=0) > 0).all()


def test_stations_nobody_reaches_and_operators() -> None:
    stations = [station("S0", 0.0), station("S1", 100.0)]
    towers = [tower("A", "MCI", 0.0, 200_000.0), tower("B", "Irancell", 0.0, 200_000.0)]
    backups = lte_backup(stations, towers, RADIO)
    plans = plan_cells(stations, backups, towers, RADIO, CELL, operators=["MCI"])
    assert [p.operator for p in plans] == ["MCI"] and len(plans[0].sites) == 1
    both = plan_cells(stations, backups, towers, RADIO, CELL)
    assert [p.operator for p in both] == ["Irancell", "MCI"]
    with pytest.raises(ConfigError, match="height"):
        CellSettings(height_m=100).check()


def test_cli_lists_writes_and_refuses_bad_candidates(tmp_path: Path) -> None:
    runner = CliRunner()
    demo = tmp_path / "demo"
    made = runner.invoke(cli, ["--lang", "en", "demo", "--out", str(demo), "--stations", "300"])
    assert made.exit_code == 0, made.output
    url = f"sqlite:///{demo / 'pollnet.db'}"
    out = tmp_path / "cells.csv"
    shown = runner.invoke(
        cli, ["--db", url, "--lang", "en", "coverage", "plan-cells", "--out", str(out)]
    )
    assert shown.exit_code == 0, shown.output
    as_json = json.loads(
        runner.invoke(cli, ["--db", url, "coverage", "plan-cells", "--json"]).output
    )
    needing = as_json["stations_without_backup"]
    assert needing > 0, "the demo city has stations without backup"
    assert f"Temporary LTE cells for {needing} stations without usable backup" in shown.output
    for plan in as_json["operators"]:
        assert plan["method"] == "exact" and plan["sites"] == plan["lower_bound"]
        listed = [c for site in plan["cells"] for c in site["stations"]]
        assert (
            len(listed) + len(plan["uncovered"])
            == needing
            == len(set(listed)) + len(plan["uncovered"])
        )
    marked = any(site["critical"] for p in as_json["operators"] for site in p["cells"])
    assert ("(* critical station)" in shown.output) == marked
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == sum(p["sites"] for p in as_json["operators"])
    persian = runner.invoke(cli, ["--db", url, "--lang", "fa", "coverage", "plan-cells"])
    assert "سلول‌های موقت LTE" in persian.output

    # The cell of the settings' [cells] table; --height overrides it.
    config = tmp_path / "pollnet.toml"
    config.write_text("[cells]\nheight_m = 40\ntx_power_dbm = 49\n", "utf-8")
    command = ["--db", url, "--config", str(config), "--lang", "en", "coverage", "plan-cells"]
    configured = runner.invoke(cli, command)
    assert "(cells 40.0 m high, 49.0 dBm)" in configured.output, configured.output
    higher = json.loads(runner.invoke(cli, [*command, "--json"]).output)
    assert sum(p["sites"] for p in higher["operators"]) <= sum(
        p["sites"] for p in as_json["operators"]
    )
    overridden = runner.invoke(cli, [*command, "--height", "20"])
    assert "(cells 20.0 m high, 49.0 dBm)" in overridden.output, overridden.output
    config.write_text("[cells]\nheight_m = 90\nwidth = 3\n", "utf-8")
    refused = runner.invoke(cli, command)
    assert isinstance(refused.exception, ConfigError)
    assert refused.exception.render("en") == [
        f"{config}: unknown settings in [cells]: width (valid: height_m, tx_power_dbm)"
    ]
    config.write_text("[cells]\nheight_m = 90\n", "utf-8")
    refused = runner.invoke(cli, command)
    assert isinstance(refused.exception, ConfigError)
    assert refused.exception.render("en") == [
        f"{config}, column cells.height_m: a temporary cell's height must be 3 to 60 m, not 90.0"
    ]
    refused = runner.invoke(cli, [*command[:2], *command[4:], "--power", "50"])
    assert isinstance(refused.exception, ConfigError)
    assert refused.exception.render("en") == [
        "option --power: a temporary cell's power must be 20 to 49 dBm, not 50.0"
    ]

    bad = tmp_path / "bad.csv"
    bad.write_text("code,lat,lon\nX,35.7,\n", "utf-8")
    refused = runner.invoke(
        cli, ["--db", url, "--lang", "en", "coverage", "plan-cells", "--candidates", str(bad)]
    )
    assert refused.exit_code != 0 and isinstance(refused.exception, UserError)
    assert refused.exception.render("en") == [f"{bad}, row 1, column lon: a value is required"]


def test_xlsx_has_a_sheet_per_operator_in_persian(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from pollnet.coverage.cells import write_cells

    stations = [station("S0", 0.0, critical=True), station("S1", 100.0)]
    towers = [tower("A", "MCI", 0.0, 200_000.0), tower("B", "Irancell", 0.0, 200_000.0)]
    plans = plan_cells(stations, lte_backup(stations, towers, RADIO), towers, RADIO, CELL)
    path = write_cells(plans, tmp_path / "cells.xlsx", "fa")
    book = load_workbook(path)
    assert book.sheetnames == ["Irancell", "MCI"]
    rows = list(book["MCI"].iter_rows(values_only=True))
    assert rows[0][:3] == ("اپراتور", "سایت", "نوع")
    assert rows[1][0] == "MCI" and rows[1][2] == "محل شعبه" and rows[1][7] == "S0 S1"
    assert book["MCI"].sheet_view.rightToLeft
