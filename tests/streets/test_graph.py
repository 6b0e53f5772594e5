"""The graph built from arrays: checks, adjacency, sparse matrix, components."""

from __future__ import annotations

import numpy as np
import pytest

from pollnet.streets import StreetGraph, from_arrays, from_city

# A square of four nodes 100 m apart in Tehran's UTM zone, and a separate pair far away.
X = np.array([500_000.0, 500_100.0, 500_100.0, 500_000.0, 510_000.0, 510_050.0])
Y = np.array([3_950_000.0, 3_950_000.0, 3_950_100.0, 3_950_100.0, 3_950_000.0, 3_950_000.0])


def square(**overrides: object) -> StreetGraph:
    args: dict[str, object] = {
        "node_x": X,
        "node_y": Y,
        "crs": 32639,
        "edge_u": [0, 1, 2, 3, 4],
        "edge_v": [1, 2, 3, 0, 5],
        "edge_class": [11, 11, 4, 11, 13],
        "edge_name": ["الف", "ب", None, "", "د"],
        "edge_name_en": ["A", "B", None, "", "D"],
        "edge_district": [1, 1, 2, 2, 3],
    }
    args.update(overrides)
    return from_arrays(**args)  # type: ignore[arg-type]


def test_lengths_default_to_the_straight_line() -> None:
    graph = square()
    assert graph.edge_length_m.tolist() == pytest.approx([100, 100, 100, 100, 50])
    assert graph.class_names[graph.edge_class[2]] == "primary"
    assert graph.edge_name.tolist() == ["الف", "ب", "", "", "د"]
    assert graph.edge_name_en[1] == "B"
    assert graph.edge_district.dtype == np.int16
    # lon/lat are computed from the UTM positions: 500 000 m east is zone 39's meridian, 51°E.
    assert graph.node_lon[0] == pytest.approx(51.0)


def test_bad_lengths_loops_and_duplicates_are_dropped_and_counted() -> None:
    graph = square(
        edge_u=[0, 1, 2, 3, 4, 1, 0, 2],
        edge_v=[1, 2, 3, 0, 5, 0, 0, 3],
        edge_length_m=[100, 0, -5, np.nan, 50, 100, 10, 120],
        edge_class=None,
        edge_name=None,
        edge_name_en=None,
        edge_district=None,
    )
    counts = dict(graph.report.counts)
    assert counts["zero_length"] == 1
    assert counts["negative_length"] == 2  # -5 and NaN
    assert counts["loop"] == 1
    assert counts["duplicate_edge"] == 1  # 1-0 at 100 m repeats 0-1; 2-3 at 120 m is kept
    assert graph.num_edges == 3
    assert graph.num_nodes == 6  # node numbers are kept as given
    assert graph.report.ways_read == 8
    assert graph.report.ways_kept == 3


def test_class_filter() -> None:
    graph = square(classes={"residential"})
    assert set(graph.edge_class_name) == {"residential"}
    assert graph.report.dropped_classes == {"primary": 1, "service": 1}


def test_adjacency_lists_every_edge_at_both_ends() -> None:
    graph = square()
    adj = graph.adjacency
    assert adj.indptr.tolist() == [0, 2, 4, 6, 8, 9, 10]
    assert sorted(adj.edge[adj.indptr[0] : adj.indptr[1]].tolist()) == [0, 3]
    assert sorted(adj.node[adj.indptr[0] : adj.indptr[1]].tolist()) == [1, 3]


def test_sparse_matrix_and_components() -> None:
    graph = square(
        edge_u=[0, 1, 2, 3, 4, 1],
        edge_v=[1, 2, 3, 0, 5, 0],
        edge_length_m=[100, 100, 100, 100, 50, 90],
        edge_class=None,
        edge_name=None,
        edge_name_en=None,
        edge_district=None,
    )
    m = graph.to_scipy()
    assert m.shape == (6, 6)
    assert m[0, 1] == m[1, 0] == 90  # parallel edges: the shorter one
    assert m[4, 5] == 50
    labels = graph.components()
    assert len(set(labels[:4].tolist())) == 1
    assert labels[4] == labels[5] != labels[0]
    assert graph.summary()["components"] == 2


def test_arrays_are_read_only_and_inputs_untouched() -> None:
    u = np.array([0, 1, 2, 3, 4])
    graph = square(edge_u=u)
    with pytest.raises(ValueError):
        graph.edge_u[0] = 3
    u[0] = 0  # the caller's array stays writeable


def test_bad_arrays_are_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        square(edge_u=[0, 1, 2, 3, 9])
    with pytest.raises(ValueError, match="crs"):
        from_arrays(node_x=X, node_y=Y, edge_u=[0], edge_v=[1])


def test_from_lonlat_chooses_the_utm_zone() -> None:
    graph = from_arrays(node_lon=[51.40, 51.41], node_lat=[35.70, 35.70], edge_u=[0], edge_v=[1])
    assert graph.crs == 32639
    assert graph.edge_length_m[0] == pytest.approx(905.0, abs=3)  # UTM, not the ellipsoid


def test_from_city_reads_a_city_like_object() -> None:
    class City:
        node_x, node_y = X, Y
        node_lon = node_lat = None
        crs = 32639
        edge_u, edge_v = np.array([0, 4]), np.array([1, 5])
        edge_length_m = np.array([100.0, 50.0])
        edge_class = np.array([0, 1], dtype=np.int8)
        class_names = ("trunk", "residential")
        edge_name_fa, edge_name_en = ["بلوار ۱", "کوچه ۲"], ["Boulevard 1", "Alley 2"]
        edge_district = np.array([5, 6], dtype=np.int8)

    graph = from_city(City())
    assert graph.edge_class_name.tolist() == ["trunk", "residential"]
    assert graph.edge_name_en.tolist() == ["Boulevard 1", "Alley 2"]
    assert graph.edge_district.tolist() == [5, 6]
