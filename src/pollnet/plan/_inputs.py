"""The planner's inputs: read from the store, checked, snapped onto the street graph."""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.engine import Engine

from pollnet.errors import UserError
from pollnet.model import Exchange, ExistingFiber, Station
from pollnet.plan.costs import CostModel
from pollnet.plan.design import MSG_UNREACHABLE, DesignInputs
from pollnet.plan.model import (
    FLAG_DUPLICATE,
    FLAG_FAR_FROM_STREET,
    FLAG_OUTSIDE_AREA,
    FLAG_UNREACHABLE,
    WARNING_CODES,
    Flag,
)
from pollnet.plan.params import PlanParameters
from pollnet.settings import BoundingBox
from pollnet.store.schema import core
from pollnet.streets import INVALID, TOO_FAR, UNREACHABLE, Snaps, StreetGraph, snap, split_edges

MSG_FAR = (
    "{distance} m from the nearest street (more than {limit} m): check its coordinates, or set "
    "[plan] max_drop_m to {needed} to admit it"
)
MSG_OUTSIDE = (
    "outside the street network's area: check its coordinates, or import streets that cover it"
)
MSG_DUPLICATE = (
    "same coordinates as station {other} of another site: check both stations' coordinates"
)
MSG_UNREACHABLE_NEAR = (
    "no exchange reaches this station's part of the street network; the nearest street an "
    "exchange reaches is {street}, {distance} m away: set [plan] max_drop_m to {needed} to "
    "attach it there, or import the streets that join its part to the network"
)

_AREA_MARGIN_M = 1000.0  # metres around the street network's extent


def read_inputs(
    engine: Engine,
) -> tuple[tuple[Station, ...], tuple[Exchange, ...], tuple[ExistingFiber, ...]]:
    """Stations (ordered by code), exchanges and existing fiber from the registry tables."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(core.stations, core.sites.c.name.label("site"), core.sites.c.address)
            .join(core.sites, core.sites.c.id == core.stations.c.site_id)
            .order_by(core.stations.c.code)
        ).mappings()
        stations = tuple(
            Station(
                code=r["code"],
                name=r["name"],
                site=r["site"],
                address=r["address"],
                district=r["district"],
                lat=r["lat"],
                lon=r["lon"],
                voters=r["voters"],
                devices=r["devices"],
                critical=bool(r["critical"]),
            )
            for r in rows
        )
        exchanges = tuple(
            Exchange(
                r["code"], r["name"], r["lat"], r["lon"], r["pon_ports"], r["operator"], r["county"]
            )
            for r in conn.execute(
                sa.select(core.exchanges).order_by(core.exchanges.c.code)
            ).mappings()
        )
        fibers = [
            ExistingFiber(
                r["code"], coords, r["owner"], r["kind"], r["spare_fibres"], r["free_ducts"]
            )
            for r in conn.execute(
                sa.select(core.existing_fiber).order_by(core.existing_fiber.c.code)
            ).mappings()
            for coords in polylines(json.loads(r["geometry"]))
        ]
    return stations, exchanges, tuple(fibers)


def polylines(geometry: dict[str, Any]) -> list[tuple[tuple[float, float], ...]]:
    """The (lon, lat) polylines of a GeoJSON LineString or MultiLineString (heights dropped)."""
    parts = geometry.get("coordinates", [])
    if geometry.get("type") == "LineString":
        parts = [parts]
    return [tuple((float(x), float(y)) for x, y, *_ in part) for part in parts]


def prepare(
    graph: StreetGraph,
    stations: Sequence[Station],
    exchanges: Sequence[Exchange],
    fibers: Sequence[ExistingFiber],
    params: PlanParameters,
    bbox: BoundingBox | None = None,
) -> DesignInputs:
    """Check and snap stations and exchanges; flag what cannot join the network.

    Raises a :class:`UserError` when there are no exchanges, or none lies near a street.
    """
    if not exchanges:
        raise UserError.of("there are no exchanges: import them before planning")
    if graph.num_edges == 0:
        raise UserError.of("the street network has no streets")
    count = len(stations)
    lon = np.array([s.lon for s in stations] + [x.lon for x in exchanges], dtype=np.float64)
    lat = np.array([s.lat for s in stations] + [x.lat for x in exchanges], dtype=np.float64)
    roots = np.arange(count, lon.size)
    snaps = snap(graph, lon, lat, max_drop_m=params.max_drop_m, roots=roots)
    flags: list[list[Flag]] = [[] for _ in range(count)]
    outside = outside_area(graph, snaps.x[:count], snaps.y[:count], lon[:count], lat[:count], bbox)
    for s in range(count):
        bits = int(snaps.flags[s])
        if outside[s] or bits & INVALID:
            flags[s].append(Flag(FLAG_OUTSIDE_AREA, MSG_OUTSIDE))
        elif bits & TOO_FAR:
            flags[s].append(
                Flag(
                    FLAG_FAR_FROM_STREET,
                    MSG_FAR,
                    {
                        "distance": round(float(snaps.drop_m[s])),
                        "limit": round(params.max_drop_m),
                        "needed": math.ceil(float(snaps.drop_m[s])),
                    },
                )
            )
        elif bits & UNREACHABLE:
            flags[s].append(_unreachable(graph, snaps, s))
    _flag_duplicates(stations, flags)
    ex_ok = (snaps.flags[count:] & (INVALID | TOO_FAR)) == 0
    if not ex_ok.any():
        raise UserError.of(
            "no exchange lies within {limit} m of a street of the network",
            limit=round(params.max_drop_m),
        )
    attach = np.ones(lon.size, dtype=bool)
    attach[:count] = [all(f.code in WARNING_CODES for f in fl) for fl in flags]
    attach[count:] = ex_ok
    graph2, node = split_edges(graph, snaps, points=attach)
    node = np.where(attach, node, -1)
    from pollnet.streets.projection import to_lonlat

    street_lon, street_lat = to_lonlat(snaps.proj_x[:count], snaps.proj_y[:count], graph.crs)
    drop = np.nan_to_num(snaps.drop_m, nan=0.0)
    return DesignInputs(
        graph=graph2,
        stations=tuple(stations),
        station_node=node[:count].astype(np.int64),
        station_drop_m=drop[:count],
        exchanges=tuple(exchanges),
        exchange_node=node[count:].astype(np.int64),
        exchange_drop_m=drop[count:],
        fibers=tuple(fibers),
        station_flags=tuple(tuple(f) for f in flags),
        station_street_lonlat=(street_lon, street_lat),
    )


def _unreachable(graph: StreetGraph, snaps: Snaps, point: int) -> Flag:
    """The flag of a station on a fragment no exchange reaches, with what would attach it."""
    near = int(snaps.fed_edge[point])
    if near < 0:
        return Flag(FLAG_UNREACHABLE, MSG_UNREACHABLE)
    distance = float(snaps.fed_drop_m[point])
    name = str(graph.edge_name[near] or graph.edge_name_en[near])
    name = name or f"({graph.edge_class_name[near]})"
    return Flag(
        FLAG_UNREACHABLE,
        MSG_UNREACHABLE_NEAR,
        {"street": name, "distance": round(distance), "needed": math.ceil(distance)},
    )


def outside_area(
    graph: StreetGraph,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    bbox: BoundingBox | None,
) -> NDArray[np.bool_]:
    """Points beyond the street network's extent (plus a margin) or the settings' box."""
    m = _AREA_MARGIN_M
    with np.errstate(invalid="ignore"):
        inside = (
            (x >= graph.node_x.min() - m)
            & (x <= graph.node_x.max() + m)
            & (y >= graph.node_y.min() - m)
            & (y <= graph.node_y.max() + m)
        )
        if bbox is not None:
            inside &= (lat >= bbox.min_lat) & (lat <= bbox.max_lat)
            inside &= (lon >= bbox.min_lon) & (lon <= bbox.max_lon)
    outside: NDArray[np.bool_] = ~inside
    return outside


def _flag_duplicates(stations: Sequence[Station], flags: list[list[Flag]]) -> None:
    """Stations of different sites at the same coordinates (to 1e-6 degrees) are suspicious."""
    groups: dict[tuple[float, float], list[int]] = defaultdict(list)
    for i, s in enumerate(stations):
        groups[(round(s.lon, 6), round(s.lat, 6))].append(i)
    for members in groups.values():
        sites = {stations[i].site for i in members}
        if len(sites) < 2:
            continue
        for i in members:
            other = next(stations[j].code for j in members if stations[j].site != stations[i].site)
            flags[i].append(Flag(FLAG_DUPLICATE, MSG_DUPLICATE, {"other": other}))


def digest(
    graph: StreetGraph,
    stations: Sequence[Station],
    exchanges: Sequence[Exchange],
    fibers: Sequence[ExistingFiber],
    costs: CostModel,
    params: PlanParameters,
) -> str:
    """A SHA-256 over everything the plan depends on: same digest, same plan."""
    h = hashlib.sha256()
    for name in ("edge_u", "edge_v", "edge_length_m", "edge_class", "node_x", "node_y"):
        h.update(np.ascontiguousarray(getattr(graph, name)).tobytes())
    h.update(json.dumps(graph.class_names).encode())
    for group in (stations, exchanges, fibers):
        h.update(
            json.dumps([asdict(x) for x in group], ensure_ascii=False, sort_keys=True).encode()
        )
    h.update(json.dumps(costs.raw, sort_keys=True).encode())
    h.update(json.dumps(params.as_dict(), sort_keys=True).encode())
    return h.hexdigest()
