"""Areas in the database: import a file's areas, read them back, and keep the areas of the
stations, exchanges and the street cache up to date with them."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pollnet.areas.assign import PointAreas, StreetAreas, assign_points, assign_streets
from pollnet.areas.model import Area, AreaKind, AreaSet
from pollnet.errors import NotFoundError, UserError
from pollnet.i18n import normalise_key
from pollnet.store.schema import core
from pollnet.store.schema.areas import area_links
from pollnet.store.schema.areas import areas as areas_table

STATION = "station"
EXCHANGE = "exchange"


@dataclass(frozen=True)
class AreasImport:
    """What an area import did: areas (``kind:code``) added, changed and unchanged, and what
    the stations, exchanges and streets got from them."""

    file: str
    added: tuple[str, ...]
    changed: tuple[str, ...]
    unchanged: tuple[str, ...]
    stations: PointAreas
    exchanges: PointAreas
    streets: StreetAreas | None = None
    street_cache: str | None = None
    by_kind: Mapping[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "file": self.file,
            "areas": dict(self.by_kind),
            "added": list(self.added),
            "changed": list(self.changed),
            "unchanged": list(self.unchanged),
            "stations": _points_dict(self.stations),
            "exchanges": _points_dict(self.exchanges),
            "streets": self.streets.to_dict() if self.streets else None,
            "street_cache": self.street_cache,
        }


def _points_dict(points: PointAreas) -> dict[str, Any]:
    return {
        "by_area": points.counts(),
        "outside": list(points.outside),
        "mismatches": [
            {"code": m.code, "kind": m.kind.value, "file": m.given, "polygon": m.found}
            for m in points.mismatches
        ],
    }


def import_areas(
    engine: Engine, areas: Sequence[Area], *, file: str = "", street_cache: Path | None = None
) -> AreasImport:
    """Store ``areas`` (added or replaced by kind and code) and assign the stations, exchanges
    and, when ``street_cache`` exists, the streets to them, in one transaction."""
    with engine.begin() as conn:
        stored = {(a.kind, a.code): a for a in _select(conn)}
        added, changed, unchanged = [], [], []
        for area in areas:
            key = f"{area.kind.value}:{area.code}"
            old = stored.get((area.kind, area.code))
            if old is None:
                conn.execute(areas_table.insert().values(**_row(area)))
                added.append(key)
            elif not old.same_as(area):
                conn.execute(
                    areas_table.update()
                    .where(areas_table.c.kind == area.kind.value)
                    .where(areas_table.c.code == area.code)
                    .values(**_row(area))
                )
                changed.append(key)
            else:
                unchanged.append(key)
        every = AreaSet(tuple(_select(conn)))
        stations = assign_stations(conn, every)
        exchanges = assign_exchanges(conn, every)
    streets = None
    if street_cache is not None and street_cache.is_file():
        streets = update_street_cache(street_cache, every)
    by_kind: dict[str, int] = {}
    for area in areas:
        by_kind[area.kind.value] = by_kind.get(area.kind.value, 0) + 1
    return AreasImport(
        file, tuple(added), tuple(changed), tuple(unchanged), stations, exchanges, streets,
        str(street_cache) if streets is not None else None, by_kind,
    )  # fmt: skip


def update_street_cache(path: Path, every: AreaSet) -> StreetAreas:
    """Assign the street cache at ``path`` to ``every`` area and write it back."""
    from pollnet import streets as st

    graph, report = assign_streets(st.load(path), every)
    st.save(graph, path)
    return report


def _row(area: Area) -> dict[str, Any]:
    return {
        "kind": area.kind.value,
        "code": area.code,
        "name_fa": area.name_fa,
        "name_en": area.name_en,
        "number": area.number,
        "osm_relation": area.osm_relation,
        "geometry": json.dumps(shapely.geometry.mapping(area.polygon)),
    }


def _select(conn: Connection, kind: AreaKind | None = None) -> list[Area]:
    query = sa.select(areas_table).order_by(areas_table.c.kind, areas_table.c.id)
    if kind is not None:
        query = query.where(areas_table.c.kind == kind.value)
    order = {k.value: i for i, k in enumerate(AreaKind)}
    rows = sorted(conn.execute(query).mappings(), key=lambda r: (order[r["kind"]], r["id"]))
    return [
        Area(
            AreaKind(r["kind"]),
            r["code"],
            r["name_fa"],
            r["name_en"],
            shapely.geometry.shape(json.loads(r["geometry"])),
            r["number"],
            r["osm_relation"],
        )
        for r in rows
    ]


def load_areas(engine: Engine, kind: AreaKind | None = None) -> AreaSet:
    """Every stored area (or those of ``kind``), largest kind first, in import order."""
    with engine.connect() as conn:
        return AreaSet(tuple(_select(conn, kind)))


def get_area(engine: Engine, kind: AreaKind, value: str) -> Area:
    """The area of ``kind`` named by ``value`` (see :func:`resolve`)."""
    every = load_areas(engine, kind)
    found = every.get(kind, resolve(every, kind, value))
    assert found is not None
    return found


def resolve(every: AreaSet, kind: AreaKind, value: str) -> str:
    """The code of the area of ``kind`` that ``value`` names: its code, its English or Persian
    name, or one word of a name ("Tehran" for "Tehran County"); a district by its number.

    Raises :class:`NotFoundError` when none matches and :class:`UserError` when several do.
    """
    key = normalise_key(value)
    members = every.of_kind(kind)
    if kind.numbered:
        try:
            return str(int(key))
        except ValueError:
            pass

    def names(area: Area) -> set[str]:
        return {normalise_key(area.code), normalise_key(area.name_en), normalise_key(area.name_fa)}

    found = [a for a in members if key in names(a)]
    if not found:
        found = [a for a in members if any(key in n.split() for n in names(a))]
    if len(found) == 1:
        return found[0].code
    if found:
        raise UserError.of(
            "{value} names more than one {kind}: {codes}",
            value=value, kind=kind.value, codes=", ".join(a.code for a in found),
        )  # fmt: skip
    raise NotFoundError.of(
        "no {kind} named {value} (known: {codes})",
        kind=kind.value, value=value, codes=", ".join(a.code for a in members) or "-",
    )  # fmt: skip


def assign_stations(conn: Connection, every: AreaSet) -> PointAreas:
    """Recompute the areas of every stored station (its file's districts win)."""
    rows = conn.execute(
        sa.select(
            core.stations.c.code,
            core.stations.c.lon,
            core.stations.c.lat,
            core.stations.c.district,
            core.sites.c.education_district,
        )
        .join(core.sites, core.sites.c.id == core.stations.c.site_id)
        .order_by(core.stations.c.code)
    ).all()
    codes = [r.code for r in rows]
    found = assign_points(
        every,
        codes,
        [r.lon for r in rows],
        [r.lat for r in rows],
        {
            AreaKind.MUNICIPAL_DISTRICT: [r.district for r in rows],
            AreaKind.EDUCATION_DISTRICT: [r.education_district for r in rows],
        },
    )
    _write_links(conn, STATION, found)
    return found


def assign_exchanges(conn: Connection, every: AreaSet) -> PointAreas:
    """Recompute the areas of every stored exchange from the polygons; a county given in the
    exchange file (when the exchanges table has one) wins, as a station file's districts do."""
    table = core.exchanges
    county = table.c.get("county")
    columns = [table.c.code, table.c.lon, table.c.lat]
    rows = conn.execute(
        sa.select(*columns, *([county] if county is not None else [])).order_by(table.c.code)
    ).all()
    codes = [r[0] for r in rows]
    explicit: dict[AreaKind, list[int | str | None]] = {}
    if county is not None:
        explicit[AreaKind.COUNTY] = [_county_code(every, r[3]) for r in rows]
    found = assign_points(every, codes, [r[1] for r in rows], [r[2] for r in rows], explicit)
    _write_links(conn, EXCHANGE, found)
    return found


def _county_code(every: AreaSet, value: str | None) -> str | None:
    """A county as a file names it, as the stored county's code when one matches."""
    if value is None or not str(value).strip():
        return None
    try:
        return resolve(every, AreaKind.COUNTY, str(value))
    except UserError:
        return str(value).strip()


def refresh_stations(engine: Engine) -> PointAreas:
    """Recompute the stations' areas from the stored areas (after a station import)."""
    with engine.begin() as conn:
        return assign_stations(conn, AreaSet(tuple(_select(conn))))


def refresh_exchanges(engine: Engine) -> PointAreas:
    """Recompute the exchanges' areas from the stored areas (after an exchange import)."""
    with engine.begin() as conn:
        return assign_exchanges(conn, AreaSet(tuple(_select(conn))))


def _write_links(conn: Connection, subject: str, found: PointAreas) -> None:
    conn.execute(area_links.delete().where(area_links.c.subject == subject))
    rows = [
        {"subject": subject, "code": code, "kind": kind.value, "area_code": area, "source": src}
        for code, kinds in found.links.items()
        for kind, (area, src) in kinds.items()
    ]
    if rows:
        conn.execute(area_links.insert(), rows)


def links(engine: Engine, subject: str = STATION) -> dict[str, dict[str, str]]:
    """The stored areas of every station (or exchange): code -> kind -> area code."""
    out: dict[str, dict[str, str]] = {}
    with engine.connect() as conn:
        for row in conn.execute(
            sa.select(area_links.c.code, area_links.c.kind, area_links.c.area_code).where(
                area_links.c.subject == subject
            )
        ):
            out.setdefault(row.code, {})[row.kind] = row.area_code
    return out


def codes_in(engine: Engine, filters: Mapping[AreaKind, str], subject: str = STATION) -> set[str]:
    """The codes of the stations (or exchanges) in every area of ``filters`` (kind -> code)."""
    every = links(engine, subject)
    return {
        code
        for code, kinds in every.items()
        if all(kinds.get(kind.value) == area for kind, area in filters.items())
    }


def area_filters(
    engine: Engine,
    *,
    county: str | None = None,
    municipality: str | None = None,
    education_district: str | None = None,
) -> dict[AreaKind, str]:
    """The ``--county``/``--municipality``/``--education-district`` options resolved to area
    codes (kind -> code); empty when none is given."""
    wanted = {
        AreaKind.COUNTY: county,
        AreaKind.MUNICIPALITY: municipality,
        AreaKind.EDUCATION_DISTRICT: education_district,
    }
    given = {k: v for k, v in wanted.items() if v is not None and v != ""}
    if not given:
        return {}
    every = load_areas(engine)
    return {kind: resolve(every, kind, value) for kind, value in given.items()}


def export_areas(engine: Engine, path: Path, kind: AreaKind | None = None) -> int:
    """Write the stored areas (or those of ``kind``) to ``path``: GeoJSON or GeoPackage by its
    extension; returns how many."""
    from pollnet.areas import _gpkg

    every = list(load_areas(engine, kind))
    columns = ("kind", "code", "name_fa", "name_en", "number", "osm_relation")
    name = path.name.lower()
    if name.endswith(".gpkg"):
        _gpkg.write_features(
            path,
            "areas",
            columns,
            [({c: a.as_dict()[c] for c in columns}, a.polygon) for a in every],
        )
    elif name.endswith((".geojson", ".json")):
        path.write_text(
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {c: a.as_dict()[c] for c in columns},
                            "geometry": shapely.geometry.mapping(a.polygon),
                        }
                        for a in every
                    ],
                },
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
    else:
        raise UserError.of("unknown area file type (use {suffixes})", file=str(path),
                           suffixes=".geojson, .json, .gpkg")  # fmt: skip
    return len(every)
