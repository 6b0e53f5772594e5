"""The polling-station registry: import station files, validate them, list and export.

Station files are CSV (UTF-8, UTF-8 with BOM or Windows-1256), XLSX or GeoJSON, with English or
Persian headers in any order; see ``docs/stations.md``. Coordinates are WGS84 degrees. Candidate
buildings (school lists, or schools from an OpenStreetMap extract) go through the same checks:
:func:`read_candidates`.
"""

from pollnet.registry._buildings import read_candidates, write_candidates
from pollnet.registry._candidates import CANDIDATE_COLUMNS, Candidate, validate_candidates
from pollnet.registry._columns import (
    COLUMNS,
    HEADER_LANGUAGES,
    STATION_COLUMNS,
    Column,
    Columns,
    header_key,
    map_headers,
)
from pollnet.registry._import import (
    ImportReport,
    default_rejects_path,
    import_stations,
    import_table,
    rules_from,
    settle,
)
from pollnet.registry._osm import (
    DEFAULT_OSM_TAGS,
    OsmCandidates,
    is_osm_file,
    osm_tags,
    read_osm_candidates,
)
from pollnet.registry._query import export_stations, get_station, list_stations
from pollnet.registry._read import read_table
from pollnet.registry._readers import GeometryKind, Table
from pollnet.registry._records import StationRecord
from pollnet.registry._validate import Checks, Rejected, Rules, Validation, validate
from pollnet.registry._values import parse_decimal, parse_flag, parse_int
from pollnet.registry._writers import write_layer

__all__ = [
    "CANDIDATE_COLUMNS",
    "COLUMNS",
    "DEFAULT_OSM_TAGS",
    "HEADER_LANGUAGES",
    "STATION_COLUMNS",
    "Candidate",
    "Checks",
    "Column",
    "Columns",
    "GeometryKind",
    "ImportReport",
    "OsmCandidates",
    "Rejected",
    "Rules",
    "StationRecord",
    "Table",
    "Validation",
    "default_rejects_path",
    "export_stations",
    "get_station",
    "header_key",
    "import_stations",
    "import_table",
    "is_osm_file",
    "list_stations",
    "map_headers",
    "osm_tags",
    "parse_decimal",
    "parse_flag",
    "parse_int",
    "read_candidates",
    "read_osm_candidates",
    "read_table",
    "rules_from",
    "settle",
    "validate",
    "validate_candidates",
    "write_candidates",
    "write_layer",
]
