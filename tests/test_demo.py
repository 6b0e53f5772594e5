"""The main job builds a fresh, consistent database from the bundled data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from pollnet.cli import cli, main
from pollnet.demo import MARKER, prepare_folder
from pollnet.errors import UserError
from pollnet.store import create_engine
from pollnet.store.schema import core


def test_demo_builds_a_fresh_database(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    (out / "stale").mkdir(parents=True)
    (out / MARKER).write_text("", encoding="utf-8")  # an earlier demo's folder
    result = CliRunner().invoke(cli, ["demo", "--out", str(out), "--stations", "120", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert not (out / "stale").exists() and (out / MARKER).is_file()
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


def test_demo_refuses_a_folder_it_did_not_make(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("years of work", encoding="utf-8")
    monkeypatch.chdir(mine)
    for out in (".", str(mine)):
        with pytest.raises(SystemExit) as done:
            main(["--lang", "en", "demo", "--out", out, "--stations", "20"])
        assert done.value.code == 1
        _, err = capsys.readouterr()
        assert err.splitlines() == [
            f"error: {out} is not empty and was not made by pollnet demo: nothing was changed; "
            "choose a new or empty folder with --out"
        ]
        assert sorted(p.name for p in mine.iterdir()) == ["thesis.txt"]
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(UserError):
        prepare_folder(tmp_path / "file")


def test_demo_empties_only_its_own_folder_and_nothing_outside(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    prepare_folder(empty)  # an empty folder is used as it is
    assert [p.name for p in empty.iterdir()] == [MARKER]
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep", encoding="utf-8")
    (empty / "old").mkdir()
    (empty / "old" / "stale.csv").write_text("x", encoding="utf-8")
    os.symlink(outside, empty / "link-to-outside")
    os.symlink(outside / "keep.txt", empty / "old" / "keep-link")
    prepare_folder(empty)  # an earlier demo's folder is emptied
    assert [p.name for p in empty.iterdir()] == [MARKER]
    assert (outside / "keep.txt").read_text(encoding="utf-8") == "keep"
    made = tmp_path / "new" / "deeper"
    prepare_folder(made)
    assert (made / MARKER).is_file()


def test_demo_says_which_database_holds_its_data(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(
        cli, ["--lang", "en", "demo", "--out", str(out), "--stations", "30"]
    )
    assert result.exit_code == 0, result.output
    url = f"sqlite:///{(out / 'pollnet.db').resolve()}"
    lines = result.stdout.splitlines()
    assert f"database: {url}" in lines
    assert f"the next commands use it with --db {url} or with export POLLNET_DB={url}" in lines
    listed = CliRunner().invoke(cli, ["stations", "list", "--json", "--db", url])
    assert listed.exit_code == 0 and len(json.loads(listed.stdout)) == 30
