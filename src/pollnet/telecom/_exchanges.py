"""The telecom company's exchanges from its file: read, validate, upsert by code, list, export.

An exchange file is CSV (UTF-8, UTF-8 with BOM or Windows-1256), XLSX, GeoJSON points or a
GeoPackage point layer, with English or Persian headers in any order (see ``docs/exchanges.md``).
Coordinates are WGS84 degrees inside the settings' area; ``pon_ports`` is the number of free PON
ports, which bounds how many splitters (of ``[plan] split`` stations each) the exchange feeds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy.engine import Engine

from pollnet.errors import NotFoundError, UserError
from pollnet.i18n import normalise
from pollnet.model import Exchange
from pollnet.registry import (
    Checks,
    Column,
    Columns,
    ImportReport,
    Table,
    Validation,
    read_table,
    settle,
    write_layer,
)
from pollnet.settings import BoundingBox, Settings
from pollnet.store.engine import exclusive
from pollnet.store.schema import core
from pollnet.telecom._store import select_records, upsert_by_code

EXCHANGE_COLUMNS = Columns(
    (
        Column("code", "code", "کد مرکز", aliases=("exchange code", "exchange", "کد")),
        Column("name", "name", "نام مرکز", aliases=("exchange name", "نام")),
        Column("operator", "operator", "اپراتور", aliases=("company", "شرکت")),
        Column("lat", "lat", "عرض جغرافیایی", aliases=("latitude", "عرض")),
        Column("lon", "lon", "طول جغرافیایی", aliases=("lng", "long", "longitude", "طول")),
        Column(
            "pon_ports",
            "pon_ports",
            "پورت آزاد PON",
            aliases=("free pon ports", "pon ports", "ports", "پورت آزاد", "پورت های آزاد PON"),
        ),
        Column("county", "county", "شهرستان", required=False),
    )
)
"""The columns of an exchange file; ``county`` is optional."""


class ExchangeRecord(NamedTuple):
    """One exchange as imported, listed and exported (WGS84 degrees; free PON ports)."""

    code: str
    name: str
    operator: str
    lat: float
    lon: float
    pon_ports: int
    county: str | None

    @property
    def exchange(self) -> Exchange:
        """The domain value the planner works on."""
        return Exchange(
            self.code, self.name, self.lat, self.lon, self.pon_ports, self.operator, self.county
        )

    def as_dict(self) -> dict[str, Any]:
        """A mapping with the English column names, for JSON output."""
        return self._asdict()


def validate_exchanges(table: Table, bbox: BoundingBox) -> Validation[ExchangeRecord]:
    """Check every row of an exchange file; whole-file problems raise :class:`UserError`."""
    positions = EXCHANGE_COLUMNS.map_headers(table.headers, table.file)
    if not table.rows:
        raise UserError.of("the file has no rows, only a header", file=table.file)
    check = Checks(table, positions)
    code, name, operator = (
        check.stored_text(k, core.exchanges.c[k]) for k in ("code", "name", "operator")
    )
    check.codes(code, _UNUSABLE)
    lat, lon = check.coordinates(bbox)
    ports = check.whole("pon_ports", 0)
    county = [c or None for c in check.stored_text("county", core.exchanges.c.county, False)]
    check.duplicates(code, _DUPLICATE)
    return check.outcome(ExchangeRecord, code, name, operator, lat, lon, ports, county)


_DUPLICATE = "duplicate exchange code {code}, also in row {rows}"
_UNUSABLE = (
    "not a usable exchange code: {value} (character {char}; use Latin letters, digits, '.', '_' "
    "and '-')"
)


def read_exchanges(path: Path | str) -> Table:
    """An exchange file as read (any format; its geometry, if a map layer, as points)."""
    return read_table(path, columns=EXCHANGE_COLUMNS)


def import_exchanges(
    engine: Engine,
    source: Path | str | Table,
    *,
    settings: Settings,
    skip_invalid: bool = False,
    rejects: Path | None = None,
    lang: str | None = None,
) -> ImportReport:
    """Upsert the exchanges of ``source`` (a path, or a file already read) by code, in one
    transaction. All or nothing unless ``skip_invalid``: see :func:`pollnet.registry.settle`.
    """
    table = source if isinstance(source, Table) else read_exchanges(source)
    validation = validate_exchanges(table, settings.bbox)
    rejects_file = settle(
        validation, skip_invalid=skip_invalid, rejects=rejects, lang=lang, bbox=settings.bbox
    )
    with exclusive(engine, "exchanges") as conn:  # two imports at once: one after the other
        changes = upsert_by_code(conn, core.exchanges, [r._asdict() for r in validation.records])
    return ImportReport.of(
        validation, changes.added, changes.changed, changes.unchanged, rejects_file
    )


def list_exchanges(engine: Engine) -> list[ExchangeRecord]:
    """Every exchange, ordered by code."""
    return select_records(engine, core.exchanges, ExchangeRecord)


def get_exchange(engine: Engine, code: str) -> ExchangeRecord:
    """The exchange with ``code`` (digits, letters normalised); :class:`NotFoundError` if none."""
    wanted = normalise(code)
    found = select_records(engine, core.exchanges, ExchangeRecord, wanted)
    if not found:
        raise NotFoundError.of("no exchange with code {code}", code=wanted)
    return found[0]


def export_exchanges(engine: Engine, path: Path | str, *, headers: str = "en") -> int:
    """Write the exchanges to ``path`` (CSV, XLSX or GeoJSON by extension); return how many.

    ``headers`` (``en`` or ``fa``) is the language of the column names; the file imports again.
    """
    names = EXCHANGE_COLUMNS.headers(headers)
    records = list_exchanges(engine)
    rows = [
        [r.code, r.name, r.operator, repr(r.lat), repr(r.lon), r.pon_ports, r.county or ""]
        for r in records
    ]
    points = [{"type": "Point", "coordinates": [r.lon, r.lat]} for r in records]
    write_layer(Path(path), names, rows, points, geometry_cells=(3, 4))
    return len(records)
