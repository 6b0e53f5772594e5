"""The columns of a station file: what each means and the headers (English, Persian) it goes by.

Headers match after :func:`pollnet.i18n.normalise_key` (digits, Arabic yeh/kaf, spaces, ZWNJ,
case) and with ``_`` and ``-`` read as spaces, so ``Education_District``, ``education district``
and ``ناحیه آموزش‌و‌پرورش`` all name the same column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pollnet.errors import Location, Problem, UserError
from pollnet.i18n import normalise_key


@dataclass(frozen=True)
class Column:
    """One field of a station row; ``en`` and ``fa`` are the headers written on export."""

    key: str
    en: str
    fa: str
    required: bool = True
    aliases: tuple[str, ...] = ()

    def label(self) -> str:
        """Both headers, for messages read in either language: ``lat / عرض جغرافیایی``."""
        return f"{self.en} / {self.fa}"


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

BY_KEY: Mapping[str, Column] = {c.key: c for c in COLUMNS}
_SEPARATORS = re.compile(r"[_\-]+")


def header_key(header: str) -> str:
    """The form a header is looked up by."""
    return normalise_key(_SEPARATORS.sub(" ", normalise_key(header)))


def _lookup() -> dict[str, str]:
    table: dict[str, str] = {}
    for column in COLUMNS:
        for name in (column.key, column.en, column.fa, *column.aliases):
            table[header_key(name)] = column.key
    return table


_LOOKUP = _lookup()


def field_of(header: str) -> str | None:
    """The field a header names (``"lat"`` for ``عرض جغرافیایی``), or None for other columns."""
    return _LOOKUP.get(header_key(header))


def map_headers(headers: Sequence[str], file: str) -> dict[str, int]:
    """Which position of ``headers`` holds each field (``key -> index``).

    Unknown headers are left alone (a rejects file's ``reason`` column, notes). Two headers
    meaning the same field, or required fields without a header, raise one :class:`UserError`
    naming them all.
    """
    positions: dict[str, int] = {}
    problems: list[Problem] = []
    for index, header in enumerate(headers):
        key = field_of(header)
        if key is None:
            continue
        if key in positions:
            problems.append(
                Problem(
                    "columns {first} and {second} both mean {field}",
                    {
                        "first": headers[positions[key]],
                        "second": header,
                        "field": BY_KEY[key].label(),
                    },
                    Location(file=file),
                )
            )
            continue
        positions[key] = index
    missing = [c.label() for c in COLUMNS if c.required and c.key not in positions]
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
