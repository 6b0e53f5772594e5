"""``pollnet streets``: import, info and snap, in both languages, and clean errors."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pollnet.cli import main
from pollnet.streets import load
from tests.streets.conftest import write_osm_xml


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("POLLNET_CONFIG", raising=False)
    monkeypatch.setenv("POLLNET_DB", f"sqlite:///{tmp_path / 'data' / 'pollnet.db'}")
    return tmp_path


def test_import_writes_the_cache_next_to_the_database(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    osm = write_osm_xml(workdir / "tiny.osm")
    code, out, _ = _run(["--lang", "en", "streets", "import", str(osm)], capsys)
    assert code == 0
    cache = workdir / "data" / "streets.npz"
    assert load(cache).num_edges == 8
    assert "8 nodes, 8 edges" in out
    assert "1 duplicate edges" in out and "footway 1" in out
    code, out, _ = _run(["--lang", "fa", "streets", "info"], capsys)
    assert code == 0
    assert "۸ گره" in out


def test_import_json_and_classes(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    osm = write_osm_xml(workdir / "tiny.osm")
    out_path = workdir / "custom.npz"
    code, out, _ = _run(
        ["streets", "import", str(osm), "--out", str(out_path), "--classes", "primary", "--json"],
        capsys,
    )
    assert code == 0
    summary = json.loads(out)
    assert summary["edges"] == 1  # way 11 alone: node 2 is no longer a junction
    assert summary["cache"] == str(out_path)
    assert summary["report"]["dropped_classes"]["residential"] == 4
    code, _, err = _run(
        ["--lang", "en", "streets", "import", str(osm), "--classes", "lane"], capsys
    )
    assert code == 1
    assert "unknown street classes: lane" in err


def test_snap_writes_csv(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    osm = write_osm_xml(workdir / "tiny.osm")
    _run(["streets", "import", str(osm)], capsys)
    points = workdir / "points.csv"
    points.write_text("code,lon,lat\nS1,51.4005,35.7001\nS2,52.0,36.0\n", encoding="utf-8")
    code, out, _ = _run(["streets", "snap", str(points)], capsys)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["code"] == "S1" and rows[0]["street"] == "کوچه الف"
    assert float(rows[0]["drop_m"]) == pytest.approx(11.1, abs=0.2)
    assert rows[0]["flags"] == ""
    assert rows[1]["flags"] == "too_far"


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_errors_are_one_line_and_exit_1(
    workdir: Path, capsys: pytest.CaptureFixture[str], lang: str
) -> None:
    empty = workdir / "empty.osm.pbf"
    empty.write_bytes(b"")
    code, _, err = _run(["--lang", lang, "streets", "import", str(empty)], capsys)
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert str(empty) in err
    assert "Traceback" not in err
    code, _, err = _run(["--lang", lang, "streets", "info", str(workdir / "none.npz")], capsys)
    assert code == 1 and "none.npz" in err


def test_streets_outside_the_stations_area_are_one_warning_with_the_bbox(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    osm = write_osm_xml(workdir / "tiny.osm")  # in Tehran: no warning
    code, _, err = _run(["--lang", "en", "streets", "import", str(osm)], capsys)
    assert code == 0 and err == ""
    (workdir / "pollnet.toml").write_text(
        "[pollnet]\nbbox = [60.1, 24.8, 60.3, 25.1]\n", encoding="utf-8"
    )  # Helsinki
    code, _, err = _run(["--lang", "en", "streets", "import", str(osm)], capsys)
    assert code == 0
    (line,) = err.splitlines()
    assert line.startswith("warning: 100% of the streets lie outside the stations' area")
    assert line.endswith("set it in pollnet.toml: [pollnet] bbox = [35.698, 51.4, 35.702, 51.404]")
    code, _, err = _run(["--lang", "fa", "streets", "import", str(osm)], capsys)
    assert err.startswith("هشدار: ۱۰۰٪ از خیابان‌ها")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_import_shows_a_bar_on_a_terminal_only(
    workdir: Path, helsinki_pbf: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pty

    (workdir / "pollnet.toml").write_text(
        "[pollnet]\nbbox = [60.1, 24.8, 60.3, 25.1]\n", encoding="utf-8"
    )  # Helsinki: no warning about streets outside the stations' area
    controller, terminal = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "100"}
    command = [sys.executable, "-m", "pollnet", "--lang", "en", "streets", "import"]
    process = subprocess.Popen(
        [*command, str(helsinki_pbf), "--out", str(workdir / "s.npz")],
        stdout=subprocess.PIPE,
        stderr=terminal,
        env=env,
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    out, _ = process.communicate(timeout=120)
    os.close(controller)
    assert process.returncode == 0
    assert "Reading the street network" in shown.decode(errors="replace")
    assert b"\x1b" not in out and b"nodes" in out  # the summary on stdout stays plain

    # Off a terminal (here: captured), standard error stays empty.
    code, out, err = _run(["--lang", "en", "streets", "import", str(helsinki_pbf)], capsys)
    assert code == 0 and err == "" and "nodes" in out
