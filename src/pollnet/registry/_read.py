"""Reading a station, exchange or fiber file of any supported format into one :class:`Table`.

The format comes from the file's extension; the readers themselves are in
:mod:`pollnet.registry._readers` (CSV, XLSX, GeoJSON) and :mod:`pollnet.registry._geopackage`.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from pollnet.errors import UserError
from pollnet.registry._columns import STATION_COLUMNS, Columns
from pollnet.registry._geopackage import read_geopackage
from pollnet.registry._readers import (
    FORMATS,
    LIMITS,
    GeometryKind,
    Limits,
    Table,
    megabytes,
    read_csv,
    read_geojson,
    read_xlsx,
)


def read_table(
    path: Path | str,
    limits: Limits = LIMITS,
    columns: Columns = STATION_COLUMNS,
    geometry: GeometryKind = "point",
) -> Table:
    """Read a file; its format comes from the extension (.csv, .xlsx, .geojson/.json, .gpkg).

    A file larger than ``limits`` allows is refused before it is read. ``columns`` are the
    fields the file's kind knows (a map layer's own ``lat``/``lon`` properties give way to its
    geometry); ``geometry`` is what a map layer's features must be.
    """
    path = Path(path)
    file = str(path)
    kind = "geopackage" if path.suffix.lower() == ".gpkg" else FORMATS.get(path.suffix.lower())
    if kind is None:
        raise UserError.of(
            "unknown file type {suffix}: use .csv, .xlsx, .geojson or .gpkg",
            file=file,
            suffix=path.suffix or "-",
        )
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if size < 4096 and not path.read_bytes().strip():
            raise UserError.of("the file is empty", file=file)
        if size > limits.max_bytes:
            raise UserError.of(
                "the file is {size} MB; at most {limit} MB can be read",
                file=file,
                size=megabytes(size),
                limit=megabytes(limits.max_bytes),
            )
        if kind == "csv":
            return read_csv(file, path, limits)
        if kind == "xlsx":
            return read_xlsx(file, path, limits)
        if kind == "geopackage":
            return read_geopackage(file, path.read_bytes(), limits, columns, geometry)
        return read_geojson(file, path.read_bytes(), limits, columns, geometry)
    except FileNotFoundError:
        raise UserError.of("file not found", file=file) from None
    except OSError as exc:
        raise UserError.of(
            "cannot read the file: {reason}", file=file, reason=exc.strerror or str(exc)
        ) from None
