"""Importing exchange files into a real database: every format and language, bad rows named by
file, row and column, all or nothing, skip-invalid with a rejects file, re-import by code."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import sqlalchemy as sa

from pollnet.errors import NotFoundError, UserError
from pollnet.plan._inputs import read_inputs
from pollnet.settings import Settings
from pollnet.store import open_store
from pollnet.telecom import (
    export_exchanges,
    get_exchange,
    import_exchanges,
    list_exchanges,
    read_exchanges,
)
from tests.telecom.files import SAMPLES, write_geopackage

SETTINGS = Settings()
EN = SAMPLES / "exchanges-en.csv"
FA = SAMPLES / "exchanges-fa.csv"
HEADER = "code,name,operator,lat,lon,pon_ports,county\n"
GOOD = "EX-ENG,Enghelab exchange,TCI,35.7009,51.3912,16,Tehran\n"


def _engine(tmp_path: Path) -> sa.Engine:
    return open_store(f"sqlite:///{tmp_path / 'x.db'}")


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def test_sample_files_import_and_read_back(db_url: str) -> None:
    engine = open_store(db_url)
    report = import_exchanges(engine, EN, settings=SETTINGS)
    assert report.added == ("EX-ENG", "EX-TAJ", "EX-REY")
    assert (report.format, report.encoding, report.rows) == ("csv", "UTF-8", 3)
    assert get_exchange(engine, "EX-TAJ").as_dict() == {
        "code": "EX-TAJ", "name": "Tajrish exchange", "operator": "TCI", "lat": 35.8052,
        "lon": 51.433, "pon_ports": 12, "county": "Shemiranat",
    }  # fmt: skip
    # The Persian sample names the same exchanges (Persian headers and digits): names change.
    again = import_exchanges(engine, FA, settings=SETTINGS)
    assert (again.added, again.changed, again.unchanged) == ((), ("EX-ENG", "EX-TAJ", "EX-REY"), ())
    assert get_exchange(engine, "EX-REY").name == "مرکز مخابرات ری"
    assert get_exchange(engine, "EX-REY").pon_ports == 8
    same = import_exchanges(engine, FA, settings=SETTINGS)
    assert same.unchanged == ("EX-ENG", "EX-TAJ", "EX-REY")
    assert [r.code for r in list_exchanges(engine)] == ["EX-ENG", "EX-REY", "EX-TAJ"]
    with pytest.raises(NotFoundError, match="no exchange with code EX-9"):
        get_exchange(engine, "EX-۹")


def test_the_planner_reads_the_imported_exchanges(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    import_exchanges(engine, EN, settings=SETTINGS)
    _, exchanges, _ = read_inputs(engine)
    assert [(x.code, x.pon_ports, x.operator, x.county) for x in exchanges] == [
        ("EX-ENG", 16, "TCI", "Tehran"),
        ("EX-REY", 8, "TCI", "Rey"),
        ("EX-TAJ", 12, "TCI", "Shemiranat"),
    ]


@pytest.mark.parametrize("name", ["x.csv", "x.xlsx", "x.geojson"])
@pytest.mark.parametrize("headers", ["en", "fa"])
def test_export_reads_back_unchanged(tmp_path: Path, name: str, headers: str) -> None:
    engine = _engine(tmp_path)
    import_exchanges(engine, FA, settings=SETTINGS)
    assert export_exchanges(engine, tmp_path / name, headers=headers) == 3
    report = import_exchanges(engine, tmp_path / name, settings=SETTINGS)
    assert report.unchanged == ("EX-ENG", "EX-REY", "EX-TAJ")


@pytest.mark.parametrize(("encoding", "expected"), [("utf-8-sig", "UTF-8 with BOM"),
                                                    ("cp1256", "Windows-1256")])  # fmt: skip
def test_persian_csv_in_excel_encodings(tmp_path: Path, encoding: str, expected: str) -> None:
    # Windows-1256 has no Persian digits, yeh and kaf: Excel writes ASCII digits, Arabic letters.
    persian, excel = "۰۱۲۳۴۵۶۷۸۹٫یک", "0123456789.يك"
    text = FA.read_text(encoding="utf-8").translate(str.maketrans(persian, excel))
    table = read_exchanges(_write(tmp_path / "x.csv", text, encoding))
    assert table.encoding == expected
    report = import_exchanges(_engine(tmp_path), table, settings=SETTINGS)
    assert len(report.added) == 3


def test_geopackage_point_layer(tmp_path: Path) -> None:
    path = write_geopackage(
        tmp_path / "x.gpkg",
        "POINT",
        ["کد مرکز", "نام مرکز", "اپراتور", "پورت آزاد PON"],
        [([(51.3912, 35.7009)], ["EX-ENG", "انقلاب", "مخابرات", "16"])],
    )
    engine = _engine(tmp_path)
    report = import_exchanges(engine, path, settings=SETTINGS)
    assert (report.format, report.added) == ("geopackage", ("EX-ENG",))
    assert get_exchange(engine, "EX-ENG")[3:6] == (35.7009, 51.3912, 16)


def test_geopackage_in_a_projected_system_is_refused(tmp_path: Path) -> None:
    path = write_geopackage(
        tmp_path / "x.gpkg", "POINT", ["code"], [([(500000.0, 3950000.0)], ["EX"])], 32639
    )
    with pytest.raises(UserError, match="not in WGS84 longitude/latitude"):
        read_exchanges(path)


def test_every_bad_row_is_named_and_nothing_changes(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    import_exchanges(engine, _write(tmp_path / "a.csv", HEADER + GOOD), settings=SETTINGS)
    bad = _write(
        tmp_path / "b.csv",
        HEADER
        + "EX-ENG,Enghelab,TCI,35.7009,51.3912,-2,Tehran\n"
        + "EX-A,,TCI,51.39,35.70,4,\n"
        + "EX-B,B,TCI,north,51.4,4,\n"
        + "EX-B,B2,TCI,35.6,51.4,four,\n"
        + "EX-C,C,TCI,40.0,51.4,4,\n",
    )
    with pytest.raises(UserError) as caught:
        import_exchanges(engine, bad, settings=SETTINGS)
    assert caught.value.render("en") == [
        f"{bad}, row 1, column pon_ports: must be at least 0, not -2",
        f"{bad}, row 2, column name: a value is required",
        f"{bad}, row 2, column lat: latitude and longitude look swapped: (51.39, 35.7)",
        f"{bad}, row 3, column lat: not a number: north",
        f"{bad}, row 3, column code: duplicate exchange code EX-B, also in row 4",
        f"{bad}, row 4, column pon_ports: not a whole number: four",
        f"{bad}, row 4, column code: duplicate exchange code EX-B, also in row 3",
        f"{bad}, row 5, column lat: the point (40.0, 51.4) is outside the area: latitude "
        "35.0932 to 36.1017, longitude 50.8431 to 51.899",
    ]
    assert [(r.code, r.pon_ports) for r in list_exchanges(engine)] == [("EX-ENG", 16)]


def test_skip_invalid_imports_the_rest_and_writes_the_rejects(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    source = _write(
        tmp_path / "b.csv",
        HEADER + GOOD + "EX-X,X,TCI,35.7,51.4,many,\n" + "EX-Y,Y,TCI,35.71,51.41,3,Rey\n",
    )
    report = import_exchanges(engine, source, settings=SETTINGS, skip_invalid=True, lang="en")
    assert (report.added, [r.row for r in report.rejected]) == (("EX-ENG", "EX-Y"), [2])
    assert report.rejects_file == tmp_path / "b.csv.rejects.csv"
    with report.rejects_file.open(encoding="utf-8-sig") as fh:
        assert list(csv.reader(fh)) == [
            [*HEADER.strip().split(","), "reason"],
            ["EX-X", "X", "TCI", "35.7", "51.4", "many", "",
             "column pon_ports: not a whole number: many"],
        ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("code,name,lat,lon,pon_ports\nEX,E,35.7,51.4,3\n", "missing required columns: operator"),
        (HEADER, "the file has no rows, only a header"),
        ("code,name,operator,lat,lon,pon_ports,ports\n", "both mean pon_ports"),
    ],
)
def test_whole_file_problems(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        import_exchanges(_engine(tmp_path), _write(tmp_path / "x.csv", text), settings=SETTINGS)


def test_geojson_feature_without_a_point_is_named(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "x.geojson",
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
        '{"code": "EX", "name": "E", "operator": "TCI", "pon_ports": 4}, "geometry": null}]}',
    )
    with pytest.raises(UserError) as caught:
        import_exchanges(_engine(tmp_path), path, settings=SETTINGS)
    assert caught.value.render("en") == [
        f"{path}, row 1, column geometry: the feature's geometry must be a Point with [lon, lat] "
        "coordinates"
    ]


def test_text_longer_than_the_database_keeps_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.csv", HEADER + f"EX-{'9' * 70},E,TCI,35.7,51.4,3,\n")
    with pytest.raises(UserError) as caught:
        import_exchanges(_engine(tmp_path), path, settings=SETTINGS)
    assert caught.value.render("en") == [
        f"{path}, row 1, column code: must be at most 64 characters, not 73"
    ]


def test_a_code_outside_the_code_alphabet_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.csv", HEADER + "\u0415X1,E,TCI,35.7,51.4,3,\n")  # a Cyrillic E
    with pytest.raises(UserError) as caught:
        import_exchanges(_engine(tmp_path), path, settings=SETTINGS)
    (line,) = caught.value.render("en")
    assert line.startswith(f"{path}, row 1, column code: not a usable exchange code: \\u0415X1")
