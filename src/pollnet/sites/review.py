"""The site review: what each station costs in the plan, and which buildings nearby cost less.

For every station reviewed: its marginal cost in the plan (the plan with it minus the plan
without it, rials), its LTE backup class, its straight-line distance to the telecom's fibre (the
nearest existing fibre line or exchange, metres), and the candidate buildings within a radius
that would be cheaper to connect instead, each with its saving (rials) and capacity (voters).

The costs come from a :class:`Pricing` (the what-if questions on the plan,
:mod:`pollnet.plan.whatif`); everything else here is plain data in, plain data out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from pollnet.model import Exchange, ExistingFiber
from pollnet.registry import Candidate, StationRecord
from pollnet.streets.projection import to_xy, utm_epsg

FloatArray = NDArray[np.float64]

DEFAULT_RADIUS_M = 500.0
"""Candidate buildings this close to a station (metres, straight line) are priced for it."""

SAME_BUILDING_M = 10.0
"""A candidate closer than this (metres) to its station is the station's own building."""

COST_CLASSES = ("low", "medium", "high", "highest")
"""The map's colour classes of a station's marginal cost: the quartiles of the stations shown."""


class PricedSite(Protocol):
    """What connecting one candidate building instead of a station costs (rials)."""

    @property
    def connect_rial(self) -> float: ...

    @property
    def saving_rial(self) -> float: ...

    @property
    def budget_ok(self) -> bool: ...


class Pricing(Protocol):
    """The plan's what-if answers the review needs."""

    def marginal_rial(self) -> Mapping[str, float]:
        """Each connected station's marginal cost (rials), by code."""
        ...

    def price(self, station: str, lon: FloatArray, lat: FloatArray) -> Sequence[PricedSite]:
        """Connecting each point (WGS84 degrees) instead of ``station``, in the order given;
        nothing when no point could be cheaper than the station."""
        ...


@dataclass(frozen=True)
class CheaperSite:
    """A candidate building that would cost less to connect than its station.

    ``distance_m`` is the straight line to the station; ``connect_rial`` what connecting it
    would cost and ``saving_rial`` the station's marginal cost minus that; ``budget_ok`` whether
    its fibre route passes the optical budget.
    """

    code: str
    name: str
    lat: float
    lon: float
    capacity: int | None
    distance_m: float
    connect_rial: float
    saving_rial: float
    budget_ok: bool

    def holds(self, voters: int) -> bool | None:
        """Whether the building holds ``voters`` (None when its capacity is not known)."""
        return None if self.capacity is None else self.capacity >= voters


@dataclass(frozen=True)
class StationReview:
    """One station in the review; ``marginal_rial`` is None when the plan does not connect it,
    ``backup`` None without towers, ``fibre_m`` None without fibre or exchanges."""

    code: str
    name: str
    site: str
    education_district: int | None
    lat: float
    lon: float
    voters: int
    critical: bool
    marginal_rial: float | None
    backup: str | None
    fibre_m: float | None
    cheaper: tuple[CheaperSite, ...]

    @property
    def best_saving_rial(self) -> float:
        """The largest saving among the cheaper buildings (0 without one)."""
        return max((c.saving_rial for c in self.cheaper), default=0.0)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (rials and metres rounded to whole numbers)."""
        out = asdict(self)
        for key in ("marginal_rial", "fibre_m"):
            if out[key] is not None and math.isfinite(out[key]):
                out[key] = round(out[key])
        out["cheaper"] = [
            {
                **asdict(c),
                "distance_m": round(c.distance_m),
                "connect_rial": round(c.connect_rial),
                "saving_rial": round(c.saving_rial),
                "holds_voters": c.holds(self.voters),
            }
            for c in self.cheaper
        ]
        return out


@dataclass(frozen=True)
class SiteReview:
    """The review of some stations: in the registry's order, with the radius searched."""

    stations: tuple[StationReview, ...]
    radius_m: float
    candidates: int
    plan_id: str | None = None
    """The stored plan priced (None: the registry was designed again, no stored plan fits)."""

    def by_education_district(self) -> dict[int | None, tuple[StationReview, ...]]:
        """The stations grouped by education district (those without one under None last)."""
        groups: dict[int | None, list[StationReview]] = {}
        for s in self.stations:
            groups.setdefault(s.education_district, []).append(s)
        order = sorted(groups, key=lambda d: (d is None, d or 0))
        return {d: tuple(groups[d]) for d in order}

    @property
    def saving_rial(self) -> float:
        """The sum of every station's best saving: what moving each one would save at most."""
        return sum(s.best_saving_rial for s in self.stations)

    def cost_classes(self) -> dict[str, int]:
        """Each connected station's marginal cost class (an index into :data:`COST_CLASSES`),
        by the quartiles of the reviewed stations' marginal costs."""
        costs = {s.code: s.marginal_rial for s in self.stations if s.marginal_rial is not None}
        if not costs:
            return {}
        edges = np.quantile(np.fromiter(costs.values(), dtype=np.float64), [0.25, 0.5, 0.75])
        return {
            code: int(np.searchsorted(edges, cost, side="left")) for code, cost in costs.items()
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "radius_m": self.radius_m,
            "candidates": self.candidates,
            "saving_rial": round(self.saving_rial),
            "plan_id": self.plan_id,
            "stations": [s.as_dict() for s in self.stations],
        }


def review_sites(
    stations: Sequence[StationRecord],
    pricing: Pricing,
    candidates: Sequence[Candidate] = (),
    *,
    backups: Mapping[str, str] | None = None,
    fibre_m: Mapping[str, float] | None = None,
    radius_m: float = DEFAULT_RADIUS_M,
) -> SiteReview:
    """Review ``stations`` (registry records): see the module's description.

    ``backups`` maps a station's code to its LTE class (:func:`pollnet.coverage.lte_backup`),
    ``fibre_m`` to its distance to the fibre (:func:`fibre_distances`). A candidate is priced
    for every connected station within ``radius_m`` metres of it (but not within
    :data:`SAME_BUILDING_M`, and not when both name different education districts); those with
    a positive saving are kept, the largest saving first.
    """
    marginal = pricing.marginal_rial()
    near = _near(stations, candidates, radius_m)
    reviewed: list[StationReview] = []
    for i, s in enumerate(stations):
        cost = marginal.get(s.code)
        cheaper: list[CheaperSite] = []
        found, distance = near[i]
        if cost is not None and found:
            lon = np.array([candidates[c].lon for c in found], dtype=np.float64)
            lat = np.array([candidates[c].lat for c in found], dtype=np.float64)
            answers = pricing.price(s.code, lon, lat)
            for c, d, priced in zip(found, distance, answers, strict=bool(answers)):
                if priced.saving_rial > 0 and math.isfinite(priced.connect_rial):
                    b = candidates[c]
                    cheaper.append(
                        CheaperSite(
                            b.code,
                            b.name,
                            b.lat,
                            b.lon,
                            b.capacity,
                            d,
                            float(priced.connect_rial),
                            float(priced.saving_rial),
                            bool(priced.budget_ok),
                        )
                    )
        cheaper.sort(key=lambda c: (-c.saving_rial, c.code))
        reviewed.append(
            StationReview(
                s.code,
                s.name,
                s.site,
                s.education_district,
                s.lat,
                s.lon,
                s.voters,
                s.critical,
                cost,
                None if backups is None else backups.get(s.code),
                None if fibre_m is None else fibre_m.get(s.code),
                tuple(cheaper),
            )
        )
    return SiteReview(tuple(reviewed), radius_m, len(candidates))


def _near(
    stations: Sequence[StationRecord], candidates: Sequence[Candidate], radius_m: float
) -> list[tuple[list[int], list[float]]]:
    """For each station, the candidates within ``radius_m`` (and beyond the same building) and
    their distances in metres, nearest first."""
    if not stations or not candidates:
        return [([], []) for _ in stations]
    from scipy.spatial import cKDTree

    s_lon = [s.lon for s in stations]
    s_lat = [s.lat for s in stations]
    crs = utm_epsg(s_lon, s_lat)
    sx, sy = to_xy(s_lon, s_lat, crs)
    cx, cy = to_xy([c.lon for c in candidates], [c.lat for c in candidates], crs)
    tree = cKDTree(np.column_stack([cx, cy]))
    out: list[tuple[list[int], list[float]]] = []
    for i, found in enumerate(tree.query_ball_point(np.column_stack([sx, sy]), r=radius_m)):
        pairs = sorted((float(math.hypot(cx[c] - sx[i], cy[c] - sy[i])), int(c)) for c in found)
        own = stations[i].education_district
        pairs = [
            (d, c)
            for d, c in pairs
            if d >= SAME_BUILDING_M and _same_district(own, candidates[c].education_district)
        ]
        out.append(([c for _, c in pairs], [d for d, _ in pairs]))
    return out


def _same_district(station: int | None, candidate: int | None) -> bool:
    """A building of one education district is not offered to another's station."""
    return station is None or candidate is None or station == candidate


def fibre_distances(
    stations: Sequence[StationRecord],
    fibers: Sequence[ExistingFiber],
    exchanges: Sequence[Exchange],
) -> dict[str, float]:
    """Each station's straight-line distance (metres) to the telecom's fibre: the nearest
    existing fibre line or exchange. Empty when there is neither."""
    if not stations or not (fibers or exchanges):
        return {}
    import shapely

    crs = utm_epsg([s.lon for s in stations], [s.lat for s in stations])
    shapes = []
    for f in fibers:
        if len(f.coords) < 2:
            continue
        x, y = to_xy([p[0] for p in f.coords], [p[1] for p in f.coords], crs)
        shapes.append(shapely.linestrings(np.column_stack([x, y])))
    ex, ey = to_xy([e.lon for e in exchanges], [e.lat for e in exchanges], crs)
    shapes.extend(shapely.points(np.column_stack([ex, ey])))
    tree = shapely.STRtree(shapes)
    sx, sy = to_xy([s.lon for s in stations], [s.lat for s in stations], crs)
    points = shapely.points(np.column_stack([sx, sy]))
    (which, _), distance = tree.query_nearest(points, return_distance=True, all_matches=False)
    out = dict.fromkeys((s.code for s in stations), math.inf)
    for i, d in zip(which.tolist(), distance.tolist(), strict=True):
        out[stations[i].code] = min(out[stations[i].code], float(d))
    return out
