"""Areas as values: their kinds, one area, and a set of them that locates points and lines."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray


class AreaKind(enum.StrEnum):
    """The four kinds of administrative area, from the largest to the smallest."""

    COUNTY = "county"
    MUNICIPALITY = "municipality"
    MUNICIPAL_DISTRICT = "municipal_district"
    EDUCATION_DISTRICT = "education_district"

    @property
    def numbered(self) -> bool:
        """Whether areas of this kind are known by a number (districts), not a name."""
        return self in (AreaKind.MUNICIPAL_DISTRICT, AreaKind.EDUCATION_DISTRICT)


KINDS: tuple[AreaKind, ...] = tuple(AreaKind)


@dataclass(frozen=True, eq=False)
class Area:
    """One administrative area: a (Multi)Polygon in WGS84 degrees with its names.

    ``code`` identifies it among the areas of its ``kind``: the district number as text for
    municipal and education districts (``number``), a short name for counties and
    municipalities. ``osm_relation`` is the OpenStreetMap relation it came from, when known.
    """

    kind: AreaKind
    code: str
    name_fa: str
    name_en: str
    polygon: Any  # shapely Polygon or MultiPolygon
    number: int | None = None
    osm_relation: int | None = None

    @property
    def name(self) -> str:
        """The English name, else the Persian one, else the code."""
        return self.name_en or self.name_fa or self.code

    def label(self, lang: str) -> str:
        """The area's name in ``lang`` (the other language's, or the code, when it has none)."""
        first, second = (
            (self.name_fa, self.name_en) if lang == "fa" else (self.name_en, self.name_fa)
        )
        return first or second or self.code

    def same_as(self, other: Area) -> bool:
        """Whether ``other`` has the same names, number, relation and shape."""
        return (
            self.kind,
            self.code,
            self.name_fa,
            self.name_en,
            self.number,
            self.osm_relation,
        ) == (
            other.kind,
            other.code,
            other.name_fa,
            other.name_en,
            other.number,
            other.osm_relation,
        ) and bool(shapely.equals_exact(self.polygon, other.polygon, tolerance=1e-9))

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (without the geometry)."""
        minx, miny, maxx, maxy = self.polygon.bounds
        return {
            "kind": self.kind.value,
            "code": self.code,
            "name_fa": self.name_fa,
            "name_en": self.name_en,
            "number": self.number,
            "osm_relation": self.osm_relation,
            "bbox_lonlat": [round(v, 6) for v in (minx, miny, maxx, maxy)],
        }


def slug(text: str) -> str:
    """A lower-case ASCII code made of ``text``'s letters and digits ('' when it has none)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass(frozen=True, eq=False)
class AreaSet:
    """Areas of every kind; finds which area of each kind holds a point."""

    areas: tuple[Area, ...] = ()
    _ready: dict[AreaKind, list[Area]] = field(default_factory=dict, repr=False)

    def __iter__(self) -> Iterator[Area]:
        return iter(self.areas)

    def __len__(self) -> int:
        return len(self.areas)

    def of_kind(self, kind: AreaKind) -> list[Area]:
        """The areas of ``kind``, in their order."""
        return [a for a in self.areas if a.kind == kind]

    @cached_property
    def kinds(self) -> tuple[AreaKind, ...]:
        """The kinds present, from the largest to the smallest."""
        present = {a.kind for a in self.areas}
        return tuple(k for k in KINDS if k in present)

    def get(self, kind: AreaKind, code: str) -> Area | None:
        """The area of ``kind`` with ``code``, or None."""
        return next((a for a in self.areas if a.kind == kind and a.code == code), None)

    def locate(self, kind: AreaKind, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.int64]:
        """For each point (degrees), the index into :meth:`of_kind` of the area holding it,
        -1 outside every area of ``kind``. On a shared border the first area in order wins.

        One prepared polygon at a time against the points in its bounding box, vectorised
        (``shapely.intersects_xy``): areas are few and large, points many.
        """
        lon_a = np.asarray(lon, dtype=np.float64).ravel()
        lat_a = np.asarray(lat, dtype=np.float64).ravel()
        out = np.full(lon_a.size, -1, dtype=np.int64)
        for k, area in enumerate(self._prepared(kind)):
            x0, y0, x1, y1 = area.polygon.bounds
            idx = np.flatnonzero(
                (out < 0) & (lon_a >= x0) & (lon_a <= x1) & (lat_a >= y0) & (lat_a <= y1)
            )
            if idx.size:
                inside = shapely.intersects_xy(area.polygon, lon_a[idx], lat_a[idx])
                out[idx[inside]] = k
        return out

    def codes(self, kind: AreaKind, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.object_]:
        """For each point, the code of the area of ``kind`` holding it ('' outside them all)."""
        found = self.locate(kind, lon, lat)
        table = np.array([a.code for a in self.of_kind(kind)] + [""], dtype=object)
        codes: NDArray[np.object_] = table[found]
        return codes

    def _prepared(self, kind: AreaKind) -> list[Area]:
        if kind not in self._ready:
            members = self.of_kind(kind)
            for area in members:
                shapely.prepare(area.polygon)
            self._ready[kind] = members
        return self._ready[kind]
