"""Exchange and fiber files for the tests: the documented samples and a GeoPackage writer."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pollnet.plan.export import geometry_blob

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"


def write_geopackage(
    path: Path,
    kind: str,
    fields: Sequence[str],
    features: Sequence[tuple[Sequence[tuple[float, float]] | None, Sequence[Any]]],
    srs_id: int = 4326,
) -> Path:
    """One feature layer ``layer`` (``kind`` POINT or LINESTRING) with text ``fields``; a
    feature whose coordinates are None gets a NULL geometry."""
    db = sqlite3.connect(path)
    with db:
        db.executescript(
            """
            CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT, srs_id INTEGER PRIMARY KEY,
                organization TEXT, organization_coordsys_id INTEGER, definition TEXT);
            CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT,
                identifier TEXT, srs_id INTEGER);
            CREATE TABLE gpkg_geometry_columns (table_name TEXT, column_name TEXT,
                geometry_type_name TEXT, srs_id INTEGER, z INTEGER, m INTEGER);
            """
        )
        db.executemany(
            "INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, 'x')",
            [("WGS 84", 4326, "EPSG", 4326), ("UTM 39N", 32639, "EPSG", 32639)],
        )
        db.execute("INSERT INTO gpkg_contents VALUES ('layer', 'features', 'layer', ?)", (srs_id,))
        db.execute(
            "INSERT INTO gpkg_geometry_columns VALUES ('layer', 'geom', ?, ?, 0, 0)",
            (kind, srs_id),
        )
        columns = ", ".join(f'"{f}" TEXT' for f in fields)
        db.execute(f"CREATE TABLE layer (fid INTEGER PRIMARY KEY, geom BLOB, {columns})")
        marks = ", ".join("?" for _ in range(len(fields) + 1))
        db.executemany(
            f"INSERT INTO layer (geom, {', '.join(repr(f) for f in fields)}) VALUES ({marks})",
            [
                (None if coords is None else geometry_blob(kind, coords), *values)  # type: ignore[arg-type]
                for coords, values in features
            ],
        )
    db.close()
    return path
