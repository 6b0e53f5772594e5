"""Reading area files: the real counties, GeoPackage, and every kind of bad feature."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import shapely

from pollnet.areas import AreaKind, read_areas
from pollnet.areas._gpkg import write_features
from pollnet.errors import UserError
from tests.areas.conftest import box, districts_file, feature, write_areas


def test_the_five_real_counties(counties: Path) -> None:
    found = read_areas(counties, kind="county")
    assert [a.code for a in found] == [
        "eslamshahr-county",
        "tehran-county",
        "rey-county",
        "shemiranat-county",
        "pardis-county",
    ]
    tehran = found[1]
    assert tehran.kind is AreaKind.COUNTY
    assert tehran.name_fa == "شهرستان تهران" and tehran.name_en == "Tehran County"
    assert tehran.osm_relation == 6554970
    assert tehran.polygon.geom_type == "MultiPolygon" and tehran.polygon.is_valid
    # Azadi Tower lies in Tehran County, not in Rey
    azadi = shapely.Point(51.3380, 35.6997)
    assert tehran.polygon.contains(azadi) and not found[2].polygon.contains(azadi)


def test_kinds_numbers_and_names_from_properties(tmp_path: Path) -> None:
    found = read_areas(districts_file(tmp_path / "d.geojson"))
    assert [(a.kind.value, a.code, a.number) for a in found] == [
        ("municipal_district", "6", 6),
        ("municipal_district", "7", 7),
        ("education_district", "12", 12),  # Persian digits in ref
        ("municipality", "tehran", None),
    ]
    assert found[3].name_fa == "شهرداری تهران" and found[3].label("en") == "Tehran"
    assert found[0].label("en") == "منطقه 6"  # no English name: the Persian one, digits plain


def test_a_geopackage_reads_like_the_geojson(tmp_path: Path, counties: Path) -> None:
    areas = read_areas(counties, kind="county")
    gpkg = tmp_path / "counties.gpkg"
    columns = ("name_fa", "name_en", "osm_relation")
    write_features(
        gpkg,
        "counties",
        columns,
        [({"name_fa": a.name_fa, "name_en": a.name_en, "osm_relation": a.osm_relation},
          a.polygon) for a in areas],
    )  # fmt: skip
    again = read_areas(gpkg, kind="county")
    assert [a.code for a in again] == [a.code for a in areas]
    assert all(a.same_as(b) for a, b in zip(areas, again, strict=True))


def test_every_bad_feature_is_named(tmp_path: Path) -> None:
    path = write_areas(
        tmp_path / "bad.geojson",
        [
            feature(box(51.3, 35.6, 51.4, 35.7), kind="county", name_en="Good"),
            feature({"type": "LineString", "coordinates": [[51, 35], [52, 36]]}, kind="county",
                    name_en="Line"),
            feature(box(51.3, 35.6, 51.4, 35.7), kind="municipal_district"),
            feature(box(51.3, 35.6, 51.4, 35.7), kind="education_district", number="x"),
            feature(box(51.3, 35.6, 51.4, 35.7), kind="province", name_en="Tehran"),
            feature(box(51.3, 35.6, 51.4, 35.7), kind="county", name_en="good"),
            feature(None, kind="county", name_en="Nothing"),
            feature(box(5130000, 3560000, 5140000, 3570000), kind="county", name_en="Metres"),
            feature(box(51.3, 35.6, 51.4, 35.7), name_en="No kind"),
            feature(box(51.3, 35.6, 51.4, 35.7), kind="county", name="فقط فارسی"),
            feature(box(51.3, 35.6, 51.4, 35.7), kind="municipality", code="تهران"),
        ],
    )  # fmt: skip
    with pytest.raises(UserError) as caught:
        read_areas(path)
    lines = caught.value.render("en")
    where = str(path)
    assert lines == [
        f"{where}, feature 2, column geometry: an area must be a Polygon or MultiPolygon, "
        "not LineString",
        f"{where}, feature 3, column number: a municipal_district needs its number "
        "(property number, district or ref)",
        f"{where}, feature 4, column number: a district must be a whole number, not x",
        f"{where}, feature 5, column kind: not a kind of area: province (use county, "
        "municipality, municipal_district, education_district)",
        f"{where}, feature 6, column code: the same county good as feature 1",
        f"{where}, feature 7, column geometry: not a valid polygon: no geometry",
        f"{where}, feature 8, column geometry: coordinates must be WGS84 longitude/latitude "
        "(EPSG:4326), not ?",
        f"{where}, feature 9, column kind: no kind: give --kind or a kind property",
        f"{where}, feature 10, column code: a county needs a code or an English name "
        "(property code or name_en)",
        f"{where}, feature 11, column code: not a code: تهران (Latin letters, digits, . _ -; "
        "at most 64)",
    ]
    fa = caught.value.render("fa")
    assert "عارضهٔ ۲" in fa[0]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.geojson", "", "the file is empty"),
        ("broken.geojson", "{", "not valid JSON"),
        ("none.geojson", '{"type": "FeatureCollection", "features": []}', "no areas in this file"),
        ("areas.shp", "x", "unknown area file type"),
        ("fake.gpkg", "not sqlite at all, just text" * 10, "not a GeoPackage"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UserError) as caught:
        read_areas(path, kind="county")
    (line,) = caught.value.render("en")
    assert line.startswith(str(path)) and message in line


def test_a_geopackage_in_another_crs_is_refused(tmp_path: Path) -> None:
    gpkg = tmp_path / "utm.gpkg"
    write_features(
        gpkg, "a", ("name_en",), [({"name_en": "X"}, shapely.box(51.3, 35.6, 51.4, 35.7))]
    )
    with sqlite3.connect(gpkg) as db:
        db.execute(
            "INSERT INTO gpkg_spatial_ref_sys VALUES ('UTM 39N', 32639, 'EPSG', 32639, '', '')"
        )
        db.execute("UPDATE gpkg_geometry_columns SET srs_id = 32639")
    with pytest.raises(UserError) as caught:
        read_areas(gpkg, kind="county")
    assert "(EPSG:4326), not EPSG:32639" in caught.value.render("en")[0]
