"""The plan as map layers: GeoJSON files and one GeoPackage, WGS84 (EPSG:4326) longitude/latitude.

Layers (one GeoJSON FeatureCollection file per layer, one table per layer in the GeoPackage):

``trenches``
    street trench segments (method, length, street, district, cost);
``drops``
    building drops from the street into a school or an exchange;
``cable_runs``
    cables with their core counts and the stations downstream;
``splices``
    splice closures and splitters;
``assignments``
    a straight line from each served station to its exchange (who serves whom);
``exchanges``
    the exchanges with their PON ports;
``stations``
    every station with its status, optical loss, margin and flags (the per-station budget).

The GeoPackage is written directly with :mod:`sqlite3` following OGC GeoPackage 1.2/1.3
(``gpkg_spatial_ref_sys``, ``gpkg_contents``, ``gpkg_geometry_columns``, GeoPackageBinary
geometries: the ``GP`` header with an envelope, then little-endian WKB); no GDAL is needed.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pollnet.plan.model import WARNING_CODES, Plan, StationPlan
from pollnet.plan.refs import PlanRefs
from pollnet.streets import StreetGraph

__all__ = [
    "LAYER_NAMES",
    "OSM_ATTRIBUTION",
    "Layer",
    "attribution_for",
    "geometry_blob",
    "layers",
    "write_geojson",
    "write_geopackage",
]

OSM_ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"
"""The attribution every product drawn from OpenStreetMap streets must carry."""

GeometryType = Literal["POINT", "LINESTRING"]
FieldType = Literal["INTEGER", "REAL", "TEXT", "BOOLEAN"]
Coords = Sequence[tuple[float, float]]

LAYER_NAMES: tuple[str, ...] = (
    "trenches",
    "drops",
    "cable_runs",
    "splices",
    "assignments",
    "exchanges",
    "stations",
)

_OSM_SUFFIXES = (".pbf", ".osm", ".osm.xml", ".o5m", ".osm.bz2", ".osm.gz")


@dataclass(frozen=True)
class Layer:
    """One map layer: a geometry type, typed fields and features ``(coords, values)``.

    A point's ``coords`` is one ``(lon, lat)`` pair in a one-element sequence; a line's is its
    polyline. ``values`` follow ``fields`` in order.
    """

    name: str
    geometry: GeometryType
    fields: tuple[tuple[str, FieldType], ...]
    features: tuple[tuple[Coords, tuple[Any, ...]], ...]
    description: str

    def properties(self) -> Iterable[dict[str, Any]]:
        """Every feature's values as a mapping from field name."""
        names = [name for name, _ in self.fields]
        for _, values in self.features:
            yield dict(zip(names, values, strict=True))


def attribution_for(graph: StreetGraph | None) -> str | None:
    """The attribution the street source needs: OSM's when the graph came from an OSM file."""
    if graph is None:
        return None
    source = graph.report.source.lower()
    if source.endswith(_OSM_SUFFIXES) or "openstreetmap" in source:
        return OSM_ATTRIBUTION
    return None


def _flag_codes(s: StationPlan) -> str:
    return ",".join(f.code for f in s.flags)


def _station_state(s: StationPlan) -> str:
    """``connected``, ``warning`` (connected, carrying only warnings) or ``flagged``."""
    if s.status != "connected":
        return "flagged"
    return "warning" if any(f.code in WARNING_CODES for f in s.flags) else "connected"


def layers(plan: Plan, lang: str = "en") -> tuple[Layer, ...]:
    """The plan as the layers listed in this module's docstring (flag texts in ``lang``)."""
    drops_of: dict[int, list[StationPlan]] = {}
    for s in plan.stations:
        if s.route_trench_ids:
            drops_of.setdefault(s.route_trench_ids[-1], []).append(s)
    exchange_drop: dict[int, str] = {}
    for run in plan.cable_runs:
        if run.trench_ids and plan.trenches[run.trench_ids[0]].edge < 0:
            exchange_drop.setdefault(run.trench_ids[0], run.exchange)

    refs = PlanRefs(plan)
    trenches = Layer(
        "trenches",
        "LINESTRING",
        (
            ("id", "INTEGER"),
            ("ref", "TEXT"),
            ("edge", "INTEGER"),
            ("method", "TEXT"),
            ("length_m", "REAL"),
            ("street", "TEXT"),
            ("street_en", "TEXT"),
            ("street_class", "TEXT"),
            ("district", "INTEGER"),
            ("cost_rial", "REAL"),
            ("stations_behind", "INTEGER"),
            ("street_segment", "INTEGER"),
        ),
        tuple(
            (
                t.coords,
                (
                    t.id,
                    refs.trench[t.id],
                    t.edge,
                    t.method,
                    t.length_m,
                    t.street_name,
                    t.street_name_en,
                    t.street_class,
                    t.district,
                    t.cost_rial,
                    t.stations_behind,
                    t.street_segment,
                ),
            )
            for t in plan.trenches
            if t.method != "drop"
        ),
        "Trench segments along streets (method, length in metres, cost in rials)",
    )
    drops = Layer(
        "drops",
        "LINESTRING",
        (
            ("id", "INTEGER"),
            ("ref", "TEXT"),
            ("kind", "TEXT"),
            ("stations", "TEXT"),
            ("site", "TEXT"),
            ("exchange", "TEXT"),
            ("length_m", "REAL"),
            ("district", "INTEGER"),
            ("cost_rial", "REAL"),
        ),
        tuple(
            (
                t.coords,
                (
                    t.id,
                    refs.trench[t.id],
                    "station" if t.id in drops_of else "exchange",
                    ",".join(s.code for s in drops_of.get(t.id, ())),
                    drops_of[t.id][0].site if t.id in drops_of else "",
                    exchange_drop.get(t.id, ""),
                    t.length_m,
                    t.district,
                    t.cost_rial,
                ),
            )
            for t in plan.trenches
            if t.method == "drop"
        ),
        "Building drops from the street into a school or an exchange",
    )
    cable_runs = Layer(
        "cable_runs",
        "LINESTRING",
        (
            ("id", "INTEGER"),
            ("ref", "TEXT"),
            ("exchange", "TEXT"),
            ("cores", "INTEGER"),
            ("fibers_used", "INTEGER"),
            ("length_m", "REAL"),
            ("stations_downstream", "INTEGER"),
            ("redundant", "BOOLEAN"),
            ("existing", "BOOLEAN"),
            ("trench_ids", "TEXT"),
            ("trench_refs", "TEXT"),
        ),
        tuple(
            (
                r.coords,
                (
                    r.id,
                    refs.cable_run[r.id],
                    r.exchange,
                    r.cores,
                    r.fibers_used,
                    r.length_m,
                    r.stations_downstream,
                    r.redundant,
                    r.existing,
                    ",".join(str(i) for i in r.trench_ids),
                    refs.trenches(r.trench_ids, ","),
                ),
            )
            for r in plan.cable_runs
        ),
        "Fiber cables with their core counts and the stations downstream",
    )
    splices = Layer(
        "splices",
        "POINT",
        (
            ("id", "INTEGER"),
            ("kind", "TEXT"),
            ("split", "INTEGER"),
            ("exchange", "TEXT"),
            ("cable_run_ids", "TEXT"),
            ("cable_run_refs", "TEXT"),
        ),
        tuple(
            (
                ((p.lon, p.lat),),
                (
                    p.id,
                    p.kind,
                    p.split,
                    p.exchange,
                    ",".join(str(i) for i in p.cable_run_ids),
                    refs.cable_runs(p.cable_run_ids, ","),
                ),
            )
            for p in plan.splices
        ),
        "Splice closures and passive optical splitters",
    )
    exchange_at = {x.code: (x.lon, x.lat) for x in plan.exchanges}
    assignments = Layer(
        "assignments",
        "LINESTRING",
        (
            ("station", "TEXT"),
            ("exchange", "TEXT"),
            ("route_length_m", "REAL"),
            ("pon_port", "INTEGER"),
            ("splitter_id", "INTEGER"),
        ),
        tuple(
            (
                ((s.lon, s.lat), exchange_at[s.exchange]),
                (s.code, s.exchange, s.route_length_m, s.pon_port, s.splitter_id),
            )
            for s in plan.stations
            if s.exchange is not None and s.exchange in exchange_at
        ),
        "Which exchange serves each station (straight lines, not routes)",
    )
    exchanges = Layer(
        "exchanges",
        "POINT",
        (
            ("code", "TEXT"),
            ("name", "TEXT"),
            ("pon_ports", "INTEGER"),
            ("ports_used", "INTEGER"),
            ("stations", "INTEGER"),
        ),
        tuple(
            (((x.lon, x.lat),), (x.code, x.name, x.pon_ports, x.ports_used, x.stations))
            for x in plan.exchanges
        ),
        "Telecom exchanges and their OLT PON ports",
    )
    stations = Layer(
        "stations",
        "POINT",
        (
            ("code", "TEXT"),
            ("name", "TEXT"),
            ("site", "TEXT"),
            ("district", "INTEGER"),
            ("status", "TEXT"),
            ("state", "TEXT"),
            ("critical", "BOOLEAN"),
            ("exchange", "TEXT"),
            ("route_length_m", "REAL"),
            ("drop_length_m", "REAL"),
            ("fiber_km", "REAL"),
            ("splices", "INTEGER"),
            ("connectors", "INTEGER"),
            ("splitter_loss_db", "REAL"),
            ("loss_db", "REAL"),
            ("budget_db", "REAL"),
            ("margin_db", "REAL"),
            ("headroom_db", "REAL"),
            ("budget_ok", "BOOLEAN"),
            ("flags", "TEXT"),
            ("flag_text", "TEXT"),
            ("second_route_m", "REAL"),
            ("second_exchange", "TEXT"),
            ("second_route_cost_rial", "REAL"),
        ),
        tuple((((s.lon, s.lat),), _station_values(s, lang)) for s in plan.stations),
        "Every station with its status and optical budget (loss, margin and headroom in dB)",
    )
    return (trenches, drops, cable_runs, splices, assignments, exchanges, stations)


def _station_values(s: StationPlan, lang: str) -> tuple[Any, ...]:
    b, r = s.budget, s.redundant
    return (
        s.code,
        s.name,
        s.site,
        s.district,
        s.status,
        _station_state(s),
        s.critical,
        s.exchange,
        s.route_length_m,
        s.drop_length_m,
        None if b is None else b.fiber_km,
        None if b is None else b.splices,
        None if b is None else b.connectors,
        None if b is None else b.splitter_loss_db,
        None if b is None else b.total_loss_db,
        None if b is None else b.budget_db,
        None if b is None else b.margin_db,
        None if b is None else round(b.headroom_db, 3),
        None if b is None else b.ok,
        _flag_codes(s),
        " | ".join(f.render(lang) for f in s.flags),
        None if r is None else r.length_m,
        None if r is None else r.exchange,
        None if r is None else r.extra_cost_rial,
    )


def _metadata(plan: Plan, attribution: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "plan_id": plan.id,
        "created_at": plan.created_at.isoformat(),
        "inputs_digest": plan.inputs_digest,
    }
    if attribution:
        meta["attribution"] = attribution
    return meta


# -- GeoJSON ----------------------------------------------------------------------------------


def _geojson_geometry(kind: GeometryType, coords: Coords) -> dict[str, Any]:
    points = [[round(lon, 7), round(lat, 7)] for lon, lat in coords]
    if kind == "POINT":
        return {"type": "Point", "coordinates": points[0]}
    return {"type": "LineString", "coordinates": points}


def write_geojson(
    plan: Plan, folder: Path, *, lang: str = "en", attribution: str | None = None
) -> dict[str, Path]:
    """One GeoJSON FeatureCollection per layer, ``folder/<layer>.geojson``; returns the paths.

    Each collection carries the plan id, its inputs digest and the street data's attribution as
    foreign members (RFC 7946 section 6.1).
    """
    folder.mkdir(parents=True, exist_ok=True)
    meta = _metadata(plan, attribution)
    out: dict[str, Path] = {}
    for layer in layers(plan, lang):
        collection = {
            "type": "FeatureCollection",
            "name": layer.name,
            "description": layer.description,
            **meta,
            "features": [
                {
                    "type": "Feature",
                    "geometry": _geojson_geometry(layer.geometry, coords),
                    "properties": props,
                }
                for (coords, _), props in zip(layer.features, layer.properties(), strict=True)
            ],
        }
        path = folder / f"{layer.name}.geojson"
        path.write_text(
            json.dumps(collection, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
        )
        out[layer.name] = path
    return out


# -- GeoPackage -------------------------------------------------------------------------------

_WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
    'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]'
)
_GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
_GPKG_USER_VERSION = 10300
_WKB_TYPE = {"POINT": 1, "LINESTRING": 2}


def geometry_blob(kind: GeometryType, coords: Coords, srs_id: int = 4326) -> bytes:
    """A GeoPackageBinary geometry: ``GP`` header (version 0, little-endian, an XY envelope
    for lines, none for points), the SRS id, then the geometry as little-endian WKB."""
    flat = [c for point in coords for c in point]
    if kind == "POINT":
        header = struct.pack("<2sBBi", b"GP", 0, 0b0000_0001, srs_id)
        return header + struct.pack("<BIdd", 1, _WKB_TYPE[kind], flat[0], flat[1])
    lons, lats = flat[0::2], flat[1::2]
    header = struct.pack(
        "<2sBBi4d", b"GP", 0, 0b0000_0011, srs_id, min(lons), max(lons), min(lats), max(lats)
    )
    wkb = struct.pack(f"<BII{len(flat)}d", 1, _WKB_TYPE[kind], len(coords), *flat)
    return header + wkb


def _create_core_tables(db: sqlite3.Connection) -> None:
    db.executescript(
        """
        CREATE TABLE gpkg_spatial_ref_sys (
            srs_name TEXT NOT NULL,
            srs_id INTEGER NOT NULL PRIMARY KEY,
            organization TEXT NOT NULL,
            organization_coordsys_id INTEGER NOT NULL,
            definition TEXT NOT NULL,
            description TEXT
        );
        CREATE TABLE gpkg_contents (
            table_name TEXT NOT NULL PRIMARY KEY,
            data_type TEXT NOT NULL,
            identifier TEXT UNIQUE,
            description TEXT DEFAULT '',
            last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
            min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
            srs_id INTEGER,
            CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id)
        );
        CREATE TABLE gpkg_geometry_columns (
            table_name TEXT NOT NULL,
            column_name TEXT NOT NULL,
            geometry_type_name TEXT NOT NULL,
            srs_id INTEGER NOT NULL,
            z TINYINT NOT NULL,
            m TINYINT NOT NULL,
            CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
            CONSTRAINT uk_gc_table_name UNIQUE (table_name),
            CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
            CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id)
        );
        """
    )
    db.executemany(
        "INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)",
        [
            ("WGS 84 geodetic", 4326, "EPSG", 4326, _WGS84_WKT, "longitude/latitude in degrees"),
            ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian"),
            ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic"),
        ],
    )


def _create_metadata(db: sqlite3.Connection, meta: Mapping[str, Any]) -> None:
    """The plan's identity and attribution as dataset-level gpkg_metadata (the spec's
    metadata extension, registered in gpkg_extensions)."""
    db.executescript(
        """
        CREATE TABLE gpkg_extensions (
            table_name TEXT,
            column_name TEXT,
            extension_name TEXT NOT NULL,
            definition TEXT NOT NULL,
            scope TEXT NOT NULL,
            CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name)
        );
        CREATE TABLE gpkg_metadata (
            id INTEGER CONSTRAINT m_pk PRIMARY KEY ASC NOT NULL,
            md_scope TEXT NOT NULL DEFAULT 'dataset',
            md_standard_uri TEXT NOT NULL,
            mime_type TEXT NOT NULL DEFAULT 'text/xml',
            metadata TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE gpkg_metadata_reference (
            reference_scope TEXT NOT NULL,
            table_name TEXT,
            column_name TEXT,
            row_id_value INTEGER,
            timestamp DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
            md_file_id INTEGER NOT NULL,
            md_parent_id INTEGER,
            CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) REFERENCES gpkg_metadata(id),
            CONSTRAINT crmr_mpi_fk FOREIGN KEY (md_parent_id) REFERENCES gpkg_metadata(id)
        );
        """
    )
    definition = "http://www.geopackage.org/spec120/#extension_metadata"
    db.executemany(
        "INSERT INTO gpkg_extensions VALUES (?, NULL, 'gpkg_metadata', ?, 'read-write')",
        [("gpkg_metadata", definition), ("gpkg_metadata_reference", definition)],
    )
    db.execute(
        "INSERT INTO gpkg_metadata (id, md_scope, md_standard_uri, mime_type, metadata) "
        "VALUES (1, 'dataset', 'https://www.iana.org/assignments/media-types/application/json', "
        "'application/json', ?)",
        (json.dumps(dict(meta), ensure_ascii=False),),
    )
    db.execute(
        "INSERT INTO gpkg_metadata_reference (reference_scope, md_file_id) VALUES ('geopackage', 1)"
    )


def _sql_value(kind: FieldType, value: Any) -> Any:
    if value is None:
        return None
    if kind == "BOOLEAN":
        return 1 if value else 0
    return value


def write_geopackage(
    plan: Plan, path: Path, *, lang: str = "en", attribution: str | None = None
) -> Path:
    """All layers in one GeoPackage file at ``path`` (replaced if it exists)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    meta = _metadata(plan, attribution)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
    db = sqlite3.connect(path)
    try:
        db.execute(f"PRAGMA application_id = {_GPKG_APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {_GPKG_USER_VERSION}")
        with db:
            _create_core_tables(db)
            _create_metadata(db, meta)
            for layer in layers(plan, lang):
                _write_layer(db, layer, now, attribution)
    finally:
        db.close()
    return path


def _write_layer(db: sqlite3.Connection, layer: Layer, now: str, attribution: str | None) -> None:
    columns = ", ".join(f'"{name}" {kind}' for name, kind in layer.fields)
    db.execute(
        f'CREATE TABLE "{layer.name}" (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, '
        f"geom {layer.geometry}, {columns})"
    )
    lons = [lon for coords, _ in layer.features for lon, _ in coords]
    lats = [lat for coords, _ in layer.features for _, lat in coords]
    description = layer.description + (f". {attribution}" if attribution else "")
    db.execute(
        "INSERT INTO gpkg_contents VALUES (?, 'features', ?, ?, ?, ?, ?, ?, ?, 4326)",
        (
            layer.name,
            layer.name,
            description,
            now,
            min(lons, default=None),
            min(lats, default=None),
            max(lons, default=None),
            max(lats, default=None),
        ),
    )
    db.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, 4326, 0, 0)",
        (layer.name, layer.geometry),
    )
    kinds = [kind for _, kind in layer.fields]
    marks = ", ".join("?" for _ in range(len(layer.fields) + 1))
    names = ", ".join(f'"{name}"' for name, _ in layer.fields)
    db.executemany(
        f'INSERT INTO "{layer.name}" (geom, {names}) VALUES ({marks})',
        (
            (
                geometry_blob(layer.geometry, coords),
                *(_sql_value(k, v) for k, v in zip(kinds, values, strict=True)),
            )
            for coords, values in layer.features
        ),
    )
