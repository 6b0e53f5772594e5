"""Snapping is exact and never raises; splitting keeps the network and its length."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pollnet.streets import (
    INVALID,
    TOO_FAR,
    UNREACHABLE,
    StreetGraph,
    from_arrays,
    snap,
    split_edges,
)
from pollnet.streets.projection import to_lonlat

E0, N0 = 500_000.0, 3_950_000.0  # UTM 39N, near 51°E 35.7°N
CRS = 32639


def polyline_graph(polylines: list[list[tuple[float, float]]]) -> StreetGraph:
    """A graph of one edge per polyline (offsets in metres from E0/N0), ends not shared."""
    xs: list[float] = []
    ys: list[float] = []
    gx: list[float] = []
    gy: list[float] = []
    indptr = [0]
    for line in polylines:
        for x, y in (line[0], line[-1]):
            xs.append(E0 + x)
            ys.append(N0 + y)
        gx += [E0 + x for x, _ in line]
        gy += [N0 + y for _, y in line]
        indptr.append(len(gx))
    n = len(polylines)
    return from_arrays(
        node_x=xs,
        node_y=ys,
        crs=CRS,
        edge_u=np.arange(n) * 2,
        edge_v=np.arange(n) * 2 + 1,
        geometry=(indptr, gx, gy),
    )


def lonlat(points: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(points, dtype=float).reshape(-1, 2)
    return to_lonlat(E0 + p[:, 0], N0 + p[:, 1], CRS)


def brute_force(graph: StreetGraph, x: float, y: float, edges: list[int] | None = None) -> float:
    """Distance from (x, y) to the nearest point of any of ``edges`` (default: all), checking
    every segment."""
    best = np.inf
    for e in range(graph.num_edges) if edges is None else edges:
        ex, ey = graph.edge_xy(e)
        for i in range(ex.size - 1):
            ax, ay, bx, by = ex[i], ey[i], ex[i + 1], ey[i + 1]
            dx, dy = bx - ax, by - ay
            sq = dx * dx + dy * dy
            t = 0.0 if sq == 0 else min(1.0, max(0.0, ((x - ax) * dx + (y - ay) * dy) / sq))
            best = min(best, float(np.hypot(x - ax - t * dx, y - ay - t * dy)))
    return best


coordinate = st.floats(-1500, 1500, allow_nan=False)
point = st.tuples(coordinate, coordinate)
polyline = st.lists(point, min_size=2, max_size=6).filter(
    lambda line: sum(np.hypot(b[0] - a[0], b[1] - a[1]) for a, b in itertools.pairwise(line)) > 1
)


@settings(max_examples=60, deadline=None)
@given(st.lists(polyline, min_size=1, max_size=25), st.lists(point, min_size=1, max_size=20))
def test_snap_finds_the_nearest_point_of_the_nearest_edge(
    polylines: list[list[tuple[float, float]]], points: list[tuple[float, float]]
) -> None:
    graph = polyline_graph(polylines)
    lon, lat = lonlat(points)
    snaps = snap(graph, lon, lat, max_drop_m=1e9)
    for i in range(len(points)):
        x, y = snaps.x[i], snaps.y[i]
        assert snaps.drop_m[i] == pytest.approx(brute_force(graph, x, y), abs=1e-6)
        # The attachment point is on the chosen edge, at the drop's distance from the point.
        on_edge = brute_force(graph, snaps.proj_x[i], snaps.proj_y[i], [int(snaps.edge[i])])
        assert on_edge < 1e-6
        assert np.hypot(x - snaps.proj_x[i], y - snaps.proj_y[i]) == pytest.approx(
            snaps.drop_m[i], abs=1e-9
        )
        assert 0 <= snaps.along_m[i] <= graph.geometry_length_m[snaps.edge[i]] + 1e-9
    assert not snaps.flags.any()


def test_snap_on_known_geometry() -> None:
    # An L-shaped street: (0,0) -> (100,0) -> (100,100); a point at (40, 30) drops 30 m.
    graph = polyline_graph([[(0, 0), (100, 0), (100, 100)]])
    lon, lat = lonlat([(40, 30), (130, 50), (100, 0)])
    snaps = snap(graph, lon, lat)
    assert snaps.drop_m == pytest.approx([30, 30, 0], abs=1e-6)
    assert snaps.along_m == pytest.approx([40, 150, 100], abs=1e-6)
    assert snaps.proj_x - E0 == pytest.approx([40, 100, 100], abs=1e-6)


def test_far_invalid_and_unreachable_points_are_flagged() -> None:
    # Two separate streets; the exchange (point 0) is on the first.
    graph = polyline_graph([[(0, 0), (100, 0)], [(1000, 0), (1100, 0)]])
    lon, lat = lonlat([(50, 10), (50, -20), (1050, 5), (50, 400)])
    lon = np.append(lon, [np.nan, 200.0])
    lat = np.append(lat, [35.0, 35.0])
    snaps = snap(graph, lon, lat, max_drop_m=300, roots=[0])
    assert snaps.flags.tolist() == [0, 0, UNREACHABLE, TOO_FAR, INVALID, INVALID]
    assert snaps.reasons(2) == ("unreachable",)
    assert snaps.reasons(3) == ("too_far",)
    assert snaps.edge.tolist()[:4] == [0, 0, 1, 0]
    assert snaps.edge[4] == -1 and np.isnan(snaps.drop_m[4])
    # No root at all: nothing is reachable.
    none = snap(graph, lon[:2], lat[:2], roots=np.zeros(2, dtype=bool))
    assert none.flags.tolist() == [UNREACHABLE, UNREACHABLE]


def test_snap_is_exact_behind_a_crowd_of_short_streets() -> None:
    # A long street 5 m away, and twelve 1 m stubs 10 m away whose midpoints are nearer than
    # any midpoint of the long street's 40 m index pieces: the nearest is still the long one.
    stubs = [[(475.0 + i, 15.0), (475.5 + i, 15.0)] for i in range(12)]
    graph = polyline_graph([*stubs, [(0.0, 0.0), (1000.0, 0.0)]])
    lon, lat = lonlat([(480, 5)])
    snaps = snap(graph, lon, lat)
    assert snaps.edge.tolist() == [12]
    assert snaps.drop_m[0] == pytest.approx(5.0, abs=1e-6)


def test_ties_go_to_the_lowest_edge() -> None:
    graph = polyline_graph([[(0, 10), (100, 10)], [(0, -10), (100, -10)]])
    lon, lat = lonlat([(50, 0)])
    assert snap(graph, lon, lat).edge.tolist() == [0]


def test_split_inserts_nodes_and_keeps_length() -> None:
    graph = polyline_graph([[(0, 0), (100, 0), (100, 100)], [(500, 0), (600, 0)]])
    # Three points on edge 0 (two within 0.5 m of each other), one at an end, one on edge 1,
    # and one with no edge.
    lon, lat = lonlat([(30, 5), (30.2, -5), (100, 60), (0, -3), (550, 1)])
    lon = np.append(lon, np.nan)
    lat = np.append(lat, np.nan)
    snaps = snap(graph, lon, lat)
    split, node = split_edges(graph, snaps)
    assert split.edge_length_m.sum() == pytest.approx(graph.edge_length_m.sum(), rel=1e-12)
    assert node[0] == node[1] >= graph.num_nodes  # one shared new node
    assert node[3] == graph.edge_u[0]  # at the end: reuses the end node
    assert node[5] == -1
    assert split.num_nodes == graph.num_nodes + 3
    assert split.num_edges == graph.num_edges + 3
    assert split.node_x[node[2]] - E0 == pytest.approx(100)
    assert split.node_y[node[2]] - N0 == pytest.approx(60)
    # Edge 0 keeps its id for the first piece; pieces are 30, 130 (70 + 60) and 40 m.
    assert split.edge_length_m[0] == pytest.approx(30, abs=1e-6)
    assert sorted(split.edge_length_m[graph.num_edges :].round(6).tolist()) == [40, 50, 130]
    assert set(split.edge_class_name) == set(graph.edge_class_name)
    # Every piece remembers its street segment; splitting the split graph again keeps that.
    assert np.array_equal(graph.edge_segment, [0, 1])
    assert split.edge_segment.tolist() == [0, 1, 0, 0, 1]
    again, _ = split_edges(split, snap(split, *lonlat([(100, 30)])))
    assert np.array_equal(again.edge_segment[: split.num_edges], split.edge_segment)
    assert again.edge_segment[split.num_edges :].tolist() == [0]
    _check_shapes(split)
    assert len(set(split.components().tolist())) == 2


def test_split_scales_pieces_to_the_given_length() -> None:
    graph = from_arrays(
        node_x=[E0, E0 + 100],
        node_y=[N0, N0],
        crs=CRS,
        edge_u=[0],
        edge_v=[1],
        edge_length_m=[150.0],
    )
    lon, lat = lonlat([(25, 3)])
    split, _ = split_edges(graph, snap(graph, lon, lat))
    assert split.edge_length_m.tolist() == pytest.approx([37.5, 112.5])
    assert split.edge_u.tolist() == [0, 2] and split.edge_v.tolist() == [2, 1]
    _check_shapes(split, lengths_follow_shape=False)


@settings(max_examples=40, deadline=None)
@given(st.lists(polyline, min_size=1, max_size=10), st.lists(point, min_size=1, max_size=30))
def test_split_preserves_length_and_connects_every_point(
    polylines: list[list[tuple[float, float]]], points: list[tuple[float, float]]
) -> None:
    graph = polyline_graph(polylines)
    lon, lat = lonlat(points)
    snaps = snap(graph, lon, lat, max_drop_m=1e9)
    split, node = split_edges(graph, snaps)
    assert split.edge_length_m.sum() == pytest.approx(graph.edge_length_m.sum(), rel=1e-9)
    assert np.all(split.edge_length_m > 0)
    assert np.all(node >= 0)
    # Every point's node sits on the street near its attachment point.
    gap = np.hypot(split.node_x[node] - snaps.proj_x, split.node_y[node] - snaps.proj_y)
    assert np.all(gap <= 0.5 * len(points) + 1e-6)
    # New nodes join exactly the edge they split: component count is unchanged.
    assert len(set(split.components().tolist())) == len(set(graph.components().tolist()))
    _check_shapes(split)


def _check_shapes(graph: StreetGraph, lengths_follow_shape: bool = True) -> None:
    first = graph.geom_indptr[:-1]
    last = graph.geom_indptr[1:] - 1
    assert np.allclose(graph.geom_x[first], graph.node_x[graph.edge_u])
    assert np.allclose(graph.geom_y[first], graph.node_y[graph.edge_u])
    assert np.allclose(graph.geom_x[last], graph.node_x[graph.edge_v])
    assert np.allclose(graph.geom_y[last], graph.node_y[graph.edge_v])
    if lengths_follow_shape:
        assert np.allclose(graph.geometry_length_m, graph.edge_length_m, rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(polyline, min_size=1, max_size=25),
    st.lists(st.tuples(st.floats(-3000, 3000), st.floats(-3000, 3000)), min_size=1, max_size=8),
)
def test_a_few_points_snap_as_with_the_whole_graphs_index(
    polylines: list[list[tuple[float, float]]], points: list[tuple[float, float]]
) -> None:
    """snap() indexes only the streets near a few points (1 km, or the whole graph when a
    point's nearest street is farther): the same edges, ties and flags as the full index."""
    from pollnet.streets.snap import SegmentIndex

    graph = polyline_graph(polylines)
    lon, lat = lonlat(points)
    near = snap(graph, lon, lat, max_drop_m=300.0)
    full = snap(graph, lon, lat, max_drop_m=300.0, index=SegmentIndex(graph))
    assert np.array_equal(near.edge, full.edge)
    assert np.array_equal(near.flags, full.flags)
    assert np.allclose(near.along_m, full.along_m) and np.allclose(near.drop_m, full.drop_m)
