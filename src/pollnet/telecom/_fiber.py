"""The telecom company's existing fiber from its file: read, validate, match onto the streets,
upsert by code, list, export.

A fiber file is CSV or XLSX with the line as WKT in a ``geometry`` column (longitude first, as
WKT is), or a GeoJSON file or GeoPackage layer of (multi)lines, with English or Persian headers
(see ``docs/exchanges.md``). Each line has an owner, a kind (duct, aerial, direct-buried) and its
spare fibres or free ducts. On import each line is matched onto the imported street graph by the
planner's own rule (:func:`pollnet.plan.design.street_metres_along`); a line that runs along no
street is reported, since the planner cannot reuse it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy.engine import Engine

from pollnet.errors import Location, NotFoundError, Problem, UserError
from pollnet.i18n import normalise
from pollnet.model import ExistingFiber
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
from pollnet.streets import StreetGraph
from pollnet.telecom._store import select_records, upsert_by_code

FIBER_COLUMNS = Columns(
    (
        Column(
            "code", "code", "کد مسیر",
            aliases=("line", "route", "cable", "fiber code", "fibre code", "کد فیبر", "کد"),
        ),
        Column("owner", "owner", "مالک", aliases=("operator", "اپراتور")),
        Column("kind", "kind", "نوع", aliases=("type", "نوع مسیر")),
        Column(
            "spare_fibres", "spare_fibres", "تار آزاد", required=False,
            aliases=("spare fibers", "spare cores", "free fibres", "free fibers", "فیبر آزاد",
                     "کور آزاد"),
        ),
        Column(
            "free_ducts", "free_ducts", "داکت آزاد", required=False,
            aliases=("spare ducts", "free duct", "لوله آزاد"),
        ),
        Column("geometry", "geometry", "هندسه", aliases=("wkt", "geom", "the_geom", "shape")),
    )
)  # fmt: skip
"""The columns of a fiber file; a file needs ``spare_fibres`` or ``free_ducts`` (or both)."""

KINDS = ("duct", "aerial", "direct-buried")
KIND_WORDS: Mapping[str, str] = {
    **dict.fromkeys(("duct", "ducted", "داکت", "کانال", "لوله"), "duct"),
    **dict.fromkeys(("aerial", "overhead", "هوایی"), "aerial"),
    **dict.fromkeys(
        ("direct-buried", "direct buried", "direct_buried", "buried", "دفنی", "مدفون"),
        "direct-buried",
    ),
}


class FiberRecord(NamedTuple):
    """One existing fiber line as imported; ``geometry`` is GeoJSON text (WGS84 lon/lat)."""

    code: str
    owner: str
    kind: str
    spare_fibres: int | None
    free_ducts: int | None
    geometry: str

    @property
    def lines(self) -> list[tuple[tuple[float, float], ...]]:
        """The line's (lon, lat) polylines: one, or the parts of a MultiLineString."""
        from pollnet.plan._inputs import polylines

        return polylines(json.loads(self.geometry))

    @property
    def fibers(self) -> list[ExistingFiber]:
        """The domain values the planner works on, one per polyline."""
        return [
            ExistingFiber(
                self.code, coords, self.owner, self.kind, self.spare_fibres, self.free_ducts
            )
            for coords in self.lines
        ]

    def as_dict(self) -> dict[str, Any]:
        """A mapping with the English column names (the geometry as a GeoJSON object)."""
        return {**self._asdict(), "geometry": json.loads(self.geometry)}


@dataclass(frozen=True)
class FiberReport(ImportReport):
    """An import's report plus how its lines matched onto the street graph.

    ``matched`` is None when no street graph was available; ``street_m`` is the length of
    street, in metres, that the lines run along.
    """

    matched: int | None = None
    street_m: float = 0.0


def validate_fiber(table: Table, bbox: BoundingBox) -> Validation[FiberRecord]:
    """Check every row of a fiber file; whole-file problems raise :class:`UserError`."""
    positions = FIBER_COLUMNS.map_headers(table.headers, table.file)
    if "spare_fibres" not in positions and "free_ducts" not in positions:
        raise UserError.of(
            "a fiber file needs a column of spare fibres or of free ducts: {names}",
            file=table.file,
            names=" / ".join(
                FIBER_COLUMNS.by_key[k].label() for k in ("spare_fibres", "free_ducts")
            ),
        )
    if not table.rows:
        raise UserError.of("the file has no rows, only a header", file=table.file)
    check = Checks(table, positions)
    code, owner = (check.stored_text(k, core.existing_fiber.c[k]) for k in ("code", "owner"))
    check.codes(code, _UNUSABLE)
    kind = check.choice(
        "kind", KIND_WORDS, "not a kind of line: {value} (use duct, aerial or direct-buried)"
    )
    spare = check.whole("spare_fibres", 0, required=False)
    ducts = check.whole("free_ducts", 0, required=False)
    geometry = [
        _geometry(check, number, text, bbox)
        for number, text in zip(check.rows, check.text("geometry"), strict=True)
    ]
    given = zip(check.text("spare_fibres", False), check.text("free_ducts", False), strict=True)
    column = "spare_fibres" if "spare_fibres" in positions else "free_ducts"
    for number, k, d, texts in zip(check.rows, kind, ducts, given, strict=True):
        if not any(texts):
            check.complain(number, column, "give the spare fibres or the free ducts")
        elif d and k not in (None, "duct"):
            check.complain(
                number, "free_ducts", "a line of kind {kind} has no ducts, so no free ducts",
                kind=k,
            )  # fmt: skip
    check.duplicates(code, _DUPLICATE)
    return check.outcome(FiberRecord, code, owner, kind, spare, ducts, geometry)


_DUPLICATE = "duplicate line code {code}, also in row {rows}"
_UNUSABLE = (
    "not a usable line code: {value} (character {char}; use Latin letters, digits, '.', '_' and "
    "'-')"
)


def _geometry(check: Checks, number: int, text: str, bbox: BoundingBox) -> str | None:
    """The WKT ``text`` of one row as GeoJSON text; None (and a complaint) when it is wrong."""
    if not text:
        return None  # the checks already said a value is required
    import shapely

    shape = shapely.from_wkt(text, on_invalid="ignore")
    if shape is None:
        short = text if len(text) <= 40 else text[:37] + "..."
        check.complain(number, "geometry", "not a line in WKT: {value}", value=short)
        return None
    if shape.geom_type not in ("LineString", "MultiLineString") or shape.is_empty:
        check.complain(
            number, "geometry", "must be a LINESTRING or MULTILINESTRING, not {kind}",
            kind=shape.geom_type.upper(),
        )  # fmt: skip
        return None
    parts = [shape] if shape.geom_type == "LineString" else list(shape.geoms)
    coords = [[(float(x), float(y)) for x, y, *_ in part.coords] for part in parts]
    for x, y in (point for part in coords for point in part):
        if bbox.contains(y, x):
            continue
        if bbox.contains(x, y):
            check.complain(
                number, "geometry",
                "the point ({x} {y}) looks swapped: WKT gives the longitude first",
                x=x, y=y,
            )  # fmt: skip
        else:
            check.complain(
                number, "geometry",
                "the point ({x} {y}) is outside the area: latitude {min_lat} to {max_lat}, "
                "longitude {min_lon} to {max_lon}",
                x=x, y=y, min_lat=bbox.min_lat, max_lat=bbox.max_lat, min_lon=bbox.min_lon,
                max_lon=bbox.max_lon,
            )  # fmt: skip
        return None
    if len(coords) == 1:
        geojson: dict[str, Any] = {"type": "LineString", "coordinates": coords[0]}
    else:
        geojson = {"type": "MultiLineString", "coordinates": coords}
    return json.dumps(geojson, separators=(",", ":"))


def read_fiber(path: Path | str) -> Table:
    """A fiber file as read; a map layer's line geometry becomes the ``geometry`` cell (WKT)."""
    return read_table(path, columns=FIBER_COLUMNS, geometry="line")


def import_fiber(
    engine: Engine,
    source: Path | str | Table,
    *,
    settings: Settings,
    streets: StreetGraph | Path | str | None = None,
    skip_invalid: bool = False,
    rejects: Path | None = None,
    lang: str | None = None,
) -> FiberReport:
    """Upsert the lines of ``source`` (a path, or a file already read) by code, in one
    transaction, and match them onto the street graph.

    ``streets`` is a graph or a street cache file (default: the streets settings' cache); when
    there is none yet, the report's ``matched`` is None and a warning says so. A line along no
    street is a warning naming its row, not an error: it is stored all the same.
    """
    table = source if isinstance(source, Table) else read_fiber(source)
    validation = validate_fiber(table, settings.bbox)
    rejects_file = settle(validation, skip_invalid=skip_invalid, rejects=rejects, lang=lang)
    graph = _street_graph(settings, streets)
    warnings: list[Problem] = []
    matched: int | None = None
    street_m = 0.0
    if graph is None:
        warnings.append(
            Problem(
                "no street network imported yet: the lines are matched onto the streets when "
                "the plan runs (import the streets first to see which lines match none)",
                {},
                Location(table.file),
            )
        )
    else:
        matched, street_m = _match(graph, settings, table, validation, warnings)
    with exclusive(engine, "fiber") as conn:  # two imports at once: one after the other
        rows = [r._asdict() for r in validation.records]
        changes = upsert_by_code(conn, core.existing_fiber, rows)
    return FiberReport.of(
        validation, changes.added, changes.changed, changes.unchanged, rejects_file,
        warnings=tuple(warnings), matched=matched, street_m=street_m,
    )  # fmt: skip


def _street_graph(
    settings: Settings, streets: StreetGraph | Path | str | None
) -> StreetGraph | None:
    if isinstance(streets, StreetGraph):
        return streets
    from pollnet import streets as street_layer

    cache = Path(streets) if streets else street_layer.StreetsConfig.from_settings(settings).cache
    if streets is None and not cache.is_file():
        return None
    return street_layer.load(cache)


def _match(
    graph: StreetGraph,
    settings: Settings,
    table: Table,
    validation: Validation[FiberRecord],
    warnings: list[Problem],
) -> tuple[int, float]:
    """How many lines run along a street and the street metres they cover; a warning per
    line along none."""
    from pollnet.plan import load_costs
    from pollnet.plan.design import street_metres_along
    from pollnet.plan.params import PlanParameters

    params = PlanParameters.from_mapping(settings.section("plan"))
    tolerance = load_costs(params.costs).value("existing_fiber", "tolerance_m")
    records = validation.records
    parts = [(i, fiber) for i, record in enumerate(records) for fiber in record.fibers]
    metres = street_metres_along(graph, [fiber for _, fiber in parts], tolerance)
    per_line = [0.0] * len(records)
    for (i, _), m in zip(parts, metres.tolist(), strict=True):
        per_line[i] += m
    rejected = {r.row for r in validation.rejected}
    rows = [number for number, _ in table.rows if number not in rejected]
    for row, record, m in zip(rows, records, per_line, strict=True):
        if m == 0.0:
            warnings.append(
                Problem(
                    "the line {code} runs along no street (none within {tolerance} m of it): "
                    "the plan cannot reuse it",
                    {"code": record.code, "tolerance": tolerance},
                    Location(table.file, row, table.headers[_geometry_index(table)]),
                )
            )
    return sum(1 for m in per_line if m > 0.0), float(sum(per_line))


def _geometry_index(table: Table) -> int:
    return FIBER_COLUMNS.map_headers(table.headers, table.file)["geometry"]


def list_fiber(engine: Engine) -> list[FiberRecord]:
    """Every existing fiber line, ordered by code."""
    return select_records(engine, core.existing_fiber, FiberRecord)


def get_fiber(engine: Engine, code: str) -> FiberRecord:
    """The line with ``code`` (digits, letters normalised); :class:`NotFoundError` if none."""
    wanted = normalise(code)
    found = select_records(engine, core.existing_fiber, FiberRecord, wanted)
    if not found:
        raise NotFoundError.of("no fiber line with code {code}", code=wanted)
    return found[0]


def export_fiber(engine: Engine, path: Path | str, *, headers: str = "en") -> int:
    """Write the lines to ``path``: CSV or XLSX (the line as WKT) or GeoJSON, by extension.

    ``headers`` (``en`` or ``fa``) is the language of the column names; the file imports again.
    """
    names = FIBER_COLUMNS.headers(headers)
    import shapely
    from shapely.geometry import shape

    records = list_fiber(engine)
    geometries = [json.loads(r.geometry) for r in records]
    rows = [
        [r.code, r.owner, r.kind, _blank(r.spare_fibres), _blank(r.free_ducts),
         shapely.to_wkt(shape(g), rounding_precision=-1)]
        for r, g in zip(records, geometries, strict=True)
    ]  # fmt: skip
    write_layer(Path(path), names, rows, geometries, geometry_cells=(5,))
    return len(records)


def _blank(value: int | None) -> int | str:
    return "" if value is None else value
