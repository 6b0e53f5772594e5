"""Which area holds each point and street edge; a file's value wins over the polygon."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pollnet.areas import AreaKind, AreaSet, assign_points, assign_streets, read_areas
from pollnet.streets import read
from tests.areas.conftest import districts_file
from tests.streets.conftest import write_osm_xml


def test_points_in_the_real_counties(counties: Path) -> None:
    every = AreaSet(tuple(read_areas(counties, kind="county")))
    # Azadi Tower (Tehran), Shahr-e Rey's shrine (Rey), Tajrish (Shemiranat), Isfahan (none)
    found = assign_points(
        every, ["azadi", "rey", "tajrish", "isfahan"],
        [51.3380, 51.4343, 51.4340, 51.6680], [35.6997, 35.5886, 35.8040, 32.6546],
    )  # fmt: skip
    county = {code: kinds.get(AreaKind.COUNTY) for code, kinds in found.links.items()}
    assert county == {
        "azadi": ("tehran-county", "polygon"),
        "rey": ("rey-county", "polygon"),
        "tajrish": ("shemiranat-county", "polygon"),
        "isfahan": None,
    }
    assert found.outside == ("isfahan",)
    assert found.counts() == {
        "county": {"rey-county": 1, "shemiranat-county": 1, "tehran-county": 1}
    }


def test_the_file_wins_and_a_disagreement_is_reported(tmp_path: Path) -> None:
    every = AreaSet(tuple(read_areas(districts_file(tmp_path / "d.geojson"))))
    found = assign_points(
        every, ["a", "b", "c"], [51.3890, 51.3912, 51.3950], [35.701, 35.7102, 35.705],
        {AreaKind.MUNICIPAL_DISTRICT: [6, 6, 7], AreaKind.EDUCATION_DISTRICT: [None, 3, None]},
    )  # fmt: skip
    links = found.links
    assert links["a"][AreaKind.MUNICIPAL_DISTRICT] == ("6", "file")
    assert links["b"][AreaKind.MUNICIPAL_DISTRICT] == ("6", "file")  # the file's value is kept
    assert links["a"][AreaKind.EDUCATION_DISTRICT] == ("12", "polygon")  # the file had none
    assert links["b"][AreaKind.EDUCATION_DISTRICT] == ("3", "file")
    assert links["a"][AreaKind.MUNICIPALITY] == ("tehran", "polygon")
    assert [(m.code, m.kind.value, m.given, m.found) for m in found.mismatches] == [
        ("b", "municipal_district", "6", "7"),
        ("b", "education_district", "3", "12"),
    ]


def test_streets_get_districts_and_the_rest_is_counted(tmp_path: Path) -> None:
    graph = read(write_osm_xml(tmp_path / "tiny.osm"))
    assert not graph.edge_district.any()
    every = AreaSet(tuple(read_areas(districts_file(tmp_path / "d.geojson"))))
    east_only = AreaSet(tuple(a for a in every if a.code != "tehran" and a.kind.numbered))
    assigned, report = assign_streets(graph, east_only)
    assert set(assigned.edge_district.tolist()) == {7}
    assert report.districts_set == graph.num_edges and report.outside_edges == 0
    assert report.edges["municipal_district"] == {"7": graph.num_edges}
    assert report.length_m["municipal_district"]["7"] == np.sum(graph.edge_length_m)
    # an area that covers none of it: every street is outside and keeps its district
    far = AreaSet(tuple(read_areas(districts_file(tmp_path / "d.geojson")))[:1])
    kept, outside = assign_streets(assigned, far)
    assert outside.outside_edges == graph.num_edges and outside.districts_set == 0
    assert outside.outside_m == graph.edge_length_m.sum()
    assert np.array_equal(kept.edge_district, assigned.edge_district)
