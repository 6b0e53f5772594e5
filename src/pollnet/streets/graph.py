"""The street graph: nodes and edges as numpy arrays, adjacency in CSR form.

Units and coordinate systems: node and shape-point positions ``x``/``y`` are metres in the
graph's ``crs`` (the EPSG code of a UTM zone, e.g. 32639 for Tehran), ``lon``/``lat`` are WGS84
degrees, lengths are metres along the street (on the ellipsoid for OpenStreetMap and GeoJSON
imports; as given for :func:`pollnet.streets.from_arrays`). The graph is undirected: an edge
``e`` joins ``edge_u[e]`` and ``edge_v[e]`` and its shape runs from ``u`` to ``v``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse import csgraph

from pollnet.streets import _ragged
from pollnet.streets.projection import to_lonlat
from pollnet.streets.report import ImportReport

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

_DTYPES: dict[str, type[np.generic]] = {
    "node_x": np.float64,
    "node_y": np.float64,
    "node_lon": np.float64,
    "node_lat": np.float64,
    "node_ref": np.int64,
    "edge_u": np.int64,
    "edge_v": np.int64,
    "edge_length_m": np.float64,
    "edge_class": np.int8,
    "edge_name_id": np.int32,
    "edge_name_en_id": np.int32,
    "edge_district": np.int16,
    "geom_indptr": np.int64,
    "geom_x": np.float64,
    "geom_y": np.float64,
}
ARRAY_FIELDS: tuple[str, ...] = tuple(_DTYPES)
"""The names of the array fields of :class:`StreetGraph`, in order (``edge_segment`` aside)."""


@dataclass(frozen=True)
class Adjacency:
    """CSR adjacency: the neighbours of node ``n`` are ``node[indptr[n]:indptr[n + 1]]``,
    reached by the edges ``edge[indptr[n]:indptr[n + 1]]`` (every edge appears at both ends)."""

    indptr: IntArray
    node: IntArray
    edge: IntArray


@dataclass(frozen=True, eq=False)
class StreetGraph:
    """An undirected street network as arrays (N nodes, E edges, P shape points).

    Nodes: ``node_x``/``node_y`` in metres in ``crs``, ``node_lon``/``node_lat`` in degrees,
    ``node_ref`` the source's id of the node (OSM node id; -1 when none).

    Edges: ``edge_u``/``edge_v`` (node indices), ``edge_length_m`` (metres, > 0),
    ``edge_class`` (an index into ``class_names``, OSM ``highway`` values),
    ``edge_name_id``/``edge_name_en_id`` (indices into ``names``; ``names[0]`` is the empty
    name), ``edge_district`` (municipal district number, 0 when unknown), ``edge_segment`` (the
    street segment, i.e. the edge as imported between two junctions, that an edge is a piece
    of: its own index unless snapping split it; by default every edge is its own segment).

    Shape: the polyline of edge ``e`` is ``geom_x/geom_y[geom_indptr[e]:geom_indptr[e + 1]]``
    in metres in ``crs``, from the position of ``u`` to that of ``v`` (both included, so every
    edge has at least two shape points).

    The arrays are read-only; derive a changed graph with :meth:`replace`.
    """

    crs: int
    node_x: FloatArray
    node_y: FloatArray
    node_lon: FloatArray
    node_lat: FloatArray
    node_ref: IntArray
    edge_u: IntArray
    edge_v: IntArray
    edge_length_m: FloatArray
    edge_class: NDArray[np.int8]
    class_names: tuple[str, ...]
    edge_name_id: NDArray[np.int32]
    edge_name_en_id: NDArray[np.int32]
    names: tuple[str, ...]
    edge_district: NDArray[np.int16]
    geom_indptr: IntArray
    geom_x: FloatArray
    geom_y: FloatArray
    report: ImportReport
    edge_segment: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        for name, dtype in _DTYPES.items():
            array = np.asarray(getattr(self, name))
            if array.dtype != dtype:
                array = array.astype(dtype)
            view = array.view()
            view.flags.writeable = False
            object.__setattr__(self, name, view)
        n, e = self.node_x.size, self.edge_u.size
        for name in ("node_y", "node_lon", "node_lat", "node_ref"):
            _check_size(name, getattr(self, name).size, n)
        for name in ("edge_v", "edge_length_m", "edge_class", "edge_name_id"):
            _check_size(name, getattr(self, name).size, e)
        for name in ("edge_name_en_id", "edge_district"):
            _check_size(name, getattr(self, name).size, e)
        _check_size("geom_indptr", self.geom_indptr.size, e + 1)
        _check_size("geom_x", self.geom_x.size, int(self.geom_indptr[-1]))
        _check_size("geom_y", self.geom_y.size, int(self.geom_indptr[-1]))
        if not self.names or self.names[0] != "":
            raise ValueError("names[0] must be the empty name")
        segment = np.asarray(self.edge_segment, dtype=np.int64)
        if segment.size == 0:  # the default: every edge is its own street segment
            segment = np.arange(e, dtype=np.int64)
        _check_size("edge_segment", segment.size, e)
        view = segment.view()
        view.flags.writeable = False
        object.__setattr__(self, "edge_segment", view)

    # -- sizes and attributes -------------------------------------------------------------

    @property
    def num_nodes(self) -> int:
        """N, the number of nodes."""
        return int(self.node_x.size)

    @property
    def num_edges(self) -> int:
        """E, the number of edges."""
        return int(self.edge_u.size)

    @cached_property
    def edge_name(self) -> NDArray[np.object_]:
        """The native (Persian where tagged) name of every edge, '' when unnamed."""
        return np.array(self.names, dtype=object)[self.edge_name_id]

    @cached_property
    def edge_name_en(self) -> NDArray[np.object_]:
        """The English name of every edge, '' when unnamed."""
        return np.array(self.names, dtype=object)[self.edge_name_en_id]

    @cached_property
    def edge_class_name(self) -> NDArray[np.object_]:
        """The street class (OSM ``highway`` value) of every edge."""
        return np.array(self.class_names, dtype=object)[self.edge_class]

    def replace(self, **changes: Any) -> StreetGraph:
        """A copy with some fields replaced (the arrays are checked again)."""
        return dataclasses.replace(self, **changes)

    # -- structure ------------------------------------------------------------------------

    @cached_property
    def adjacency(self) -> Adjacency:
        """Each node's incident edges and neighbours (CSR, ordered by edge id)."""
        e = self.num_edges
        ends = np.concatenate([self.edge_u, self.edge_v])
        order = np.argsort(ends, kind="stable")
        indptr = np.zeros(self.num_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(ends, minlength=self.num_nodes), out=indptr[1:])
        other = np.concatenate([self.edge_v, self.edge_u])
        edge = np.concatenate([np.arange(e), np.arange(e)])
        return Adjacency(indptr, other[order].astype(np.int64), edge[order].astype(np.int64))

    def to_scipy(self) -> sparse.csr_array:
        """An N×N symmetric sparse matrix of edge lengths in metres.

        Where parallel edges join two nodes the shortest length is kept; loops are left out.
        """
        a = np.minimum(self.edge_u, self.edge_v)
        b = np.maximum(self.edge_u, self.edge_v)
        w = self.edge_length_m
        order = np.lexsort((w, b, a))
        a, b, w = a[order], b[order], w[order]
        first = np.ones(a.size, dtype=bool)
        first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
        first &= a != b
        a, b, w = a[first], b[first], w[first]
        n = self.num_nodes
        return sparse.csr_array(
            (np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))),
            shape=(n, n),
        )

    @cached_property
    def _component_labels(self) -> NDArray[np.int32]:
        _, labels = csgraph.connected_components(self.to_scipy(), directed=False)
        labels = np.asarray(labels, dtype=np.int32)
        labels.flags.writeable = False
        return labels

    def components(self) -> NDArray[np.int32]:
        """The connected component of every node, numbered 0, 1, … (a read-only array)."""
        return self._component_labels

    # -- geometry -------------------------------------------------------------------------

    def edge_xy(self, edge: int) -> tuple[FloatArray, FloatArray]:
        """The polyline of one edge in metres in ``crs``, from ``u`` to ``v``."""
        lo, hi = self.geom_indptr[edge], self.geom_indptr[edge + 1]
        return self.geom_x[lo:hi], self.geom_y[lo:hi]

    def geometry_lonlat(self) -> tuple[IntArray, FloatArray, FloatArray]:
        """Every edge's polyline in degrees: ``(indptr, lon, lat)`` in the CSR layout."""
        lon, lat = to_lonlat(self.geom_x, self.geom_y, self.crs)
        return self.geom_indptr, lon, lat

    @cached_property
    def _segment_lengths(self) -> FloatArray:
        """The projected length of every shape segment (from each shape point to the next)."""
        d = np.hypot(np.diff(self.geom_x), np.diff(self.geom_y))
        d = np.append(d, 0.0)
        d[self.geom_indptr[1:] - 1] = 0.0  # the last point of an edge starts no segment
        return d

    @cached_property
    def geometry_length_m(self) -> FloatArray:
        """The length of every edge's polyline in metres in ``crs`` (projected, not geodesic)."""
        cum = np.concatenate([[0.0], np.cumsum(self._segment_lengths)])
        lengths: FloatArray = cum[self.geom_indptr[1:] - 1] - cum[self.geom_indptr[:-1]]
        return lengths

    def points_along(self, edges: IntArray, distance: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Positions (metres in ``crs``) at ``distance`` metres of projected polyline from
        ``u`` along each of ``edges``; distances are clipped to the edge."""
        edges = np.asarray(edges, dtype=np.int64)
        seg = self._segment_lengths
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        start = self.geom_indptr[edges]
        last = self.geom_indptr[edges + 1] - 1
        target = cum[start] + np.clip(distance, 0.0, cum[last] - cum[start])
        # The segment holding the target: the last shape point at or before it, within the edge.
        k = np.searchsorted(cum, target, side="right") - 1
        k = np.clip(k, start, np.maximum(last - 1, start))
        t = np.where(seg[k] > 0, (target - cum[k]) / np.where(seg[k] > 0, seg[k], 1.0), 0.0)
        t = np.clip(t, 0.0, 1.0)
        x = self.geom_x[k] + t * (self.geom_x[k + 1] - self.geom_x[k])
        y = self.geom_y[k] + t * (self.geom_y[k + 1] - self.geom_y[k])
        return x, y

    def edge_midpoints(self) -> tuple[FloatArray, FloatArray]:
        """The point halfway along every edge's polyline, metres in ``crs``."""
        return self.points_along(np.arange(self.num_edges), self.geometry_length_m / 2.0)

    def segments(self) -> tuple[IntArray, IntArray]:
        """Every shape segment as ``(edge, start)``: it runs from shape point ``start`` to
        ``start + 1`` of the flat ``geom_x``/``geom_y`` arrays and belongs to ``edge``."""
        row = _ragged.row_of(self.geom_indptr)
        is_last = np.zeros(row.size, dtype=bool)
        is_last[self.geom_indptr[1:] - 1] = True
        start = np.flatnonzero(~is_last)
        return row[start], start

    # -- description ----------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """Counts, total length, components and extent, JSON-ready."""
        labels = self.components()
        sizes = np.bincount(labels) if labels.size else np.zeros(1, dtype=np.int64)
        by_class: dict[str, float] = {}
        lengths = np.bincount(
            self.edge_class.astype(np.int64),
            weights=self.edge_length_m,
            minlength=len(self.class_names),
        )
        for code, name in enumerate(self.class_names):
            if lengths[code] > 0:
                by_class[name] = round(float(lengths[code]) / 1000.0, 3)
        extent = (
            [
                float(self.node_lon.min()),
                float(self.node_lat.min()),
                float(self.node_lon.max()),
                float(self.node_lat.max()),
            ]
            if self.num_nodes
            else []
        )
        return {
            "nodes": self.num_nodes,
            "edges": self.num_edges,
            "length_km": round(float(self.edge_length_m.sum()) / 1000.0, 3),
            "length_km_by_class": by_class,
            "components": int(sizes.size if labels.size else 0),
            "largest_component_nodes": int(sizes.max()) if labels.size else 0,
            "named_edges": int(np.count_nonzero(self.edge_name_id)),
            "districts": int(np.unique(self.edge_district[self.edge_district > 0]).size),
            "crs": f"EPSG:{self.crs}",
            "bbox_lonlat": extent,
        }


def _check_size(name: str, size: int, expected: int) -> None:
    if size != expected:
        raise ValueError(f"{name} has {size} values, expected {expected}")
