"""Ways (polylines of points) split into graph edges at intersections.

Shared by the OpenStreetMap and GeoJSON readers. A point is identified by its coordinates in
fixed point (1e-7 degree, OpenStreetMap's own precision, about 1 cm), so two source nodes at
the same place become one graph node and lines that meet at a shared point are joined.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from pollnet.streets import _ragged
from pollnet.streets._assemble import Candidates, Nodes, assemble
from pollnet.streets.graph import StreetGraph
from pollnet.streets.projection import geodesic_m, to_xy, utm_epsg
from pollnet.streets.report import ImportReport

IntArray = NDArray[np.int64]

SCALE = 10_000_000
"""Fixed-point units per degree."""

_LAT_SPAN = 180 * SCALE + 1


@dataclass(frozen=True)
class Ways:
    """Lines to split: the points of way ``w`` are ``indptr[w]:indptr[w + 1]``.

    ``lon_e7``/``lat_e7`` are WGS84 positions in 1e-7 degrees; ``ref`` the source's id of each
    point (-1 when none); the other arrays hold one value per way, ``way_source`` the number of
    the source way or feature it came from (a way cut at missing nodes gives several lines).
    """

    indptr: IntArray
    lon_e7: IntArray
    lat_e7: IntArray
    ref: IntArray
    way_class: NDArray[np.int8]
    way_name_id: NDArray[np.int32]
    way_name_en_id: NDArray[np.int32]
    way_district: NDArray[np.int16]
    way_source: IntArray


@dataclass
class WayLists:
    """What a reader collects as it reads, as Python lists, and the names table.

    The readers append a line's points to ``lon``/``lat`` (and ``ref``, when the source has
    ids), close it with ``indptr.append(len(lon))`` and append its per-way values;
    :meth:`ways` turns the lists into :class:`Ways`. ``names[0]`` is the empty name.
    """

    indptr: list[int] = field(default_factory=lambda: [0])
    lon: list[int] = field(default_factory=list)
    lat: list[int] = field(default_factory=list)
    ref: list[int] = field(default_factory=list)
    way_class: list[int] = field(default_factory=list)
    way_name: list[int] = field(default_factory=list)
    way_name_en: list[int] = field(default_factory=list)
    way_district: list[int] = field(default_factory=list)
    way_source: list[int] = field(default_factory=list)
    names: dict[str, int] = field(default_factory=lambda: {"": 0})

    def name_id(self, text: str) -> int:
        """The index of ``text`` in the names table, added when new."""
        return self.names.setdefault(text, len(self.names))

    def ways(
        self,
        *,
        lon_e7: IntArray | None = None,
        lat_e7: IntArray | None = None,
        ref: IntArray | None = None,
    ) -> Ways:
        """The collected lines; no ``ref`` means -1 for every point, no district means 0.

        A reader that collected the points as arrays rather than in the lists passes them.
        """
        lon = np.asarray(self.lon, dtype=np.int64) if lon_e7 is None else lon_e7
        lat = np.asarray(self.lat, dtype=np.int64) if lat_e7 is None else lat_e7
        if ref is None:
            ref = np.asarray(self.ref, dtype=np.int64) if self.ref else np.full(lon.size, -1)
        lines = len(self.way_class)
        return Ways(
            indptr=np.asarray(self.indptr, dtype=np.int64),
            lon_e7=lon,
            lat_e7=lat,
            ref=ref,
            way_class=np.asarray(self.way_class, dtype=np.int8),
            way_name_id=np.asarray(self.way_name, dtype=np.int32),
            way_name_en_id=np.asarray(self.way_name_en, dtype=np.int32),
            way_district=(
                np.asarray(self.way_district, dtype=np.int16)
                if self.way_district
                else np.zeros(lines, dtype=np.int16)
            ),
            way_source=np.asarray(self.way_source, dtype=np.int64),
        )


def split(
    ways: Ways,
    *,
    class_names: tuple[str, ...],
    names: tuple[str, ...],
    report: ImportReport,
) -> StreetGraph:
    """The street graph of ``ways``: one edge between consecutive split points of a way.

    A point splits its way when it is a way's end or appears more than once among all points
    (an intersection, or a way crossing itself); a way that returns to its start with no other
    split point is also split halfway, so no edge is a loop. Lengths are geodesic (WGS84
    ellipsoid) sums over the shape segments; positions are projected into the UTM zone of the
    data's centroid.
    """
    indptr, lon_e7, lat_e7, ref = ways.indptr, ways.lon_e7, ways.lat_e7, ways.ref
    key = (lon_e7 + 180 * SCALE) * _LAT_SPAN + (lat_e7 + 90 * SCALE)
    way_of = _ragged.row_of(indptr)

    repeated = np.zeros(key.size, dtype=bool)
    repeated[1:] = (key[1:] == key[:-1]) & (way_of[1:] == way_of[:-1])
    sizes = np.bincount(way_of[~repeated], minlength=indptr.size - 1)
    good_way = sizes >= 2
    keep = ~repeated & good_way[way_of]
    degenerate = int(np.count_nonzero(~good_way))
    key, lon_e7, lat_e7, ref, way_of = (
        key[keep],
        lon_e7[keep],
        lat_e7[keep],
        ref[keep],
        way_of[keep],
    )
    if key.size == 0:
        raise NoStreets(report.with_counts(degenerate=degenerate))

    unique_key, first, node = _group(key)
    node_lon = lon_e7[first] / SCALE
    node_lat = lat_e7[first] / SCALE
    known = ref >= 0
    merged = _distinct(ref[known]) - _distinct(key[known]) if known.any() else 0

    is_end = np.zeros(key.size, dtype=bool)
    is_end[0] = is_end[-1] = True
    is_end[1:] |= way_of[1:] != way_of[:-1]
    is_end[:-1] |= way_of[1:] != way_of[:-1]
    splits = is_end | (np.bincount(node, minlength=unique_key.size)[node] >= 2)
    start, end = _pairs(splits, way_of)
    loop = (node[start] == node[end]) & (end - start >= 2)
    if loop.any():
        splits[(start[loop] + end[loop]) // 2] = True
        start, end = _pairs(splits, way_of)

    crs = utm_epsg(node_lon, node_lat)
    node_x, node_y = to_xy(node_lon, node_lat, crs)
    pos_lon, pos_lat = node_lon[node], node_lat[node]
    seg = geodesic_m(pos_lon[:-1], pos_lat[:-1], pos_lon[1:], pos_lat[1:])
    seg[way_of[1:] != way_of[:-1]] = 0.0
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    positions, geom_indptr = _ragged.spans(start, end - start + 1)

    w = way_of[start]
    candidates = Candidates(
        edge_u=node[start],
        edge_v=node[end],
        edge_length_m=cum[end] - cum[start],
        edge_class=ways.way_class[w],
        edge_name_id=ways.way_name_id[w],
        edge_name_en_id=ways.way_name_en_id[w],
        edge_district=ways.way_district[w],
        geom_indptr=geom_indptr,
        geom_x=node_x[node[positions]],
        geom_y=node_y[node[positions]],
    )
    counted = ImportReport(
        report.source,
        report.ways_read,
        _distinct(ways.way_source[w]),
        report.counts,
        report.dropped_classes,
    ).with_counts(degenerate=degenerate, repeated_points=int(repeated.sum()), merged_nodes=merged)
    nodes = Nodes(crs, node_x, node_y, node_lon, node_lat, _first_ref(ref, node, unique_key.size))
    return assemble(
        nodes,
        candidates,
        class_names=class_names,
        names=names,
        report=counted,
        compact_nodes=True,
    )


class NoStreets(Exception):
    """No line with two distinct points was left; carries the report so far."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__("no streets")
        self.report = report


def _pairs(splits: NDArray[np.bool_], way_of: IntArray) -> tuple[IntArray, IntArray]:
    """Consecutive split positions of the same way: the first and last point of each edge."""
    s = np.flatnonzero(splits)
    same = way_of[s[1:]] == way_of[s[:-1]]
    return s[:-1][same], s[1:][same]


def _group(key: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """The distinct values of ``key`` in order, a position holding each, and the number of
    each position's value among them (``np.unique`` with index and inverse, by one sort)."""
    order = np.argsort(key)
    ordered = key[order]
    new = np.ones(key.size, dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    inverse = np.empty(key.size, dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], order[new], inverse


def _distinct(values: IntArray) -> int:
    """How many distinct values there are.

    By sorting: numpy 2's hash-based ``np.unique`` takes seconds for a few million distinct
    int64 where a sort takes a few hundredths (measured, see docs/performance.md).
    """
    if values.size == 0:
        return 0
    ordered = np.sort(values)
    return int(np.count_nonzero(ordered[1:] != ordered[:-1])) + 1


def _first_ref(ref: IntArray, node: IntArray, n: int) -> IntArray:
    """One source id per node: the smallest known one, -1 when none is known."""
    out = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    known = ref >= 0
    np.minimum.at(out, node[known], ref[known])
    out[out == np.iinfo(np.int64).max] = -1
    return out
