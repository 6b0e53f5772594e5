"""GeoJSON and GeoPackage exports of a real plan: complete, valid, lengths kept, spec tables."""

from __future__ import annotations

import json
import sqlite3
import struct
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from pollnet.plan.export import (
    LAYER_NAMES,
    OSM_ATTRIBUTION,
    attribution_for,
    geometry_blob,
    layers,
    write_geojson,
    write_geopackage,
)
from pollnet.streets.projection import geodesic_m
from pollnet.streets.report import ImportReport
from tests.plan._outputs import FAR_CODE, city_plan


def expected_counts() -> dict[str, int]:
    plan, _, _ = city_plan()
    drops = sum(1 for t in plan.trenches if t.method == "drop")
    return {
        "trenches": len(plan.trenches) - drops,
        "drops": drops,
        "cable_runs": len(plan.cable_runs),
        "splices": len(plan.splices),
        "assignments": sum(1 for s in plan.stations if s.exchange is not None),
        "exchanges": len(plan.exchanges),
        "stations": len(plan.stations),
    }


def line_length_m(coords: list[list[float]]) -> float:
    a = np.asarray(coords, dtype=np.float64)
    return float(geodesic_m(a[:-1, 0], a[:-1, 1], a[1:, 0], a[1:, 1]).sum())


def test_layers_cover_the_whole_plan() -> None:
    plan, _, _ = city_plan()
    counts = {layer.name: len(layer.features) for layer in layers(plan)}
    assert counts == expected_counts()
    assert tuple(counts) == LAYER_NAMES
    assert counts["trenches"] + counts["drops"] == len(plan.trenches)
    assert counts["assignments"] == plan.totals.stations - 1  # the far station has no exchange


def test_geojson_is_valid_complete_and_keeps_lengths(tmp_path: Path) -> None:
    plan, _, _ = city_plan()
    files = write_geojson(plan, tmp_path, lang="en")
    assert set(files) == set(LAYER_NAMES)
    by_id = {t.id: t for t in plan.trenches}
    for name, count in expected_counts().items():
        doc = json.loads(files[name].read_text(encoding="utf-8"))
        assert doc["type"] == "FeatureCollection" and doc["name"] == name
        assert doc["inputs_digest"] == plan.inputs_digest
        assert "attribution" not in doc  # synthetic streets are not OpenStreetMap's
        assert len(doc["features"]) == count
        for f in doc["features"]:
            geometry = f["geometry"]
            assert f["type"] == "Feature"
            assert geometry["type"] in ("Point", "LineString")
            points = (
                [geometry["coordinates"]]
                if geometry["type"] == "Point"
                else geometry["coordinates"]
            )
            assert geometry["type"] == "Point" or len(points) >= 2
            for lon, lat in points:
                assert -180 <= lon <= 180 and -90 <= lat <= 90
    trenches = json.loads(files["trenches"].read_text(encoding="utf-8"))["features"]
    drops = json.loads(files["drops"].read_text(encoding="utf-8"))["features"]
    for f in trenches + drops:
        segment = by_id[f["properties"]["id"]]
        assert f["properties"]["length_m"] == segment.length_m  # exact: JSON keeps the float
        assert f["properties"].get("method", "drop") == segment.method
        assert line_length_m(f["geometry"]["coordinates"]) == pytest.approx(
            segment.length_m, rel=0.02, abs=1.0
        )
    total = sum(f["properties"]["length_m"] for f in trenches)
    assert total == pytest.approx(sum(t.length_m for t in plan.trenches if t.method != "drop"))
    runs = json.loads(files["cable_runs"].read_text(encoding="utf-8"))["features"]
    assert sorted(f["properties"]["cores"] for f in runs) == sorted(
        r.cores for r in plan.cable_runs
    )


def test_station_layer_carries_status_budget_and_flags(tmp_path: Path) -> None:
    plan, _, _ = city_plan()
    doc = json.loads(write_geojson(plan, tmp_path, lang="fa")["stations"].read_text("utf-8"))
    props = {f["properties"]["code"]: f["properties"] for f in doc["features"]}
    far = props[FAR_CODE]
    assert far["status"] == "flagged" and far["state"] == "flagged"
    assert far["flags"] == "outside_area" and far["flag_text"]
    assert far["loss_db"] is None
    for s in plan.stations:
        p = props[s.code]
        assert p["status"] == s.status
        if s.budget is not None:
            assert p["loss_db"] == s.budget.total_loss_db
            assert p["budget_ok"] is s.budget.ok
            assert p["headroom_db"] == pytest.approx(s.budget.headroom_db, abs=1e-3)


def test_osm_streets_carry_the_attribution(tmp_path: Path) -> None:
    plan, graph, _ = city_plan()
    assert attribution_for(graph) is None
    assert attribution_for(None) is None
    osm = graph.replace(report=ImportReport("tehran-latest.osm.pbf"))
    assert attribution_for(osm) == OSM_ATTRIBUTION
    files = write_geojson(plan, tmp_path, attribution=attribution_for(osm))
    assert json.loads(files["splices"].read_text("utf-8"))["attribution"] == OSM_ATTRIBUTION


def test_geopackage_follows_the_spec(tmp_path: Path) -> None:
    plan, _, _ = city_plan()
    path = write_geopackage(plan, tmp_path / "plan.gpkg", attribution=OSM_ATTRIBUTION)
    assert path.read_bytes()[:16] == b"SQLite format 3\x00"
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        assert db.execute("PRAGMA user_version").fetchone()[0] >= 10200
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        srs = {
            r[0]: r
            for r in db.execute("SELECT srs_id, organization, definition FROM gpkg_spatial_ref_sys")
        }
        assert {4326, -1, 0} <= set(srs)
        assert srs[4326][1] == "EPSG" and "WGS 84" in srs[4326][2]
        contents = {
            r[0]: r[1:]
            for r in db.execute(
                "SELECT table_name, data_type, identifier, description, srs_id, min_x, min_y, "
                "max_x, max_y FROM gpkg_contents"
            )
        }
        assert set(contents) == set(LAYER_NAMES)
        for data_type, identifier, description, srs_id, *bbox in contents.values():
            assert data_type == "features" and srs_id == 4326 and identifier
            assert OSM_ATTRIBUTION in description
            assert bbox[0] <= bbox[2] and bbox[1] <= bbox[3]
        columns = {
            r[0]: r[1:]
            for r in db.execute(
                "SELECT table_name, column_name, geometry_type_name, srs_id, z, m "
                "FROM gpkg_geometry_columns"
            )
        }
        assert columns["trenches"] == ("geom", "LINESTRING", 4326, 0, 0)
        assert columns["stations"] == ("geom", "POINT", 4326, 0, 0)
        for name, count in expected_counts().items():
            assert db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] == count
        by_id = {t.id: t for t in plan.trenches}
        for tid, length, blob in db.execute("SELECT id, length_m, geom FROM trenches"):
            assert length == by_id[tid].length_m
            magic, version, flags, srs_id = struct.unpack("<2sBBi", blob[:8])
            assert (magic, version, srs_id) == (b"GP", 0, 4326)
            assert flags & 1 == 1 and (flags >> 1) & 0b111 == 1  # little-endian, XY envelope
            geom = shapely.from_wkb(blob[8 + 32 :])
            expected = np.asarray(by_id[tid].coords)
            assert np.allclose(shapely.get_coordinates(geom), expected)
            minx, maxx, miny, maxy = struct.unpack("<4d", blob[8:40])
            assert (minx, maxx) == (expected[:, 0].min(), expected[:, 0].max())
            assert (miny, maxy) == (expected[:, 1].min(), expected[:, 1].max())
        meta = json.loads(db.execute("SELECT metadata FROM gpkg_metadata").fetchone()[0])
        assert meta["attribution"] == OSM_ATTRIBUTION
        assert meta["inputs_digest"] == plan.inputs_digest
    finally:
        db.close()


def test_geopackage_reads_in_gdal(tmp_path: Path) -> None:
    pyogrio = pytest.importorskip("pyogrio", reason="pyogrio (GDAL) is not installed")
    plan, _, _ = city_plan()
    path = write_geopackage(plan, tmp_path / "plan.gpkg")
    listed = {str(name): str(kind) for name, kind in pyogrio.list_layers(path)}
    assert listed["trenches"] == "LineString" and listed["stations"] == "Point"
    for name, count in expected_counts().items():
        info = pyogrio.read_info(path, layer=name)
        assert info["crs"] == "EPSG:4326"
        assert info["features"] == count
    frame = pyogrio.read_dataframe(path, layer="stations")
    far = frame[frame["code"] == FAR_CODE].iloc[0]
    assert far["status"] == "flagged" and not bool(far["critical"])
    trenches = pyogrio.read_dataframe(path, layer="trenches")
    assert trenches["length_m"].sum() == pytest.approx(
        sum(t.length_m for t in plan.trenches if t.method != "drop")
    )


coordinate = st.tuples(st.floats(-180, 180, allow_nan=False), st.floats(-90, 90, allow_nan=False))


@given(st.lists(coordinate, min_size=2, max_size=30))
def test_line_blob_round_trips(points: list[tuple[float, float]]) -> None:
    blob = geometry_blob("LINESTRING", points)
    geom = shapely.from_wkb(blob[40:])
    assert shapely.get_coordinates(geom).tolist() == [list(p) for p in points]
    minx, maxx, miny, maxy = struct.unpack("<4d", blob[8:40])
    assert (minx, maxx) == (min(p[0] for p in points), max(p[0] for p in points))
    assert (miny, maxy) == (min(p[1] for p in points), max(p[1] for p in points))


@given(coordinate)
def test_point_blob_round_trips(point: tuple[float, float]) -> None:
    blob = geometry_blob("POINT", [point])
    assert blob[:4] == b"GP\x00\x01"  # no envelope for points
    assert shapely.get_coordinates(shapely.from_wkb(blob[8:])).tolist() == [list(point)]
