"""OpenStreetMap import: exact on a hand-made file, plausible on real extracts."""

from __future__ import annotations

import bz2
import os
from pathlib import Path

import numpy as np
import osmium
import pytest
from pyproj import Geod

from pollnet.errors import UserError
from pollnet.streets import DEFAULT_CLASSES, StreetGraph, read, read_osm
from pollnet.streets.osm import _read_position
from tests.streets.conftest import TINY_EDGES, TINY_NODES

GEOD = Geod(ellps="WGS84")


def _line_length(refs: list[int]) -> float:
    lon = [TINY_NODES[r][0] for r in refs]
    lat = [TINY_NODES[r][1] for r in refs]
    return float(GEOD.line_length(lon, lat))


def _edges_by_ref(graph: StreetGraph) -> dict[tuple[int, int], int]:
    refs = graph.node_ref
    return {
        (int(refs[u]), int(refs[v])): e
        for e, (u, v) in enumerate(zip(graph.edge_u, graph.edge_v, strict=True))
    }


def test_tiny_file_gives_exact_edges_and_lengths(tiny_osm: Path) -> None:
    graph = read_osm(tiny_osm)
    edges = _edges_by_ref(graph)
    assert set(edges) == set(TINY_EDGES)
    assert graph.num_nodes == 8  # 1, 2, 3, 4, 5 (= 11), 8, 9, 12; 7 and 10 are shape points
    for key, refs in TINY_EDGES.items():
        e = edges[key]
        assert graph.edge_length_m[e] == pytest.approx(_line_length(refs), rel=1e-12)
        xs, _ = graph.edge_xy(e)
        assert xs.size == len(refs)
    # 0.001 degree of longitude at 35.7°N is about 90.5 m.
    assert graph.edge_length_m[edges[(1, 2)]] == pytest.approx(90.5, abs=0.5)


def test_tiny_file_keeps_names_and_classes(tiny_osm: Path) -> None:
    graph = read_osm(tiny_osm)
    edges = _edges_by_ref(graph)
    alef, be = edges[(1, 2)], edges[(4, 2)]
    assert graph.edge_name[alef] == "کوچه الف"
    assert graph.edge_name_en[alef] == "Alef Alley"
    assert graph.edge_name[be] == "خیابان ب"  # name:fa wins over name
    assert graph.edge_name_en[be] == ""
    assert graph.edge_class_name[be] == "primary"
    assert graph.edge_class_name[edges[(5, 12)]] == "living_street"
    assert graph.crs == 32639
    assert graph.edge_district.tolist() == [0] * graph.num_edges


def test_tiny_file_reports_what_was_dropped(tiny_osm: Path) -> None:
    report = read_osm(tiny_osm).report
    assert report.ways_read == 9  # every way with a highway tag
    assert report.ways_kept == 6  # 10, 11, 15, 16, 17 (a duplicate, checked later) and 18
    assert report.dropped_classes == {"footway": 1}
    counts = dict(report.counts)
    assert counts["non_street_class"] == 1
    assert counts["area"] == 1
    assert counts["cut_at_missing_nodes"] == 1
    assert counts["degenerate"] == 1  # what is left of way 14 is a single point
    assert counts["duplicate_edge"] == 1  # way 17 retraces way 10
    assert counts["merged_nodes"] == 1  # node 11 sits on node 5
    lines = report.lines("en")
    assert any("footway 1" in line for line in lines)
    assert any("duplicate" in line for line in lines)


def test_closed_way_is_split_so_no_edge_is_a_loop(tiny_osm: Path) -> None:
    graph = read_osm(tiny_osm)
    assert not np.any(graph.edge_u == graph.edge_v)
    edges = _edges_by_ref(graph)
    loop_length = graph.edge_length_m[edges[(8, 9)]] + graph.edge_length_m[edges[(9, 8)]]
    assert loop_length == pytest.approx(_line_length([8, 9, 10, 8]), rel=1e-12)


def test_shapes_run_from_u_to_v(tiny_osm: Path, helsinki_pbf: Path) -> None:
    for graph in (read_osm(tiny_osm), read_osm(helsinki_pbf)):
        first = graph.geom_indptr[:-1]
        last = graph.geom_indptr[1:] - 1
        assert np.allclose(graph.geom_x[first], graph.node_x[graph.edge_u])
        assert np.allclose(graph.geom_y[last], graph.node_y[graph.edge_v])


def test_compressed_xml_reads_the_same(tiny_osm: Path, tmp_path: Path) -> None:
    packed = tmp_path / "tiny.osm.bz2"
    packed.write_bytes(bz2.compress(tiny_osm.read_bytes()))
    a, b = read(tiny_osm), read(packed)
    assert np.array_equal(a.edge_length_m, b.edge_length_m)


def test_helsinki_is_plausible(helsinki_pbf: Path) -> None:
    graph = read_osm(helsinki_pbf)
    assert 800 < graph.num_nodes < 3000
    assert 900 < graph.num_edges < 4000
    assert 25_000 < graph.edge_length_m.sum() < 45_000  # central Helsinki, in metres
    assert graph.crs == 32635
    labels = graph.components()
    assert np.bincount(labels).max() > 0.9 * graph.num_nodes
    assert "Mannerheimintie" in set(graph.edge_name)
    assert np.all(graph.edge_length_m > 0)
    counts = dict(graph.report.counts)
    assert graph.report.dropped_classes["footway"] > 500
    assert counts["area"] > 0
    assert counts["cut_at_missing_nodes"] > 0


def _kept_way_length(path: Path) -> float:
    """Geodesic length of every located run of the ways the reader should keep."""
    total = 0.0
    processor = osmium.FileProcessor(str(path)).with_locations()
    for obj in processor:
        if not isinstance(obj, osmium.osm.Way):
            continue
        tags = obj.tags
        if tags.get("highway") not in DEFAULT_CLASSES or tags.get("area") == "yes":
            continue
        run: list[tuple[float, float]] = []
        for node in [*obj.nodes, None]:
            if node is not None and node.location.valid():
                run.append((node.location.lon, node.location.lat))
                continue
            if len(run) >= 2:
                total += float(GEOD.line_length([p[0] for p in run], [p[1] for p in run]))
            run = []
    return total


@pytest.mark.parametrize("name", ["test_pbf", "helsinki_pbf"])
def test_edge_lengths_sum_to_the_kept_ways(name: str, request: pytest.FixtureRequest) -> None:
    path: Path = request.getfixturevalue(name)
    graph = read_osm(path)
    assert graph.report.counts.get("duplicate_edge", 0) == 0
    assert graph.edge_length_m.sum() == pytest.approx(_kept_way_length(path), rel=1e-9)


def test_chosen_classes_only(helsinki_pbf: Path) -> None:
    graph = read_osm(helsinki_pbf, classes={"primary", "secondary"})
    assert set(graph.edge_class_name) == {"primary", "secondary"}
    assert graph.report.dropped_classes["residential"] > 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"this is not a pbf", "cannot read"),
        (b'<?xml version="1.0"?><osm version="0.6"></osm>', "no streets"),
        (b'<?xml version="1.0"?><osm version="0.6"><node id="1" lat="1" lon="1"/>', "cannot read"),
    ],
)
def test_bad_files_are_user_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / ("bad.osm.pbf" if b"<" not in content else "bad.osm")
    path.write_bytes(content)
    with pytest.raises(UserError) as err:
        read(path)
    text = str(err.value)
    assert message in text
    assert str(path) in text


def test_truncated_pbf_is_a_user_error(helsinki_pbf: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(helsinki_pbf.read_bytes()[:20_000])
    with pytest.raises(UserError, match=r"cut\.osm\.pbf"):
        read(cut)


def test_missing_file_and_unknown_type(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        read(tmp_path / "none.osm.pbf")
    other = tmp_path / "streets.shp"
    other.write_bytes(b"x")
    with pytest.raises(UserError, match="unknown street file type"):
        read(other)


def test_every_node_sits_where_its_osm_node_is(helsinki_pbf: Path, tiny_osm: Path) -> None:
    # The positions come from libosmium's WKB lines and the ids one by one; they must agree.
    for path in (helsinki_pbf, tiny_osm):
        graph = read_osm(path)
        wanted = set(graph.node_ref.tolist())
        where = {
            node.id: (node.location.lon, node.location.lat)
            for node in osmium.FileProcessor(str(path), osmium.osm.NODE)
            if node.id in wanted
        }
        lon = np.array([where[int(r)][0] for r in graph.node_ref])
        lat = np.array([where[int(r)][1] for r in graph.node_ref])
        assert np.array_equal(graph.node_lon, lon)
        assert np.array_equal(graph.node_lat, lat)


def test_progress_is_told_how_far_the_file_is_read(helsinki_pbf: Path) -> None:
    calls: list[tuple[int, int]] = []
    read_osm(helsinki_pbf, progress=lambda done, size: calls.append((done, size)))
    size = helsinki_pbf.stat().st_size
    assert calls[-1] == (size, size)
    assert all(done < size for done, _ in calls[:-1])  # "read" only once every way is
    assert all(0 <= done <= size and total == size for done, total in calls)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


@pytest.mark.skipif(not Path("/proc/self/fdinfo").is_dir(), reason="Linux /proc only")
def test_read_position_is_the_offset_of_the_open_file(tmp_path: Path) -> None:
    path = tmp_path / "streets.osm.pbf"
    path.write_bytes(bytes(1000))
    position = _read_position(path)
    assert position() is None  # not open yet
    fd = os.open(path, os.O_RDONLY)
    try:
        os.read(fd, 100)
        assert position() == 100
        os.read(fd, 250)
        assert position() == 350
    finally:
        os.close(fd)
    assert position() is None
