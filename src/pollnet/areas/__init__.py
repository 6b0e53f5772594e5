"""Administrative areas: counties, municipalities, municipal and education districts as
polygons, and which of them each station, exchange and street lies in.

>>> found = read_areas("counties.geojson", kind="county")      # doctest: +SKIP
>>> report = import_areas(engine, found, street_cache=cache)    # doctest: +SKIP
"""

from __future__ import annotations

from pollnet.areas.assign import (
    Mismatch,
    PointAreas,
    StreetAreas,
    assign_points,
    assign_streets,
    edge_areas,
)
from pollnet.areas.model import KINDS, Area, AreaKind, AreaSet
from pollnet.areas.read import read_areas
from pollnet.areas.store import (
    EXCHANGE,
    STATION,
    AreasImport,
    area_filters,
    codes_in,
    export_areas,
    get_area,
    import_areas,
    links,
    load_areas,
    refresh_exchanges,
    refresh_stations,
    resolve,
    update_street_cache,
)

__all__ = [
    "EXCHANGE",
    "KINDS",
    "STATION",
    "Area",
    "AreaKind",
    "AreaSet",
    "AreasImport",
    "Mismatch",
    "PointAreas",
    "StreetAreas",
    "area_filters",
    "assign_points",
    "assign_streets",
    "codes_in",
    "edge_areas",
    "export_areas",
    "get_area",
    "import_areas",
    "links",
    "load_areas",
    "read_areas",
    "refresh_exchanges",
    "refresh_stations",
    "resolve",
    "update_street_cache",
]
