"""Readers for station files: CSV, XLSX and GeoJSON into one plain :class:`Table` of text cells.

Readers only find the header and the cells; meaning and validation come later
(:mod:`pollnet.registry._validate`). Rows are numbered as the user counts them: data rows from 1,
the header not counted; blank rows keep their number but are left out.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pollnet.errors import Location, Problem, UserError
from pollnet.registry._columns import field_of

UTF8 = "UTF-8"
UTF8_BOM = "UTF-8 with BOM"
WINDOWS_1256 = "Windows-1256"

FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".geojson": "geojson", ".json": "geojson"}

# A Windows-1256 file that really is one decodes to text whose non-ASCII characters are nearly
# all Arabic script; binary data, UTF-16 or another code page gives control characters or Latin
# and symbol noise instead.
_MIN_ARABIC_SHARE = 0.8
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
_ASCII = re.compile(r"[\x00-\x7f]+")
_ARABIC_SCRIPT = re.compile(r"[\u0600-\u06ff\u200c-\u200f«»]+")


@dataclass(frozen=True)
class Table:
    """A station file as read: its header and its non-blank data rows, all cells text.

    ``rows`` holds ``(row number, cells)``; ``problems`` holds what the reader already found
    wrong with a row (a GeoJSON feature without a point), by row number.
    """

    file: str
    format: str
    encoding: str | None
    headers: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]
    problems: Mapping[int, tuple[Problem, ...]] = field(default_factory=dict)


def read_table(path: Path | str) -> Table:
    """Read a station file; its format comes from the extension (.csv, .xlsx, .geojson/.json)."""
    path = Path(path)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise UserError.of(
            "unknown file type {suffix}: use .csv, .xlsx or .geojson",
            file=str(path),
            suffix=path.suffix or "-",
        )
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError.of("file not found", file=str(path)) from None
    except OSError as exc:
        raise UserError.of(
            "cannot read the file: {reason}", file=str(path), reason=exc.strerror
        ) from None
    if not data.strip():
        raise UserError.of("the file is empty", file=str(path))
    if kind == "csv":
        return _read_csv(str(path), data)
    if kind == "xlsx":
        return _read_xlsx(str(path), data)
    return _read_geojson(str(path), data)


def decode(data: bytes, file: str) -> tuple[str, str]:
    """``data`` as text and the encoding it was in: UTF-8 (with or without BOM) or Windows-1256."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), UTF8_BOM
        except UnicodeDecodeError:
            pass  # a BOM in front of something else
    elif not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-8"), UTF8
        except UnicodeDecodeError:
            text = data.decode("cp1256", errors="replace")
            if _looks_like_text(text):
                return text, WINDOWS_1256
    raise UserError.of(
        "cannot read the file's encoding: it is not UTF-8, UTF-8 with BOM or Windows-1256 "
        "(save it as CSV UTF-8)",
        file=file,
    )


def _looks_like_text(text: str) -> bool:
    if _CONTROL.search(text):
        return False
    non_ascii = _ASCII.sub("", text)
    if not non_ascii:
        return True
    arabic = len(non_ascii) - len(_ARABIC_SCRIPT.sub("", non_ascii))
    return arabic / len(non_ascii) >= _MIN_ARABIC_SHARE


def _read_csv(file: str, data: bytes) -> Table:
    text, encoding = decode(data, file)
    if not text.strip():
        raise UserError.of("the file is empty", file=file)
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
        rows = tuple(
            (number, tuple(cells))
            for number, cells in enumerate(reader, start=1)
            if "".join(cells).strip()
        )
    except csv.Error as exc:
        raise UserError.of(
            "not a readable CSV file: {reason}", file=file, reason=str(exc)
        ) from None
    return Table(file, "csv", encoding, tuple(header), rows)


def _numbered(rows: Iterable[Iterable[Any]]) -> tuple[tuple[int, tuple[str, ...]], ...]:
    numbered = []
    for number, row in enumerate(rows, start=1):
        cells = tuple(_cell_text(value) for value in row)
        if any(cell.strip() for cell in cells):
            numbered.append((number, cells))
    return tuple(numbered)


def _cell_text(value: Any) -> str:
    """A cell as text; numbers keep every digit they had (``repr`` of floats round-trips)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _read_xlsx(file: str, data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UserError.of(
            "not a readable XLSX file: {reason}", file=file, reason=str(exc) or type(exc).__name__
        ) from None
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise UserError.of("the file is empty", file=file)
        while header and header[-1] is None:
            header = header[:-1]
        return Table(file, "xlsx", None, tuple(_cell_text(v) for v in header), _numbered(rows))
    finally:
        book.close()


def _read_geojson(file: str, data: bytes) -> Table:
    text, _encoding = decode(data, file)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError.of("not valid JSON: {reason}", file=file, reason=exc.msg) from None
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list):
        raise UserError.of("not a GeoJSON FeatureCollection", file=file)
    headers: dict[str, None] = {}
    for feature in features:
        properties = feature.get("properties") if isinstance(feature, dict) else None
        for key in properties or {}:
            if field_of(str(key)) not in ("lat", "lon"):
                headers.setdefault(str(key))
    names = [*headers, "lat", "lon"]
    rows: list[tuple[int, tuple[str, ...]]] = []
    problems: dict[int, tuple[Problem, ...]] = {}
    for number, feature in enumerate(features, start=1):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        properties = properties if isinstance(properties, dict) else {}
        point = _point(feature)
        if point is None:
            problems[number] = (
                Problem(
                    "the feature's geometry must be a Point with [lon, lat] coordinates",
                    {},
                    Location(file, number, "geometry"),
                ),
            )
            point = ("", "")
        cells = [_cell_text(properties.get(key)) for key in headers]
        rows.append((number, (*cells, *point)))
    return Table(file, "geojson", None, tuple(names), tuple(rows), problems)


def _point(feature: Any) -> tuple[str, str] | None:
    """A Point feature's (lat, lon) as text, or None."""
    geometry = feature.get("geometry") if isinstance(feature, dict) else None
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        return None
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list) or len(coordinates) < 2:
        return None
    lon, lat = coordinates[0], coordinates[1]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lon, lat)):
        return None
    return _cell_text(lat), _cell_text(lon)
