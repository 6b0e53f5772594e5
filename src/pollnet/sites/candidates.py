"""An editable candidates file from OpenStreetMap: the schools (or the buildings ``[sites]
osm_tags`` names) of an extract inside the area, each with the education district whose
polygon holds it, written for the education district to check and correct (names, capacity)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pollnet.registry import (
    Candidate,
    OsmCandidates,
    osm_tags,
    read_osm_candidates,
    write_candidates,
)
from pollnet.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["candidates_from_osm", "with_education_districts"]


def with_education_districts(
    engine: Engine, candidates: Sequence[Candidate]
) -> tuple[Candidate, ...]:
    """``candidates`` with their education districts as the stations get theirs
    (:func:`pollnet.areas.assign_points`): the file's value wins, else the stored education
    district polygon holding the building; none when neither says."""
    from pollnet.areas import AreaKind, assign_points, load_areas

    kind = AreaKind.EDUCATION_DISTRICT
    districts = load_areas(engine, kind)
    if not districts.of_kind(kind) or not candidates:
        return tuple(candidates)
    found = assign_points(
        districts,
        [c.code for c in candidates],
        [c.lon for c in candidates],
        [c.lat for c in candidates],
        {kind: [c.education_district for c in candidates]},
    )
    return tuple(
        c._replace(education_district=int(found.links[c.code][kind][0]))
        if kind in found.links[c.code]
        else c
        for c in candidates
    )


def candidates_from_osm(
    engine: Engine, settings: Settings, osm: Path | str, out: Path, headers: str = "fa"
) -> OsmCandidates:
    """Read the buildings of the OpenStreetMap file ``osm`` (see
    :func:`pollnet.registry.read_osm_candidates`), give each the education district of the
    stored area polygon holding it (:func:`with_education_districts`) and write them to
    ``out`` (CSV, XLSX or GeoJSON by extension, headers in ``headers``' language).

    Nothing is written when the file cannot be read or holds no building in the area.
    """
    found = read_osm_candidates(osm, settings.bbox, osm_tags(settings))
    found = dataclasses.replace(
        found, candidates=with_education_districts(engine, found.candidates)
    )
    write_candidates(out, found.candidates, headers)
    return found
