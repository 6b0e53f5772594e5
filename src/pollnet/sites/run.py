"""The site review of the registry in a database: inputs read from the store, costs priced on
the plan with :mod:`pollnet.plan.whatif`."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pollnet.errors import NotFoundError, UserError
from pollnet.registry import (
    Candidate,
    StationRecord,
    list_stations,
    osm_tags,
    read_candidates,
)
from pollnet.settings import Settings
from pollnet.sites.review import (
    DEFAULT_RADIUS_M,
    FloatArray,
    PricedSite,
    SiteReview,
    fibre_distances,
    review_sites,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from pollnet.plan.report import SiteLayer
    from pollnet.plan.whatif import WhatIf

__all__ = ["PlanPricing", "review", "site_layer", "stations_of_district", "write_review_map"]

MSG_NO_PLAN = "no plan yet: run pollnet plan first"
MSG_UNKNOWN_DISTRICT = "no station of the registry is in education district {district}"


@dataclass(frozen=True)
class PlanPricing:
    """The what-if answers of the plan's design (:class:`pollnet.plan.whatif.WhatIf`).

    A station's marginal cost is the plan with it minus the plan without it, its second route
    included; a candidate's saving is what its first route would save.
    """

    ask: WhatIf

    def marginal_rial(self) -> Mapping[str, float]:
        found = self.ask.marginal
        total = found.total_rial
        served = np.flatnonzero(found.exchange >= 0).tolist()
        return {found.codes[i]: float(total[i]) for i in served}

    def price(self, station: str, lon: FloatArray, lat: FloatArray) -> Sequence[PricedSite]:
        found = self.ask.marginal
        i = self.ask.index(station)
        # No building can cost less than a drop and the station's equipment: a station whose
        # own route costs no more than that (it shares its branch) is not searched from.
        floor = float(found.equipment_rial[i]) + self.ask.drop_rial(0.0)
        if float(found.first_route_rial[i]) <= floor:
            return ()
        return self.ask.candidates(station, lon, lat)


def stations_of_district(
    engine: Engine, stations: Sequence[StationRecord], education_district: str | int | None
) -> list[StationRecord]:
    """The ``stations`` with the education district every command gives them, those of
    ``education_district`` only when it is given.

    A station's education district is the one stored with its areas (:func:`pollnet.areas.links`:
    the station file's value, else the polygon of the stored education districts holding the
    station), as work orders, ``stations list`` and ``report`` have it; ``education_district``
    (a number, or an area's code or name) is resolved as their ``--education-district`` is
    (:func:`pollnet.areas.area_filters`). One not named by any area, or without a station,
    raises a :class:`UserError`.
    """
    from pollnet.areas import AreaKind, area_filters, links

    kind = AreaKind.EDUCATION_DISTRICT
    stored = {c: areas[kind.value] for c, areas in links(engine).items() if kind.value in areas}
    placed = [
        s._replace(education_district=int(stored[s.code]) if s.code in stored else None)
        for s in stations
    ]  # education districts' codes are their numbers
    if education_district is None:
        return placed
    code = area_filters(engine, education_district=str(education_district))[kind]
    mine = [s for s in placed if stored.get(s.code) == code]
    if not mine:
        raise UserError.of(MSG_UNKNOWN_DISTRICT, district=code)
    return mine


def review(
    engine: Engine,
    settings: Settings,
    *,
    candidates: Path | str | Sequence[Candidate] | None = None,
    education_district: str | int | None = None,
    radius_m: float = DEFAULT_RADIUS_M,
    streets: Path | str | None = None,
    costs: Path | str | None = None,
) -> SiteReview:
    """Review the registry's stations (those of ``education_district`` when given) on the
    plan: see :mod:`pollnet.sites.review`.

    ``candidates`` is a candidates file or an OpenStreetMap file (read with
    :func:`pollnet.registry.read_candidates`; ``[sites] osm_tags`` chooses the buildings) or
    the buildings themselves. The plan priced is the one ``pollnet plan`` stored last, from the
    design state kept with it, when it was made from the registry, streets, cost model and
    settings at hand (``plan_id`` in the review); otherwise the registry is designed again
    (``plan_id`` None). Every input is checked before the plan is priced: bad candidate
    rows, an unknown education district or no stored plan raise one :class:`UserError`.
    """
    from pollnet.coverage import RadioSettings, lte_backup, read_towers
    from pollnet.plan import latest_plan_id, whatif
    from pollnet.sites.candidates import with_education_districts

    buildings: Sequence[Candidate] = ()
    if isinstance(candidates, str | Path):
        buildings = read_candidates(candidates, settings.bbox, osm_tags(settings))
    elif candidates is not None:
        buildings = candidates
    buildings = with_education_districts(engine, buildings)
    every = list_stations(engine)
    stations = stations_of_district(engine, every, education_district)
    if latest_plan_id(engine) is None:
        raise NotFoundError.of(MSG_NO_PLAN)
    towers = read_towers(engine)
    backups = None
    if towers:
        radio = RadioSettings.from_mapping(settings.section("coverage"), settings.source)
        backups = {b.station: b.status for b in lte_backup(stations, towers, radio)}
    state, plan_id = whatif.stored_baseline(engine, settings, streets=streets, costs=costs)
    exchanges, fibers = state.inputs.exchanges, state.inputs.fibers
    found = review_sites(
        stations,
        PlanPricing(whatif.WhatIf(state)),
        buildings,
        backups=backups,
        fibre_m=fibre_distances(stations, fibers, exchanges),
        radius_m=radius_m,
    )
    return dataclasses.replace(found, plan_id=plan_id)


def site_layer(found: SiteReview) -> SiteLayer:
    """The review as a layer of the plan's map: stations by marginal cost class, each cheaper
    building with its station and saving."""
    from pollnet.plan.report import SiteLayer

    return SiteLayer(
        cost_class=found.cost_classes(),
        marginal_rial={
            s.code: s.marginal_rial for s in found.stations if s.marginal_rial is not None
        },
        cheaper=[
            (s.code, c.code, c.lon, c.lat, c.saving_rial) for s in found.stations for c in s.cheaper
        ],
    )


def write_review_map(
    engine: Engine,
    found: SiteReview,
    path: Path,
    lang: str = "fa",
    streets: Path | str | None = None,
    settings: Settings | None = None,
) -> Path:
    """The latest plan's report (HTML) with the review drawn on its map, written to ``path``;
    the streets are drawn when the street cache (``streets``, else the settings') exists."""
    from pollnet import streets as street_layer
    from pollnet.plan import latest_plan_id, load_plan
    from pollnet.plan.report import write_report

    plan_id = latest_plan_id(engine)
    if plan_id is None:
        raise NotFoundError.of(MSG_NO_PLAN)
    cache = Path(streets) if streets else None
    if cache is None and settings is not None:
        cache = street_layer.StreetsConfig.from_settings(settings).cache
    graph = street_layer.load(cache) if cache is not None and cache.exists() else None
    return write_report(load_plan(engine, plan_id), path, graph, lang, site_layer(found))
