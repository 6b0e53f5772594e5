"""The basemap from pollnet's own data: streets, area boundaries and school names, clipped to a
map tile and simplified for its zoom, as GeoJSON (so the map needs no tile server).

Tiles follow the web-mercator scheme (``z/x/y``, as OpenStreetMap's); a tile lists the streets of
the classes its zoom shows (main roads from zoom 10, the rest from 15), the boundaries of the
counties, municipalities and districts, and from zoom 15 the schools' names.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import Response

from pollnet.areas.model import AreaSet
from pollnet.streets.graph import StreetGraph
from pollnet.users import Account
from pollnet.web.guard import Web

MAJOR = {"motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link"}
MEDIUM = {"secondary", "secondary_link", "tertiary", "tertiary_link"}
MAX_EDGES = 30_000
"""The most street edges one tile carries (the first ones, main roads first)."""


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """A tile's (west, south, east, north) in degrees."""
    n = 2**z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y)


@dataclass(frozen=True)
class School:
    """A school (a station's site) with its position in degrees."""

    name: str
    lon: float
    lat: float


class Basemap:
    """The streets as polylines in degrees with each edge's box and rank (0 main road,
    1 secondary or tertiary, 2 the rest), the areas' boundaries and the schools."""

    def __init__(
        self, graph: StreetGraph | None, areas: AreaSet, schools: Sequence[School]
    ) -> None:
        if graph is not None and len(graph.edge_u):
            indptr, lon, lat = graph.geometry_lonlat()
            names = np.array(graph.class_names, dtype=object)[graph.edge_class]
            medium = np.where(np.isin(names, list(MEDIUM)), 1, 2)
            rank = np.where(np.isin(names, list(MAJOR)), 0, medium)
            starts = indptr[:-1]
            self.rank: NDArray[np.int64] = rank.astype(np.int64)
            self.indptr = indptr
            self.lon, self.lat = lon, lat
            self.box = np.stack(
                [np.minimum.reduceat(lon, starts), np.minimum.reduceat(lat, starts),
                 np.maximum.reduceat(lon, starts), np.maximum.reduceat(lat, starts)], axis=1,
            )  # fmt: skip
        else:
            self.rank = np.zeros(0, dtype=np.int64)
            self.indptr = np.zeros(1, dtype=np.int64)
            self.lon = self.lat = np.zeros(0)
            self.box = np.zeros((0, 4))
        self.boundaries = [(a.kind.value, a.code, shapely.boundary(a.polygon)) for a in areas]
        self.schools = list(schools)
        self._cache: OrderedDict[tuple[int, int, int], str] = OrderedDict()
        self._lock = threading.Lock()

    def tile(self, z: int, x: int, y: int) -> str:
        """The tile as GeoJSON text (kept for the next viewer; at most 4,096 tiles)."""
        key = (z, x, y)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        text = json.dumps(self.features(z, x, y), separators=(",", ":"), ensure_ascii=False)
        with self._lock:
            self._cache[key] = text
            if len(self._cache) > 4096:
                self._cache.popitem(last=False)
        return text

    def features(self, z: int, x: int, y: int) -> dict[str, Any]:
        """The tile's features: ``kind`` ``major`` / ``street`` lines, an area kind's
        boundary, or ``school`` points with their ``name``."""
        west, south, east, north = tile_bounds(z, x, y)
        pad = (east - west) * 0.02
        rect = (west - pad, south - pad, east + pad, north + pad)
        tolerance = 360 / (256 * 2**z) * 0.7  # about a pixel
        out: list[dict[str, Any]] = []
        limit = 0 if z <= 12 else 1 if z <= 14 else 2
        inside = (
            (self.rank <= limit)
            & (self.box[:, 0] <= rect[2]) & (self.box[:, 2] >= rect[0])
            & (self.box[:, 1] <= rect[3]) & (self.box[:, 3] >= rect[1])
        )  # fmt: skip
        edges = np.nonzero(inside)[0]
        edges = edges[np.argsort(self.rank[edges], kind="stable")][:MAX_EDGES]
        for kind, wanted in (("major", self.rank[edges] == 0), ("street", self.rank[edges] > 0)):
            lines = [
                np.column_stack(
                    (self.lon[self.indptr[e] : self.indptr[e + 1]],
                     self.lat[self.indptr[e] : self.indptr[e + 1]])
                )
                for e in edges[wanted]
            ]  # fmt: skip
            if lines:
                geometry = shapely.multilinestrings(lines)
                out.append(_feature(geometry, rect, tolerance, kind=kind))
        for kind, code, boundary in self.boundaries:
            if shapely.intersects(boundary, shapely.box(*rect)):
                out.append(_feature(boundary, rect, tolerance, kind=kind, code=code))
        if z >= 15:
            for s in self.schools:
                if rect[0] <= s.lon <= rect[2] and rect[1] <= s.lat <= rect[3]:
                    point = {"type": "Point", "coordinates": [round(s.lon, 6), round(s.lat, 6)]}
                    out.append(
                        {"type": "Feature", "properties": {"kind": "school", "name": s.name},
                         "geometry": point}
                    )  # fmt: skip
        return {"type": "FeatureCollection", "features": [f for f in out if f["geometry"]]}


def _feature(
    geometry: Any, rect: tuple[float, float, float, float], tolerance: float, **properties: str
) -> dict[str, Any]:
    clipped = shapely.simplify(shapely.clip_by_rect(geometry, *rect), tolerance)
    clipped = shapely.set_precision(clipped, 1e-6)
    shape = None if shapely.is_empty(clipped) else json.loads(shapely.to_geojson(clipped))
    return {"type": "Feature", "properties": properties, "geometry": shape}


def load_basemap(engine: Engine, street_cache: Path | None) -> Basemap:
    """The basemap of the database's areas and stations' schools and the street cache at
    ``street_cache`` (no streets when there is none)."""
    from pollnet.areas.store import load_areas
    from pollnet.registry import list_stations
    from pollnet.streets.cache import load

    graph = load(street_cache) if street_cache is not None and street_cache.is_file() else None
    seen: dict[tuple[str, str], School] = {}
    for s in list_stations(engine):
        seen.setdefault((s.site, s.address), School(s.site, s.lon, s.lat))
    return Basemap(graph, load_areas(engine), list(seen.values()))


async def tile_view(web: Web, request: Request, account: Account) -> Response:
    """``GET /api/basemap/{z}/{x}/{y}``: one tile of the basemap as GeoJSON."""
    z, x, y = (int(request.path_params[k]) for k in ("z", "x", "y"))
    if not (0 <= z <= 20 and 0 <= x < 2**z and 0 <= y < 2**z):
        return Response(status_code=404)
    kept = web.state.get("basemap")
    if isinstance(kept, Basemap):
        found = kept
    else:
        found = await asyncio.to_thread(load_basemap, web.engine, web.settings.street_cache)
        web.state["basemap"] = found
    text = await asyncio.to_thread(found.tile, z, x, y)
    headers = {"Cache-Control": "private, max-age=3600"}
    return Response(text, media_type="application/geo+json", headers=headers)
