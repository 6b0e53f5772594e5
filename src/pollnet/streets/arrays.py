"""A street graph from plain arrays, such as those of the synthetic city."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pollnet.streets import _ragged
from pollnet.streets._assemble import Candidates, Nodes, assemble
from pollnet.streets.classes import HIGHWAY_CLASSES
from pollnet.streets.graph import StreetGraph
from pollnet.streets.projection import to_lonlat, to_xy, utm_epsg
from pollnet.streets.report import ImportReport


def from_arrays(
    *,
    edge_u: ArrayLike,
    edge_v: ArrayLike,
    node_lon: ArrayLike | None = None,
    node_lat: ArrayLike | None = None,
    node_x: ArrayLike | None = None,
    node_y: ArrayLike | None = None,
    crs: int | None = None,
    edge_length_m: ArrayLike | None = None,
    edge_class: ArrayLike | None = None,
    class_names: Sequence[str] = HIGHWAY_CLASSES,
    edge_name: Sequence[str | None] | None = None,
    edge_name_en: Sequence[str | None] | None = None,
    edge_district: ArrayLike | None = None,
    geometry: tuple[ArrayLike, ArrayLike, ArrayLike] | None = None,
    classes: Collection[str] | None = None,
    source: str = "arrays",
) -> StreetGraph:
    """Build a :class:`StreetGraph` from arrays; node numbers are kept as given.

    Parameters
    ----------
    edge_u, edge_v
        The two end nodes of every edge (indices into the node arrays).
    node_lon, node_lat
        Node positions in WGS84 degrees. Either these or ``node_x``/``node_y`` with ``crs``
        are needed; the missing pair is computed.
    node_x, node_y, crs
        Node positions in metres in ``crs`` (an EPSG code; the synthetic city uses 32639).
        Without them the nodes are projected into the UTM zone of their centroid.
    edge_length_m
        Length of every edge in metres; by default the straight or shape-line length in
        ``crs``. Edges of zero, negative or non-finite length are dropped and counted.
    edge_class, class_names
        A code per edge indexing ``class_names`` (default: every edge ``class_names[0]``).
    edge_name, edge_name_en
        The native (Persian) and English name of every edge; ``None`` or '' when unnamed.
    edge_district
        Municipal district number of every edge, 0 when unknown.
    geometry
        ``(indptr, x, y)``: the polyline of every edge in metres in ``crs``, from ``u`` to
        ``v`` with both ends included; by default the straight segment.
    classes
        When given, edges of other classes are dropped (counted as ``non_street_class``).
    source
        What the report calls the input.

    Loops and duplicate edges are dropped and counted in ``graph.report``; nothing else is
    changed.
    """
    u = np.asarray(edge_u, dtype=np.int64).ravel()
    v = np.asarray(edge_v, dtype=np.int64).ravel()
    if u.size != v.size:
        raise ValueError("edge_u and edge_v differ in length")
    nodes = _nodes(node_lon, node_lat, node_x, node_y, crs)
    n = nodes.x.size
    if u.size and (min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= n):
        raise ValueError(f"edges refer to nodes outside 0..{n - 1}")
    e = u.size
    names_in = list(class_names)
    code = (
        np.zeros(e, dtype=np.int8)
        if edge_class is None
        else np.asarray(edge_class, dtype=np.int64).ravel()
    )
    if e and (code.min() < 0 or code.max() >= len(names_in)):
        raise ValueError("edge_class codes outside class_names")

    if geometry is None:
        indptr = np.arange(0, 2 * e + 1, 2, dtype=np.int64)
        gx = np.column_stack([nodes.x[u], nodes.x[v]]).ravel()
        gy = np.column_stack([nodes.y[u], nodes.y[v]]).ravel()
    else:
        indptr = np.asarray(geometry[0], dtype=np.int64)
        gx = np.asarray(geometry[1], dtype=np.float64)
        gy = np.asarray(geometry[2], dtype=np.float64)
        if indptr.size != e + 1 or np.any(np.diff(indptr) < 2):
            raise ValueError("geometry needs at least two points per edge")

    if edge_length_m is None:
        d = np.hypot(np.diff(gx), np.diff(gy))
        cum = np.concatenate([[0.0], np.cumsum(d)])
        length = cum[indptr[1:] - 1] - cum[indptr[:-1]]
    else:
        length = np.asarray(edge_length_m, dtype=np.float64).ravel().copy()
        if length.size != e:
            raise ValueError("edge_length_m differs in length from edge_u")

    names: dict[str, int] = {"": 0}
    name_id = _encode(edge_name, e, names)
    name_en_id = _encode(edge_name_en, e, names)
    district = (
        np.zeros(e, dtype=np.int16)
        if edge_district is None
        else np.asarray(edge_district, dtype=np.int16).ravel()
    )

    dropped_classes: dict[str, int] = {}
    if classes is not None:
        wanted = np.array([name in classes for name in names_in], dtype=bool)
        keep = wanted[code]
        counts = np.bincount(code[~keep], minlength=len(names_in))
        dropped_classes = {names_in[c]: int(counts[c]) for c in np.flatnonzero(counts)}
        positions, indptr = _ragged.take(indptr, np.flatnonzero(keep))
        gx, gy = gx[positions], gy[positions]
        u, v, length, code = u[keep], v[keep], length[keep], code[keep]
        name_id, name_en_id, district = name_id[keep], name_en_id[keep], district[keep]
    report = ImportReport(
        source=source,
        ways_read=e,
        counts={"non_street_class": sum(dropped_classes.values())},
        dropped_classes=dropped_classes,
    )

    graph = assemble(
        nodes,
        Candidates(
            u,
            v,
            length,
            code.astype(np.int8),
            name_id,
            name_en_id,
            district,
            indptr,
            gx,
            gy,
        ),
        class_names=tuple(names_in),
        names=tuple(names),
        report=report,
        compact_nodes=False,
    )
    return graph.replace(
        report=ImportReport(
            graph.report.source,
            graph.report.ways_read,
            graph.num_edges,
            graph.report.counts,
            graph.report.dropped_classes,
        )
    )


def from_city(city: Any, *, classes: Collection[str] | None = None) -> StreetGraph:
    """The street graph of a :class:`pollnet.datasets.synth.SyntheticCity`-like object.

    Reads the attributes ``node_x``, ``node_y`` (EPSG:32639 metres, or the city's ``crs``),
    ``node_lon``, ``node_lat``, ``edge_u``, ``edge_v``, ``edge_length_m``, ``edge_class`` (with
    ``class_names`` or ``highway_classes``), ``edge_name_fa``, ``edge_name_en`` and
    ``edge_district``.
    """
    class_names = getattr(city, "class_names", None) or getattr(city, "highway_classes", None)
    return from_arrays(
        node_x=city.node_x,
        node_y=city.node_y,
        crs=int(getattr(city, "crs", 32639)),
        node_lon=city.node_lon,
        node_lat=city.node_lat,
        edge_u=city.edge_u,
        edge_v=city.edge_v,
        edge_length_m=city.edge_length_m,
        edge_class=city.edge_class,
        class_names=tuple(class_names) if class_names else HIGHWAY_CLASSES,
        edge_name=list(city.edge_name_fa),
        edge_name_en=list(city.edge_name_en),
        edge_district=city.edge_district,
        classes=classes,
        source="synthetic city",
    )


def _nodes(
    lon: ArrayLike | None,
    lat: ArrayLike | None,
    x: ArrayLike | None,
    y: ArrayLike | None,
    crs: int | None,
) -> Nodes:
    if x is not None and y is not None:
        if crs is None:
            raise ValueError("node_x/node_y need crs (an EPSG code)")
        xa = np.asarray(x, dtype=np.float64).ravel()
        ya = np.asarray(y, dtype=np.float64).ravel()
        if lon is None or lat is None:
            lon_a, lat_a = to_lonlat(xa, ya, crs)
        else:
            lon_a = np.asarray(lon, dtype=np.float64).ravel()
            lat_a = np.asarray(lat, dtype=np.float64).ravel()
    elif lon is not None and lat is not None:
        lon_a = np.asarray(lon, dtype=np.float64).ravel()
        lat_a = np.asarray(lat, dtype=np.float64).ravel()
        crs = crs if crs is not None else utm_epsg(lon_a, lat_a)
        xa, ya = to_xy(lon_a, lat_a, crs)
    else:
        raise ValueError("give node_lon/node_lat or node_x/node_y with crs")
    if not (xa.size == ya.size == lon_a.size == lat_a.size):
        raise ValueError("node arrays differ in length")
    return Nodes(crs, xa, ya, lon_a, lat_a, np.full(xa.size, -1, dtype=np.int64))


def _encode(
    values: Sequence[str | None] | None, size: int, table: dict[str, int]
) -> NDArray[np.int32]:
    if values is None:
        return np.zeros(size, dtype=np.int32)
    if len(values) != size:
        raise ValueError("a name list differs in length from edge_u")
    return np.fromiter(
        (table.setdefault(value or "", len(table)) for value in values),
        dtype=np.int32,
        count=size,
    )
