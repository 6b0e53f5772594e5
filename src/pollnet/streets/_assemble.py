"""The last step of every import: drop bad edges, count why, and build the graph."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pollnet.streets import _ragged
from pollnet.streets.graph import StreetGraph
from pollnet.streets.report import ImportReport

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Candidates:
    """Candidate edges of an import, before the checks (same layout as :class:`StreetGraph`)."""

    edge_u: IntArray
    edge_v: IntArray
    edge_length_m: FloatArray
    edge_class: NDArray[np.int8]
    edge_name_id: NDArray[np.int32]
    edge_name_en_id: NDArray[np.int32]
    edge_district: NDArray[np.int16]
    geom_indptr: IntArray
    geom_x: FloatArray
    geom_y: FloatArray


@dataclass(frozen=True)
class Nodes:
    """Candidate nodes of an import."""

    crs: int
    x: FloatArray
    y: FloatArray
    lon: FloatArray
    lat: FloatArray
    ref: IntArray


def assemble(
    nodes: Nodes,
    edges: Candidates,
    *,
    class_names: tuple[str, ...],
    names: tuple[str, ...],
    report: ImportReport,
    compact_nodes: bool,
) -> StreetGraph:
    """The graph of the candidate edges that pass the checks.

    Dropped, and counted in the report: edges of zero length; of negative or non-finite length;
    loops (``u == v``); duplicates (same two ends, either way round, and the same length to the
    centimetre as an earlier edge). With ``compact_nodes`` nodes left without an edge are
    removed too (and the rest renumbered in order); otherwise node numbers stay as given.
    """
    length = edges.edge_length_m
    u, v = edges.edge_u, edges.edge_v
    with np.errstate(invalid="ignore"):
        negative = ~np.isfinite(length) | (length < 0)
        zero = length == 0
    loop = (u == v) & ~negative & ~zero
    keep = ~(negative | zero | loop)

    candidates = np.flatnonzero(keep)
    a = np.minimum(u, v)[candidates]
    b = np.maximum(u, v)[candidates]
    cm = np.round(length[candidates] * 100.0).astype(np.int64)
    order = np.lexsort((candidates, cm, b, a))
    same = np.zeros(order.size, dtype=bool)
    same[1:] = (
        (a[order][1:] == a[order][:-1])
        & (b[order][1:] == b[order][:-1])
        & (cm[order][1:] == cm[order][:-1])
    )
    keep[candidates[order[same]]] = False

    chosen = np.flatnonzero(keep)
    positions, indptr = _ragged.take(edges.geom_indptr, chosen)
    node_x, node_y, node_lon, node_lat, node_ref = nodes.x, nodes.y, nodes.lon, nodes.lat, nodes.ref
    u, v = u[chosen], v[chosen]
    if compact_nodes:
        used = np.zeros(node_x.size, dtype=bool)
        used[u] = True
        used[v] = True
        renumber = np.cumsum(used) - 1
        u, v = renumber[u], renumber[v]
        node_x, node_y = node_x[used], node_y[used]
        node_lon, node_lat, node_ref = node_lon[used], node_lat[used], node_ref[used]

    return StreetGraph(
        crs=nodes.crs,
        node_x=node_x,
        node_y=node_y,
        node_lon=node_lon,
        node_lat=node_lat,
        node_ref=node_ref,
        edge_u=u,
        edge_v=v,
        edge_length_m=length[chosen],
        edge_class=edges.edge_class[chosen],
        class_names=class_names,
        edge_name_id=edges.edge_name_id[chosen],
        edge_name_en_id=edges.edge_name_en_id[chosen],
        names=names,
        edge_district=edges.edge_district[chosen],
        geom_indptr=indptr,
        geom_x=edges.geom_x[positions],
        geom_y=edges.geom_y[positions],
        report=report.with_counts(
            zero_length=int(zero.sum()),
            negative_length=int(negative.sum()),
            loop=int(loop.sum()),
            duplicate_edge=int(same.sum()),
        ),
    )
