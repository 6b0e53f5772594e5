"""Reading the registry back: list, show one station, export to a file."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from pollnet.errors import NotFoundError
from pollnet.i18n import normalise
from pollnet.registry._records import StationRecord
from pollnet.registry._store import select_records
from pollnet.registry._writers import write_stations


def list_stations(
    engine: Engine, *, district: int | None = None, critical: bool | None = None
) -> list[StationRecord]:
    """Every station ordered by code, optionally only one district or only (non-)critical."""
    with engine.connect() as conn:
        return select_records(conn, district=district, critical=critical)


def get_station(engine: Engine, code: str) -> StationRecord:
    """The station with ``code`` (digits and letters normalised); :class:`NotFoundError` if none."""
    wanted = normalise(code)
    with engine.connect() as conn:
        found = select_records(conn, code=wanted)
    if not found:
        raise NotFoundError.of("no station with code {code}", code=wanted)
    return found[0]


def export_stations(
    engine: Engine,
    path: Path | str,
    *,
    headers: str = "en",
    district: int | None = None,
    critical: bool | None = None,
) -> int:
    """Write the stations to ``path`` (CSV, XLSX or GeoJSON by extension); return how many.

    ``headers`` is ``en`` or ``fa``: the language of the column names and of yes/no.
    """
    records = list_stations(engine, district=district, critical=critical)
    write_stations(Path(path), records, headers)
    return len(records)
