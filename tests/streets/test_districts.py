"""Municipal districts from polygons."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pollnet.errors import UserError
from pollnet.streets import assign_districts, read, read_districts
from tests.streets.conftest import write_osm_xml

COUNTIES = (
    Path(__file__).resolve().parents[3] / "shared/data/tehran-electoral-district/counties.geojson"
)


def square(lon0: float, lat0: float, size: float) -> list[list[list[float]]]:
    return [
        [
            [lon0, lat0],
            [lon0 + size, lat0],
            [lon0 + size, lat0 + size],
            [lon0, lat0 + size],
            [lon0, lat0],
        ]
    ]


def write_districts(path: Path) -> Path:
    # District 3 covers the west of the tiny city (lon < 51.4015), district 8 the east.
    features = [
        {
            "type": "Feature",
            "properties": {"district": 3},
            "geometry": {"type": "Polygon", "coordinates": square(51.39, 35.69, 0.0115)},
        },
        {
            "type": "Feature",
            "properties": {"district": "۸"},
            "geometry": {"type": "Polygon", "coordinates": square(51.4015, 35.69, 0.05)},
        },
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path


def test_edges_get_the_district_of_their_midpoint(tmp_path: Path) -> None:
    graph = read(
        write_osm_xml(tmp_path / "tiny.osm"), districts=write_districts(tmp_path / "d.geojson")
    )
    refs = graph.node_ref
    by_ends = {
        (int(refs[u]), int(refs[v])): int(d)
        for u, v, d in zip(graph.edge_u, graph.edge_v, graph.edge_district, strict=True)
    }
    assert by_ends[(1, 2)] == 3  # midpoint at 51.4005
    assert by_ends[(4, 2)] == 3  # north-south along 51.401
    assert by_ends[(2, 3)] == 8  # midpoint at 51.4015: on the border, the first polygon wins
    assert by_ends[(3, 8)] == 8


def test_points_outside_get_zero(tmp_path: Path) -> None:
    districts = read_districts(write_districts(tmp_path / "d.geojson"))
    assert districts.locate([51.395, 51.42, 40.0], [35.695, 35.7, 10.0]).tolist() == [3, 8, 0]


def test_numbering_by_order_and_bad_files(tmp_path: Path) -> None:
    path = write_districts(tmp_path / "d.geojson")
    assert read_districts(path, id_property=None).number.tolist() == [1, 2]
    with pytest.raises(UserError, match="whole number") as err:
        read_districts(path, id_property="name")
    assert err.value.problems[0].where.row == 1
    lines = tmp_path / "l.geojson"
    lines.write_text(
        json.dumps({"type": "LineString", "coordinates": [[51.4, 35.7], [51.5, 35.7]]}), "utf-8"
    )
    with pytest.raises(UserError, match="Polygon"):
        read_districts(lines)


@pytest.mark.skipif(not COUNTIES.is_file(), reason="the shared Tehran county boundaries are absent")
def test_real_county_boundaries(tmp_path: Path) -> None:
    counties = read_districts(COUNTIES, id_property=None)
    names = [
        f["properties"]["name_en"] for f in json.loads(COUNTIES.read_text("utf-8"))["features"]
    ]
    # Azadi Tower and the shrine of Shah Abdol-Azim, in Tehran and Rey counties.
    found = counties.locate([51.3381, 51.4344], [35.6997, 35.5867])
    assert [names[n - 1] for n in found] == ["Tehran County", "Rey County"]
    assert counties.locate([24.94], [60.17]).tolist() == [0]  # Helsinki


def test_assign_keeps_existing_outside(tmp_path: Path) -> None:
    graph = read(write_osm_xml(tmp_path / "tiny.osm"))
    graph = graph.replace(edge_district=np.full(graph.num_edges, 9))
    far = tmp_path / "far.geojson"
    far.write_text(
        json.dumps(
            {
                "type": "Feature",
                "properties": {"district": 1},
                "geometry": {"type": "Polygon", "coordinates": square(0, 0, 1)},
            }
        ),
        "utf-8",
    )
    assert set(assign_districts(graph, read_districts(far)).edge_district.tolist()) == {9}
