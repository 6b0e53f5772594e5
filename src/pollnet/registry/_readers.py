"""Readers for imported files: CSV, XLSX, GeoJSON and GeoPackage into one :class:`Table` of text.

Readers only find the header and the cells; meaning and validation come later
(:mod:`pollnet.registry._validate`). Rows are numbered as the user counts them: data rows from 1,
the header not counted; blank rows keep their number but are left out. A map layer's geometry
becomes cells too: a point's ``lat`` and ``lon``, a line's ``geometry`` as WKT (WGS84 lon/lat).
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pollnet._cells import unquote_cell
from pollnet.errors import Location, Problem, UserError
from pollnet.registry._columns import Columns

UTF8 = "UTF-8"
UTF8_BOM = "UTF-8 with BOM"
WINDOWS_1256 = "Windows-1256"

GeometryKind = Literal["point", "line"]
"""What a map layer's features are: points (stations, exchanges) or lines (fiber)."""
GEOMETRY_CELLS: dict[GeometryKind, tuple[str, ...]] = {
    "point": ("lat", "lon"),
    "line": ("geometry",),
}
_GEOMETRY_MESSAGES: dict[GeometryKind, str] = {
    "point": "the feature's geometry must be a Point with [lon, lat] coordinates",
    "line": "the feature's geometry must be a LineString or MultiLineString with [lon, lat] "
    "coordinates",
}

FORMATS = {
    ".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".geojson": "geojson",
    ".json": "geojson",
}  # fmt: skip

# A Windows-1256 file that really is one decodes to text whose non-ASCII characters are nearly
# all Arabic script; binary data, UTF-16 or another code page gives control characters or Latin
# and symbol noise instead.
_MIN_ARABIC_SHARE = 0.8
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
_ASCII = re.compile(r"[\x00-\x7f]+")
_ARABIC_SCRIPT = re.compile(r"[\u0600-\u06ff\u200c-\u200f«»]+")
# Characters no cell may hold: a database (PostgreSQL) refuses NUL, and the others are never
# typed on purpose. Tab, line feed and carriage return are ordinary in quoted CSV cells.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Limits:
    """What a reader takes in at most, so that no file can exhaust the machine's memory.

    ``max_bytes`` caps the file's size, ``max_unpacked_bytes`` what an XLSX file (a zip archive)
    unpacks to, ``max_columns`` the header's columns; cells beyond the header are not read.
    """

    max_bytes: int = 256 * 2**20
    max_unpacked_bytes: int = 1024 * 2**20
    max_columns: int = 256


LIMITS = Limits()


@dataclass(frozen=True)
class Table:
    """A station file as read: its header and its non-blank data rows, all cells text.

    ``rows`` holds ``(row number, cells)``, each row exactly as wide as the header (short rows
    padded with empty cells, cells beyond the header left out); ``problems`` holds what the
    reader already found wrong with a row (a GeoJSON feature without a point, a control
    character, cells beyond the header), by row number.
    """

    file: str
    format: str
    encoding: str | None
    headers: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]
    problems: Mapping[int, tuple[Problem, ...]] = field(default_factory=dict)


def megabytes(size: int) -> str:
    """``size`` bytes in MB for a message: one decimal, none when whole."""
    return f"{size / 2**20:.1f}".removesuffix(".0")


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
    raise _unknown_encoding(file)


def _unknown_encoding(file: str) -> UserError:
    return UserError.of(
        "cannot read the file's encoding: it is not UTF-8, UTF-8 with BOM or Windows-1256 "
        "(save it as CSV UTF-8)",
        file=file,
    )


def _looks_like_text(text: str) -> bool:
    return _TextShare().add(text).looks_like_text()


@dataclass
class _TextShare:
    """Counts over text decoded as Windows-1256, line by line: is it really Arabic script?"""

    control: bool = False
    non_ascii: int = 0
    arabic: int = 0

    def add(self, text: str) -> _TextShare:
        self.control = self.control or _CONTROL.search(text) is not None
        non_ascii = _ASCII.sub("", text)
        self.non_ascii += len(non_ascii)
        self.arabic += len(non_ascii) - len(_ARABIC_SCRIPT.sub("", non_ascii))
        return self

    def looks_like_text(self) -> bool:
        if self.control:
            return False
        return not self.non_ascii or self.arabic / self.non_ascii >= _MIN_ARABIC_SHARE


def read_csv(file: str, path: Path, limits: Limits) -> Table:
    """Stream the file's rows: UTF-8 (with or without BOM) first, then Windows-1256."""
    with path.open("rb") as raw:
        start = raw.read(3)
    if start.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _unknown_encoding(file)
    bom = start == b"\xef\xbb\xbf"
    try:
        return _read_csv_as(file, path, limits, "utf-8-sig", UTF8_BOM if bom else UTF8)
    except UnicodeDecodeError:
        if bom:
            raise _unknown_encoding(file) from None
    share = _TextShare()
    table = _read_csv_as(file, path, limits, "cp1256", WINDOWS_1256, share)
    if not share.looks_like_text():
        raise _unknown_encoding(file)
    return table


def _read_csv_as(
    file: str, path: Path, limits: Limits, codec: str, encoding: str,
    share: _TextShare | None = None,
) -> Table:  # fmt: skip
    with path.open(encoding=codec, errors="replace" if share else "strict", newline="") as fh:
        lines = iter(fh) if share is None else _counted(fh, share)
        first = next((line for line in lines if line.strip()), None)
        if first is None:
            raise UserError.of("the file is empty", file=file)
        delimiter = max(",;\t", key=first.count)
        reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter)
        try:
            header = next(reader)
            rows = _Rows(file, header, limits)
            for number, cells in enumerate(reader, start=1):
                rows.add(number, cells)
        except csv.Error as exc:
            raise UserError.of(
                "not a readable CSV file: {reason}", file=file, reason=str(exc)
            ) from None
    return rows.table("csv", encoding)


def _counted(lines: Iterable[str], share: _TextShare) -> Iterator[str]:
    for line in lines:
        share.add(line)
        yield line


class _Rows:
    """A table's rows as they are read: blank rows left out, each row as wide as the header."""

    def __init__(self, file: str, header: Sequence[str], limits: Limits) -> None:
        if len(header) > limits.max_columns:
            raise UserError.of(
                "the header has {columns} columns; at most {limit} can be read",
                file=file,
                columns=len(header),
                limit=limits.max_columns,
            )
        self.file = file
        self.headers = tuple(header)
        self.width = len(header)
        self.rows: list[tuple[int, tuple[str, ...]]] = []
        self.problems: dict[int, list[Problem]] = {}

    def add(self, number: int, cells: Sequence[str]) -> None:
        """Keep row ``number`` unless it is blank; note cells beyond the header and control
        characters as the row's problems."""
        width = self.width
        if len(cells) > width:
            if any(c.strip() for c in cells[width:]):
                self.problem(
                    number, None, "the row has {cells} cells but the header has {headers}",
                    cells=len(cells), headers=width,
                )  # fmt: skip
            cells = cells[:width]
        if not any(c.strip() for c in cells):
            return
        cells = [unquote_cell(c) if c[:1] == "'" else c for c in cells]
        bad = [i for i, c in enumerate(cells) if _FORBIDDEN.search(c)]
        for i in bad:
            self.problem(
                number, self.headers[i] if i < width else None,
                "the cell contains a control character ({code})",
                code=f"U+{ord(_FORBIDDEN.findall(cells[i])[0]):04X}",
            )  # fmt: skip
        if len(cells) < width:
            cells = (*cells, *[""] * (width - len(cells)))
        self.rows.append((number, tuple(cells)))

    def add_feature(
        self,
        number: int,
        cells: Sequence[str],
        place: Sequence[str] | None,
        geometry: GeometryKind,
    ) -> None:
        """A map feature's row: its properties' ``cells``, then its geometry's cells
        (``place``), or empty ones and a problem when the geometry is missing or wrong."""
        if place is None:
            self.problem(number, "geometry", _GEOMETRY_MESSAGES[geometry])
            place = ("",) * len(GEOMETRY_CELLS[geometry])
        self.add(number, [*cells, *place])

    def problem(self, number: int, column: str | None, message: str, **params: Any) -> None:
        where = Location(self.file, number, column)
        self.problems.setdefault(number, []).append(Problem(message, params, where))

    def table(self, kind: str, encoding: str | None) -> Table:
        problems = {n: tuple(p) for n, p in self.problems.items()}
        return Table(self.file, kind, encoding, self.headers, tuple(self.rows), problems)


def _cell_text(value: Any) -> str:
    """A cell as text; numbers keep every digit they had (``repr`` of floats round-trips),
    a date at midnight is written ``YYYY-MM-DD``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    return str(value)


def read_xlsx(file: str, path: Path, limits: Limits) -> Table:
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    # NotImplementedError: a zip version or compression that Python cannot read.
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, NotImplementedError) as exc:
        raise _unreadable_xlsx(file, exc) from None
    if unpacked > limits.max_unpacked_bytes:
        raise UserError.of(
            "the XLSX file unpacks to {size} MB; at most {limit} MB can be read",
            file=file,
            size=megabytes(unpacked),
            limit=megabytes(limits.max_unpacked_bytes),
        )
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise _unreadable_xlsx(file, exc) from None
    try:
        sheet = book.worksheets[0]
        # Never the sheet's own idea of its width: one cell in column XFD makes every row
        # 16,384 cells wide.
        header_cells = next(sheet.iter_rows(max_col=limits.max_columns + 1, values_only=True), None)
        if header_cells is None:
            raise UserError.of("the file is empty", file=file)
        header = list(header_cells)
        while header and header[-1] is None:
            header.pop()
        rows = _Rows(file, [_cell_text(v) for v in header], limits)
        if rows.width:
            data = sheet.iter_rows(min_row=2, max_col=rows.width, values_only=True)
            for number, cells in enumerate(data, start=1):
                rows.add(number, [_cell_text(v) for v in cells])
        return rows.table("xlsx", None)
    except UserError:
        raise
    except Exception as exc:  # a broken sheet shows only while its rows are read
        raise _unreadable_xlsx(file, exc) from None
    finally:
        book.close()


def _unreadable_xlsx(file: str, exc: BaseException) -> UserError:
    return UserError.of(
        "not a readable XLSX file: {reason}",
        file=file,
        reason=(str(exc) or type(exc).__name__)[:200],
    )


def read_geojson(
    file: str, data: bytes, limits: Limits, columns: Columns, geometry: GeometryKind
) -> Table:
    text, _encoding = decode(data, file)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError.of("not valid JSON: {reason}", file=file, reason=exc.msg) from None
    except RecursionError:
        raise UserError.of("not valid JSON: nested too deeply", file=file) from None
    except ValueError:  # a number with more digits than Python converts (4,300)
        raise UserError.of("not valid JSON: a number has too many digits", file=file) from None
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list):
        raise UserError.of("not a GeoJSON FeatureCollection", file=file)
    own = GEOMETRY_CELLS[geometry]
    headers: dict[str, None] = {}
    for feature in features:
        properties = feature.get("properties") if isinstance(feature, dict) else None
        for key in properties if isinstance(properties, dict) else ():
            if columns.field_of(str(key)) not in own:
                headers.setdefault(str(key))
    rows = _Rows(file, [*headers, *own], limits)
    for number, feature in enumerate(features, start=1):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        properties = properties if isinstance(properties, dict) else {}
        place: tuple[str, ...] | None
        if geometry == "point":
            place = _point(feature)
        else:
            shape = shape_of(feature.get("geometry") if isinstance(feature, dict) else None)
            place = line_cells(shape)
        cells = [_cell_text(properties.get(key)) for key in headers]
        rows.add_feature(number, cells, place, geometry)
    return rows.table("geojson", None)


def shape_of(geometry: Any) -> Any:
    """A GeoJSON geometry object as a shapely geometry, or None when it is not a valid one."""
    if not isinstance(geometry, dict):
        return None
    from shapely.errors import ShapelyError
    from shapely.geometry import shape

    try:
        return shape(geometry)
    except (ShapelyError, ValueError, TypeError, KeyError, AttributeError, IndexError):
        return None


def line_cells(geometry: Any) -> tuple[str] | None:
    """A (multi)line's 2-D WKT as the one ``geometry`` cell; None for anything else."""
    import shapely

    if geometry is None or geometry.geom_type not in ("LineString", "MultiLineString"):
        return None
    if geometry.is_empty:
        return None
    return (shapely.to_wkt(shapely.force_2d(geometry), rounding_precision=-1),)


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
