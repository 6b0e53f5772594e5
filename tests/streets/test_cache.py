"""The street cache reloads the very same graph, and refuses anything else clearly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pollnet.errors import UserError
from pollnet.streets import load, read_osm, save, snap, split_edges
from pollnet.streets.graph import ARRAY_FIELDS
from pollnet.streets.projection import to_lonlat


def test_round_trip_is_identical(helsinki_pbf: Path, tmp_path: Path) -> None:
    graph = read_osm(helsinki_pbf)
    written = save(graph, tmp_path / "cache" / "streets")
    assert written.name == "streets.npz"
    again = load(written)
    for name in ARRAY_FIELDS:
        a, b = getattr(graph, name), getattr(again, name)
        assert a.dtype == b.dtype, name
        assert np.array_equal(a, b), name
    assert again.crs == graph.crs
    assert again.names == graph.names
    assert again.class_names == graph.class_names
    assert again.report == graph.report
    assert again.summary() == graph.summary()


def test_split_graph_keeps_its_street_segments(helsinki_pbf: Path, tmp_path: Path) -> None:
    graph = read_osm(helsinki_pbf)
    mid = graph.points_along(np.array([3]), np.array([graph.geometry_length_m[3] / 2]))
    lon, lat = to_lonlat(*mid, graph.crs)
    split, _ = split_edges(graph, snap(graph, lon, lat))
    assert split.num_edges == graph.num_edges + 1 and split.edge_segment[-1] == 3
    again = load(save(split, tmp_path / "split"))
    assert np.array_equal(again.edge_segment, split.edge_segment)


@pytest.mark.parametrize(
    "content",
    [b"", b"not a zip at all", b"PK\x03\x04 truncated zip"],
)
def test_damaged_caches_are_user_errors(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "streets.npz"
    path.write_bytes(content)
    with pytest.raises(UserError, match="street cache") as err:
        load(path)
    assert str(path) in str(err.value)


def test_other_npz_and_missing_file(tmp_path: Path) -> None:
    other = tmp_path / "other.npz"
    np.savez(other, a=np.arange(3))
    with pytest.raises(UserError, match="not a pollnet street cache"):
        load(other)
    with pytest.raises(UserError, match="not found"):
        load(tmp_path / "missing.npz")


def test_truncated_cache(helsinki_pbf: Path, tmp_path: Path) -> None:
    path = save(read_osm(helsinki_pbf), tmp_path / "streets.npz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError, match="damaged"):
        load(path)
