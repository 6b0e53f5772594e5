"""Row validation: a :class:`Table` of text cells becomes records and rejected rows.

Every problem of every row is collected (file, row, column, what is wrong) so that one run shows
the user everything to fix. The checks run column by column over plain lists, with a fast path
for the common well-formed cell, which keeps 100,000 rows to about a second. :class:`Checks` are
shared by every imported file (stations here; exchanges and fiber in :mod:`pollnet.telecom`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from pollnet.errors import Location, Problem, UserError
from pollnet.i18n import Digits
from pollnet.model import CODE, code_fault
from pollnet.registry._columns import map_headers
from pollnet.registry._readers import Table
from pollnet.registry._records import StationRecord
from pollnet.registry._values import (
    FLAG_WORDS,
    normalise_column,
    parse_decimal,
    parse_flag,
    parse_int,
    plain_decimals,
    plain_ints,
)
from pollnet.settings import BoundingBox
from pollnet.store.schema.core import sites, stations

MAX_WHOLE = 2**31 - 1
"""The largest whole number a cell may hold: what every database stores in an integer column."""


def _length(column: sa.Column[Any]) -> int:
    kind = column.type
    assert isinstance(kind, sa.String) and kind.length, column
    return kind.length


MAX_LENGTHS: Mapping[str, int] = {
    "code": _length(stations.c.code),
    "name": _length(stations.c.name),
    "site": _length(sites.c.name),
    "address": _length(sites.c.address),
}
"""The most characters each text column holds, as the database stores it."""


@dataclass(frozen=True)
class Rejected:
    """A data row that cannot be imported: its number, its cells as read, and why."""

    row: int
    cells: tuple[str, ...]
    problems: tuple[Problem, ...]


R = TypeVar("R")
_DUPLICATE_STATION = "duplicate station code {code}, also in row {rows}"
_UNUSABLE_STATION_CODE = (
    "not a usable station code: {value} (character {char}; use Latin letters, digits, '.', '_' "
    "and '-')"
)


@dataclass(frozen=True)
class Validation(Generic[R]):
    """The outcome of validating a table: good records (in file order) and rejected rows."""

    table: Table
    records: tuple[R, ...]
    rejected: tuple[Rejected, ...]

    @property
    def problems(self) -> tuple[Problem, ...]:
        return tuple(p for r in self.rejected for p in r.problems)


OUTSIDE_AREA = (
    "the point ({lat}, {lon}) is outside the area: latitude {min_lat} to {max_lat}, longitude "
    "{min_lon} to {max_lon}"
)
"""The problem of a row whose point lies outside the stations' area (``[pollnet] bbox``)."""


@dataclass(frozen=True)
class Rules:
    """What a valid row must satisfy beyond its types: the area and the district numbers."""

    bbox: BoundingBox
    max_district: int | None = None


def validate(table: Table, rules: Rules) -> Validation[StationRecord]:
    """Check every row of ``table``.

    Raises :class:`UserError` only for problems of the whole file (missing columns, no data
    rows); row problems end up in :attr:`Validation.rejected`.
    """
    positions = map_headers(table.headers, table.file)
    if not table.rows:
        raise UserError.of("the file has no station rows, only a header", file=table.file)
    check = Checks(table, positions)
    code, name, site, address = (check.text(k) for k in ("code", "name", "site", "address"))
    for key, texts in (("code", code), ("name", name), ("site", site), ("address", address)):
        check.length(key, texts, MAX_LENGTHS[key])
    check.codes(code)
    district = check.whole("district", 1, rules.max_district)
    education = check.whole("education_district", 1, required=False)
    lat, lon = check.coordinates(rules.bbox)
    voters = check.whole("voters", 0)
    devices = check.whole("devices", 1)
    critical = check.flags("critical")
    check.duplicates(code)
    check.shared_sites(site, address, education)

    return check.outcome(
        StationRecord,
        code, name, site, address, district, education, lat, lon, voters, devices, critical,
    )  # fmt: skip


class Checks:
    """Column-wise checks of one table; problems accumulate per row, in column order.

    ``positions`` says where each field is (:meth:`pollnet.registry.Columns.map_headers`).
    """

    def __init__(self, table: Table, positions: Mapping[str, int]) -> None:
        self.table = table
        self.positions = positions
        self.problems: dict[int, list[Problem]] = {n: list(p) for n, p in table.problems.items()}
        self.rows = [number for number, _ in table.rows]
        width = len(table.headers)  # a Table's rows may still be narrower than its header
        padded = [(*cells, *[""] * (width - len(cells))) for _, cells in table.rows]
        self.columns = list(itertools.zip_longest(*padded, fillvalue=""))

    def outcome(self, build: Callable[..., R], *columns: Sequence[Any]) -> Validation[R]:
        """``build(*values)`` for each good row (one value per column); the others rejected."""
        everything = zip(*columns, strict=True)
        if not self.problems:
            return Validation(self.table, tuple(itertools.starmap(build, everything)), ())
        good: list[R] = []
        rejected: list[Rejected] = []
        for (number, cells), values in zip(self.table.rows, everything, strict=True):
            problems = self.problems.get(number)
            if problems:
                rejected.append(Rejected(number, cells, tuple(problems)))
            else:
                good.append(build(*values))
        return Validation(self.table, tuple(good), tuple(rejected))

    def complain(self, number: int, key: str | None, message: str, **params: Any) -> None:
        column = self.table.headers[self.positions[key]] if key else None
        problem = Problem(message, params, Location(self.table.file, number, column))
        self.problems.setdefault(number, []).append(problem)

    def text(self, key: str, required: bool = True) -> list[str]:
        """The column's cells, normalised; an empty required cell is a problem."""
        index = self.positions.get(key)
        if index is None:
            return [""] * len(self.rows)
        values = normalise_column(self.columns[index])
        if required and not all(values):
            # The reader already said why a GeoJSON feature has no coordinates.
            said = self.table.problems if key in ("lat", "lon", "geometry") else {}
            for number, value in zip(self.rows, values, strict=True):
                if not value and number not in said:
                    self.complain(number, key, "a value is required")
        return values

    def codes(self, codes: Sequence[str], message: str = _UNUSABLE_STATION_CODE) -> None:
        """Codes must be of the one code alphabet (:data:`pollnet.model.CODE`); ``message``
        says what kind of code (``{value}``, ``{char}``)."""
        for number, code in zip(self.rows, codes, strict=True):
            fault = code_fault(code) if code and not CODE.fullmatch(code) else None
            if fault:
                self.complain(
                    number, "code",
                    message,
                    value=code.encode("unicode_escape").decode("ascii"), char=fault,
                )  # fmt: skip

    def stored_text(self, key: str, column: sa.Column[Any], required: bool = True) -> list[str]:
        """The cells as :meth:`text`, each at most as long as the database ``column`` keeps."""
        values = self.text(key, required)
        self.length(key, values, _length(column))
        return values

    def length(self, key: str, values: Sequence[str], maximum: int) -> None:
        """Texts longer than the database keeps are a problem (PostgreSQL refuses them)."""
        if max(map(len, values), default=0) <= maximum:
            return
        for number, value in zip(self.rows, values, strict=True):
            if len(value) > maximum:
                self.complain(
                    number, key, "must be at most {maximum} characters, not {length}",
                    maximum=maximum, length=len(value),
                )  # fmt: skip

    def _parsed(
        self, key: str, fast: Callable[[list[str]], list[Any]], slow: Callable[[str], Any],
        message: str,
        required: bool = True,
    ) -> list[Any]:  # fmt: skip
        """The column through ``fast`` (a list, None where it cannot tell), then ``slow`` for
        the rest; a non-empty cell neither reads gets ``message``."""
        texts = self.text(key, required)
        values = fast(texts)
        for i, value in enumerate(values):
            if value is None and texts[i]:
                values[i] = slow(texts[i])
                if values[i] is None:
                    self.complain(self.rows[i], key, message, value=texts[i])
        return values

    def whole(
        self, key: str, minimum: int, maximum: int | None = None, required: bool = True
    ) -> list[int | None]:
        """Whole numbers from ``minimum`` to ``maximum`` (inclusive, at most :data:`MAX_WHOLE`);
        None where wrong or empty."""
        maximum = MAX_WHOLE if maximum is None else min(maximum, MAX_WHOLE)
        values = self._parsed(key, plain_ints, parse_int, "not a whole number: {value}", required)
        for i, value in enumerate(values):
            if value is None:
                continue
            if value < minimum:
                self.complain(
                    self.rows[i], key, "must be at least {minimum}, not {value}",
                    minimum=minimum, value=value,
                )  # fmt: skip
                values[i] = None
            elif value > maximum:
                self.complain(
                    self.rows[i], key, "must be at most {maximum}, not {value}",
                    maximum=maximum, value=value,
                )  # fmt: skip
                values[i] = None
        return values

    def flags(self, key: str) -> list[bool | None]:
        """Yes/no values (English or Persian words, true/false, 1/0)."""
        return self._parsed(
            key,
            lambda texts: [FLAG_WORDS.get(t) for t in texts],
            parse_flag,
            "not yes or no: {value} (use yes/no, true/false, 1/0, بله/خیر)",
        )

    def choice(self, key: str, words: Mapping[str, Any], message: str) -> list[Any]:
        """One of ``words`` (matched case-insensitively); ``message`` gets ``{value}``."""

        def lookup(text: str) -> Any:
            return words.get(text.casefold())

        return self._parsed(key, lambda texts: [lookup(t) for t in texts], lookup, message)

    def coordinates(self, bbox: BoundingBox) -> tuple[list[float | None], list[float | None]]:
        """Latitudes and longitudes inside ``bbox``; swapped pairs are named as such."""
        lats = self._parsed("lat", plain_decimals, parse_decimal, "not a number: {value}")
        lons = self._parsed("lon", plain_decimals, parse_decimal, "not a number: {value}")
        for i, number in enumerate(self.rows):
            lat, lon = lats[i], lons[i]
            if lat is None or lon is None or number in self.table.problems:
                lats[i] = lons[i] = None
                continue
            if bbox.contains(lat, lon):
                continue
            lats[i] = lons[i] = None
            if bbox.contains(lon, lat):
                self.complain(
                    number, "lat", "latitude and longitude look swapped: ({lat}, {lon})",
                    lat=lat, lon=lon,
                )  # fmt: skip
            else:
                self.complain(
                    number,
                    "lat",
                    OUTSIDE_AREA,
                    lat=lat, lon=lon, min_lat=bbox.min_lat, max_lat=bbox.max_lat,
                    min_lon=bbox.min_lon, max_lon=bbox.max_lon,
                )  # fmt: skip
        return lats, lons

    def duplicates(self, codes: Sequence[str], message: str = _DUPLICATE_STATION) -> None:
        """Name every row of a code that occurs more than once, with the other rows."""
        if len(set(codes)) == len(codes):
            return
        rows_of: dict[str, list[int]] = {}
        for number, code in zip(self.rows, codes, strict=True):
            if code:
                rows_of.setdefault(code, []).append(number)
        for code, rows in rows_of.items():
            for number in rows if len(rows) > 1 else ():
                others = Digits(", ".join(str(n) for n in rows if n != number))
                self.complain(number, "code", message, code=code, rows=others)

    def shared_sites(
        self, site: Sequence[str], address: Sequence[str], education: Sequence[int | None]
    ) -> None:
        """Stations of one site (same name and address) must agree on its education district."""
        keys = list(zip(site, address, strict=True))
        if len(set(zip(keys, education, strict=True))) == len(set(keys)):
            return  # every site has one education district throughout
        first: dict[tuple[str, str], tuple[int, int | None]] = {}
        for number, name, where, district in zip(self.rows, site, address, education, strict=True):
            if not name or number in self.problems:
                continue
            row, seen = first.setdefault((name, where), (number, district))
            if seen != district:
                self.complain(
                    number, "education_district",
                    "the site {site} has education district {other} in row {row}",
                    site=name, other="-" if seen is None else seen, row=row,
                )  # fmt: skip
