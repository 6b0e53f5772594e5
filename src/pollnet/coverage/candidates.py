"""Candidate sites from a file: the education districts' school list, or any list of buildings.

Columns (English or Persian headers, any order): ``code``, ``lat``, ``lon`` and, optional,
``name`` and ``capacity`` (a whole number of voters the building can hold). The file goes
through the registry's readers (CSV in UTF-8 or Windows-1256, XLSX, GeoJSON points) and every
row is checked like a tower file's: all problems are listed (file, row, column) and nothing is
used unless every row is good.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pollnet.coverage.towers import _cell, _position, _Problems
from pollnet.errors import UserError
from pollnet.registry import header_key, read_table
from pollnet.settings import BoundingBox

_HEADERS: Mapping[str, tuple[str, ...]] = {
    "code": ("code", "site", "school", "building", "کد", "کد مدرسه", "کد ساختمان"),
    "name": ("name", "نام", "نام مدرسه"),
    "lat": ("lat", "latitude", "عرض جغرافیایی", "عرض"),
    "lon": ("lon", "lng", "long", "longitude", "طول جغرافیایی", "طول"),
    "capacity": ("capacity", "ظرفیت"),
}
_REQUIRED = ("code", "lat", "lon")
_MAX_TEXT = 64


@dataclass(frozen=True)
class Candidate:
    """A candidate building: its code, name, position (WGS84 degrees) and capacity (voters;
    None when the file does not say)."""

    code: str
    name: str
    lat: float
    lon: float
    capacity: int | None


def read_candidates(path: Path | str, bbox: BoundingBox) -> tuple[Candidate, ...]:
    """The candidates of a file; a :class:`UserError` lists every bad row."""
    table = read_table(path)
    keys = [header_key(h) for h in table.headers]
    where: dict[str, int] = {}
    for name, headers in _HEADERS.items():
        found = [keys.index(header_key(h)) for h in headers if header_key(h) in keys]
        if found:
            where[name] = found[0]
    missing = [name for name in _REQUIRED if name not in where]
    if missing:
        raise UserError.of(
            "missing required columns: {names}", file=table.file, names=", ".join(missing)
        )
    problems = _Problems.of(table)
    seen: dict[str, int] = {}
    found_rows: list[Candidate] = []
    for row, cells in table.rows:
        value = {name: _cell(cells, i) for name, i in where.items()}
        code = value["code"]
        if not code:
            problems.add(row, "code", "a value is required")
        elif len(code) > _MAX_TEXT:
            problems.add(
                row, "code", "must be at most {maximum} characters, not {length}",
                maximum=_MAX_TEXT, length=len(code),
            )  # fmt: skip
        elif code in seen:
            problems.add(
                row, "code", "duplicate code {code}, also in row {rows}", code=code, rows=seen[code]
            )
        else:
            seen[code] = row
        capacity: int | None = None
        text = value.get("capacity", "")
        if text:
            if text.isdigit():
                capacity = int(text)
            else:
                problems.add(
                    row, "capacity", "must be a whole number of 0 or more, not {value}", value=text
                )
        position = _position(value["lat"], value["lon"], bbox, row, problems)
        if position and code:
            found_rows.append(
                Candidate(code, value.get("name", ""), position[0], position[1], capacity)
            )
    problems.raise_any()
    return tuple(found_rows)
