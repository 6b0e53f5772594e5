"""One entry point for every street file format."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from pollnet.errors import UserError
from pollnet.streets.classes import DEFAULT_CLASSES
from pollnet.streets.districts import Districts, assign_districts, read_districts
from pollnet.streets.geojson import read_geojson
from pollnet.streets.graph import StreetGraph
from pollnet.streets.osm import Progress, read_osm

OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz", ".osm.xml")
GEOJSON_SUFFIXES = (".geojson", ".json")


def read(
    path: str | Path,
    *,
    classes: Collection[str] = DEFAULT_CLASSES,
    districts: str | Path | Districts | None = None,
    district_property: str = "district",
    progress: Progress | None = None,
) -> StreetGraph:
    """The street graph of an OpenStreetMap or GeoJSON file, chosen by the file's suffix.

    ``districts`` (district polygons, or a GeoJSON file of them with a ``district_property``
    number) sets each edge's municipal district from the polygon holding its midpoint; without
    it districts come from a GeoJSON ``district_property``, else stay 0.
    """
    path = Path(path)
    name = path.name.lower()
    if name.endswith(OSM_SUFFIXES):
        graph = read_osm(path, classes=classes, progress=progress)
    elif name.endswith(GEOJSON_SUFFIXES):
        graph = read_geojson(path, classes=classes, district_property=district_property)
    else:
        raise UserError.of(
            "unknown street file type (use {suffixes})",
            file=str(path),
            suffixes=", ".join(OSM_SUFFIXES + GEOJSON_SUFFIXES),
        )
    if districts is not None:
        if not isinstance(districts, Districts):
            districts = read_districts(districts, id_property=district_property)
        graph = assign_districts(graph, districts)
    return graph
