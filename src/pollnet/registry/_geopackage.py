"""Reading a GeoPackage's feature layer into a :class:`Table` (stdlib :mod:`sqlite3`, shapely).

A GeoPackage is an SQLite file (OGC GeoPackage 1.2/1.3): ``gpkg_contents`` names its layers,
``gpkg_geometry_columns`` each layer's geometry column, and a geometry is a GeoPackageBinary
blob (a ``GP`` header, an optional envelope, then WKB). The file must hold one feature layer in
WGS84 longitude/latitude (EPSG:4326, or the spec's undefined geographic system 0).
"""

from __future__ import annotations

import sqlite3
import struct
from typing import Any

from pollnet.errors import UserError
from pollnet.registry._columns import Columns
from pollnet.registry._readers import (
    GEOMETRY_CELLS,
    GeometryKind,
    Limits,
    Table,
    _cell_text,
    _Rows,
    line_cells,
)

_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_WGS84 = (4326, 0)


def read_geopackage(
    file: str, data: bytes, limits: Limits, columns: Columns, geometry: GeometryKind
) -> Table:
    """The one feature layer of the GeoPackage ``data`` (read from ``file``) as a table."""
    db = sqlite3.connect(":memory:")
    try:
        try:
            db.deserialize(data)
            layers = db.execute(
                "SELECT c.table_name, g.column_name, g.srs_id FROM gpkg_contents c "
                "JOIN gpkg_geometry_columns g ON g.table_name = c.table_name "
                "WHERE c.data_type = 'features' ORDER BY c.table_name"
            ).fetchall()
        except sqlite3.Error as exc:
            raise UserError.of(
                "not a readable GeoPackage file: {reason}", file=file, reason=str(exc)
            ) from None
        if len(layers) != 1:
            raise UserError.of(
                "the GeoPackage must hold one feature layer, not {count} ({names})",
                file=file,
                count=len(layers),
                names=", ".join(str(name) for name, _, _ in layers) or "-",
            )
        layer, geometry_column, srs_id = layers[0]
        if _epsg(db, srs_id) not in _WGS84:
            raise UserError.of(
                "the layer {layer} is not in WGS84 longitude/latitude (EPSG:4326): reproject it",
                file=file,
                layer=layer,
            )
        return _table(db, file, layer, geometry_column, limits, columns, geometry)
    finally:
        db.close()


def _epsg(db: sqlite3.Connection, srs_id: int) -> int | None:
    row = db.execute(
        "SELECT organization, organization_coordsys_id FROM gpkg_spatial_ref_sys WHERE srs_id = ?",
        (srs_id,),
    ).fetchone()
    if row is None:
        return None
    organization, number = row
    if srs_id == 0 or str(organization).upper() == "EPSG":
        return int(number)
    return None


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table(
    db: sqlite3.Connection,
    file: str,
    layer: str,
    geometry_column: str,
    limits: Limits,
    columns: Columns,
    geometry: GeometryKind,
) -> Table:
    info = db.execute(f"PRAGMA table_info({_quoted(layer)})").fetchall()
    own = GEOMETRY_CELLS[geometry]
    names = [
        str(row[1])
        for row in info
        if row[1] != geometry_column and columns.field_of(str(row[1])) not in own
    ]
    select = ", ".join(_quoted(n) for n in [*names, geometry_column])
    rows = _Rows(file, [*names, *own], limits)
    query = f"SELECT {select} FROM {_quoted(layer)} ORDER BY rowid"
    for number, values in enumerate(db.execute(query), start=1):
        shape = _shape(values[-1])
        place: tuple[str, ...] | None = (
            line_cells(shape) if geometry == "line" else _point_cells(shape)
        )
        rows.add_feature(number, [_cell_text(v) for v in values[:-1]], place, geometry)
    return rows.table("geopackage", None)


def _shape(blob: Any) -> Any:
    """A GeoPackageBinary geometry as a shapely geometry; None when empty or unreadable."""
    if not isinstance(blob, bytes) or len(blob) < 8 or blob[:2] != b"GP":
        return None
    flags = blob[3]
    envelope = _ENVELOPE_BYTES.get((flags >> 1) & 0b111)
    if envelope is None or flags & 0b10000:  # an unknown envelope, or the empty flag
        return None
    from shapely import wkb
    from shapely.errors import ShapelyError

    try:
        return wkb.loads(blob[8 + envelope :])
    except (ShapelyError, ValueError, TypeError, struct.error):
        return None


def _point_cells(shape: Any) -> tuple[str, str] | None:
    if shape is None or shape.geom_type != "Point" or shape.is_empty:
        return None
    return _cell_text(shape.y), _cell_text(shape.x)
