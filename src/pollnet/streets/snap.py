"""Snapping: attach points (stations, exchanges) to their nearest street edge, then split it.

:func:`snap` finds, for each point, the nearest point on any edge's polyline (exactly, in metres
in the graph's UTM ``crs``) and the distance to it: the building drop. It never raises for bad
points; it flags them instead (see :data:`FLAG_REASONS`). :func:`split_edges` then inserts a
node at each projected point so a route can end there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from pollnet.streets import _ragged
from pollnet.streets.graph import StreetGraph
from pollnet.streets.projection import to_lonlat, to_xy

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

TOO_FAR = 1
"""Flag: the nearest street is farther than ``max_drop_m``."""
UNREACHABLE = 2
"""Flag: the point's street is on a component that no root point (exchange) is on."""
INVALID = 4
"""Flag: the coordinates are not finite longitude/latitude, or the graph has no edge."""

FLAG_REASONS: dict[int, str] = {
    TOO_FAR: "too_far",
    UNREACHABLE: "unreachable",
    INVALID: "invalid_coordinates",
}
"""Each flag bit and the reason it stands for."""

DEFAULT_MAX_DROP_M = 300.0
"""Farthest a point may lie from its street before it is flagged, metres."""

_PIECE_M = 40.0  # longest piece of a shape segment in the search index, metres
_NEIGHBOURS = 8  # pieces looked at per point before the exactness check
_LOCAL_POINTS = 64  # up to this many points, snap() indexes only the streets near them
_LOCAL_RADIUS_M = 1000.0  # how near, metres (at least max_drop_m)


@dataclass(frozen=True, eq=False)
class Snaps:
    """Where each of n points attaches to a street graph (all lengths in metres, ``crs``).

    ``x``/``y``: the point; ``edge``: its nearest edge (-1 when none); ``along_m``: distance
    along that edge's polyline from ``edge_u`` to the attachment point (projected metres, not
    ``edge_length_m`` units); ``proj_x``/``proj_y``: the attachment point on the street;
    ``drop_m``: the building drop, from the point to the attachment point (NaN without an
    edge); ``flags``: a bit mask of :data:`TOO_FAR`, :data:`UNREACHABLE`, :data:`INVALID`;
    ``component``: the connected component of the edge (-1 without an edge).

    With roots (exchanges): ``rescued`` marks the points whose nearest street was a fragment
    no root reaches and which were attached to the roots' network instead (within
    ``max_drop_m``); ``fed_edge``/``fed_drop_m`` give, for every point left unreachable, the
    nearest edge of the roots' network and its distance (-1/NaN when there is none).
    """

    x: FloatArray
    y: FloatArray
    edge: IntArray
    along_m: FloatArray
    proj_x: FloatArray
    proj_y: FloatArray
    drop_m: FloatArray
    flags: NDArray[np.uint8]
    component: NDArray[np.int32]
    max_drop_m: float
    rescued: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    fed_edge: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    fed_drop_m: FloatArray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))

    def __post_init__(self) -> None:
        n = self.edge.size
        if self.rescued.size != n:
            object.__setattr__(self, "rescued", np.zeros(n, dtype=bool))
        if self.fed_edge.size != n:
            object.__setattr__(self, "fed_edge", np.full(n, -1, dtype=np.int64))
        if self.fed_drop_m.size != n:
            object.__setattr__(self, "fed_drop_m", np.full(n, np.nan))

    def __len__(self) -> int:
        return int(self.edge.size)

    @property
    def ok(self) -> NDArray[np.bool_]:
        """The points with no flag."""
        mask: NDArray[np.bool_] = self.flags == 0
        return mask

    def reasons(self, point: int) -> tuple[str, ...]:
        """Why one point is flagged, as reason names (empty when it is not)."""
        return tuple(name for bit, name in FLAG_REASONS.items() if self.flags[point] & bit)


def snap(
    graph: StreetGraph,
    lon: ArrayLike,
    lat: ArrayLike,
    *,
    max_drop_m: float = DEFAULT_MAX_DROP_M,
    roots: ArrayLike | None = None,
    index: SegmentIndex | None = None,
) -> Snaps:
    """Attach each point (WGS84 degrees) to the nearest point of the nearest street edge.

    ``roots`` selects, by index or boolean mask, the points that feed the network (the
    exchanges). When given, a point whose nearest street lies on a component no root's edge
    lies on (a fragment left over after footways were dropped, say) is attached instead to the
    nearest street of the roots' components, if that is within ``max_drop_m``; otherwise it is
    flagged :data:`UNREACHABLE` (with no root at all, every point is) and ``fed_edge`` names
    that nearest street. Ties between edges at the same distance go to the lowest edge id, so
    the result is deterministic. ``index`` is a :class:`SegmentIndex` of ``graph`` built
    before, for callers that snap many times on one graph (building it takes a while on a city).
    """
    lon_a = np.asarray(lon, dtype=np.float64).ravel()
    lat_a = np.asarray(lat, dtype=np.float64).ravel()
    n = lon_a.size
    valid = (
        np.isfinite(lon_a) & np.isfinite(lat_a) & (np.abs(lon_a) <= 180.0) & (np.abs(lat_a) <= 90.0)
    )
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    if valid.any():
        x[valid], y[valid] = to_xy(lon_a[valid], lat_a[valid], graph.crs)
        valid &= np.isfinite(x) & np.isfinite(y)
    if graph.num_edges == 0:
        valid[:] = False

    edge = np.full(n, -1, dtype=np.int64)
    along = np.full(n, np.nan)
    px = np.full(n, np.nan)
    py = np.full(n, np.nan)
    drop = np.full(n, np.nan)
    idx = np.flatnonzero(valid)
    if idx.size:
        if index is None and idx.size <= _LOCAL_POINTS:
            # A few points (a move, a candidate): index only the streets near them, which is
            # exact for every point whose nearest street lies within the radius.
            radius = max(_LOCAL_RADIUS_M, float(max_drop_m))
            near = SegmentIndex.near(graph, x[idx], y[idx], radius)
            if near is not None and (near.nearest(x[idx], y[idx])[2] <= radius).all():
                index = near
        index = index or SegmentIndex(graph)
        seg, t, d = index.nearest(x[idx], y[idx])
        edge[idx] = index.edge[seg]
        along[idx] = index.along[seg] + t * index.length[seg]
        px[idx] = index.ax[seg] + t * (index.bx[seg] - index.ax[seg])
        py[idx] = index.ay[seg] + t * (index.by[seg] - index.ay[seg])
        drop[idx] = d

    flags = np.where(valid, 0, INVALID).astype(np.uint8)
    with np.errstate(invalid="ignore"):
        flags[valid & (drop > max_drop_m)] |= TOO_FAR
    component = np.full(n, -1, dtype=np.int32)
    labels = graph.components()
    component[idx] = labels[graph.edge_u[edge[idx]]]
    rescued = np.zeros(n, dtype=bool)
    fed_edge = np.full(n, -1, dtype=np.int64)
    fed_drop = np.full(n, np.nan)
    if roots is not None:
        is_root = np.zeros(n, dtype=bool)
        is_root[np.asarray(roots)] = True
        fed = np.unique(component[is_root & valid & ((flags & TOO_FAR) == 0)])
        stranded = np.flatnonzero(valid & ~is_root & ~np.isin(component, fed))
        fed_edges = np.isin(labels[graph.edge_u], fed)
        if stranded.size and fed_edges.any():
            index = SegmentIndex(graph, fed_edges)
            seg, t, d = index.nearest(x[stranded], y[stranded])
            fed_edge[stranded] = index.edge[seg]
            fed_drop[stranded] = d
            move = d <= max_drop_m
            moved = stranded[move]
            seg, t = seg[move], t[move]
            edge[moved] = index.edge[seg]
            along[moved] = index.along[seg] + t * index.length[seg]
            px[moved] = index.ax[seg] + t * (index.bx[seg] - index.ax[seg])
            py[moved] = index.ay[seg] + t * (index.by[seg] - index.ay[seg])
            drop[moved] = d[move]
            component[moved] = labels[graph.edge_u[edge[moved]]]
            flags[moved] &= ~np.uint8(TOO_FAR)
            rescued[moved] = True
            fed_edge[moved] = -1
            fed_drop[moved] = np.nan
        flags[valid & ~np.isin(component, fed)] |= UNREACHABLE
    return Snaps(
        x, y, edge, along, px, py, drop, flags, component, float(max_drop_m),
        rescued, fed_edge, fed_drop,
    )  # fmt: skip


class SegmentIndex:
    """Every shape segment of a graph, with a k-d tree over short pieces of them.

    A segment of length ``L`` is cut into pieces of at most ``_PIECE_M`` metres; the tree holds
    the pieces' midpoints. A point's distance to a segment is at least its distance to the
    midpoint of one of its pieces minus half the longest piece, which bounds the search.
    """

    def __init__(self, graph: StreetGraph, edges: NDArray[np.bool_] | None = None) -> None:
        self.edge, start = graph.segments()
        if edges is not None:  # only the segments of these edges (a boolean mask)
            keep = edges[self.edge]
            self.edge, start = self.edge[keep], start[keep]
        gx, gy = graph.geom_x, graph.geom_y
        self.ax, self.ay = gx[start], gy[start]
        self.bx, self.by = gx[start + 1], gy[start + 1]
        self.length = np.hypot(self.bx - self.ax, self.by - self.ay)
        # Distance along the edge to the start of each segment.
        cum = np.concatenate([[0.0], np.cumsum(self.length)])
        first_seg = np.searchsorted(self.edge, self.edge, side="left")
        self.along = cum[:-1] - cum[first_seg]
        pieces = np.maximum(1, np.ceil(self.length / _PIECE_M)).astype(np.int64)
        self.owner = np.repeat(np.arange(self.length.size), pieces)
        offsets = np.concatenate([[0], np.cumsum(pieces)])
        j = np.arange(self.owner.size) - offsets[self.owner]
        tm = (j + 0.5) / pieces[self.owner]
        mx = self.ax[self.owner] + tm * (self.bx - self.ax)[self.owner]
        my = self.ay[self.owner] + tm * (self.by - self.ay)[self.owner]
        self.half_piece = float((self.length / pieces).max() / 2.0) if pieces.size else 0.0
        self.tree = cKDTree(np.column_stack([mx, my]))

    @classmethod
    def near(
        cls, graph: StreetGraph, x: FloatArray, y: FloatArray, radius_m: float
    ) -> SegmentIndex | None:
        """An index of the edges whose polyline's bounding box comes within ``radius_m``
        metres of a point (``x``/``y`` in ``crs``), None when there is none: its nearest
        segment is the whole graph's for every point whose nearest street is that near."""
        if graph.num_edges == 0:
            return None
        start = graph.geom_indptr[:-1]
        gx, gy = graph.geom_x, graph.geom_y
        x_lo, x_hi = np.minimum.reduceat(gx, start), np.maximum.reduceat(gx, start)
        y_lo, y_hi = np.minimum.reduceat(gy, start), np.maximum.reduceat(gy, start)
        mask = np.zeros(graph.num_edges, dtype=bool)
        for px, py in zip(np.asarray(x).tolist(), np.asarray(y).tolist(), strict=True):
            mask |= (
                (x_lo <= px + radius_m)
                & (x_hi >= px - radius_m)
                & (y_lo <= py + radius_m)
                & (y_hi >= py - radius_m)
            )
        return cls(graph, mask) if mask.any() else None

    def distance(
        self, x: FloatArray, y: FloatArray, seg: IntArray
    ) -> tuple[FloatArray, FloatArray]:
        """``(t, d)``: the nearest point's position on each segment (0..1) and its distance."""
        dx = self.bx[seg] - self.ax[seg]
        dy = self.by[seg] - self.ay[seg]
        sq = dx * dx + dy * dy
        safe = np.where(sq > 0, sq, 1.0)
        t = np.where(sq > 0, ((x - self.ax[seg]) * dx + (y - self.ay[seg]) * dy) / safe, 0.0)
        t = np.clip(t, 0.0, 1.0)
        d = np.hypot(x - (self.ax[seg] + t * dx), y - (self.ay[seg] + t * dy))
        return t, d

    def nearest(self, x: FloatArray, y: FloatArray) -> tuple[IntArray, FloatArray, FloatArray]:
        """For each point: the nearest segment (lowest id on ties), the position on it, the
        distance."""
        k = min(_NEIGHBOURS, self.owner.size)
        dist_mid, piece = self.tree.query(np.column_stack([x, y]), k=k)
        dist_mid = dist_mid.reshape(x.size, k)
        seg = self.owner[piece.reshape(x.size, k)]
        _, d = self.distance(x[:, None], y[:, None], seg)
        best_seg = _pick(seg, d)
        t, best = self.distance(x, y, best_seg)
        # Exact unless an unseen piece could hold a nearer point: check those by radius.
        if k < self.owner.size:
            unsure = np.flatnonzero(dist_mid[:, -1] - self.half_piece < best)
            if unsure.size:
                balls = self.tree.query_ball_point(
                    np.column_stack([x[unsure], y[unsure]]), best[unsure] + self.half_piece
                )
                for row, found in zip(unsure, balls, strict=True):
                    cands = np.unique(self.owner[np.asarray(found, dtype=np.int64)])
                    _, dc = self.distance(
                        np.full(cands.size, x[row]), np.full(cands.size, y[row]), cands
                    )
                    best_seg[row] = _pick(cands[None, :], dc[None, :])[0]
                t, best = self.distance(x, y, best_seg)
        return best_seg, t, best


def _pick(seg: IntArray, d: FloatArray) -> IntArray:
    """Per row, the segment of least distance; among equal distances the lowest id."""
    tol = 1e-9 * np.maximum(1.0, d.min(axis=1, keepdims=True))
    tied = d <= d.min(axis=1, keepdims=True) + tol
    masked = np.where(tied, seg, np.iinfo(np.int64).max)
    return np.asarray(masked.min(axis=1), dtype=np.int64)


def split_edges(
    graph: StreetGraph,
    snaps: Snaps,
    *,
    points: ArrayLike | None = None,
    merge_m: float = 0.5,
) -> tuple[StreetGraph, IntArray]:
    """Insert a node at each snapped point's attachment point; return the new graph and the
    node of every point (-1 for points without an edge or not chosen).

    ``points`` (indices or a boolean mask) chooses which points to insert, by default every
    point with an edge, flagged or not. A point within ``merge_m`` metres (along the street)
    of an edge's end reuses that end node; points on one edge within ``merge_m`` of each other
    share one new node. A split edge keeps its id for its first piece (from ``edge_u``); its
    other pieces are appended after the existing edges, in edge order. Pieces inherit class,
    names, district and street segment, and share the edge's length in proportion to their share
    of its polyline, so total length is unchanged.
    """
    if merge_m <= 0:
        raise ValueError("merge_m must be positive")
    n = len(snaps)
    chosen = snaps.edge >= 0
    if points is not None:
        mask = np.zeros(n, dtype=bool)
        mask[np.asarray(points)] = True
        chosen &= mask
    node_of_point = np.full(n, -1, dtype=np.int64)
    idx = np.flatnonzero(chosen)
    e = snaps.edge[idx]
    along = snaps.along_m[idx]
    total = graph.geometry_length_m[e]
    at_u = along <= merge_m
    at_v = ~at_u & (along >= total - merge_m)
    node_of_point[idx[at_u]] = graph.edge_u[e[at_u]]
    node_of_point[idx[at_v]] = graph.edge_v[e[at_v]]
    inner = idx[~at_u & ~at_v]
    if inner.size == 0:
        return graph, node_of_point

    # Cluster the inner points per edge: a new cluster where the gap exceeds merge_m.
    order = np.lexsort((snaps.along_m[inner], snaps.edge[inner]))
    inner = inner[order]
    ie, ia = snaps.edge[inner], snaps.along_m[inner]
    new = np.ones(inner.size, dtype=bool)
    new[1:] = (ie[1:] != ie[:-1]) | (ia[1:] - ia[:-1] > merge_m)
    cluster = np.cumsum(new) - 1
    cut_edge, cut_along = ie[new], ia[new]
    cut_node = graph.num_nodes + np.arange(cut_edge.size, dtype=np.int64)
    node_of_point[inner] = cut_node[cluster]
    cut_x, cut_y = graph.points_along(cut_edge, cut_along)
    cut_lon, cut_lat = to_lonlat(cut_x, cut_y, graph.crs)

    pieces = _cut(graph, cut_edge, cut_along, cut_x, cut_y, cut_node)
    return _with_pieces(graph, pieces, cut_x, cut_y, cut_lon, cut_lat), node_of_point


@dataclass(frozen=True)
class _Pieces:
    """The pieces of the split edges: parent edge, ends, length, and shape (CSR)."""

    parent: IntArray
    u: IntArray
    v: IntArray
    length_m: FloatArray
    indptr: IntArray
    x: FloatArray
    y: FloatArray


def _cut(
    graph: StreetGraph,
    cut_edge: IntArray,
    cut_along: FloatArray,
    cut_x: FloatArray,
    cut_y: FloatArray,
    cut_node: IntArray,
) -> _Pieces:
    """Cut each edge of ``cut_edge`` at its cut points (sorted by edge, then along)."""
    edges = np.unique(cut_edge)
    positions, indptr = _ragged.take(graph.geom_indptr, edges)
    row = _ragged.row_of(indptr)
    sx, sy = graph.geom_x[positions], graph.geom_y[positions]
    step = np.hypot(np.diff(sx), np.diff(sy))
    step[row[1:] != row[:-1]] = 0.0
    cum = np.concatenate([[0.0], np.cumsum(step)])
    shape_along = cum - cum[indptr[row]]
    shape_node = np.full(row.size, -1, dtype=np.int64)
    shape_node[indptr[:-1]] = graph.edge_u[edges]
    shape_node[indptr[1:] - 1] = graph.edge_v[edges]

    # Merge shape points and cut points per edge, ordered along the edge.
    cut_row = np.searchsorted(edges, cut_edge)
    all_row = np.concatenate([row, cut_row])
    all_along = np.concatenate([shape_along, cut_along])
    all_x = np.concatenate([sx, cut_x])
    all_y = np.concatenate([sy, cut_y])
    all_node = np.concatenate([shape_node, cut_node])
    is_cut = np.concatenate([np.zeros(row.size, dtype=bool), np.ones(cut_row.size, dtype=bool)])
    order = np.lexsort((is_cut, all_along, all_row))
    all_row, all_along, all_x, all_y = all_row[order], all_along[order], all_x[order], all_y[order]
    all_node, is_cut = all_node[order], is_cut[order]

    boundary = is_cut.copy()
    boundary[0] = boundary[-1] = True
    boundary[1:] |= all_row[1:] != all_row[:-1]
    boundary[:-1] |= all_row[1:] != all_row[:-1]
    s = np.flatnonzero(boundary)
    same = all_row[s[1:]] == all_row[s[:-1]]
    start, end = s[:-1][same], s[1:][same]
    parent = edges[all_row[start]]
    geometry_length = graph.geometry_length_m[parent]
    scale = np.where(geometry_length > 0, graph.edge_length_m[parent] / geometry_length, 0.0)
    pos, piece_indptr = _ragged.spans(start, end - start + 1)
    return _Pieces(
        parent=parent,
        u=all_node[start],
        v=all_node[end],
        length_m=(all_along[end] - all_along[start]) * scale,
        indptr=piece_indptr,
        x=all_x[pos],
        y=all_y[pos],
    )


def _with_pieces(
    graph: StreetGraph,
    pieces: _Pieces,
    cut_x: FloatArray,
    cut_y: FloatArray,
    cut_lon: FloatArray,
    cut_lat: FloatArray,
) -> StreetGraph:
    """The graph with each split edge replaced by its first piece and the rest appended."""
    e = graph.num_edges
    first = np.ones(pieces.parent.size, dtype=bool)
    first[1:] = pieces.parent[1:] != pieces.parent[:-1]
    rest = np.flatnonzero(~first)
    # Rows of a pool holding the old shapes (0..E-1) and then the pieces' shapes (E..).
    rows = np.arange(e, dtype=np.int64)
    rows[pieces.parent[first]] = e + np.flatnonzero(first)
    rows = np.concatenate([rows, e + rest])
    pool_indptr = np.concatenate([graph.geom_indptr, graph.geom_indptr[-1] + pieces.indptr[1:]])
    pool_x = np.concatenate([graph.geom_x, pieces.x])
    pool_y = np.concatenate([graph.geom_y, pieces.y])
    positions, indptr = _ragged.take(pool_indptr, rows)

    parent = np.concatenate([np.arange(e, dtype=np.int64), pieces.parent[rest]])
    u = np.concatenate([graph.edge_u, pieces.u[rest]])
    v = np.concatenate([graph.edge_v, pieces.v[rest]])
    length = np.concatenate([graph.edge_length_m, pieces.length_m[rest]])
    u[pieces.parent[first]] = pieces.u[first]
    v[pieces.parent[first]] = pieces.v[first]
    length[pieces.parent[first]] = pieces.length_m[first]
    return graph.replace(
        node_x=np.concatenate([graph.node_x, cut_x]),
        node_y=np.concatenate([graph.node_y, cut_y]),
        node_lon=np.concatenate([graph.node_lon, cut_lon]),
        node_lat=np.concatenate([graph.node_lat, cut_lat]),
        node_ref=np.concatenate([graph.node_ref, np.full(cut_x.size, -1, dtype=np.int64)]),
        edge_u=u,
        edge_v=v,
        edge_length_m=length,
        edge_class=graph.edge_class[parent],
        edge_name_id=graph.edge_name_id[parent],
        edge_name_en_id=graph.edge_name_en_id[parent],
        edge_district=graph.edge_district[parent],
        edge_segment=graph.edge_segment[parent],
        geom_indptr=indptr,
        geom_x=pool_x[positions],
        geom_y=pool_y[positions],
    )
