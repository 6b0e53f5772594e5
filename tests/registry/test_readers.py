"""Reading station files: encodings, header spellings, digits and letters, XLSX and GeoJSON."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pollnet.errors import UserError
from pollnet.registry import Rules, read_table, validate
from pollnet.settings import TEHRAN_BBOX, BoundingBox
from tests.registry.stationfiles import EN, FA, GOOD, write_csv, write_geojson, write_xlsx

RULES = Rules(TEHRAN_BBOX)


@pytest.mark.parametrize(
    ("encoding", "name"),
    [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 with BOM"), ("cp1256", "Windows-1256")],
)
def test_each_encoding_is_detected_and_named(tmp_path: Path, encoding: str, name: str) -> None:
    # Windows-1256 has no Persian yeh or digits: Persian Excel writes Arabic yeh and ASCII digits.
    def arabic(cells: list[str]) -> list[str]:
        return [cell.replace("ی", "ي").replace("۱۰", "10") for cell in cells]

    rows = [arabic(row) for row in GOOD]
    table = read_table(write_csv(tmp_path / "s.csv", rows, arabic(FA), encoding))
    assert table.encoding == name
    assert table.headers[7] == "تعداد واجدين"
    records = validate(table, RULES).records
    assert [r.name for r in records] == ["شعبه یک", "شعبه دو", "شعبه سه"]
    assert records[0].address == "خیابان انقلاب، پلاک 10"


def test_semicolon_and_tab_separated_files(tmp_path: Path) -> None:
    from tests.registry.stationfiles import csv_text

    for delimiter in (";", "\t"):
        path = tmp_path / "s.csv"
        path.write_text(csv_text(EN, GOOD, delimiter), encoding="utf-8")
        assert len(validate(read_table(path), RULES).records) == 3


def test_headers_match_in_any_order_and_spelling(tmp_path: Path) -> None:
    header = [
        "  طول\u200cجغرافيايي ",  # ZWNJ for a space, Arabic yeh, stray spaces
        "LAT",
        "كد\u200c شعبه",  # Arabic kaf and a ZWNJ next to a space
        "Station Name",
        "site",
        "آدرس",
        "District",
        "تعداد واجدين",
        "Devices",
        "حساس",
        "Education_District",
        "notes",  # unknown columns are left alone
    ]
    order = [6, 5, 0, 1, 2, 3, 4, 7, 8, 9]
    rows = [[row[i] for i in order] + ["12", "free text"] for row in GOOD]
    records = validate(read_table(write_csv(tmp_path / "s.csv", rows, header)), RULES).records
    assert [(r.code, r.lat, r.lon, r.education_district) for r in records] == [
        ("T-001", 35.701, 51.389, 12),
        ("T-002", 35.7011, 51.3891, 12),
        ("T-003", 35.7102, 51.3912, 12),
    ]


def test_mixed_persian_arabic_and_ascii_digits_and_letters(tmp_path: Path) -> None:
    row = ["T-۰۰۱", "شعبه يك", "دبستان  فردوسي", "خیابان ۱۶ آذر", "٦", "۳۵٫۷۰۱", "51.389",
           "۱٬۲۰۰", "٢", "بله"]  # fmt: skip
    (record,) = validate(read_table(write_csv(tmp_path / "s.csv", [row])), RULES).records
    assert record.code == "T-001"  # Persian digits read as digits; letters must be Latin
    assert record.name == "شعبه یک"
    assert record.site == "دبستان فردوسی"
    assert (record.district, record.lat, record.voters, record.devices) == (6, 35.701, 1200, 2)
    assert record.critical is True


def test_xlsx_first_sheet_with_numeric_cells(tmp_path: Path) -> None:
    rows = [[*r[:5], float(r[5]), float(r[6]), int(r[7]), int(r[8]), r[9]] for r in GOOD]
    table = read_table(write_xlsx(tmp_path / "s.xlsx", rows, FA))
    assert (table.format, table.encoding) == ("xlsx", None)
    records = validate(table, RULES).records
    assert [(r.lat, r.voters) for r in records] == [(35.701, 1200), (35.7011, 950), (35.7102, 2100)]


def test_geojson_points_carry_coordinates_and_properties(tmp_path: Path) -> None:
    features = [
        {
            "type": "Feature",
            "properties": {
                **dict(zip(FA, row, strict=True)),
                "عرض جغرافیایی": 0,
                "تعداد دستگاه": 2,
            },
            "geometry": {"type": "Point", "coordinates": [float(row[6]), float(row[5])]},
        }
        for row in GOOD
    ]
    table = read_table(write_geojson(tmp_path / "s.geojson", features))
    records = validate(table, RULES).records
    # The geometry wins over coordinates in the properties.
    assert [(r.lat, r.lon, r.devices) for r in records] == [
        (35.701, 51.389, 2), (35.7011, 51.3891, 2), (35.7102, 51.3912, 2),
    ]  # fmt: skip


def test_geojson_must_be_a_feature_collection(tmp_path: Path) -> None:
    path = tmp_path / "s.geojson"
    path.write_text(json.dumps({"type": "Point", "coordinates": [51, 35]}))
    with pytest.raises(UserError, match="not a GeoJSON FeatureCollection"):
        read_table(path)


def test_a_configured_bounding_box_replaces_tehran(tmp_path: Path) -> None:
    box = BoundingBox(min_lat=60.1, min_lon=24.8, max_lat=60.3, max_lon=25.1)  # Helsinki
    row = [*GOOD[0][:5], "60.17", "24.94", *GOOD[0][7:]]
    table = read_table(write_csv(tmp_path / "s.csv", [GOOD[1], row]))
    result = validate(table, Rules(box))
    assert [r.code for r in result.records] == ["T-001"]
    assert [p.where.row for p in result.problems] == [1]


def test_the_default_box_covers_the_five_counties() -> None:
    path = (
        Path(__file__).resolve().parents[3]
        / "shared/data/tehran-electoral-district/counties.geojson"
    )
    if not path.exists():
        pytest.skip(f"real county boundaries not present at {path}")
    document = json.loads(path.read_text(encoding="utf-8"))
    assert len(document["features"]) == 5

    def points(coordinates: object) -> list[tuple[float, float]]:
        if isinstance(coordinates[0], int | float):  # type: ignore[index]
            return [(coordinates[0], coordinates[1])]  # type: ignore[index]
        return [p for part in coordinates for p in points(part)]  # type: ignore[attr-defined]

    lon_lat = [p for f in document["features"] for p in points(f["geometry"]["coordinates"])]
    assert all(TEHRAN_BBOX.contains(lat, lon) for lon, lat in lon_lat)
    # Rounded outwards, but not by more than about a kilometre.
    lons, lats = zip(*lon_lat, strict=True)
    assert TEHRAN_BBOX.min_lat > min(lats) - 0.01 and TEHRAN_BBOX.max_lat < max(lats) + 0.01
    assert TEHRAN_BBOX.min_lon > min(lons) - 0.01 and TEHRAN_BBOX.max_lon < max(lons) + 0.01


_csv_bytes = st.one_of(
    st.binary(max_size=300),
    st.lists(
        st.lists(st.sampled_from([*EN, *FA, "", "1", "35.7", "51.4", "x", "بله", '"', "\r"]),
                 max_size=12),
        max_size=5,
    ).map(lambda rows: "\n".join(",".join(r) for r in rows).encode("utf-8")),
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(data=_csv_bytes, suffix=st.sampled_from([".csv", ".geojson", ".xlsx"]))
def test_any_bytes_give_a_table_or_a_user_error(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"s{suffix}"
        path.write_bytes(data)
        try:
            validate(read_table(path), RULES)
        except UserError as exc:
            assert all(line.startswith(str(path)) for line in exc.render("en"))
