"""``pollnet plan --out DIR``: the stored plan's layers, work lists and report on disk."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook

from pollnet.cli import cli
from pollnet.i18n import gettext


def test_plan_out_writes_every_output(tmp_path: Path) -> None:
    runner = CliRunner()
    demo = tmp_path / "demo"
    made = runner.invoke(cli, ["--lang", "en", "demo", "--out", str(demo), "--stations", "60"])
    assert made.exit_code == 0, made.output
    url = f"sqlite:///{demo / 'pollnet.db'}"
    out = tmp_path / "plan"
    args = ["--db", url, "--lang", "fa", "plan", "--streets", str(demo / "streets.npz")]
    result = runner.invoke(cli, [*args, "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    files = {name: Path(path) for name, path in summary["files"].items()}
    assert files["report"] == out / "report-fa.html"
    assert all(path.is_file() for path in files.values())

    stations = json.loads(files["geojson:stations"].read_text("utf-8"))["features"]
    assert len(stations) == summary["stations"] == 60
    with sqlite3.connect(files["gpkg"]) as db:
        assert db.execute("SELECT count(*) FROM stations").fetchone()[0] == 60
        assert (
            db.execute("SELECT metadata FROM gpkg_metadata").fetchone()[0].count(summary["plan_id"])
        )
    # the registry's devices reach the education department's list
    ws = load_workbook(files["education"])[gettext("Schools", "fa")]
    rows = list(ws.iter_rows(values_only=True))
    devices = rows[0].index(gettext("devices", "fa"))
    assert rows[-1][devices] > 0 and ws.sheet_view.rightToLeft
    html = files["report"].read_text("utf-8")
    assert summary["plan_id"] in html and 'dir="rtl"' in html

    text = runner.invoke(cli, [*args, "--out", str(tmp_path / "again")])
    assert text.exit_code == 0, text.output
    assert str(tmp_path / "again" / "report-fa.html") in text.output
    labels = [line.split(": ")[0] for line in text.output.splitlines() if ": " in line]
    assert f"گزارش: {tmp_path / 'again' / 'report-fa.html'}" in text.output
    assert "فهرست کار شهرداری" in labels and "ژئوپکیج" in labels
    assert not [label for label in labels if label.isascii()]  # every label in Persian


def test_plan_prints_one_number_flagged_for_review(tmp_path: Path) -> None:
    runner = CliRunner()
    demo = tmp_path / "demo"
    made = runner.invoke(cli, ["--lang", "en", "demo", "--out", str(demo), "--stations", "200"])
    assert made.exit_code == 0, made.output
    args = ["--db", f"sqlite:///{demo / 'pollnet.db'}", "--lang", "en", "plan"]
    args += ["--streets", str(demo / "streets.npz")]
    summary = json.loads(runner.invoke(cli, [*args, "--json"]).output)
    assert summary["review"] >= summary["flagged"]
    assert summary["review"] > 0  # the demo city has warnings to review
    text = runner.invoke(cli, args).output
    rows = dict(re.findall(r"│ ([A-Za-z][^│]*?)\s+│ ([\d,]+)\s+│", text))
    assert int(rows["Flagged for review"]) == summary["review"]
    assert int(rows["Not connected"]) == summary["flagged"]
    assert "Flagged for review, by reason" in text
    by_reason = {code: int(n) for code, n in summary["review_reasons"].items()}
    assert sum(by_reason.values()) >= summary["review"]
    assert f"{summary['review']} flagged for review" in made.output  # the demo's own line
