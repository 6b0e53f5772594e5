"""The columns of an imported file (stations, exchanges, fiber) and the headers they go by.

Each column has an English and a Persian header and aliases. Headers match after
:func:`pollnet.i18n.normalise_key` (digits, Arabic yeh/kaf, spaces, ZWNJ, case) and with ``_``
and ``-`` read as spaces, so ``Education_District``, ``education district`` and
``ناحیه آموزش‌و‌پرورش`` all name the same column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pollnet.errors import Location, Problem, UserError
from pollnet.i18n import normalise_key


@dataclass(frozen=True)
class Column:
    """One field of a row; ``en`` and ``fa`` are the headers written on export."""

    key: str
    en: str
    fa: str
    required: bool = True
    aliases: tuple[str, ...] = ()

    def label(self) -> str:
        """Both headers, for messages read in either language: ``lat / عرض جغرافیایی``."""
        return f"{self.en} / {self.fa}"

    def header(self, language: str) -> str:
        """The header in ``language``: Persian for ``fa``, English otherwise."""
        return self.fa if language == "fa" else self.en


COLUMNS: tuple[Column, ...] = (
    Column("code", "code", "کد شعبه", aliases=("station code", "station", "کد")),
    Column("name", "name", "نام شعبه", aliases=("station name",)),
    Column("site", "site", "محل استقرار", aliases=("site name", "school", "نام محل")),
    Column("address", "address", "نشانی", aliases=("آدرس",)),
    Column("district", "district", "منطقه", aliases=("municipal district", "منطقه شهرداری")),
    Column(
        "education_district",
        "education_district",
        "ناحیه آموزش و پرورش",
        required=False,
        aliases=("ناحیه",),
    ),
    Column("lat", "lat", "عرض جغرافیایی", aliases=("latitude", "عرض")),
    Column("lon", "lon", "طول جغرافیایی", aliases=("lng", "long", "longitude", "طول")),
    Column("voters", "voters", "تعداد واجدین", aliases=("eligible voters", "واجدین")),
    Column("devices", "devices", "تعداد دستگاه", aliases=("device count", "دستگاه")),
    Column("critical", "critical", "حساس", aliases=("is critical",)),
)

_SEPARATORS = re.compile(r"[_\-]+")

HEADER_LANGUAGES = ("fa", "en")
"""The languages an exported file's column names can be in."""


def header_key(header: str) -> str:
    """The form a header is looked up by."""
    return normalise_key(_SEPARATORS.sub(" ", normalise_key(header)))


class Columns:
    """The columns of one kind of file (stations, exchanges, fiber) and their header lookup."""

    def __init__(self, columns: Sequence[Column]) -> None:
        self.columns = tuple(columns)
        self.by_key: Mapping[str, Column] = {c.key: c for c in self.columns}
        self._lookup: dict[str, str] = {}
        for column in self.columns:
            for name in (column.key, column.en, column.fa, *column.aliases):
                self._lookup[header_key(name)] = column.key

    def headers(self, language: str) -> list[str]:
        """The column names in ``language`` (``fa`` or ``en``), as an export writes them."""
        if language not in HEADER_LANGUAGES:
            raise UserError.of("headers must be fa or en, not {value}", value=language)
        return [c.header(language) for c in self.columns]

    def field_of(self, header: str) -> str | None:
        """The field a header names (``"lat"`` for ``عرض جغرافیایی``), or None for others."""
        return self._lookup.get(header_key(header))

    def map_headers(self, headers: Sequence[str], file: str) -> dict[str, int]:
        """Which position of ``headers`` holds each field (``key -> index``).

        Unknown headers are left alone (a rejects file's ``reason`` column, notes). Two headers
        meaning the same field, or required fields without a header, raise one
        :class:`UserError` naming them all.
        """
        positions: dict[str, int] = {}
        problems: list[Problem] = []
        for index, header in enumerate(headers):
            key = self.field_of(header)
            if key is None:
                continue
            if key in positions:
                problems.append(
                    Problem(
                        "columns {first} and {second} both mean {field}",
                        {
                            "first": headers[positions[key]],
                            "second": header,
                            "field": self.by_key[key].label(),
                        },
                        Location(file=file),
                    )
                )
                continue
            positions[key] = index
        missing = [c.label() for c in self.columns if c.required and c.key not in positions]
        if missing:
            problems.append(
                Problem(
                    "missing required columns: {names}",
                    {"names": ", ".join(missing)},
                    Location(file=file),
                )
            )
        if problems:
            raise UserError(problems)
        return positions


STATION_COLUMNS = Columns(COLUMNS)
BY_KEY: Mapping[str, Column] = STATION_COLUMNS.by_key


def field_of(header: str) -> str | None:
    """The station field a header names, or None; see :meth:`Columns.field_of`."""
    return STATION_COLUMNS.field_of(header)


def map_headers(headers: Sequence[str], file: str) -> dict[str, int]:
    """Where each station field is in ``headers``; see :meth:`Columns.map_headers`."""
    return STATION_COLUMNS.map_headers(headers, file)
