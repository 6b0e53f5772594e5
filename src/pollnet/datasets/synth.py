"""A deterministic synthetic city modelled on Tehran: streets, schools, exchanges, towers, fiber.

:func:`generate` is pure: the same ``stations``, ``seed`` and options give byte-identical arrays
(every random draw comes from a numpy ``Generator`` seeded with ``(seed, stage)``) with the same
numpy and PROJ builds; another machine's ``sin``/``cos`` or PROJ may differ in the last bit. It is
vectorised numpy throughout: 10,000 stations on a ~300,000-node street network take a few
seconds (``benchmarks/bench_synth.py``).

The contract of :class:`SyntheticCity` (the street graph and the planner are built from it):

Nodes, ``n`` of them, indexed ``0..n-1``:
    ``node_x``, ``node_y``: float64 metres, UTM zone 39N (EPSG:32639, :data:`CRS`), easting and
    northing. ``node_lon``, ``node_lat``: float64 WGS84 degrees of the same points.
    ``node_district``: int8 municipal district 1..22.
Edges, ``m`` of them, undirected, one per node pair, no self loops:
    ``edge_u``, ``edge_v``: int32 node indices. ``edge_length_m``: float64 straight-line length
    in metres (UTM grid distance; the scale error near 51.4°E is under 0.05 %), always > 0.
    ``edge_class``: int8 code into :data:`HIGHWAY_CLASSES` (also ``city.highway_classes``; OSM
    ``highway`` values, motorway=0 .. service=6; ``edge_highway`` gives the strings).
    ``edge_name``: int32 index into ``street_names_fa`` / ``street_names_en``
    (``edge_name_fa`` / ``edge_name_en`` give the strings, e.g. ``"خیابان ۱۲"`` /
    ``"Street 12"``). ``edge_district``: int8 district 1..22 of the edge's midpoint.
    Edges are stored in street order: consecutive edges of one street share a node.
Things on the map (tuples of :mod:`pollnet.model` values, WGS84 degrees rounded to 6 decimals):
    ``sites`` (schools), ``stations`` (1-4 per school, codes ``T-00001``...; ``station_node`` is
    the street node in front of its school), ``exchanges`` (``exchange_node`` likewise),
    ``towers``, ``existing_fiber`` (polylines along arterials) and the 22 ``districts``.

Schools and exchanges sit on the main connected component of the street network, 12-35 m off
the street. The city fills about 36 x 22 km around (51.40°E, 35.70°N) at 10,000 stations;
smaller cities are smaller at the same street density.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pyproj import Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from pollnet.datasets import _districts, _sites, _streets
from pollnet.datasets._city import CRS, SyntheticCity
from pollnet.datasets._files import read, write
from pollnet.datasets._streets import HIGHWAY_CLASSES
from pollnet.errors import UserError
from pollnet.i18n import to_ascii_digits
from pollnet.model import District, DistrictKind
from pollnet.settings import TEHRAN_BBOX, BoundingBox

__all__ = [
    "CRS",
    "HIGHWAY_CLASSES",
    "STAGES",
    "SyntheticCity",
    "generate",
    "read",
    "summary",
    "write",
]

CENTRE_LON, CENTRE_LAT = 51.40, 35.70
NODES_PER_STATION = 30.0
MIN_NODES = 2000

STAGES = ("streets", "districts", "schools and stations", "exchanges", "towers", "existing fiber")
"""The generator's stages, in order (English msgids, reported to ``on_stage``)."""

FloatArray = NDArray[np.float64]


def generate(
    stations: int,
    seed: int,
    *,
    nodes_per_station: float = NODES_PER_STATION,
    min_nodes: int = MIN_NODES,
    bbox: BoundingBox = TEHRAN_BBOX,
    on_stage: Callable[[str], None] | None = None,
) -> SyntheticCity:
    """A synthetic city with exactly ``stations`` polling stations, the same for the same seed.

    Parameters
    ----------
    stations
        Number of polling stations (at least 1).
    seed
        Non-negative random seed.
    nodes_per_station
        Street nodes per station; the network has about ``max(min_nodes, stations *
        nodes_per_station)`` nodes (30 gives Tehran's street density for its station count).
    bbox
        Every node and station must fall inside it (WGS84); a user error otherwise.
    on_stage
        Called with each stage name of :data:`STAGES` as it starts (for progress bars).
    """
    if stations < 1:
        raise UserError.of("the number of stations must be at least 1, not {value}", value=stations)
    if seed < 0:
        raise UserError.of("the seed must not be negative, not {value}", value=seed)
    report = on_stage or (lambda _stage: None)

    def rng(stage: int) -> np.random.Generator:
        return np.random.default_rng([seed, stage])

    report(STAGES[0])
    target = max(min_nodes, round(stations * nodes_per_station))
    streets = _streets.build(target, rng(0))
    to_utm = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    to_wgs = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    east, north = to_utm.transform(CENTRE_LON, CENTRE_LAT)
    x, y = streets.x + east, streets.y + north
    lon, lat = (np.asarray(a, dtype=np.float64) for a in to_wgs.transform(x, y))
    if not _inside(bbox, lon, lat):
        raise UserError.of(
            "a city of {stations} stations does not fit inside the bounding box", stations=stations
        )

    def to_lonlat(px: FloatArray, py: FloatArray) -> tuple[FloatArray, FloatArray]:
        a, b = to_wgs.transform(px, py)
        return np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)

    u, v = streets.u, streets.v
    length = np.hypot(x[u] - x[v], y[u] - y[v])

    report(STAGES[1])
    partition = _districts.Partition(rng(1))
    hw, hh = streets.half_width_m, streets.half_height_m
    node_district = partition.district(streets.x / hw, streets.y / hh)
    mid_x, mid_y = (streets.x[u] + streets.x[v]) / 2, (streets.y[u] + streets.y[v]) / 2
    edge_district = partition.district(mid_x / hw, mid_y / hh)

    report(STAGES[2])
    main = _main_component(x.size, u, v)
    node_street, has_street = _local_street_of_node(x.size, streets)
    street_ascii = np.asarray([to_ascii_digits(n) for n in streets.names_fa], dtype=object)
    candidates = np.flatnonzero(main & has_street)
    sites, station_list, station_node = _sites.schools(
        stations, x, y, candidates, node_district, street_ascii[node_street], to_lonlat, rng(2)
    )

    report(STAGES[3])
    n_exchanges = max(2, round(stations / _sites.STATIONS_PER_EXCHANGE))
    exchanges, exchange_node = _sites.exchanges(n_exchanges, x, y, candidates, to_lonlat, rng(3))

    report(STAGES[4])
    n_towers = max(9, round(stations * _sites.TOWERS_PER_STATION))
    towers = _sites.towers(n_towers, x, y, np.flatnonzero(main), to_lonlat, rng(4))

    report(STAGES[5])
    n_fiber = max(2, min(2 * len(streets.arterials), 2 + stations // 2000))
    fiber = _sites.existing_fiber(n_fiber, streets.arterials, lon, lat, rng(5))

    return SyntheticCity(
        seed=seed,
        node_x=x,
        node_y=y,
        node_lon=lon,
        node_lat=lat,
        node_district=node_district,
        edge_u=u.astype(np.int32),
        edge_v=v.astype(np.int32),
        edge_length_m=length,
        edge_class=streets.highway,
        edge_name=streets.name,
        edge_district=edge_district,
        street_names_fa=streets.names_fa,
        street_names_en=streets.names_en,
        sites=sites,
        stations=station_list,
        station_node=station_node.astype(np.int32),
        exchanges=exchanges,
        exchange_node=exchange_node.astype(np.int32),
        towers=towers,
        existing_fiber=fiber,
        districts=tuple(
            District(DistrictKind.MUNICIPAL, n, f"منطقه {n}")
            for n in range(1, _districts.DISTRICTS + 1)
        ),
    )


def _inside(bbox: BoundingBox, lon: FloatArray, lat: FloatArray) -> bool:
    return bool(
        (lat.min() >= bbox.min_lat)
        & (lat.max() <= bbox.max_lat)
        & (lon.min() >= bbox.min_lon)
        & (lon.max() <= bbox.max_lon)
    )


def _main_component(
    n: int, u: NDArray[np.integer[Any]], v: NDArray[np.integer[Any]]
) -> NDArray[np.bool_]:
    """Which nodes belong to the largest connected component."""
    graph = coo_matrix((np.ones(u.size, dtype=np.int8), (u, v)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    main: NDArray[np.bool_] = labels == np.bincount(labels).argmax()
    return main


def _local_street_of_node(
    n: int, streets: _streets.Streets
) -> tuple[NDArray[np.int32], NDArray[np.bool_]]:
    """Per node, the name of a local street (secondary to residential) it lies on, if any."""
    local = (streets.highway >= _streets.SECONDARY) & (streets.highway <= _streets.RESIDENTIAL)
    ends = np.concatenate([streets.u[local], streets.v[local]])
    names = np.concatenate([streets.name[local], streets.name[local]])
    node, first = np.unique(ends, return_index=True)
    result = np.zeros(n, dtype=np.int32)
    result[node] = names[first]
    has = np.zeros(n, dtype=bool)
    has[node] = True
    return result, has


def degree(city: SyntheticCity) -> NDArray[np.int64]:
    """The number of edges at each node."""
    return np.bincount(np.concatenate([city.edge_u, city.edge_v]), minlength=city.node_count)


def summary(city: SyntheticCity) -> dict[str, Any]:
    """Counts and lengths that describe ``city`` (the ``pollnet synth --json`` object)."""
    main = _main_component(city.node_count, city.edge_u, city.edge_v)
    fiber_m = 0.0
    if city.existing_fiber:
        to_utm = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
        for line in city.existing_fiber:
            fx, fy = to_utm.transform(*np.asarray(line.coords).T)
            fiber_m += float(np.hypot(np.diff(fx), np.diff(fy)).sum())
    per_class = np.bincount(city.edge_class, weights=city.edge_length_m, minlength=7) / 1000
    return {
        "seed": city.seed,
        "stations": len(city.stations),
        "schools": len(city.sites),
        "critical_stations": sum(s.critical for s in city.stations),
        "voters": sum(s.voters for s in city.stations),
        "nodes": city.node_count,
        "edges": city.edge_count,
        "street_km": round(float(city.edge_length_m.sum()) / 1000, 1),
        "street_km_by_class": {
            name: round(float(km), 1) for name, km in zip(HIGHWAY_CLASSES, per_class, strict=True)
        },
        "dead_ends": int((degree(city) == 1).sum()),
        "main_component_share": round(float(main.mean()), 4),
        "districts": len(np.unique(city.edge_district)),
        "exchanges": len(city.exchanges),
        "pon_ports": sum(e.pon_ports for e in city.exchanges),
        "towers": len(city.towers),
        "existing_fiber_km": round(fiber_m / 1000, 1),
    }
