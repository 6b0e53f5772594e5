"""GeoPackage (OGC, a SQLite file) features: read and write, with no GDAL.

Only what area files need: every feature table's rows as (properties, shapely geometry) in
WGS84 (EPSG:4326), and a writer of one feature table.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Mapping, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import shapely

from pollnet.errors import UserError

_WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],'
    'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]'
)
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def read_features(path: Path) -> list[tuple[dict[str, Any], Any, str | None]]:
    """Every feature of every feature table, in table then ``fid`` order, as
    ``(properties, geometry or None, problem or None)``; a geometry that cannot be decoded
    comes back as None with the reason."""
    if not path.is_file():
        raise UserError.of("file not found", file=str(path))
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            tables = db.execute(
                "SELECT c.table_name, g.column_name, g.srs_id FROM gpkg_contents c "
                "JOIN gpkg_geometry_columns g ON g.table_name = c.table_name "
                "WHERE c.data_type = 'features' ORDER BY c.table_name"
            ).fetchall()
            out: list[tuple[dict[str, Any], Any, str | None]] = []
            for table, column, srs_id in tables:
                _check_srs(db, path, int(srs_id))
                cursor = db.execute(f'SELECT * FROM "{table}"')
                names = [d[0] for d in cursor.description]
                for row in cursor:
                    values = dict(zip(names, row, strict=True))
                    blob = values.pop(column)
                    values.pop("fid", None)
                    geometry, problem = _decode(blob)
                    out.append((values, geometry, problem))
            return out
    except sqlite3.DatabaseError as exc:
        raise UserError.of("not a GeoPackage: {reason}", file=str(path), reason=str(exc)) from None


def _check_srs(db: sqlite3.Connection, path: Path, srs_id: int) -> None:
    row = db.execute(
        "SELECT organization, organization_coordsys_id FROM gpkg_spatial_ref_sys WHERE srs_id = ?",
        (srs_id,),
    ).fetchone()
    if row is None or str(row[0]).upper() != "EPSG" or int(row[1]) != 4326:
        raise UserError.of(
            "coordinates must be WGS84 longitude/latitude (EPSG:4326), not {srs}",
            file=str(path),
            srs=f"{row[0]}:{row[1]}" if row else str(srs_id),
        )


def _decode(blob: Any) -> tuple[Any, str | None]:
    """A shapely geometry from a GeoPackage geometry blob, or None and why not."""
    if blob is None:
        return None, "no geometry"
    data = bytes(blob)
    if len(data) < 8 or data[:2] != b"GP":
        return None, "not a GeoPackage geometry"
    flags = data[3]
    envelope = _ENVELOPE_BYTES.get((flags >> 1) & 0x07)
    if envelope is None:
        return None, "not a GeoPackage geometry"
    if flags & 0x10:
        return None, "an empty geometry"
    try:
        return shapely.from_wkb(data[8 + envelope :]), None
    except shapely.errors.GEOSException as exc:
        return None, str(exc)


def write_features(
    path: Path,
    table: str,
    columns: Sequence[str],
    features: Sequence[tuple[Mapping[str, Any], Any]],
) -> None:
    """Write one feature table of ``features`` ((properties, shapely geometry) in WGS84) to a
    new GeoPackage at ``path``; the properties named in ``columns`` become text or number
    columns."""
    path.unlink(missing_ok=True)
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA application_id = 1196444487")  # 'GPKG'
        db.execute("PRAGMA user_version = 10300")
        db.executescript(
            """
            CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
              organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
              definition TEXT NOT NULL, description TEXT);
            CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT NOT NULL,
              identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME,
              min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER);
            CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
              geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL,
              m TINYINT NOT NULL, PRIMARY KEY (table_name, column_name));
            """
        )
        db.execute(
            "INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84', 4326, 'EPSG', 4326, ?, '')",
            (_WGS84_WKT,),
        )
        cols = ", ".join(f'"{c}"' for c in columns)
        defs = "".join(f', "{c}"' for c in columns)
        db.execute(
            f'CREATE TABLE "{table}" (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom BLOB{defs})'
        )
        db.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
            "VALUES (?, 'features', ?, 4326)",
            (table, table),
        )
        db.execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', 'GEOMETRY', 4326, 0, 0)",
            (table,),
        )
        marks = ", ".join("?" for _ in range(len(columns) + 1))
        db.executemany(
            f'INSERT INTO "{table}" (geom{", " if columns else ""}{cols}) VALUES ({marks})',
            [
                (_encode(geometry), *(properties.get(c) for c in columns))
                for properties, geometry in features
            ],
        )
        db.commit()


def _encode(geometry: Any) -> bytes | None:
    if geometry is None:
        return None
    header = b"GP" + bytes([0, 0x01]) + struct.pack("<i", 4326)  # little endian, no envelope
    wkb: bytes = shapely.to_wkb(geometry, byte_order=1)
    return header + wkb
