"""The main job builds a fresh, consistent database from the bundled data."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from pollnet.cli import cli
from pollnet.store import create_engine
from pollnet.store.schema import core


def test_demo_builds_a_fresh_database(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    (out / "stale").mkdir(parents=True)
    result = CliRunner().invoke(cli, ["demo", "--out", str(out), "--stations", "120", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert not (out / "stale").exists()
    assert summary["counts"]["stations"] == 120
    engine = create_engine(summary["db"])
    with engine.connect() as conn:
        stations = conn.scalar(sa.select(sa.func.count()).select_from(core.stations))
        exchanges = conn.scalar(sa.select(sa.func.count()).select_from(core.exchanges))
        districts = conn.scalar(sa.select(sa.func.count()).select_from(core.districts))
    assert stations == 120
    assert exchanges == summary["counts"]["exchanges"] >= 2
    assert districts == 22
    assert Path(summary["files"]["streets_cache"]).is_file()
    plan = summary["plan"]
    assert plan["stations"] == 120
    assert plan["connected"] + plan["flagged"] == 120
    assert plan["trench_m"] > 0 and plan["cost_rial"] > 0
    report = Path(summary["files"]["plan:report"]).read_text(encoding="utf-8")
    assert 'dir="rtl"' in report or "rtl" in report
    lte = summary["lte_backup"]
    assert lte["good"] + lte["usable"] + lte["none"] == 120 and lte["good"] > 0
    rows = Path(summary["files"]["coverage"]).read_text(encoding="utf-8-sig").splitlines()
    assert len(rows) == 121  # the demo's language (Persian by default) names the columns
    assert rows[0].startswith(("station,district,critical,status", "شعبه,منطقه,حساس,پشتیبان LTE"))


def test_demo_is_deterministic(tmp_path: Path) -> None:
    runs = []
    for name in ("a", "b"):
        out = tmp_path / name
        result = CliRunner().invoke(cli, ["demo", "--out", str(out), "--stations", "60", "--json"])
        assert result.exit_code == 0, result.output
        runs.append((out / "data" / "stations.csv").read_bytes())
    assert runs[0] == runs[1]


def test_demo_in_persian_prints_persian_digits(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(
        cli, ["--lang", "fa", "demo", "--out", str(out), "--stations", "30"]
    )
    assert result.exit_code == 0, result.output
    assert "شعبه‌ها" in result.stdout and "۳۰" in result.stdout
