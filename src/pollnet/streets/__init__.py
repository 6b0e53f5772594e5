"""The street network: OpenStreetMap/GeoJSON import, the CSR street graph, snapping, caching.

Coordinates: WGS84 degrees in and out (``lon``/``lat``), metres in the local UTM zone inside
(``x``/``y``, the graph's ``crs``); lengths in metres.

>>> graph = read("tehran.osm.pbf")                    # doctest: +SKIP
>>> snaps = snap(graph, lon, lat, roots=is_exchange)  # doctest: +SKIP
>>> graph2, node_of_point = split_edges(graph, snaps)  # doctest: +SKIP
"""

from __future__ import annotations

from pollnet.streets.arrays import from_arrays, from_city
from pollnet.streets.cache import load, save
from pollnet.streets.classes import DEFAULT_CLASSES, HIGHWAY_CLASSES
from pollnet.streets.config import StreetsConfig, default_cache_path, outside_area
from pollnet.streets.districts import Districts, assign_districts, read_districts
from pollnet.streets.fragments import Fragments, fragments
from pollnet.streets.geojson import read_geojson
from pollnet.streets.graph import Adjacency, StreetGraph
from pollnet.streets.osm import read_osm
from pollnet.streets.read import read
from pollnet.streets.report import ImportReport
from pollnet.streets.snap import (
    DEFAULT_MAX_DROP_M,
    FLAG_REASONS,
    INVALID,
    TOO_FAR,
    UNREACHABLE,
    Snaps,
    snap,
    split_edges,
)

__all__ = [
    "DEFAULT_CLASSES",
    "DEFAULT_MAX_DROP_M",
    "FLAG_REASONS",
    "HIGHWAY_CLASSES",
    "INVALID",
    "TOO_FAR",
    "UNREACHABLE",
    "Adjacency",
    "Districts",
    "Fragments",
    "ImportReport",
    "Snaps",
    "StreetGraph",
    "StreetsConfig",
    "assign_districts",
    "default_cache_path",
    "fragments",
    "from_arrays",
    "from_city",
    "load",
    "outside_area",
    "read",
    "read_districts",
    "read_geojson",
    "read_osm",
    "save",
    "snap",
    "split_edges",
]
