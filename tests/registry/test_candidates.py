"""Candidate buildings files (school lists): the same rows from CSV, XLSX and GeoJSON, Persian
headers, every bad row named by row and column, nothing used when one row is bad."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pollnet.errors import UserError
from pollnet.registry import Candidate, read_candidates, write_layer
from pollnet.settings import TEHRAN_BBOX

HEADER = ["code", "name", "lat", "lon", "capacity", "education_district"]
ROWS = [
    ["SCH-1", "دبستان یک", "35.70", "51.40", "800", "3"],
    ["SCH-2", "", "35.71", "51.41", "", ""],
]
EXPECTED = [
    Candidate("SCH-1", "دبستان یک", 35.70, 51.40, 800, 3),
    Candidate("SCH-2", "", 35.71, 51.41, None, None),
]


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "geojson"])
def test_the_same_buildings_from_each_format(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"schools.{suffix}"
    points = [{"type": "Point", "coordinates": [float(r[3]), float(r[2])]} for r in ROWS]
    write_layer(path, HEADER, ROWS, points, geometry_cells=(2, 3))
    assert list(read_candidates(path, TEHRAN_BBOX)) == EXPECTED


def test_persian_headers_in_any_order_and_persian_digits(tmp_path: Path) -> None:
    path = tmp_path / "schools.csv"
    path.write_text(
        "ظرفیت,طول جغرافیایی,کد مدرسه,نام مدرسه,عرض جغرافیایی,ناحیه\n"
        "۸۰۰,۵۱٫۴۰,SCH-1,دبستان یک,۳۵٫۷۰,۳\n",
        "utf-8",
    )
    assert read_candidates(path, TEHRAN_BBOX) == (EXPECTED[0],)


def test_every_bad_row_is_named_and_nothing_is_used(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,lat,lon,capacity,education_district\n"
        "SCH-1,35.70,51.40,many,1\n"
        "SCH-1,35.70,51.40,1,0\n"
        ",99,51.40,,\n"
        "SCH 4,51.40,35.70,,\n"
        "SCH-5,35.70,51.40,12,2\n",
        "utf-8",
    )
    with pytest.raises(UserError) as caught:
        read_candidates(bad, TEHRAN_BBOX)
    assert caught.value.render("en") == [
        f"{bad}, row 1, column capacity: not a whole number: many",
        f"{bad}, row 1, column code: duplicate code SCH-1, also in row 2",
        f"{bad}, row 2, column education_district: must be at least 1, not 0",
        f"{bad}, row 2, column code: duplicate code SCH-1, also in row 1",
        f"{bad}, row 3, column code: a value is required",
        f"{bad}, row 3, column lat: the point (99.0, 51.4) is outside the area: latitude "
        f"{TEHRAN_BBOX.min_lat} to {TEHRAN_BBOX.max_lat}, longitude {TEHRAN_BBOX.min_lon} to "
        f"{TEHRAN_BBOX.max_lon}",
        f"{bad}, row 4, column code: not a usable building code: SCH 4 (character U+0020; use "
        "Latin letters, digits, '.', '_' and '-')",
        f"{bad}, row 4, column lat: latitude and longitude look swapped: (51.4, 35.7)",
    ]
    persian = caught.value.render("fa")
    assert len(persian) == 8 and "ردیف ۱" in persian[0]


def test_whole_file_problems(tmp_path: Path) -> None:
    path = tmp_path / "schools.csv"
    path.write_text("name,lat\nx,35.7\n", "utf-8")
    with pytest.raises(UserError) as caught:
        read_candidates(path, TEHRAN_BBOX)
    assert caught.value.render("en") == [
        f"{path}: missing required columns: code / کد ساختمان, lon / طول جغرافیایی"
    ]
    path.write_text("code,lat,lon\n", "utf-8")
    with pytest.raises(UserError, match="no rows"):
        read_candidates(path, TEHRAN_BBOX)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(TEHRAN_BBOX.min_lat, TEHRAN_BBOX.max_lat),
            st.floats(TEHRAN_BBOX.min_lon, TEHRAN_BBOX.max_lon),
            st.none() | st.integers(0, 5000),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_any_good_file_reads_back_as_written(
    buildings: list[tuple[float, float, int | None]],
) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "schools.csv"
        rows = [
            [f"B-{i}", f"building {i}", repr(lat), repr(lon), "" if cap is None else str(cap), ""]
            for i, (lat, lon, cap) in enumerate(buildings)
        ]
        write_layer(path, HEADER, rows, [{}] * len(rows), geometry_cells=(2, 3))
        found = read_candidates(path, TEHRAN_BBOX)
    assert found == tuple(
        Candidate(f"B-{i}", f"building {i}", lat, lon, cap, None)
        for i, (lat, lon, cap) in enumerate(buildings)
    )
