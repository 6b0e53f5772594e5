"""The operators' towers from a file: pollnet's own columns, or an OpenCelliD export.

Own columns (English or Persian headers, any order): ``code``, ``operator``, ``radio`` (``lte``
/ ``4g``, ``umts`` / ``3g``, ``gsm`` / ``2g``, ``nr`` / ``5g``), ``lat``, ``lon`` and, optional,
``height_m`` (25 m when absent or empty). An OpenCelliD cell export (its header ``radio, mcc,
net, area, cell, unit, lon, lat, ...``) is recognised by its header: each cell becomes a tower
``<RADIO>-<mcc>-<net>-<area>-<cell>``, the operator is named from the Iranian network codes
(432-11 MCI, 432-35 Irancell, 432-20 Rightel; others stay ``mcc-net``) and the height is 25 m,
which OpenCelliD does not record.

Every row goes through the registry's :class:`~pollnet.registry.Checks` and all problems are
listed (file, row, column); nothing is written unless every row is good. Towers are added or
updated by code, so several operators' files can be imported one after another.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pollnet.coverage.store import tower_row
from pollnet.errors import UserError
from pollnet.model import RadioType, Tower
from pollnet.registry import (
    Checks,
    Column,
    Columns,
    Table,
    Validation,
    header_key,
    parse_decimal,
    read_table,
)
from pollnet.settings import BoundingBox
from pollnet.store.engine import exclusive
from pollnet.store.schema import core

DEFAULT_HEIGHT_M = 25.0
NEAR_DEG = 0.1  # towers may stand this far (about 10 km) outside the stations' box

TOWER_COLUMNS = Columns(
    (
        Column("code", "code", "کد دکل", aliases=("tower", "site", "کد سایت", "کد")),
        Column("operator", "operator", "اپراتور"),
        Column("radio", "radio", "فناوری", aliases=("technology", "نسل")),
        Column("lat", "lat", "عرض جغرافیایی", aliases=("latitude", "عرض")),
        Column("lon", "lon", "طول جغرافیایی", aliases=("lng", "long", "longitude", "طول")),
        Column("height_m", "height_m", "ارتفاع", required=False, aliases=("height", "ارتفاع دکل")),
    )
)
"""The columns of pollnet's own tower file; ``height_m`` is optional."""

_OPENCELLID = ("radio", "mcc", "net", "area", "cell", "unit", "lon", "lat")
_RADIO_WORDS = {
    **dict.fromkeys(("lte", "4g"), RadioType.LTE),
    **dict.fromkeys(("umts", "3g", "wcdma"), RadioType.UMTS),
    **dict.fromkeys(("gsm", "2g"), RadioType.GSM),
    **dict.fromkeys(("nr", "5g"), RadioType.NR),
}
_UNKNOWN_RADIO = "unknown radio {value}: use lte, umts, gsm or nr"
_CELL_NUMBER = re.compile(r"[0-9]{1,9}")  # OpenCelliD's mcc, net, area and cell
IRAN_NETWORKS: Mapping[tuple[int, int], str] = {
    (432, 11): "MCI",
    (432, 35): "Irancell",
    (432, 20): "Rightel",
}


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
    table = read_table(path, columns=TOWER_COLUMNS)
    if not table.rows:
        raise UserError.of("the file has no rows, only a header", file=table.file)
    keys = [header_key(h) for h in table.headers]
    if all(header_key(name) in keys for name in _OPENCELLID):
        validation = _opencellid(table, keys, _near(bbox))
        kind = "opencellid"
    else:
        validation = _own(table, _near(bbox))
        kind = "pollnet"
    if validation.rejected:
        raise UserError(validation.problems)
    return kind, validation.records


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


def _near(bbox: BoundingBox) -> BoundingBox:
    """The area towers may stand in: ``NEAR_DEG`` around the stations' box (to 4 decimals)."""
    return BoundingBox(
        round(bbox.min_lat - NEAR_DEG, 4),
        round(bbox.min_lon - NEAR_DEG, 4),
        round(bbox.max_lat + NEAR_DEG, 4),
        round(bbox.max_lon + NEAR_DEG, 4),
    )


def _own(table: Table, near: BoundingBox) -> Validation[Tower]:
    """The rows of a file in pollnet's own columns, through the registry's checks."""
    check = Checks(table, TOWER_COLUMNS.map_headers(table.headers, table.file))
    code = check.stored_text("code", core.towers.c.code)
    operator = check.stored_text("operator", core.towers.c.operator)
    check.duplicates(code, "duplicate tower code {code}, also in row {rows}")
    radio = check.choice("radio", _RADIO_WORDS, _UNKNOWN_RADIO)
    heights: list[float | None] = []
    for number, text in zip(check.rows, check.text("height_m", required=False), strict=True):
        height = parse_decimal(text) if text else DEFAULT_HEIGHT_M
        if height is None or not 1.0 <= height <= 300.0:
            check.complain(
                number, "height_m", "a tower's height must be 1 to 300 m, not {value}", value=text
            )
        heights.append(height)
    lat, lon = check.coordinates(near)
    return check.outcome(Tower, code, operator, radio, lat, lon, heights)


def _opencellid(table: Table, keys: Sequence[str], near: BoundingBox) -> Validation[Tower]:
    """The cells of an OpenCelliD export (``keys``: its header keys), through the same checks."""
    check = Checks(table, {name: keys.index(header_key(name)) for name in _OPENCELLID})
    radio = check.choice("radio", _RADIO_WORDS, _UNKNOWN_RADIO)
    numbers: list[list[int | None]] = []
    for name in ("mcc", "net", "area", "cell"):
        column: list[int | None] = []
        for number, text in zip(check.rows, check.text(name), strict=True):
            column.append(int(text) if _CELL_NUMBER.fullmatch(text) else None)
            if text and column[-1] is None:
                check.complain(number, name, "not a whole number: {value}", value=text)
        numbers.append(column)
    lat, lon = check.coordinates(near)
    return check.outcome(_cell_tower, radio, *numbers, lat, lon)


def _cell_tower(
    radio: RadioType, mcc: int, net: int, area: int, cell: int, lat: float, lon: float
) -> Tower:
    """An OpenCelliD cell as a tower: its code from the cell's numbers, its operator's name."""
    return Tower(
        code=f"{radio.value.upper()}-{mcc}-{net}-{area}-{cell}",
        operator=IRAN_NETWORKS.get((mcc, net), f"{mcc}-{net}"),
        radio=radio,
        lat=lat,
        lon=lon,
        height_m=DEFAULT_HEIGHT_M,
    )
