"""Municipal districts: which district each street edge lies in, from district polygons."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from pollnet.errors import UserError
from pollnet.streets.geojson import parse_district, read_geojson_file
from pollnet.streets.graph import StreetGraph
from pollnet.streets.projection import to_lonlat


@dataclass(frozen=True)
class Districts:
    """District polygons in WGS84 degrees, each with its number (1 and up)."""

    number: NDArray[np.int16]
    polygons: NDArray[np.object_]

    def locate(self, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.int16]:
        """The district number of each point (degrees), 0 outside every polygon.

        A point on a shared border or inside overlapping polygons gets the first polygon's
        number, in file order.
        """
        lon_a = np.asarray(lon, dtype=np.float64).ravel()
        lat_a = np.asarray(lat, dtype=np.float64).ravel()
        out = np.zeros(lon_a.size, dtype=np.int16)
        if lon_a.size == 0 or self.number.size == 0:
            return out
        points = shapely.points(lon_a, lat_a)
        tree = shapely.STRtree(self.polygons)
        point_idx, polygon_idx = tree.query(points, predicate="intersects")
        order = np.lexsort((polygon_idx, point_idx))
        point_idx, polygon_idx = point_idx[order], polygon_idx[order]
        first = np.ones(point_idx.size, dtype=bool)
        first[1:] = point_idx[1:] != point_idx[:-1]
        out[point_idx[first]] = self.number[polygon_idx[first]]
        return out


def read_districts(path: str | Path, *, id_property: str | None = "district") -> Districts:
    """District polygons from a GeoJSON file of Polygon/MultiPolygon features.

    ``id_property`` names the property holding each district's number; ``None`` numbers the
    features 1, 2, … in file order. Raises :class:`~pollnet.errors.UserError` naming the file
    and feature (as the row) when a geometry or number is unusable.
    """
    where = str(path)
    numbers: list[int] = []
    polygons = []
    for row, feature in enumerate(read_geojson_file(path), start=1):
        geometry = feature.get("geometry")
        if not isinstance(geometry, dict) or geometry.get("type") not in (
            "Polygon",
            "MultiPolygon",
        ):
            raise UserError.of("a district must be a Polygon or MultiPolygon", file=where, row=row)
        try:
            polygon = shapely.geometry.shape(geometry)
        except (ValueError, TypeError, AttributeError, IndexError) as exc:
            raise UserError.of(
                "not a valid polygon: {reason}", file=where, row=row, reason=str(exc)
            ) from None
        if id_property is None:
            number = row
        else:
            value = (feature.get("properties") or {}).get(id_property)
            number = parse_district(value, where, row, id_property, minimum=1)
        numbers.append(number)
        polygons.append(shapely.make_valid(polygon))
    if not polygons:
        raise UserError.of("no district polygons in this file", file=where)
    return Districts(np.asarray(numbers, dtype=np.int16), np.asarray(polygons, dtype=object))


def assign_districts(graph: StreetGraph, districts: Districts) -> StreetGraph:
    """The graph with each edge's district set from the polygon holding its midpoint.

    Edges whose midpoint lies outside every polygon keep the district they had (0 unless a
    ``district`` property gave one).
    """
    x, y = graph.edge_midpoints()
    lon, lat = to_lonlat(x, y, graph.crs)
    found = districts.locate(lon, lat)
    return graph.replace(edge_district=np.where(found > 0, found, graph.edge_district))
