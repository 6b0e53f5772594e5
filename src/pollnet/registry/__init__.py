"""The polling-station registry: import station files, validate them, list and export.

Station files are CSV (UTF-8, UTF-8 with BOM or Windows-1256), XLSX or GeoJSON, with English or
Persian headers in any order; see ``docs/stations.md``. Coordinates are WGS84 degrees.
"""

from pollnet.registry._columns import COLUMNS, Column, header_key, map_headers
from pollnet.registry._import import (
    ImportReport,
    default_rejects_path,
    import_stations,
    import_table,
    rules_from,
)
from pollnet.registry._query import export_stations, get_station, list_stations
from pollnet.registry._readers import Table, read_table
from pollnet.registry._records import StationRecord
from pollnet.registry._validate import Rejected, Rules, Validation, validate
from pollnet.registry._values import parse_decimal, parse_flag, parse_int

__all__ = [
    "COLUMNS",
    "Column",
    "ImportReport",
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
    "list_stations",
    "map_headers",
    "parse_decimal",
    "parse_flag",
    "parse_int",
    "read_table",
    "rules_from",
    "validate",
]
