"""Candidate buildings in and out of files: a candidates table (the education districts' school
list) or an OpenStreetMap extract in; an editable candidates table out."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pollnet.errors import UserError
from pollnet.registry._candidates import CANDIDATE_COLUMNS, Candidate, validate_candidates
from pollnet.registry._osm import DEFAULT_OSM_TAGS, is_osm_file, read_osm_candidates
from pollnet.registry._read import read_table
from pollnet.registry._writers import write_layer
from pollnet.settings import BoundingBox


def read_candidates(
    path: Path | str, bbox: BoundingBox, osm_tags: Sequence[str] | None = None
) -> tuple[Candidate, ...]:
    """The candidate buildings of ``path``, in file order: a candidates file (CSV, XLSX,
    GeoJSON, GeoPackage) or an OpenStreetMap file (the buildings tagged with one of
    ``osm_tags``, by default :data:`~pollnet.registry.DEFAULT_OSM_TAGS`, inside ``bbox``; see
    :func:`pollnet.registry.read_osm_candidates`).

    Raises one :class:`UserError` listing every problem of every row (nothing is used unless
    every row is good).
    """
    if is_osm_file(path):
        return read_osm_candidates(path, bbox, osm_tags or DEFAULT_OSM_TAGS).candidates
    table = read_table(path, columns=CANDIDATE_COLUMNS)
    validation = validate_candidates(table, bbox)
    if validation.rejected:
        raise UserError(validation.problems)
    return validation.records


def write_candidates(path: Path, candidates: Sequence[Candidate], headers: str = "en") -> None:
    """Write ``candidates`` to ``path`` as a candidates file that :func:`read_candidates` reads
    back: CSV (UTF-8 with BOM), XLSX or GeoJSON points by extension, headers in ``headers``'
    language (``fa`` or ``en``); an unknown capacity or education district is an empty cell."""
    columns = CANDIDATE_COLUMNS.columns
    names = [c.fa if headers == "fa" else c.en for c in columns]
    rows = [[_cell(getattr(c, col.key)) for col in columns] for c in candidates]
    points = [{"type": "Point", "coordinates": [c.lon, c.lat]} for c in candidates]
    keys = [col.key for col in columns]
    write_layer(path, names, rows, points, (keys.index("lat"), keys.index("lon")))


def _cell(value: object) -> object:
    return "" if value is None else value
