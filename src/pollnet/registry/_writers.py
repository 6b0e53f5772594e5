"""Writers for station files (CSV, XLSX, GeoJSON), other layers, and an import's rejects file.

Exported files read back through :func:`pollnet.registry.read_table` into the same records:
numbers in ASCII digits (floats as their shortest exact ``repr``), critical as yes/no in the
headers' language.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pollnet._cells import CsvWriter, append_row
from pollnet.errors import Location, Problem, UserError
from pollnet.i18n import gettext
from pollnet.registry._columns import COLUMNS, STATION_COLUMNS
from pollnet.registry._readers import FORMATS, Table
from pollnet.registry._records import StationRecord
from pollnet.registry._validate import Rejected


def write_stations(path: Path, records: Sequence[StationRecord], headers: str = "en") -> None:
    """Write ``records`` to ``path`` as CSV (UTF-8 with BOM), XLSX or GeoJSON, by extension."""
    names = STATION_COLUMNS.headers(headers)
    kind = _format_of(path)
    yes_no = (gettext("yes", headers), gettext("no", headers))
    if kind == "geojson":
        _write_geojson(path, names, records, yes_no)
        return
    rows = ([_cells(r, yes_no)[k] for k in (c.key for c in COLUMNS)] for r in records)
    if kind == "xlsx":
        _write_xlsx(path, names, rows)
    else:
        _write_csv(path, names, rows)


def write_layer(
    path: Path,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    geometries: Sequence[Mapping[str, Any]],
    geometry_cells: Sequence[int],
) -> None:
    """Rows as CSV (UTF-8 with BOM) or XLSX as they are, or as GeoJSON features by extension.

    A GeoJSON feature's properties are the row's cells but those at ``geometry_cells`` (the
    ``lat``/``lon`` or the WKT that its ``geometries`` entry, a GeoJSON geometry, replaces).
    """
    kind = _format_of(path)
    if kind == "xlsx":
        _write_xlsx(path, header, rows)
    elif kind == "csv":
        _write_csv(path, header, rows)
    else:
        keep = [i for i in range(len(header)) if i not in geometry_cells]
        features = [
            {
                "type": "Feature",
                "properties": {header[i]: row[i] for i in keep},
                "geometry": dict(geometry),
            }
            for row, geometry in zip(rows, geometries, strict=True)
        ]
        with _create(path, "w", encoding="utf-8") as fh:
            json.dump({"type": "FeatureCollection", "features": features}, fh, ensure_ascii=False)


def _format_of(path: Path) -> str:
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise UserError.of(
            "unknown file type {suffix}: use .csv, .xlsx or .geojson",
            file=str(path),
            suffix=path.suffix or "-",
        )
    return kind


def write_rejects(path: Path, table: Table, rejected: Iterable[Rejected], lang: str) -> None:
    """The rejected rows as read, with a ``reason`` column, as CSV (UTF-8 with BOM, for Excel)."""
    header = [*table.headers, gettext("reason", lang)]
    width = len(table.headers)
    rows = (
        [
            *r.cells[:width],
            *[""] * (width - len(r.cells)),
            "; ".join(_reason(p, lang) for p in r.problems),
        ]
        for r in rejected
    )
    _write_csv(path, header, rows)


def _reason(problem: Problem, lang: str) -> str:
    """A problem without its file and row, which the rejects file's row already tells."""
    return Problem(problem.message, problem.params, Location(column=problem.where.column)).render(
        lang
    )


def _cells(record: StationRecord, yes_no: tuple[str, str]) -> dict[str, Any]:
    s = record
    return {
        "code": s.code,
        "name": s.name,
        "site": s.site,
        "address": s.address,
        "district": s.district,
        "education_district": ""
        if record.education_district is None
        else record.education_district,
        "lat": repr(s.lat),
        "lon": repr(s.lon),
        "voters": s.voters,
        "devices": s.devices,
        "critical": yes_no[0] if s.critical else yes_no[1],
    }


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    with _create(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = CsvWriter(fh)
        writer.writerow(header)
        writer.writerows(rows)


def _write_xlsx(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    append_row(sheet, header)
    for row in rows:
        append_row(sheet, row)
    try:
        book.save(path)
    except OSError as exc:
        raise UserError.of(
            "cannot write the file: {reason}", file=str(path), reason=exc.strerror
        ) from None


def _write_geojson(
    path: Path, names: Sequence[str], records: Sequence[StationRecord], yes_no: tuple[str, str]
) -> None:
    keys = [c.key for c in COLUMNS if c.key not in ("lat", "lon")]
    features = []
    for record in records:
        cells = _cells(record, yes_no)
        cells["education_district"] = record.education_district
        properties = {
            name: cells[c.key] for name, c in zip(names, COLUMNS, strict=True) if c.key in keys
        }
        features.append(
            {
                "type": "Feature",
                "properties": properties,
                "geometry": {
                    "type": "Point",
                    "coordinates": [record.lon, record.lat],
                },
            }
        )
    with _create(path, "w", encoding="utf-8") as fh:
        json.dump({"type": "FeatureCollection", "features": features}, fh, ensure_ascii=False)


def _create(path: Path, mode: str, **kwargs: Any) -> Any:
    try:
        return path.open(mode, **kwargs)
    except OSError as exc:
        raise UserError.of(
            "cannot write the file: {reason}", file=str(path), reason=exc.strerror
        ) from None
