"""Schools and their polling stations, telecom exchanges, towers and existing fiber.

Everything is placed relative to street nodes given in metres (UTM zone 39N); ``to_lonlat``
turns metres into WGS84 degrees. Text follows what the registry stores: Persian words with ASCII
digits (the registry normalises digits on import; displays turn them Persian again).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from pollnet.model import Exchange, ExistingFiber, RadioType, Site, Station, Tower

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
ToLonLat = Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]

STATIONS_PER_SCHOOL = (1, 2, 3, 4)
_STATIONS_PER_SCHOOL_P = (0.4, 0.3, 0.2, 0.1)
_SCHOOL_KINDS = ("دبستان", "دبیرستان", "هنرستان", "مدرسه راهنمایی")
_SCHOOL_KINDS_P = (0.45, 0.3, 0.1, 0.15)
CRITICAL_SHARE = 0.10
STATIONS_PER_EXCHANGE = 200
_PON_PORTS = (16, 32, 64)
_PON_PORTS_P = (0.3, 0.5, 0.2)
TOWERS_PER_STATION = 0.6
OPERATORS = ("MCI", "Irancell", "Rightel")
_OPERATOR_P = (0.45, 0.4, 0.15)
_OPERATOR_PREFIX = ("MCI", "IRC", "RTL")
_RADIOS = (RadioType.LTE, RadioType.UMTS, RadioType.GSM)
_RADIO_P = (0.6, 0.25, 0.15)
_DECIMALS = 6  # degrees: about 0.1 m, and what the CSV files hold


def _offset(
    x: FloatArray, y: FloatArray, low: float, high: float, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Points moved ``low``..``high`` metres in a random direction (a building off the street)."""
    r = rng.uniform(low, high, size=x.size)
    a = rng.uniform(0, 2 * np.pi, size=x.size)
    return x + r * np.cos(a), y + r * np.sin(a)


def _degrees(lon: FloatArray, lat: FloatArray) -> tuple[list[float], list[float]]:
    return np.round(lon, _DECIMALS).tolist(), np.round(lat, _DECIMALS).tolist()


def schools(
    station_count: int,
    x: FloatArray,
    y: FloatArray,
    candidates: IntArray,
    node_district: NDArray[np.int8],
    node_street: NDArray[np.object_],
    to_lonlat: ToLonLat,
    rng: np.random.Generator,
) -> tuple[tuple[Site, ...], tuple[Station, ...], IntArray]:
    """Schools at distinct street nodes, each hosting 1-4 of exactly ``station_count`` stations.

    Returns the sites, the stations (codes ``T-00001``...) and each station's street node.
    """
    per_school = rng.choice(STATIONS_PER_SCHOOL, p=_STATIONS_PER_SCHOOL_P, size=station_count)
    total = np.cumsum(per_school)
    n_schools = int(np.searchsorted(total, station_count)) + 1
    per_school = per_school[:n_schools]
    per_school[-1] -= int(total[n_schools - 1]) - station_count
    if n_schools > candidates.size:
        raise ValueError("not enough street nodes for the schools")
    node = np.sort(rng.choice(candidates, size=n_schools, replace=False))
    sx, sy = _offset(x[node], y[node], 12.0, 35.0, rng)
    lon, lat = _degrees(*to_lonlat(sx, sy))
    kind = rng.choice(len(_SCHOOL_KINDS), p=_SCHOOL_KINDS_P, size=n_schools).tolist()
    plate = rng.integers(1, 250, size=n_schools).tolist()
    district = node_district[node].tolist()
    sites = tuple(
        Site(
            name=f"{_SCHOOL_KINDS[kind[k]]} شماره {k + 1}",
            address=f"تهران، منطقه {district[k]}، {node_street[node[k]]}، پلاک {plate[k]}",
            lat=lat[k],
            lon=lon[k],
            district=district[k],
        )
        for k in range(n_schools)
    )

    school_of = np.repeat(np.arange(n_schools), per_school)
    voters = np.clip(rng.normal(850, 300, size=station_count), 300, 1500).astype(np.int64)
    devices = np.clip(np.rint(voters / 500 + rng.normal(0, 0.4, size=station_count)), 1, 3)
    critical = rng.random(station_count) < CRITICAL_SHARE
    width = max(5, len(str(station_count)))
    stations = tuple(
        Station(
            code=f"T-{n + 1:0{width}d}",
            name=f"شعبه {n + 1}",
            site=sites[s].name,
            address=sites[s].address,
            district=sites[s].district,
            lat=sites[s].lat,
            lon=sites[s].lon,
            voters=v,
            devices=d,
            critical=c,
        )
        for n, (s, v, d, c) in enumerate(
            zip(
                school_of.tolist(),
                voters.tolist(),
                devices.astype(np.int64).tolist(),
                critical.tolist(),
                strict=True,
            )
        )
    )
    return sites, stations, node[school_of]


def exchanges(
    count: int,
    x: FloatArray,
    y: FloatArray,
    candidates: IntArray,
    to_lonlat: ToLonLat,
    rng: np.random.Generator,
) -> tuple[tuple[Exchange, ...], IntArray]:
    """``count`` exchanges spread over the city (k-means centres snapped to street nodes)."""
    sample = rng.choice(candidates, size=min(candidates.size, 20_000), replace=False)
    px, py = x[sample], y[sample]
    centre = rng.choice(sample.size, size=count, replace=False)
    cx, cy = px[centre], py[centre]
    for _ in range(15):
        label = _nearest(px, py, cx, cy)
        weight = np.bincount(label, minlength=count)
        has = weight > 0
        cx = np.where(has, np.bincount(label, px, count) / np.maximum(weight, 1), cx)
        cy = np.where(has, np.bincount(label, py, count) / np.maximum(weight, 1), cy)
    chosen = sample[_nearest(cx, cy, px, py)]
    if np.unique(chosen).size < count:
        spare = np.setdiff1d(sample, chosen)
        _, first = np.unique(chosen, return_index=True)
        repeat = np.setdiff1d(np.arange(count), first)
        chosen[repeat] = spare[: repeat.size]
    ex, ey = _offset(x[chosen], y[chosen], 15.0, 30.0, rng)
    lon, lat = _degrees(*to_lonlat(ex, ey))
    ports = rng.choice(_PON_PORTS, p=_PON_PORTS_P, size=count).tolist()
    result = tuple(
        Exchange(
            code=f"EX-{k + 1:03d}",
            name=f"مرکز مخابرات {k + 1}",
            lat=lat[k],
            lon=lon[k],
            pon_ports=ports[k],
        )
        for k in range(count)
    )
    return result, chosen


def _nearest(px: FloatArray, py: FloatArray, qx: FloatArray, qy: FloatArray) -> IntArray:
    """For each point p, the index of the nearest point q (brute force, in chunks)."""
    out = np.empty(px.size, dtype=np.int64)
    for start in range(0, px.size, 4096):
        sl = slice(start, start + 4096)
        d = (px[sl, None] - qx[None, :]) ** 2 + (py[sl, None] - qy[None, :]) ** 2
        out[sl] = d.argmin(axis=1)
    return out


def towers(
    count: int,
    x: FloatArray,
    y: FloatArray,
    candidates: IntArray,
    to_lonlat: ToLonLat,
    rng: np.random.Generator,
) -> tuple[Tower, ...]:
    """Towers of the three operators near streets (within 150 m of a street node)."""
    at = rng.choice(candidates, size=count)
    tx, ty = _offset(x[at], y[at], 0.0, 150.0, rng)
    lon, lat = _degrees(*to_lonlat(tx, ty))
    operator = rng.choice(len(OPERATORS), p=_OPERATOR_P, size=count)
    radio = rng.choice(len(_RADIOS), p=_RADIO_P, size=count).tolist()
    height = (np.rint(rng.uniform(15, 45, size=count) * 2) / 2).tolist()
    serial = np.zeros(count, dtype=np.int64)
    for k in range(len(OPERATORS)):
        mine = operator == k
        serial[mine] = np.arange(1, int(mine.sum()) + 1)
    return tuple(
        Tower(
            code=f"{_OPERATOR_PREFIX[o]}-{s:05d}",
            operator=OPERATORS[o],
            radio=_RADIOS[r],
            lat=lat[k],
            lon=lon[k],
            height_m=height[k],
        )
        for k, (o, s, r) in enumerate(zip(operator.tolist(), serial.tolist(), radio, strict=True))
    )


def existing_fiber(
    count: int,
    chains: Sequence[IntArray],
    node_lon: FloatArray,
    node_lat: FloatArray,
    rng: np.random.Generator,
) -> tuple[ExistingFiber, ...]:
    """``count`` fiber lines laid along stretches (25-60 %) of the arterial roads."""
    usable = [c for c in chains if c.size >= 4]
    result = []
    for k in range(count if usable else 0):
        chain = usable[k % len(usable)]
        share = rng.uniform(0.25, 0.6)
        n = max(2, round(chain.size * share))
        start = int(rng.integers(0, chain.size - n + 1))
        part = chain[start : start + n]
        lon, lat = _degrees(node_lon[part], node_lat[part])
        result.append(
            ExistingFiber(code=f"FIB-{k + 1:02d}", coords=tuple(zip(lon, lat, strict=True)))
        )
    return tuple(result)
