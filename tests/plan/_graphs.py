"""Small hand-made street graphs near Tehran (UTM 39N metres) for the planner's tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pollnet.model import Exchange, Station
from pollnet.plan.design import DesignInputs
from pollnet.streets import StreetGraph, from_arrays
from pollnet.streets.projection import to_lonlat

E0, N0 = 535000.0, 3950000.0  # metres, UTM 39N: central Tehran


def graph(
    xy: Sequence[tuple[float, float]], edges: Sequence[tuple[int, int]], street: str = "residential"
) -> StreetGraph:
    """A street graph with nodes at ``xy`` (metres from a Tehran origin) and straight edges."""
    x = np.array([p[0] for p in xy], dtype=np.float64) + E0
    y = np.array([p[1] for p in xy], dtype=np.float64) + N0
    codes = ("primary", "residential")
    return from_arrays(
        edge_u=[a for a, _ in edges],
        edge_v=[b for _, b in edges],
        node_x=x,
        node_y=y,
        crs=32639,
        edge_class=np.full(len(edges), codes.index(street)),
        class_names=codes,
    )


def lonlat(g: StreetGraph, dx: float, dy: float) -> tuple[float, float]:
    lon, lat = to_lonlat(np.array([E0 + dx]), np.array([N0 + dy]), g.crs)
    return round(float(lon[0]), 7), round(float(lat[0]), 7)


def station(
    code: str, lon: float, lat: float, *, site: str = "", critical: bool = False
) -> Station:
    return Station(code, code, site or code, "", 1, lat, lon, 500, 2, critical)


def exchange(code: str, lon: float, lat: float, ports: int = 16) -> Exchange:
    return Exchange(code, code, lat, lon, ports)


def inputs(
    g: StreetGraph,
    station_nodes: Sequence[int],
    exchange_nodes: Sequence[int],
    *,
    ports: Sequence[int] | None = None,
    critical: Sequence[int] = (),
) -> DesignInputs:
    """Stations and exchanges standing right at street nodes (drops of 10 m)."""
    stations = tuple(
        station(f"S{i}", float(g.node_lon[n]), float(g.node_lat[n]), critical=i in critical)
        for i, n in enumerate(station_nodes)
    )
    exchanges = tuple(
        exchange(f"X{i}", float(g.node_lon[n]), float(g.node_lat[n]), (ports or [16] * 99)[i])
        for i, n in enumerate(exchange_nodes)
    )
    return DesignInputs(
        graph=g,
        stations=stations,
        station_node=np.asarray(station_nodes, dtype=np.int64),
        station_drop_m=np.full(len(stations), 10.0),
        exchanges=exchanges,
        exchange_node=np.asarray(exchange_nodes, dtype=np.int64),
        exchange_drop_m=np.full(len(exchanges), 10.0),
    )
