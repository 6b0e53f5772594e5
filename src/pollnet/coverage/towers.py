"""The operators' towers from a file: pollnet's own columns, or an OpenCelliD export.

Own columns (English or Persian headers, any order): ``code``, ``operator``, ``radio`` (``lte``
/ ``4g``, ``umts`` / ``3g``, ``gsm`` / ``2g``, ``nr`` / ``5g``), ``lat``, ``lon`` and, optional,
``height_m`` (25 m when absent or empty). An OpenCelliD cell export (its header ``radio, mcc,
net, area, cell, unit, lon, lat, ...``) is recognised by its header: each cell becomes a tower
``<RADIO>-<mcc>-<net>-<area>-<cell>``, the operator is named from the Iranian network codes
(432-11 MCI, 432-35 Irancell, 432-20 Rightel; others stay ``mcc-net``) and the height is 25 m,
which OpenCelliD does not record.

Every row is checked and all problems are listed (file, row, column); nothing is written unless
every row is good. Towers are added or updated by code, so several operators' files can be
imported one after another.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pollnet.coverage.store import tower_row
from pollnet.errors import Location, Problem, UserError
from pollnet.i18n import normalise
from pollnet.model import RadioType, Tower
from pollnet.registry import Table, header_key, parse_decimal, read_table
from pollnet.settings import BoundingBox
from pollnet.store.engine import exclusive
from pollnet.store.schema import core

DEFAULT_HEIGHT_M = 25.0
NEAR_DEG = 0.1  # towers may stand this far (about 10 km) outside the stations' box

_OWN_HEADERS: Mapping[str, tuple[str, ...]] = {
    "code": ("code", "tower", "site", "کد دکل", "کد سایت", "کد"),
    "operator": ("operator", "اپراتور"),
    "radio": ("radio", "technology", "فناوری", "نسل"),
    "lat": ("lat", "latitude", "عرض جغرافیایی", "عرض"),
    "lon": ("lon", "lng", "long", "longitude", "طول جغرافیایی", "طول"),
    "height_m": ("height_m", "height", "ارتفاع", "ارتفاع دکل"),
}
_REQUIRED = ("code", "operator", "radio", "lat", "lon")
_OPENCELLID = ("radio", "mcc", "net", "area", "cell", "unit", "lon", "lat")
_RADIO_WORDS = {
    **dict.fromkeys(("lte", "4g"), RadioType.LTE),
    **dict.fromkeys(("umts", "3g", "wcdma"), RadioType.UMTS),
    **dict.fromkeys(("gsm", "2g"), RadioType.GSM),
    **dict.fromkeys(("nr", "5g"), RadioType.NR),
}
_CELL_NUMBER = re.compile(r"[0-9]{1,9}")  # OpenCelliD's mcc, net, area and cell
_MAX_TEXT = 64  # the characters a tower's code and operator keep in the database
IRAN_NETWORKS: Mapping[tuple[int, int], str] = {
    (432, 11): "MCI",
    (432, 35): "Irancell",
    (432, 20): "Rightel",
}


@dataclass
class _Problems:
    """The problems found in a file, each with its row and column."""

    file: str
    found: list[Problem] = field(default_factory=list)

    @classmethod
    def of(cls, table: Table) -> _Problems:
        """Starting with what the reader already found wrong (a feature without a point)."""
        return cls(table.file, [p for row in table.problems.values() for p in row])

    def add(self, row: int, column: str, message: str, **params: object) -> None:
        self.found.append(Problem(message, params, Location(self.file, row, column)))

    def raise_any(self) -> None:
        if self.found:
            raise UserError(self.found)


@dataclass(frozen=True)
class TowerImport:
    """What an import did: ``format`` is ``pollnet`` or ``opencellid``."""

    file: str
    format: str
    added: int
    changed: int
    unchanged: int

    @property
    def towers(self) -> int:
        return self.added + self.changed + self.unchanged


def read_towers_file(path: Path | str, bbox: BoundingBox) -> tuple[str, tuple[Tower, ...]]:
    """The towers of a file and its format; a :class:`UserError` lists every bad row."""
    table = read_table(path)
    keys = [header_key(h) for h in table.headers]
    if all(header_key(name) in keys for name in _OPENCELLID):
        return "opencellid", _opencellid(table, keys, bbox)
    return "pollnet", _own(table, keys, bbox)


def import_towers(engine: Engine, path: Path | str, bbox: BoundingBox) -> TowerImport:
    """Read ``path`` and add or update its towers by code, in one transaction."""
    kind, towers = read_towers_file(path, bbox)
    rows = {t.code: tower_row(t) for t in towers}
    with exclusive(engine, "towers") as conn:  # two imports at once: one after the other
        existing = {
            r["code"]: dict(r)
            for r in conn.execute(
                sa.select(core.towers).where(core.towers.c.code.in_(list(rows)))
            ).mappings()
        }
        added = [row for code, row in rows.items() if code not in existing]
        changed = [row for code, row in rows.items() if code in existing and existing[code] != row]
        if added:
            conn.execute(core.towers.insert(), added)
        for row in changed:
            conn.execute(
                core.towers.update().where(core.towers.c.code == row["code"]).values(**row)
            )
    return TowerImport(
        str(path), kind, len(added), len(changed), len(rows) - len(added) - len(changed)
    )


def _own(table: Table, keys: Sequence[str], bbox: BoundingBox) -> tuple[Tower, ...]:
    where: dict[str, int] = {}
    for name, headers in _OWN_HEADERS.items():
        found = [keys.index(header_key(h)) for h in headers if header_key(h) in keys]
        if found:
            where[name] = found[0]
    missing = [name for name in _REQUIRED if name not in where]
    if missing:
        raise UserError.of(
            "missing required columns: {names}", file=table.file, names=", ".join(missing)
        )
    towers: list[Tower] = []
    problems = _Problems.of(table)
    seen: dict[str, int] = {}
    for row, cells in table.rows:
        value = {name: _cell(cells, i) for name, i in where.items()}
        code, operator = value["code"], value["operator"]
        if not code:
            problems.add(row, "code", "a value is required")
        elif len(code) > _MAX_TEXT:
            problems.add(
                row, "code", "must be at most {maximum} characters, not {length}",
                maximum=_MAX_TEXT, length=len(code),
            )  # fmt: skip
        elif code in seen:
            problems.add(
                row,
                "code",
                "duplicate tower code {code}, also in row {rows}",
                code=code,
                rows=seen[code],
            )
        else:
            seen[code] = row
        if not operator:
            problems.add(row, "operator", "a value is required")
        elif len(operator) > _MAX_TEXT:
            problems.add(
                row, "operator", "must be at most {maximum} characters, not {length}",
                maximum=_MAX_TEXT, length=len(operator),
            )  # fmt: skip
        radio = _radio(value["radio"], row, problems)
        height_text = value.get("height_m", "")
        height = parse_decimal(height_text) if height_text else DEFAULT_HEIGHT_M
        if height is None or not 1.0 <= height <= 300.0:
            problems.add(
                row,
                "height_m",
                "a tower's height must be 1 to 300 m, not {value}",
                value=height_text,
            )
        position = _position(value["lat"], value["lon"], bbox, row, problems)
        if position and radio and height is not None and code and operator:
            towers.append(Tower(code, operator, radio, position[0], position[1], height))
    problems.raise_any()
    return tuple(towers)


def _opencellid(table: Table, keys: Sequence[str], bbox: BoundingBox) -> tuple[Tower, ...]:
    at = {name: keys.index(header_key(name)) for name in _OPENCELLID}
    towers: list[Tower] = []
    problems = _Problems.of(table)
    for row, cells in table.rows:
        value = {name: _cell(cells, i) for name, i in at.items()}
        radio = _radio(value["radio"], row, problems)
        numbers = []
        for name in ("mcc", "net", "area", "cell"):
            text = value[name]
            numbers.append(int(text) if _CELL_NUMBER.fullmatch(text) else None)
            if numbers[-1] is None:
                problems.add(row, name, "not a whole number: {value}", value=text)
        position = _position(value["lat"], value["lon"], bbox, row, problems)
        if position and radio and None not in numbers:
            mcc, net, area, cell = (int(n or 0) for n in numbers)
            towers.append(
                Tower(
                    code=f"{radio.value.upper()}-{mcc}-{net}-{area}-{cell}",
                    operator=IRAN_NETWORKS.get((mcc, net), f"{mcc}-{net}"),
                    radio=radio,
                    lat=position[0],
                    lon=position[1],
                    height_m=DEFAULT_HEIGHT_M,
                )
            )
    problems.raise_any()
    return tuple(towers)


def _cell(cells: tuple[str, ...], index: int) -> str:
    """A cell with Persian digits, separators and stray spaces normalised (empty if absent)."""
    return normalise(cells[index]) if index < len(cells) else ""


def _radio(text: str, row: int, problems: _Problems) -> RadioType | None:
    radio = _RADIO_WORDS.get(text.casefold())
    if radio is None:
        problems.add(row, "radio", "unknown radio {value}: use lte, umts, gsm or nr", value=text)
    return radio


def _position(
    lat_text: str, lon_text: str, bbox: BoundingBox, row: int, problems: _Problems
) -> tuple[float, float] | None:
    """The tower's position, which must lie near the district (``NEAR_DEG`` around its box)."""
    lat, lon = parse_decimal(lat_text), parse_decimal(lon_text)
    if lat is None:
        problems.add(row, "lat", "not a number: {value}", value=lat_text)
    if lon is None:
        problems.add(row, "lon", "not a number: {value}", value=lon_text)
    if lat is None or lon is None:
        return None
    near = BoundingBox(
        bbox.min_lat - NEAR_DEG,
        bbox.min_lon - NEAR_DEG,
        bbox.max_lat + NEAR_DEG,
        bbox.max_lon + NEAR_DEG,
    )
    if near.contains(lat, lon):
        return lat, lon
    if near.contains(lon, lat):
        problems.add(
            row, "lat", "latitude and longitude look swapped: ({lat}, {lon})", lat=lat, lon=lon
        )
    else:
        problems.add(
            row,
            "lat",
            "the point ({lat}, {lon}) is outside the area: latitude {min_lat} to {max_lat}, "
            "longitude {min_lon} to {max_lon}",
            lat=lat,
            lon=lon,
            min_lat=round(near.min_lat, 4),
            max_lat=round(near.max_lat, 4),
            min_lon=round(near.min_lon, 4),
            max_lon=round(near.max_lon, 4),
        )
    return None
