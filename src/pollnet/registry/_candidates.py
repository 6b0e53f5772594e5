"""Candidate buildings from a file: the education districts' school list, or any list of buildings.

A candidates file names buildings that could host a polling station or a temporary cell: CSV
(UTF-8, UTF-8 with BOM or Windows-1256), XLSX, GeoJSON points or a GeoPackage point layer, with
English or Persian headers in any order. Columns: ``code``, ``lat``, ``lon`` (WGS84 degrees
inside the settings' area) and, optional, ``name``, ``capacity`` (a whole number of voters the
building holds) and ``education_district``. Every row goes through the registry's
:class:`~pollnet.registry.Checks`; every problem is listed (file, row, column) and nothing is used
unless every row is good.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from pollnet.errors import UserError
from pollnet.registry._columns import Column, Columns
from pollnet.registry._readers import Table
from pollnet.registry._validate import MAX_LENGTHS, Checks, Validation
from pollnet.settings import BoundingBox

CANDIDATE_COLUMNS = Columns(
    (
        Column(
            "code",
            "code",
            "کد ساختمان",
            aliases=("building code", "school code", "site", "building", "کد مدرسه", "کد"),
        ),
        Column(
            "name",
            "name",
            "نام",
            required=False,
            aliases=("school", "school name", "building name", "نام مدرسه", "نام ساختمان"),
        ),
        Column("lat", "lat", "عرض جغرافیایی", aliases=("latitude", "عرض")),
        Column("lon", "lon", "طول جغرافیایی", aliases=("lng", "long", "longitude", "طول")),
        Column("capacity", "capacity", "ظرفیت", required=False),
        Column(
            "education_district",
            "education_district",
            "ناحیه آموزش و پرورش",
            required=False,
            aliases=("ناحیه",),
        ),
    )
)
"""The columns of a candidates file; ``code``, ``lat`` and ``lon`` are required."""


class Candidate(NamedTuple):
    """A candidate building: its code, name, position (WGS84 degrees), capacity (voters) and
    education district, the last two None when the file does not say."""

    code: str
    name: str
    lat: float
    lon: float
    capacity: int | None
    education_district: int | None

    def as_dict(self) -> dict[str, Any]:
        """A mapping with the English column names, for JSON output."""
        return self._asdict()


_DUPLICATE = "duplicate code {code}, also in row {rows}"
_UNUSABLE = (
    "not a usable building code: {value} (character {char}; use Latin letters, digits, '.', "
    "'_' and '-')"
)


def validate_candidates(table: Table, bbox: BoundingBox) -> Validation[Candidate]:
    """Check every row of a candidates file; whole-file problems raise :class:`UserError`."""
    positions = CANDIDATE_COLUMNS.map_headers(table.headers, table.file)
    if not table.rows:
        raise UserError.of("the file has no rows, only a header", file=table.file)
    check = Checks(table, positions)
    code = check.text("code")
    check.length("code", code, MAX_LENGTHS["code"])
    check.codes(code, _UNUSABLE)
    name = check.text("name", required=False)
    check.length("name", name, MAX_LENGTHS["site"])
    lat, lon = check.coordinates(bbox)
    capacity = check.whole("capacity", 0, required=False)
    education = check.whole("education_district", 1, required=False)
    check.duplicates(code, _DUPLICATE)
    return check.outcome(Candidate, code, name, lat, lon, capacity, education)
