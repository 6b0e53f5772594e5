"""Importing existing fiber: every format and language, bad rows named by file, row and column,
all or nothing, matching onto the street graph, and the planner reusing what was imported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from pollnet.errors import NotFoundError, UserError
from pollnet.plan import plan_network
from pollnet.plan._inputs import read_inputs
from pollnet.settings import Settings
from pollnet.store import open_store
from pollnet.telecom import export_fiber, get_fiber, import_fiber, list_fiber, read_fiber
from tests.plan._graphs import graph, lonlat, station
from tests.telecom.files import SAMPLES, write_geopackage

SETTINGS = Settings()
EN = SAMPLES / "fiber-en.csv"
FA = SAMPLES / "fiber-fa.geojson"
HEADER = "code,owner,kind,spare_fibres,free_ducts,geometry\n"
LINE = '"LINESTRING (51.3912 35.7009, 51.395 35.701)"'
NOWHERE = Path("no-streets.npz")  # no street cache: matching waits for the plan


def _engine(tmp_path: Path) -> sa.Engine:
    return open_store(f"sqlite:///{tmp_path / 'x.db'}")


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _import(engine: sa.Engine, source: Path, **options: object):  # type: ignore[no-untyped-def]
    return import_fiber(engine, source, settings=SETTINGS, **options)  # type: ignore[arg-type]


def test_sample_files_in_both_languages(db_url: str) -> None:
    engine = open_store(db_url)
    report = _import(engine, EN)
    assert report.added == ("F-ENG-1", "F-ENG-2", "F-TAJ-1")
    assert report.matched is None and report.warnings[0].message.startswith("no street network")
    line = get_fiber(engine, "F-TAJ-1")
    assert line[1:5] == ("TCI", "direct-buried", 0, None)
    assert line.as_dict()["geometry"] == {
        "type": "MultiLineString",
        "coordinates": [[[51.433, 35.8052], [51.43, 35.799]], [[51.43, 35.799], [51.428, 35.795]]],
    }
    # The Persian GeoJSON sample: the same lines, kinds and counts; only the owner is in Persian.
    again = _import(engine, FA)
    assert (again.format, again.changed) == ("geojson", ("F-ENG-1", "F-ENG-2", "F-TAJ-1"))
    assert [r[:5] for r in list_fiber(engine)] == [
        ("F-ENG-1", "مخابرات", "duct", 12, 1),
        ("F-ENG-2", "مخابرات", "aerial", 6, None),
        ("F-TAJ-1", "مخابرات", "direct-buried", 0, None),
    ]
    assert _import(engine, FA).unchanged == ("F-ENG-1", "F-ENG-2", "F-TAJ-1")
    with pytest.raises(NotFoundError, match="no fiber line with code F-9"):
        get_fiber(engine, "F-۹")


@pytest.mark.parametrize("name", ["x.csv", "x.xlsx", "x.geojson"])
@pytest.mark.parametrize("headers", ["en", "fa"])
def test_export_reads_back_unchanged(tmp_path: Path, name: str, headers: str) -> None:
    engine = _engine(tmp_path)
    _import(engine, EN)
    assert export_fiber(engine, tmp_path / name, headers=headers) == 3
    assert _import(engine, tmp_path / name).unchanged == ("F-ENG-1", "F-ENG-2", "F-TAJ-1")


def test_geopackage_line_layer_and_a_feature_without_a_line(tmp_path: Path) -> None:
    fields = ["code", "owner", "kind", "spare_fibres"]
    path = write_geopackage(
        tmp_path / "f.gpkg", "LINESTRING", fields,
        [([(51.3912, 35.7009), (51.395, 35.701)], ["F-1", "TCI", "duct", "8"]),
         (None, ["F-2", "TCI", "duct", "8"])],
    )  # fmt: skip
    with pytest.raises(UserError) as caught:
        _import(_engine(tmp_path), path)
    assert caught.value.render("en") == [
        f"{path}, row 2, column geometry: the feature's geometry must be a LineString or "
        "MultiLineString with [lon, lat] coordinates"
    ]
    engine = _engine(tmp_path)
    report = _import(engine, path, skip_invalid=True)
    assert (report.format, report.added, [r.row for r in report.rejected]) == (
        "geopackage",
        ("F-1",),
        [2],
    )
    assert json.loads(get_fiber(engine, "F-1").geometry)["coordinates"] == [
        [51.3912, 35.7009],
        [51.395, 35.701],
    ]


def test_every_bad_row_is_named_and_nothing_changes(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    _import(engine, _write(tmp_path / "a.csv", HEADER + f"F-1,TCI,duct,4,,{LINE}\n"))
    bad = _write(
        tmp_path / "b.csv",
        HEADER
        + f"F-1,TCI,tunnel,4,,{LINE}\n"
        + "F-2,TCI,duct,-1,,LINESTRING (51.39 35.70\n"
        + "F-3,TCI,aerial,,,POINT (51.39 35.70)\n"
        + 'F-4,TCI,aerial,2,1,"LINESTRING (35.70 51.39, 35.71 51.40)"\n'
        + 'F-4,,duct,2,1,"LINESTRING (51.39 35.70, 53.0 35.71)"\n'
        + "F-6,TCI,duct,3,,LINESTRING (51.39 35.70)\n",
    )
    with pytest.raises(UserError) as caught:
        _import(engine, bad)
    assert caught.value.render("en") == [
        f"{bad}, row 1, column kind: not a kind of line: tunnel (use duct, aerial or "
        "direct-buried)",
        f"{bad}, row 2, column spare_fibres: must be at least 0, not -1",
        f"{bad}, row 2, column geometry: not a line in WKT: LINESTRING (51.39 35.70",
        f"{bad}, row 3, column geometry: must be a LINESTRING or MULTILINESTRING, not POINT",
        f"{bad}, row 3, column spare_fibres: give the spare fibres or the free ducts",
        f"{bad}, row 4, column geometry: the point (35.7 51.39) looks swapped: WKT gives the "
        "longitude first",
        f"{bad}, row 4, column free_ducts: a line of kind aerial has no ducts, so no free ducts",
        f"{bad}, row 4, column code: duplicate line code F-4, also in row 5",
        f"{bad}, row 5, column owner: a value is required",
        f"{bad}, row 5, column geometry: the point (53.0 35.71) is outside the area: latitude "
        "35.0932 to 36.1017, longitude 50.8431 to 51.899",
        f"{bad}, row 5, column code: duplicate line code F-4, also in row 4",
        f"{bad}, row 6, column geometry: not a line in WKT: LINESTRING (51.39 35.70)",
    ]
    assert [(r.code, r.kind) for r in list_fiber(engine)] == [("F-1", "duct")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("code,owner,kind,geometry\nF,T,duct,x\n", "needs a column of spare fibres or of free"),
        (HEADER, "the file has no rows, only a header"),
        ("code,owner,spare_fibres,geometry\n", "missing required columns: kind"),
    ],
)
def test_whole_file_problems(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        _import(_engine(tmp_path), _write(tmp_path / "x.csv", text))


def test_lines_are_matched_onto_the_streets_and_the_planner_reuses_them(tmp_path: Path) -> None:
    # A 2 km street X -- A -- S; line F-ON runs along it, F-OFF 500 m north of it, F-FULL along
    # it but without a spare fibre.
    g = graph([(0, 0), (1000, 0), (2000, 0)], [(0, 1), (1, 2)])
    on = [lonlat(g, 0, 3), lonlat(g, 1000, -4), lonlat(g, 2000, 2)]
    off = [lonlat(g, 0, 500), lonlat(g, 2000, 500)]
    wkt = ", ".join(f"{x} {y}" for x, y in on)
    far = ", ".join(f"{x} {y}" for x, y in off)
    source = _write(
        tmp_path / "f.csv",
        HEADER
        + f'F-ON,TCI,duct,8,,"LINESTRING ({wkt})"\n'
        + f'F-OFF,TCI,aerial,8,,"LINESTRING ({far})"\n'
        + f'F-FULL,TCI,duct,0,2,"LINESTRING ({wkt})"\n',
    )
    engine = _engine(tmp_path)
    report = _import(engine, source, streets=g)
    assert (report.matched, round(report.street_m)) == (2, 4000)
    assert [w.render("en") for w in report.warnings] == [
        f"{source}, row 2, column geometry: the line F-OFF runs along no street (none within "
        "15.0 m of it): the plan cannot reuse it"
    ]
    _, _, fibers = read_inputs(engine)
    x = lonlat(g, 0, 0)
    s = lonlat(g, 2000, 0)
    from pollnet.model import Exchange

    plan = plan_network(g, [station("S", *s)], [Exchange("X", "X", x[1], x[0], 4)], fibers)
    assert [t.method for t in plan.trenches if t.edge >= 0] == ["existing_fiber"] * 2
    # Without F-ON, F-FULL (no spare fibre) is not reused: the street is dug.
    spare_less = [f for f in fibers if f.code != "F-ON"]
    dug = plan_network(g, [station("S", *s)], [Exchange("X", "X", x[1], x[0], 4)], spare_less)
    assert "existing_fiber" not in {t.method for t in dug.trenches}


def test_reading_a_fiber_file_turns_map_lines_into_wkt(tmp_path: Path) -> None:
    table = read_fiber(FA)
    assert table.headers[-1] == "geometry"
    assert table.rows[0][1][-1] == "LINESTRING (51.3912 35.7009, 51.395 35.701, 51.401 35.7012)"


def test_a_line_code_outside_the_code_alphabet_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.csv", HEADER + f"F 1,TCI,duct,4,,{LINE}\n")
    with pytest.raises(UserError) as caught:
        _import(_engine(tmp_path), path)
    (line,) = caught.value.render("en")
    assert line.startswith(f"{path}, row 1, column code: not a usable line code: F 1")
