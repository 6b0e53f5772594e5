"""An editable candidates file from OpenStreetMap: the schools (or the buildings ``[sites]
osm_tags`` names) of an extract inside the area, each with the education district whose
polygon holds it, written for the education district to check and correct (names, capacity)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from pollnet.registry import OsmCandidates, osm_tags, read_osm_candidates, write_candidates
from pollnet.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["candidates_from_osm"]


def candidates_from_osm(
    engine: Engine, settings: Settings, osm: Path | str, out: Path, headers: str = "fa"
) -> OsmCandidates:
    """Read the buildings of the OpenStreetMap file ``osm`` (see
    :func:`pollnet.registry.read_osm_candidates`), give each the education district of the
    stored area polygon holding it (none when no education districts are stored) and write
    them to ``out`` (CSV, XLSX or GeoJSON by extension, headers in ``headers``' language).

    Nothing is written when the file cannot be read or holds no building in the area.
    """
    from pollnet.areas import AreaKind, load_areas

    found = read_osm_candidates(osm, settings.bbox, osm_tags(settings))
    districts = load_areas(engine, AreaKind.EDUCATION_DISTRICT)
    schools = found.candidates
    if districts.of_kind(AreaKind.EDUCATION_DISTRICT):
        codes = districts.codes(
            AreaKind.EDUCATION_DISTRICT, [c.lon for c in schools], [c.lat for c in schools]
        )
        schools = tuple(
            c._replace(education_district=int(code) if code else None)
            for c, code in zip(schools, codes.tolist(), strict=True)
        )
        found = dataclasses.replace(found, candidates=schools)
    write_candidates(out, schools, headers)
    return found
