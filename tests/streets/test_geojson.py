"""GeoJSON street import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pyproj import Geod

from pollnet.errors import UserError
from pollnet.streets import read, read_geojson

GEOD = Geod(ellps="WGS84")


def feature(coords: Any, kind: str = "LineString", **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": kind, "coordinates": coords},
        "properties": props,
    }


def write(path: Path, features: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path


def test_lines_join_and_split_where_they_meet(tmp_path: Path) -> None:
    path = write(
        tmp_path / "streets.geojson",
        [
            # An east-west street passing through (51.401, 35.7), where a north-south one ends.
            feature(
                [[51.400, 35.700], [51.401, 35.700], [51.402, 35.700]],
                highway="secondary",
                name="خیابان آزادی",
                **{"name:en": "Azadi Street"},
                district="۶",
            ),
            feature(
                [[[51.401, 35.700], [51.401, 35.701]], [[51.5, 35.8], [51.5, 35.801]]],
                "MultiLineString",
                highway="residential",
                district=7,
            ),
            feature([51.4, 35.7], "Point", highway="residential"),
            feature([[51.4, 35.7], [51.41, 35.7]], name="no class"),
            feature([[51.4, 35.7], [51.41, 35.7]], highway="footway"),
        ],
    )
    graph = read_geojson(path)
    assert graph.num_edges == 4
    assert graph.num_nodes == 6
    assert graph.crs == 32639
    expected = (
        GEOD.line_length([51.400, 51.401, 51.402], [35.7] * 3)
        + GEOD.line_length([51.401, 51.401], [35.700, 35.701])
        + GEOD.line_length([51.5, 51.5], [35.800, 35.801])
    )
    assert graph.edge_length_m.sum() == pytest.approx(expected, rel=1e-12)
    azadi = np.flatnonzero(graph.edge_name == "خیابان آزادی")
    assert azadi.size == 2
    assert set(graph.edge_name_en[azadi]) == {"Azadi Street"}
    assert sorted(graph.edge_district.tolist()) == [6, 6, 7, 7]
    assert len(set(graph.components().tolist())) == 2
    counts = dict(graph.report.counts)
    assert counts["non_line_geometry"] == 1
    assert counts["no_class"] == 1
    assert graph.report.dropped_classes == {"footway": 1}
    assert graph.report.ways_read == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("{not json", "not valid JSON"),
        ('{"type": "Topology"}', "not a GeoJSON"),
        (json.dumps({"type": "FeatureCollection", "features": []}), "no streets"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text(text, "utf-8")
    with pytest.raises(UserError, match=message):
        read(path)


@pytest.mark.parametrize(
    ("coords", "props", "message", "column"),
    [
        ([[51.4, 35.7], ["x", 35.7]], {}, "not \\[longitude, latitude\\]", None),
        ([[51.4, 35.7], [251.4, 35.7]], {}, "outside longitude", None),
        ([[51.4, 35.7], [51.5, 35.7]], {"district": "north"}, "whole number", "district"),
    ],
)
def test_bad_features_name_the_row(
    tmp_path: Path, coords: Any, props: dict[str, Any], message: str, column: str | None
) -> None:
    good = feature([[51.4, 35.7], [51.41, 35.7]], highway="residential")
    path = write(tmp_path / "s.geojson", [good, feature(coords, highway="primary", **props)])
    with pytest.raises(UserError, match=message) as err:
        read_geojson(path)
    problem = err.value.problems[0]
    assert problem.where.row == 2
    assert problem.where.column == column
