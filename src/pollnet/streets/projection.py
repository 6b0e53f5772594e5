"""Coordinates: WGS84 longitude/latitude in degrees and metres in a local UTM zone.

Every street graph keeps its node positions twice: ``lon``/``lat`` (EPSG:4326, degrees) for
display and exchange with other data, and ``x``/``y`` (metres east/north in one UTM zone, WGS84
datum, EPSG:326zz north or 327zz south) for distances, snapping and drawing. The zone is the one
holding the data's centroid; Tehran falls in zone 39N, EPSG:32639.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import Geod, Transformer

FloatArray = NDArray[np.float64]

WGS84 = 4326
"""EPSG code of longitude/latitude in degrees."""


def utm_epsg(lon: ArrayLike, lat: ArrayLike) -> int:
    """The EPSG code of the UTM zone holding the centroid of the points (degrees in)."""
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    ok = np.isfinite(lon_a) & np.isfinite(lat_a)
    if not ok.any():
        raise ValueError("no finite coordinates to choose a UTM zone from")
    # The median, not the mean: a few stray points far away must not move the zone.
    centre_lon = float(np.median(lon_a[ok]))
    centre_lat = float(np.median(lat_a[ok]))
    zone = int((centre_lon + 180.0) // 6.0) % 60 + 1
    return (32600 if centre_lat >= 0 else 32700) + zone


@functools.cache
def _transformer(source: int, target: int) -> Transformer:
    return Transformer.from_crs(source, target, always_xy=True)


def to_xy(lon: ArrayLike, lat: ArrayLike, crs: int) -> tuple[FloatArray, FloatArray]:
    """Project longitude/latitude (degrees) into ``crs`` (an EPSG code, metres)."""
    x, y = _transformer(WGS84, crs).transform(
        np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    )
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def to_lonlat(x: ArrayLike, y: ArrayLike, crs: int) -> tuple[FloatArray, FloatArray]:
    """Longitude/latitude (degrees) of points given in metres in ``crs`` (an EPSG code)."""
    lon, lat = _transformer(crs, WGS84).transform(
        np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    )
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def geodesic_m(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> FloatArray:
    """Distance in metres on the WGS84 ellipsoid between pairs of points (degrees in)."""
    a1, b1, a2, b2 = (np.asarray(v, dtype=np.float64) for v in (lon1, lat1, lon2, lat2))
    if a1.size == 0:
        return np.zeros(0, dtype=np.float64)
    _, _, dist = Geod(ellps="WGS84").inv(a1, b1, a2, b2)
    return np.asarray(dist, dtype=np.float64)
