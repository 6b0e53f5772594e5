"""A corpus of bad station files: each gives exactly the right errors and imports nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from pollnet.errors import UserError
from pollnet.registry import import_stations
from pollnet.settings import Settings
from pollnet.store import open_store
from pollnet.store.schema.core import sites, stations
from tests.registry.stationfiles import EN, FA, GOOD, write_csv, write_geojson, write_xlsx


def _row(index: int, **changes: str) -> list[str]:
    row = dict(zip(EN, GOOD[index], strict=True))
    row.update(changes)
    return list(row.values())


def _errors(path: Path, tmp_path: Path, settings: Settings | None = None) -> list[str]:
    """The English error lines of importing ``path``, after checking nothing was stored."""
    engine = open_store(f"sqlite:///{tmp_path / 'corpus.db'}")
    with pytest.raises(UserError) as caught:
        import_stations(engine, path, settings=settings or Settings())
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(stations)) == 0
        assert conn.scalar(sa.select(sa.func.count()).select_from(sites)) == 0
    engine.dispose()
    return caught.value.render("en")


Case = Callable[[Path], Path]
CASES: dict[str, tuple[Case, list[str]]] = {
    "empty file": (
        lambda d: _write(d / "s.csv", b""),
        ["{f}: the file is empty"],
    ),
    "only blank lines": (
        lambda d: _write(d / "s.csv", b"\r\n \r\n"),
        ["{f}: the file is empty"],
    ),
    "only a byte-order mark": (
        lambda d: _write(d / "s.csv", b"\xef\xbb\xbf\r\n"),
        ["{f}: the file is empty"],
    ),
    "a byte-order mark before Windows-1256": (
        lambda d: _write(d / "s.csv", b"\xef\xbb\xbf" + "کد".encode("cp1256")),
        [
            "{f}: cannot read the file's encoding: it is not UTF-8, UTF-8 with BOM or "
            "Windows-1256 (save it as CSV UTF-8)"
        ],
    ),
    "header only": (
        lambda d: write_csv(d / "s.csv", rows=[]),
        ["{f}: the file has no station rows, only a header"],
    ),
    "missing columns": (
        lambda d: write_csv(
            d / "s.csv", header=EN[:5] + EN[7:], rows=[r[:5] + r[7:] for r in GOOD]
        ),
        ["{f}: missing required columns: lat / عرض جغرافیایی, lon / طول جغرافیایی"],
    ),
    "one field named twice": (
        lambda d: write_csv(d / "s.csv", header=[*EN, "کد شعبه"], rows=[[*r, "x"] for r in GOOD]),
        ["{f}: columns code and کد شعبه both mean code / کد شعبه"],
    ),
    "swapped coordinates": (
        lambda d: write_csv(d / "s.csv", rows=[GOOD[0], _row(1, lat="51.3891", lon="35.7011")]),
        ["{f}, row 2, column lat: latitude and longitude look swapped: (51.3891, 35.7011)"],
    ),
    "out of bounds (Mashhad)": (
        lambda d: write_csv(d / "s.csv", rows=[_row(0, lat="36.2970", lon="59.6062"), GOOD[1]]),
        [
            "{f}, row 1, column lat: the point (36.297, 59.6062) is outside the area: "
            "latitude 35.0932 to 36.1017, longitude 50.8431 to 51.899"
        ],
    ),
    "duplicate codes": (
        lambda d: write_csv(d / "s.csv", rows=[GOOD[0], GOOD[1], _row(2, code="T-001")]),
        [
            "{f}, row 1, column code: duplicate station code T-001, also in row 3",
            "{f}, row 3, column code: duplicate station code T-001, also in row 1",
        ],
    ),
    "duplicate codes in different digits": (
        lambda d: write_csv(
            d / "s.csv", rows=[_row(0, code="۱۰۱"), _row(1, code="101"), _row(2, code="١٠١")]
        ),
        [
            "{f}, row 1, column code: duplicate station code 101, also in row 2, 3",
            "{f}, row 2, column code: duplicate station code 101, also in row 1, 3",
            "{f}, row 3, column code: duplicate station code 101, also in row 1, 2",
        ],
    ),
    "non-numeric fields": (
        lambda d: write_csv(
            d / "s.csv",
            rows=[
                _row(0, district="شش", voters="many", devices="0", critical="maybe"),
                _row(1, lat="35.7o", voters="-5", devices="1.5"),
            ],
        ),
        [
            "{f}, row 1, column district: not a whole number: شش",
            "{f}, row 1, column voters: not a whole number: many",
            "{f}, row 1, column devices: must be at least 1, not 0",
            "{f}, row 1, column critical: not yes or no: maybe (use yes/no, true/false, 1/0, "
            "بله/خیر)",
            "{f}, row 2, column lat: not a number: 35.7o",
            "{f}, row 2, column voters: must be at least 0, not -5",
            "{f}, row 2, column devices: not a whole number: 1.5",
        ],
    ),
    "required values missing (blank lines keep their numbers)": (
        lambda d: _write(
            d / "s.csv",
            (
                ",".join(EN)
                + "\r\n"
                + ",".join(GOOD[0])
                + "\r\n\r\n"
                + ",".join(_row(1, name="  ", critical=""))
                + "\r\n"
            ).encode(),
        ),
        [
            "{f}, row 3, column name: a value is required",
            "{f}, row 3, column critical: a value is required",
        ],
    ),
    "Arabic letters and ZWNJ in headers still name the column": (
        lambda d: write_csv(
            d / "s.csv",
            header=[*FA[:7], "تعداد\u200cواجدين", "تعداد دستگاه ", "حساس"],
            rows=[GOOD[0], _row(1, voters="۹۵۰.۵")],
        ),
        ["{f}, row 2, column تعداد\u200cواجدين: not a whole number: 950.5"],
    ),
    "a row wider than the header": (
        lambda d: write_csv(d / "s.csv", rows=[GOOD[0], [*GOOD[1], "extra"]]),
        ["{f}, row 2: the row has 11 cells but the header has 10"],
    ),
    "UTF-16 is not a supported encoding": (
        lambda d: write_csv(d / "s.csv", header=FA, encoding="utf-16"),
        [
            "{f}: cannot read the file's encoding: it is not UTF-8, UTF-8 with BOM or "
            "Windows-1256 (save it as CSV UTF-8)"
        ],
    ),
    "Latin-1 is not Windows-1256": (
        lambda d: write_csv(
            d / "s.csv",
            rows=[_row(0, name="Café Müller", site="Hôtel Été", address="à côté")],
            encoding="latin-1",
        ),
        [
            "{f}: cannot read the file's encoding: it is not UTF-8, UTF-8 with BOM or "
            "Windows-1256 (save it as CSV UTF-8)"
        ],
    ),
    "an education district the site contradicts": (
        lambda d: write_csv(
            d / "s.csv",
            header=[*EN, "ناحیه آموزش و پرورش"],
            rows=[[*GOOD[0], "3"], [*GOOD[1], "4"]],
        ),
        [
            "{f}, row 2, column ناحیه آموزش و پرورش: the site دبستان فردوسی has education "
            "district 3 in row 1"
        ],
    ),
    "XLSX with bad cells": (
        lambda d: write_xlsx(
            d / "s.xlsx",
            [
                [*GOOD[0][:5], 51.389, 35.701, 1200, 2, "yes"],
                [*GOOD[1][:5], 35.7, 51.38, 950.5, 1, "no"],
            ],
        ),
        [
            "{f}, row 1, column lat: latitude and longitude look swapped: (51.389, 35.701)",
            "{f}, row 2, column voters: not a whole number: 950.5",
        ],
    ),
    "not an XLSX file at all": (
        lambda d: _write(d / "s.xlsx", b"code,name\r\n1,2\r\n"),
        ["{f}: not a readable XLSX file: File is not a zip file"],
    ),
    "GeoJSON feature without a point": (
        lambda d: write_geojson(
            d / "s.geojson",
            [
                {"type": "Feature", "properties": _props(0), "geometry": None},
                {
                    "type": "Feature",
                    "properties": _props(1),
                    "geometry": {"type": "LineString", "coordinates": [[51.3, 35.7], [51.4, 35.7]]},
                },
                {
                    "type": "Feature",
                    "properties": _props(2),
                    "geometry": {"type": "Point", "coordinates": [35.71, 51.39]},
                },
            ],
        ),
        [
            "{f}, row 1, column geometry: the feature's geometry must be a Point with [lon, lat] "
            "coordinates",
            "{f}, row 2, column geometry: the feature's geometry must be a Point with [lon, lat] "
            "coordinates",
            "{f}, row 3, column lat: latitude and longitude look swapped: (51.39, 35.71)",
        ],
    ),
    "not JSON": (
        lambda d: _write(d / "s.geojson", b"{nope"),
        ["{f}: not valid JSON: Expecting property name enclosed in double quotes"],
    ),
    "unknown extension": (
        lambda d: _write(d / "s.ods", b"x"),
        ["{f}: unknown file type .ods: use .csv, .xlsx, .geojson or .gpkg"],
    ),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _props(index: int) -> dict[str, str]:
    return {k: v for k, v in zip(EN, GOOD[index], strict=True) if k not in ("lat", "lon")}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_file_gives_exactly_these_errors_and_imports_nothing(name: str, tmp_path: Path) -> None:
    build, expected = CASES[name]
    path = build(tmp_path)
    assert _errors(path, tmp_path) == [line.format(f=path) for line in expected]


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    assert _errors(path, tmp_path) == [f"{path}: file not found"]


def test_district_range_only_when_configured(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "s.csv", rows=[_row(0, district="23"), GOOD[1]])
    settings = Settings(sections={"registry": {"max_district": 22}})
    assert _errors(path, tmp_path, settings) == [
        f"{path}, row 1, column district: must be at most 22, not 23"
    ]
    engine = open_store(f"sqlite:///{tmp_path / 'ok.db'}")
    assert len(import_stations(engine, path, settings=Settings()).added) == 2


def test_errors_in_persian_name_row_and_column_in_persian(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "s.csv", header=FA, rows=[GOOD[0], _row(1, voters="زیاد")])
    engine = open_store(f"sqlite:///{tmp_path / 'fa.db'}")
    with pytest.raises(UserError) as caught:
        import_stations(engine, path, settings=Settings())
    assert caught.value.render("fa") == [f"{path}، ردیف ۲، ستون تعداد واجدین: عدد صحیح نیست: زیاد"]
