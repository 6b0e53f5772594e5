"""The plan as one self-contained HTML report: totals, costs, flagged stations and a map.

The map is drawn in the browser on a canvas from the plan's own data (no tiles, no network):
streets from the :class:`~pollnet.streets.StreetGraph` when one is given, trench segments
coloured by method, stations coloured by status and the exchanges; it pans and zooms, and a
station's details show on hover and click. Coordinates travel as integers in units of 1e-5
degrees (about a metre) relative to the south-west corner, each line delta-encoded; streets are
simplified (Douglas-Peucker, about 2 m) and joined into long strokes to keep the file small.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pollnet import _html
from pollnet.i18n import format_date, format_number, gettext, tr
from pollnet.plan.export import attribution_for
from pollnet.plan.model import METHODS, WARNING_CODES, Plan, StationPlan
from pollnet.plan.worklists import METHOD_LABELS
from pollnet.streets import StreetGraph
from pollnet.streets.classes import MAJOR_CLASSES

__all__ = ["SiteLayer", "map_data", "render_report", "write_report"]

SCALE = 1e5
"""Map coordinates are integer multiples of 1/SCALE degrees."""


STREET_MARGIN_DEG = 0.005
"""Streets within this many degrees (about 500 m) of the plan's extent are drawn."""

SIMPLIFY_DEG = 2e-5
"""Douglas-Peucker tolerance for streets, degrees (about 2 m)."""

STATE_CONNECTED, STATE_WARNING, STATE_FLAGGED = 0, 1, 2


@dataclass(frozen=True)
class SiteLayer:
    """An extra layer of the map: the site review (:mod:`pollnet.sites`).

    ``cost_class`` colours each reviewed station by its marginal cost (0 lowest to 3 highest
    quartile; stations not reviewed are drawn grey), ``marginal_rial`` is shown with a station's
    details, and each of ``cheaper`` (station code, building code, lon, lat, saving in rials)
    is drawn with a line to its station and its saving.
    """

    cost_class: Mapping[str, int]
    marginal_rial: Mapping[str, float]
    cheaper: Sequence[tuple[str, str, float, float, float]]


def _state(s: StationPlan) -> int:
    if s.status != "connected":
        return STATE_FLAGGED
    return STATE_WARNING if any(f.code in WARNING_CODES for f in s.flags) else STATE_CONNECTED


class _Grid:
    """Quantises (lon, lat) to integers of 1/SCALE degree relative to an origin."""

    def __init__(self, lon0: float, lat0: float) -> None:
        self.lon0, self.lat0 = lon0, lat0

    def q(self, lon: float, lat: float) -> tuple[int, int]:
        return round((lon - self.lon0) * SCALE), round((lat - self.lat0) * SCALE)

    def lines(
        self,
        lon: NDArray[np.float64],
        lat: NDArray[np.float64],
        which: NDArray[np.int64],
        count: int,
    ) -> list[list[int]]:
        """Polylines given flat (``which`` numbers the line of every point, non-decreasing) as
        ``[x0, y0, dx1, dy1, ...]`` each; repeated points are dropped, and a line shorter than
        the grid keeps a zero step so that it still draws as a dot."""
        x = np.rint((lon - self.lon0) * SCALE).astype(np.int64)
        y = np.rint((lat - self.lat0) * SCALE).astype(np.int64)
        first = np.ones(x.size, dtype=bool)
        first[1:] = which[1:] != which[:-1]
        dx = np.where(first, x, x - np.roll(x, 1))
        dy = np.where(first, y, y - np.roll(y, 1))
        keep = first | (dx != 0) | (dy != 0)
        dx, dy, which = dx[keep], dy[keep], which[keep]
        bounds = np.searchsorted(which, np.arange(count + 1))
        flat = np.column_stack([dx, dy]).ravel().tolist()
        out: list[list[int]] = []
        for k in range(count):
            line = flat[2 * bounds[k] : 2 * bounds[k + 1]]
            out.append([*line, 0, 0] if len(line) == 2 else line)
        return out


def _flat(
    coords: Sequence[Sequence[tuple[float, float]]],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Polylines as flat ``lon``, ``lat`` and line-number arrays."""
    lengths = [len(c) for c in coords]
    points = np.array([p for c in coords for p in c], dtype=np.float64).reshape(-1, 2)
    which = np.repeat(np.arange(len(coords), dtype=np.int64), lengths)
    return points[:, 0], points[:, 1], which


def _extent(plan: Plan) -> tuple[float, float, float, float]:
    lons = [s.lon for s in plan.stations] + [x.lon for x in plan.exchanges]
    lats = [s.lat for s in plan.stations] + [x.lat for x in plan.exchanges]
    for t in plan.trenches:
        for lon, lat in (t.coords[0], t.coords[-1]):
            lons.append(lon)
            lats.append(lat)
    pairs = [(a, b) for a, b in zip(lons, lats, strict=True) if math.isfinite(a + b)]
    if not pairs:
        return (0.0, 0.0, 0.0, 0.0)
    xs, ys = zip(*pairs, strict=True)
    return min(xs), min(ys), max(xs), max(ys)


def _street_strokes(
    graph: StreetGraph, grid: _Grid, extent: tuple[float, float, float, float]
) -> dict[str, list[list[int]]]:
    """Streets near ``extent`` as delta-encoded strokes: ``major`` and ``minor`` classes."""
    import shapely

    indptr, lon, lat = graph.geometry_lonlat()
    lo_lon, lo_lat, hi_lon, hi_lat = extent
    m = STREET_MARGIN_DEG
    u_lon, u_lat = graph.node_lon[graph.edge_u], graph.node_lat[graph.edge_u]
    near = (
        (u_lon >= lo_lon - m)
        & (u_lon <= hi_lon + m)
        & (u_lat >= lo_lat - m)
        & (u_lat <= hi_lat + m)
    )
    # Through roads are drawn at every zoom; the others appear when zoomed in.
    major_class = np.array([name in MAJOR_CLASSES for name in graph.class_names], dtype=bool)
    is_major = major_class[graph.edge_class] if major_class.size else np.zeros(0, dtype=bool)
    out: dict[str, list[list[int]]] = {}
    for group, mask in (("major", near & is_major), ("minor", near & ~is_major)):
        xs, ys, lengths = _strokes(graph, np.flatnonzero(mask), indptr, lon, lat)
        if not lengths:
            out[group] = []
            continue
        which = np.repeat(np.arange(len(lengths)), lengths)
        lines = shapely.linestrings(np.column_stack([xs, ys]), indices=which)
        simple = shapely.simplify(lines, SIMPLIFY_DEG, preserve_topology=False)
        coords, which = shapely.get_coordinates(simple, return_index=True)
        out[group] = grid.lines(coords[:, 0], coords[:, 1], which, len(lengths))
    return out


def _strokes(
    graph: StreetGraph,
    edges: NDArray[np.int64],
    indptr: NDArray[np.int64],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], list[int]]:
    """Join ``edges`` into long strokes: each edge used once, a walk going on through the node
    it reaches while that node has an unused edge. Returns the strokes' points flat (``lon``,
    ``lat``) and the number of points of each stroke."""
    m = edges.size
    if m == 0:
        return np.zeros(0), np.zeros(0), []
    u, v = graph.edge_u[edges], graph.edge_v[edges]
    ends = np.concatenate([u, v])
    counts = np.bincount(ends, minlength=graph.num_nodes)
    ptr = np.zeros(graph.num_nodes + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    incident = np.concatenate([np.arange(m), np.arange(m)])[np.argsort(ends, kind="stable")]
    incident_l = incident.tolist()
    cursor, stop = ptr[:-1].tolist(), ptr[1:].tolist()
    u_l, v_l, edges_l, ind = u.tolist(), v.tolist(), edges.tolist(), indptr.tolist()
    used = bytearray(m)
    nodes = np.flatnonzero(counts)
    starts = nodes[np.argsort(counts[nodes] % 2 == 0, kind="stable")].tolist()  # odd first
    pieces: list[int] = []  # shape-point index ranges, negative length for a reversed edge
    lengths: list[int] = []
    for start in starts:
        while True:
            a = cursor[start]
            while a < stop[start] and used[incident_l[a]]:
                a += 1
            cursor[start] = a
            if a == stop[start]:
                break
            e, node, points = incident_l[a], start, 0
            while e >= 0:
                used[e] = 1
                g = edges_l[e]
                lo, hi = ind[g], ind[g + 1]
                skip = 1 if points else 0  # the joint is already there
                if u_l[e] == node:
                    pieces += [lo + skip, hi, 1]
                    node = v_l[e]
                else:
                    pieces += [hi - 1 - skip, lo - 1, -1]
                    node = u_l[e]
                points += hi - lo - skip
                a = cursor[node]
                while a < stop[node] and used[incident_l[a]]:
                    a += 1
                cursor[node] = a
                e = incident_l[a] if a < stop[node] else -1
            lengths.append(points)
    take = np.concatenate(
        [np.arange(pieces[i], pieces[i + 1], pieces[i + 2]) for i in range(0, len(pieces), 3)]
    )
    return lon[take], lat[take], lengths


def map_data(
    plan: Plan, graph: StreetGraph | None, lang: str, layer: SiteLayer | None = None
) -> dict[str, Any]:
    """Everything the report's map script draws, JSON-ready (see the module docstring), with
    the site review's ``layer`` when given."""
    extent = _extent(plan)
    grid = _Grid(extent[0], extent[1])
    trenches: dict[str, list[list[int]]] = {}
    for method in METHODS:
        lines = [t.coords for t in plan.trenches if t.method == method]
        if lines:
            lon, lat, which = _flat(lines)
            trenches[method] = grid.lines(lon, lat, which, len(lines))
    stations = plan.stations
    xy = [grid.q(s.lon, s.lat) if math.isfinite(s.lon + s.lat) else (0, 0) for s in stations]
    data = {
        "lon0": extent[0],
        "lat0": extent[1],
        "extent": [
            0,
            0,
            round((extent[2] - extent[0]) * SCALE),
            round((extent[3] - extent[1]) * SCALE),
        ],
        "streets": _street_strokes(graph, grid, extent) if graph is not None else {},
        "trenches": trenches,
        "stations": {
            "x": [p[0] for p in xy],
            "y": [p[1] for p in xy],
            "state": [_state(s) for s in stations],
            "code": [s.code for s in stations],
            "name": [s.name for s in stations],
            "site": [s.site for s in stations],
            "district": [s.district for s in stations],
            "exchange": [s.exchange or "" for s in stations],
            "route_m": [round(s.route_length_m) for s in stations],
            "loss": [
                None if s.budget is None else round(s.budget.total_loss_db, 1) for s in stations
            ],
            "headroom": [
                None if s.budget is None else round(s.budget.headroom_db, 1) for s in stations
            ],
            "critical": [1 if s.critical else 0 for s in stations],
            "second_m": [
                None if s.redundant is None else round(s.redundant.length_m) for s in stations
            ],
            "flags": [" · ".join(f.render(lang) for f in s.flags) for s in stations],
        },
        "exchanges": [
            {
                "x": grid.q(x.lon, x.lat)[0],
                "y": grid.q(x.lon, x.lat)[1],
                "code": x.code,
                "name": x.name,
                "ports": f"{x.ports_used}/{x.pon_ports}",
                "stations": x.stations,
            }
            for x in plan.exchanges
        ],
    }
    if layer is not None:
        data["review"] = _site_layer(plan, grid, layer)
    return data


def _site_layer(plan: Plan, grid: _Grid, layer: SiteLayer) -> dict[str, Any]:
    index = {s.code: i for i, s in enumerate(plan.stations)}
    cheaper = [c for c in layer.cheaper if c[0] in index]
    at = [grid.q(c[2], c[3]) for c in cheaper]
    return {
        "cls": [layer.cost_class.get(s.code, -1) for s in plan.stations],
        "cost": [
            None if s.code not in layer.marginal_rial else round(layer.marginal_rial[s.code])
            for s in plan.stations
        ],
        "cheaper": {
            "x": [p[0] for p in at],
            "y": [p[1] for p in at],
            "station": [index[c[0]] for c in cheaper],
            "code": [c[1] for c in cheaper],
            "saving": [round(c[4]) for c in cheaper],
        },
    }


def _labels(lang: str) -> dict[str, str]:
    """The map script's texts in ``lang``."""
    keys = {
        "connected": "connected",
        "warning": "connected, with a warning",
        "flagged": "flagged for review",
        "exchange": "exchange",
        "station": "station",
        "school": "school",
        "district": "municipal district",
        "route": "route (m)",
        "loss": "optical loss (dB)",
        "headroom": "headroom (dB)",
        "critical": "critical",
        "second": "second route (m)",
        "ports": "PON ports used",
        "stations": "stations",
        "streets": "streets",
        "yes": "yes",
        "reset": "whole plan",
        "hint": "drag to pan, wheel or buttons to zoom, click a station for details",
        "m": "m",
        "km": "km",
        "cost_0": "marginal cost: lowest quarter",
        "cost_1": "marginal cost: second quarter",
        "cost_2": "marginal cost: third quarter",
        "cost_3": "marginal cost: highest quarter",
        "not_reviewed": "not reviewed",
        "marginal": "marginal cost (million rials)",
        "cheaper": "cheaper building (saving, million rials)",
    }
    out = {k: gettext(v, lang) for k, v in keys.items()}
    for m in METHODS:
        out[f"method_{m}"] = gettext(METHOD_LABELS[m], lang)
    return out


def _context(
    plan: Plan, graph: StreetGraph | None, lang: str, layer: SiteLayer | None = None
) -> dict[str, Any]:
    t = plan.totals
    usd = t.usd_rate or 0.0

    def n(value: float, decimals: int = 0) -> str:
        return format_number(value, lang, decimals=decimals)

    total_bom = sum(b.total_rial for b in plan.bom) or 1.0
    bom = [
        {
            "item": b.render(lang),
            "unit": gettext(b.unit, lang),
            "quantity": n(b.quantity, 0 if float(b.quantity).is_integer() else 1),
            "unit_cost": n(b.unit_cost_rial),
            "total": n(b.total_rial),
            "usd": n(b.total_rial / usd) if usd else "",
            "share": round(100.0 * b.total_rial / total_bom, 1),
            "share_text": n(100.0 * b.total_rial / total_bom, 1),
        }
        for b in plan.bom
    ]
    by_method: dict[str, list[float]] = {}
    for seg in plan.trenches:
        acc = by_method.setdefault(seg.method, [0.0, 0.0, 0.0])
        acc[0] += 1
        acc[1] += seg.length_m
        acc[2] += seg.cost_rial
    methods = [
        {
            "method": m,
            "label": gettext(METHOD_LABELS[m], lang),
            "segments": n(int(by_method[m][0])),
            "km": n(by_method[m][1] / 1000.0, 2),
            "cost": n(by_method[m][2]),
        }
        for m in METHODS
        if m in by_method
    ]
    review = plan.for_review
    limit = 2000
    flagged = [
        {
            "code": s.code,
            "name": s.name,
            "site": s.site,
            "district": n(s.district),
            "status": gettext("connected" if s.status == "connected" else "flagged", lang),
            "warning": s.status == "connected",
            "reasons": [f.render(lang) for f in s.flags],
        }
        for s in review[:limit]
    ]
    totals = [
        ("Stations", n(t.stations)),
        ("Connected", n(t.connected)),
        ("Not connected", n(t.flagged)),
        ("Flagged for review", n(len(review))),
        ("Trench (km)", n(t.trench_m / 1000.0, 1)),
        ("Cable (km)", n(t.cable_m / 1000.0, 1)),
        ("Total cost (million rials)", n(t.cost_rial / 1e6)),
        ("Total cost (US dollars)", n(t.cost_usd)),
        ("of which second routes (million rials)", n(t.redundancy_cost_rial / 1e6)),
    ]
    exchanges = [
        {
            "code": x.code,
            "name": x.name,
            "ports": n(x.pon_ports),
            "used": n(x.ports_used),
            "stations": n(x.stations),
        }
        for x in plan.exchanges
    ]
    attribution = attribution_for(graph)
    return {
        "lang": lang,
        "dir": "rtl" if lang == "fa" else "ltr",
        "title": gettext("Fiber plan for the polling stations", lang),
        "plan_id": plan.id or "",
        "date": format_date(plan.created_at.date(), lang),
        "digest": plan.inputs_digest[:16],
        "totals": [(gettext(label, lang), value) for label, value in totals],
        "total_rial": n(t.cost_rial),
        "total_usd": n(t.cost_usd),
        "usd_rate": n(t.usd_rate),
        "bom": bom,
        "methods": methods,
        "flagged": flagged,
        "flagged_more": max(0, len(review) - limit),
        "flagged_count": n(len(review)),
        "exchanges": exchanges,
        "attribution": attribution,
        "data_json": _html.script_json(map_data(plan, graph, lang, layer)),
        "labels_json": _html.script_json({**_labels(lang), "lang": lang}),
        "t": lambda msgid, **params: tr(msgid, lang, **params),
    }


def render_report(
    plan: Plan, graph: StreetGraph | None = None, lang: str = "fa", layer: SiteLayer | None = None
) -> str:
    """The report as one HTML document (inline CSS and script, no external resources); with
    ``layer``, the site review drawn on its map."""
    template = _html.template("pollnet.plan", "report.html.j2")
    return template.render(**_context(plan, graph, lang, layer))


def write_report(
    plan: Plan,
    path: Path,
    graph: StreetGraph | None = None,
    lang: str = "fa",
    layer: SiteLayer | None = None,
) -> Path:
    """Write :func:`render_report` to ``path`` (UTF-8) and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(plan, graph, lang, layer), encoding="utf-8")
    return path
