"""Importing towers: pollnet's own columns, OpenCelliD exports, and every kind of bad row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from openpyxl import Workbook

from pollnet.cli import cli
from pollnet.coverage import read_towers
from pollnet.coverage.towers import import_towers, read_towers_file
from pollnet.errors import UserError
from pollnet.model import RadioType
from pollnet.settings import TEHRAN_BBOX
from pollnet.store import open_store
from pollnet.store.schema import core

OWN = """code,operator,radio,lat,lon,height_m
MCI-1,MCI,LTE,35.7001,51.4002,32
IRC-1,Irancell,4g,35.7101,51.4102,
RTL-1,Rightel,3G,35.6901,51.3902,28.5
"""

OPENCELLID = """\
radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal
LTE,432,11,11201,2512345,0,51.40021,35.70012,1000,12,1,1459692000,1700000000,0
UMTS,432,35,12001,99887,0,51.41,35.71,500,3,1,1459692000,1700000000,0
GSM,432,99,1,2,0,51.42,35.72,500,3,1,1459692000,1700000000,0
"""


def test_own_columns_in_csv_and_persian_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "towers.csv"
    path.write_text(OWN, "utf-8")
    kind, towers = read_towers_file(path, TEHRAN_BBOX)
    assert kind == "pollnet"
    assert [(t.code, t.operator, t.radio, t.height_m) for t in towers] == [
        ("MCI-1", "MCI", RadioType.LTE, 32.0),
        ("IRC-1", "Irancell", RadioType.LTE, 25.0),  # no height: the default
        ("RTL-1", "Rightel", RadioType.UMTS, 28.5),
    ]
    assert (towers[0].lat, towers[0].lon) == (35.7001, 51.4002)

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["اپراتور", "کد دکل", "فناوری", "عرض جغرافیایی", "طول جغرافیایی", "ارتفاع"])
    sheet.append(["MCI", "MCI-۲", "LTE", "۳۵٫۷", "51.4", "۳۰"])
    xlsx = tmp_path / "towers.xlsx"
    book.save(xlsx)
    _kind, (tower,) = read_towers_file(xlsx, TEHRAN_BBOX)
    assert (tower.code, tower.operator, tower.lat, tower.height_m) == ("MCI-2", "MCI", 35.7, 30.0)


def test_opencellid_export(tmp_path: Path) -> None:
    path = tmp_path / "432.csv"
    path.write_text(OPENCELLID, "utf-8")
    kind, towers = read_towers_file(path, TEHRAN_BBOX)
    assert kind == "opencellid"
    assert [(t.code, t.operator, t.radio) for t in towers] == [
        ("LTE-432-11-11201-2512345", "MCI", RadioType.LTE),
        ("UMTS-432-35-12001-99887", "Irancell", RadioType.UMTS),
        ("GSM-432-99-1-2", "432-99", RadioType.GSM),
    ]
    assert towers[0].height_m == 25.0 and (towers[0].lat, towers[0].lon) == (35.70012, 51.40021)


def test_every_bad_row_is_reported_and_nothing_is_written(tmp_path: Path, db_url: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "code,operator,radio,lat,lon,height_m\n"
        "A,MCI,LTE,35.7,51.4,30\n"
        "A,MCI,LTE,35.7,51.4,30\n"  # row 2: duplicate code
        ",Irancell,6G,35.7,51.4,30\n"  # row 3: no code, unknown radio
        "C,,LTE,51.4,35.7,30\n"  # row 4: no operator, lat/lon swapped
        "D,MCI,GSM,48.0,2.3,900\n"  # row 5: Paris, and a 900 m tower
        "E,MCI,LTE,north,51.4,30\n",  # row 6: not a number
        "utf-8",
    )
    engine = open_store(db_url)
    with pytest.raises(UserError) as caught:
        import_towers(engine, path, TEHRAN_BBOX)
    found = {(p.where.row, p.where.column, p.message) for p in caught.value.problems}
    assert {(p.where.file) for p in caught.value.problems} == {str(path)}
    assert (2, "code", "duplicate tower code {code}, also in row {rows}") in found
    assert (3, "code", "a value is required") in found
    assert (3, "radio", "unknown radio {value}: use lte, umts, gsm or nr") in found
    assert (4, "operator", "a value is required") in found
    assert (4, "lat", "latitude and longitude look swapped: ({lat}, {lon})") in found
    assert (5, "height_m", "a tower's height must be 1 to 300 m, not {value}") in found
    assert any(r == 5 and c == "lat" and "outside the area" in m for r, c, m in found)
    assert (6, "lat", "not a number: {value}") in found
    assert read_towers(engine) == ()

    missing = tmp_path / "missing.csv"
    missing.write_text("code,lat,lon\nA,35.7,51.4\n", "utf-8")
    # Named in both languages, as every other import names a missing column.
    with pytest.raises(UserError, match=r"columns: operator / اپراتور, radio / فناوری$"):
        import_towers(engine, missing, TEHRAN_BBOX)


def test_towers_go_through_the_registry_checks(tmp_path: Path) -> None:
    """A column given twice, a file of headers only and a Persian header are handled as in
    every other import: refused with one line, and named as the file names them."""
    twice = tmp_path / "twice.csv"
    twice.write_text("code,operator,radio,lat,latitude,lon\nA,MCI,lte,35.7,35.7,51.4\n", "utf-8")
    empty = tmp_path / "empty.csv"
    empty.write_text("code,operator,radio,lat,lon\n", "utf-8")
    persian = tmp_path / "persian.csv"
    persian.write_text("کد دکل,اپراتور,فناوری,عرض,طول\nA,MCI,6g,35.7,51.4\n", "utf-8")
    lines = []
    for path in (twice, empty, persian):
        with pytest.raises(UserError) as caught:
            read_towers_file(path, TEHRAN_BBOX)
        lines += caught.value.render("en")
    assert lines == [
        f"{twice}: columns lat and latitude both mean lat / عرض جغرافیایی",
        f"{empty}: the file has no rows, only a header",
        f"{persian}, row 1, column فناوری: unknown radio 6g: use lte, umts, gsm or nr",
    ]


def test_import_adds_then_updates_by_code(tmp_path: Path, db_url: str) -> None:
    engine = open_store(db_url)
    own = tmp_path / "towers.csv"
    own.write_text(OWN, "utf-8")
    first = import_towers(engine, own, TEHRAN_BBOX)
    assert (first.format, first.added, first.changed, first.unchanged) == ("pollnet", 3, 0, 0)
    own.write_text(
        OWN.replace("MCI-1,MCI,LTE,35.7001,51.4002,32", "MCI-1,MCI,LTE,35.7001,51.4002,40")
    )
    again = import_towers(engine, own, TEHRAN_BBOX)
    assert (again.added, again.changed, again.unchanged) == (0, 1, 2)
    cells = tmp_path / "432.csv"
    cells.write_text(OPENCELLID, "utf-8")
    assert import_towers(engine, cells, TEHRAN_BBOX).added == 3
    stored = {t.code: t for t in read_towers(engine)}
    assert len(stored) == 6 and stored["MCI-1"].height_m == 40.0
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(core.towers)) == 6


def test_cli_imports_and_reports_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'pollnet.db'}"
    own = tmp_path / "towers.csv"
    own.write_text(OWN, "utf-8")
    done = runner.invoke(cli, ["--db", url, "--lang", "en", "towers", "import", str(own)])
    assert done.exit_code == 0, done.output
    assert "3 added, 0 changed, 0 unchanged" in done.output
    as_json = runner.invoke(cli, ["--db", url, "towers", "import", str(own), "--json"])
    assert json.loads(as_json.output)["unchanged"] == 3
    bad = tmp_path / "bad.csv"
    bad.write_text("code,operator,radio,lat,lon\nX,MCI,LTE,35.7,x\n", "utf-8")
    failed = runner.invoke(cli, ["--db", url, "towers", "import", str(bad)])
    assert isinstance(failed.exception, UserError)
    assert "row 1" in str(failed.exception) and "lon" in str(failed.exception)


def test_geojson_feature_without_a_point_keeps_the_readers_reason(tmp_path: Path) -> None:
    path = tmp_path / "towers.geojson"
    feature = {"type": "Feature", "properties": {"code": "B", "operator": "MCI", "radio": "lte"}}
    good = {**feature, "geometry": {"type": "Point", "coordinates": [51.4, 35.7]}}
    features = [good, {**feature, "geometry": None}]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    with pytest.raises(UserError) as caught:
        read_towers_file(path, TEHRAN_BBOX)
    found = {(p.where.row, p.where.column) for p in caught.value.problems}
    assert (2, "geometry") in found


def test_hostile_cells_are_refused_on_postgresql_too(tmp_path: Path, pg_url: str) -> None:
    """Digits Python cannot convert, a NUL, a code longer than the column: lines, no traceback."""
    cellid = tmp_path / "cells.csv"
    header = OPENCELLID.splitlines()[0]
    cellid.write_text(
        f"{header}\nLTE,432,11,1,²,0,51.4,35.7\nLTE,432,11,1,{'9' * 5000},0,51.4,35.7\n", "utf-8"
    )
    own = tmp_path / "own.csv"
    own.write_text(
        f"code,operator,radio,lat,lon\nA\x00,MCI,lte,35.7,51.4\n{'B' * 65},MCI,lte,35.7,51.4\n",
        "utf-8",
    )
    engine = open_store(pg_url)
    try:
        lines = []
        for path in (cellid, own):
            with pytest.raises(UserError) as caught:
                import_towers(engine, path, TEHRAN_BBOX)
            lines += caught.value.render("en")
        with engine.connect() as conn:
            assert conn.scalar(sa.select(sa.func.count()).select_from(core.towers)) == 0
    finally:
        engine.dispose()
    assert lines == [
        f"{cellid}, row 1, column cell: not a whole number: ²",
        f"{cellid}, row 2, column cell: not a whole number: {'9' * 79}…",
        f"{own}, row 1, column code: the cell contains a control character (U+0000)",
        f"{own}, row 2, column code: must be at most 64 characters, not 65",
    ]


def test_coverage_without_towers_says_to_import_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pollnet.cli import main
    from tests.registry.stationfiles import write_csv

    url = f"sqlite:///{tmp_path / 'pollnet.db'}"

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as done:
            main(["--db", url, "--lang", "en", *args])
        out, err = capsys.readouterr()
        return int(done.value.code or 0), out, err

    assert run("stations", "import", str(write_csv(tmp_path / "s.csv")))[0] == 0
    code, out, err = run("coverage", "--out", str(tmp_path / "coverage.csv"))
    assert code == 1 and out == "" and not (tmp_path / "coverage.csv").exists()
    assert err == (
        "error: no towers imported: run pollnet towers import FILE first (the operators' "
        "towers or an OpenCelliD export)\n"
    )
    own = tmp_path / "towers.csv"
    own.write_text(OWN, "utf-8")
    assert run("towers", "import", str(own))[0] == 0
    assert run("coverage")[0] == 0
