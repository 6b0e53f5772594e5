"""Importing a station file: read, validate, then write everything in one transaction.

By default the import is all-or-nothing: one invalid row and nothing changes, and the
:class:`UserError` lists every problem of every row. With ``skip_invalid`` the valid rows go in
and the rejected ones are written, with their reasons, to a rejects file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from sqlalchemy.engine import Engine

from pollnet.errors import ConfigError, Location, Problem, UserError
from pollnet.i18n import Digits, current_language
from pollnet.registry._read import read_table
from pollnet.registry._readers import Table
from pollnet.registry._store import upsert
from pollnet.registry._validate import OUTSIDE_AREA, Rejected, Rules, Validation, validate
from pollnet.registry._writers import write_rejects
from pollnet.settings import BoundingBox, Settings
from pollnet.store.engine import exclusive

OUTSIDE_LIMIT = 3
"""More rows than this outside the area are reported as one line, not one line each."""


@dataclass(frozen=True)
class ImportReport:
    """What an import did: codes added, changed and unchanged, and the rejected rows."""

    file: str
    format: str
    encoding: str | None
    rows: int
    added: tuple[str, ...]
    changed: tuple[str, ...]
    unchanged: tuple[str, ...]
    rejected: tuple[Rejected, ...] = ()
    rejects_file: Path | None = None
    warnings: tuple[Problem, ...] = ()

    @classmethod
    def of(
        cls,
        validation: Validation[Any],
        added: tuple[str, ...],
        changed: tuple[str, ...],
        unchanged: tuple[str, ...],
        rejects_file: Path | None,
        **more: Any,
    ) -> Self:
        """The report of importing ``validation``'s table (``more``: a subclass's fields)."""
        table = validation.table
        return cls(
            file=table.file, format=table.format, encoding=table.encoding, rows=len(table.rows),
            added=added, changed=changed, unchanged=unchanged, rejected=validation.rejected,
            rejects_file=rejects_file, **more,
        )  # fmt: skip


def rules_from(settings: Settings) -> Rules:
    """The validation rules of ``settings``: its bounding box and ``[registry] max_district``."""
    max_district = settings.section("registry").get("max_district")
    if max_district is not None and (
        not isinstance(max_district, int) or isinstance(max_district, bool) or max_district < 1
    ):
        raise ConfigError.of(
            "[registry] max_district must be a whole number of at least 1", column="max_district"
        )
    return Rules(settings.bbox, max_district)


def condense_outside(problems: Sequence[Problem], bbox: BoundingBox) -> tuple[Problem, ...]:
    """``problems`` with the rows outside the area ``bbox`` told as one line when there are
    more than :data:`OUTSIDE_LIMIT`: how many, which rows, and the ``[pollnet] bbox`` setting
    that would take their points in (most likely the whole file is of another city)."""
    outside = [p for p in problems if p.message == OUTSIDE_AREA]
    if len(outside) <= OUTSIDE_LIMIT:
        return tuple(problems)
    rows = [p.where.row for p in outside if p.where.row is not None]
    summary = Problem(
        "{count} rows are outside the area (latitude {min_lat} to {max_lat}, longitude "
        "{min_lon} to {max_lon}): rows {rows}. If the stations are right, set the area in "
        "pollnet.toml: [pollnet] {setting}",
        {
            "count": len(outside),
            "min_lat": bbox.min_lat,
            "max_lat": bbox.max_lat,
            "min_lon": bbox.min_lon,
            "max_lon": bbox.max_lon,
            "rows": Digits.ranges(rows),
            "setting": BoundingBox.around(
                (float(p.params["lat"]) for p in outside),
                (float(p.params["lon"]) for p in outside),
            ).toml(),
        },
        Location(outside[0].where.file, None, outside[0].where.column),
    )
    first = problems.index(outside[0])
    rest = [p for p in problems if p.message != OUTSIDE_AREA]
    return (*rest[:first], summary, *rest[first:])


def default_rejects_path(path: Path | str) -> Path:
    """Where rejected rows go unless told otherwise: ``<input>.rejects.csv``."""
    return Path(f"{path}.rejects.csv")


def settle(
    validation: Validation[Any],
    *,
    skip_invalid: bool = False,
    rejects: Path | None = None,
    lang: str | None = None,
    bbox: BoundingBox | None = None,
) -> Path | None:
    """All or nothing, or skip the invalid rows: what every import does before it writes.

    Raises :class:`UserError` listing every problem when a row is invalid, unless
    ``skip_invalid``; then the rejected rows go to ``rejects`` (default ``<file>.rejects.csv``)
    with reasons in ``lang`` (default: the active language), and that path is returned. With
    the area ``bbox``, many rows outside it are told as one line (:func:`condense_outside`).
    """
    if validation.rejected and not skip_invalid:
        problems = validation.problems
        raise UserError(condense_outside(problems, bbox) if bbox else problems)
    if not validation.rejected:
        return None
    rejects_file = rejects or default_rejects_path(validation.table.file)
    write_rejects(rejects_file, validation.table, validation.rejected, lang or current_language())
    return rejects_file


def import_stations(
    engine: Engine,
    path: Path | str,
    *,
    settings: Settings,
    skip_invalid: bool = False,
    rejects: Path | None = None,
    lang: str | None = None,
) -> ImportReport:
    """Read the station file at ``path`` and import it; see :func:`import_table`."""
    return import_table(
        engine,
        read_table(path),
        settings=settings,
        skip_invalid=skip_invalid,
        rejects=rejects or default_rejects_path(path),
        lang=lang,
    )


def import_table(
    engine: Engine,
    table: Table,
    *,
    settings: Settings,
    skip_invalid: bool = False,
    rejects: Path | None = None,
    lang: str | None = None,
) -> ImportReport:
    """Validate ``table`` and upsert its stations by code, in one transaction.

    Raises :class:`UserError` listing every problem when a row is invalid, unless
    ``skip_invalid``; then the rejected rows are written to ``rejects`` (default
    ``<file>.rejects.csv``) with reasons in ``lang`` (default: the active language).
    """
    validation = validate(table, rules_from(settings))
    rejects_file = settle(
        validation, skip_invalid=skip_invalid, rejects=rejects, lang=lang, bbox=settings.bbox
    )
    with exclusive(engine, "stations") as conn:  # two imports at once: one after the other
        changes = upsert(conn, validation.records)
    return ImportReport.of(
        validation, changes.added, changes.changed, changes.unchanged, rejects_file
    )
