"""Reading area files: GeoJSON or GeoPackage polygons, OpenStreetMap boundaries' tags or
pollnet's own property names.

Every feature is checked; one bad feature and the whole file is refused, with one line per
problem naming the file, the feature (counted from 1) and the property.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import shapely

from pollnet.areas import _gpkg
from pollnet.areas.model import Area, AreaKind, slug
from pollnet.errors import Location, Problem, UserError
from pollnet.i18n import normalise, normalise_key
from pollnet.model import MAX_CODE_LENGTH, is_code
from pollnet.streets.geojson import read_geojson_file

GEOJSON_SUFFIXES = (".geojson", ".json")
GPKG_SUFFIXES = (".gpkg",)

# Each field and the properties it is read from, in order of preference.
PROPERTIES: dict[str, tuple[str, ...]] = {
    "kind": ("kind",),
    "code": ("code",),
    "number": ("number", "district", "ref"),
    "name_fa": ("name_fa", "name:fa", "name"),
    "name_en": ("name_en", "name:en", "int_name"),
    "osm_relation": ("osm_relation", "osm_id", "@id", "id"),
}

# Persian and English words accepted as a kind.
KIND_WORDS: dict[str, AreaKind] = {
    **{k.value: k for k in AreaKind},
    "municipal district": AreaKind.MUNICIPAL_DISTRICT,
    "education district": AreaKind.EDUCATION_DISTRICT,
    "district": AreaKind.MUNICIPAL_DISTRICT,
    "شهرستان": AreaKind.COUNTY,
    "شهرداری": AreaKind.MUNICIPALITY,
    "منطقه": AreaKind.MUNICIPAL_DISTRICT,
    "منطقه شهرداری": AreaKind.MUNICIPAL_DISTRICT,
    "ناحیه": AreaKind.EDUCATION_DISTRICT,
    "ناحیه آموزش و پرورش": AreaKind.EDUCATION_DISTRICT,
}


_KIND_KEYS = {normalise_key(k).replace("_", " "): v for k, v in KIND_WORDS.items()}


def read_areas(path: str | Path, *, kind: AreaKind | str | None = None) -> list[Area]:
    """The areas of a GeoJSON (``.geojson``, ``.json``) or GeoPackage (``.gpkg``) file.

    ``kind`` applies to every feature; without it each feature needs a ``kind`` property
    (``county``, ``municipality``, ``municipal_district``, ``education_district``, or the
    Persian word). Names come from ``name_fa``/``name_en`` (or OpenStreetMap's ``name``,
    ``name:fa``, ``name:en``); a district's number from ``number``, ``district`` or ``ref``;
    a county's or municipality's code from ``code``, else its English name. Raises
    :class:`UserError` with every problem of every feature.
    """
    path = Path(path)
    where = str(path)
    fixed = _kind(kind, where, None) if kind is not None else None
    name = path.name.lower()
    features: list[tuple[dict[str, Any], Any, str | None]]
    if name.endswith(GEOJSON_SUFFIXES):
        features = [
            (dict(f.get("properties") or {}), *_shape(f.get("geometry")))
            for f in read_geojson_file(path)
        ]
    elif name.endswith(GPKG_SUFFIXES):
        features = _gpkg.read_features(path)
    else:
        raise UserError.of(
            "unknown area file type (use {suffixes})",
            file=where,
            suffixes=", ".join(GEOJSON_SUFFIXES + GPKG_SUFFIXES),
        )
    if not features:
        raise UserError.of("no areas in this file", file=where)
    areas: list[Area] = []
    problems: list[Problem] = []
    seen: dict[tuple[AreaKind, str], int] = {}
    for number, (props, geometry, why) in enumerate(features, start=1):
        found = _area(props, geometry, why, fixed, where, number, problems)
        if found is None:
            continue
        key = (found.kind, found.code)
        if key in seen:
            problems.append(
                _problem(
                    "the same {kind} {code} as feature {other}",
                    where,
                    number,
                    "code",
                    kind=found.kind.value,
                    code=found.code,
                    other=seen[key],
                )
            )
            continue
        seen[key] = number
        areas.append(found)
    if problems:
        raise UserError(problems)
    return areas


def _problem(message: str, where: str, feature: int, column: str | None, **params: Any) -> Problem:
    return Problem(message, params, Location(where, None, column, feature))


def _shape(geometry: Any) -> tuple[Any, str | None]:
    if not isinstance(geometry, Mapping):
        return None, "no geometry"
    try:
        return shapely.geometry.shape(geometry), None
    except (ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        return None, str(exc) or type(exc).__name__


def _first(props: Mapping[str, Any], field: str) -> tuple[str | None, Any]:
    for key in PROPERTIES[field]:
        value = props.get(key)
        if value is not None and str(value).strip() != "":
            return key, value
    return None, None


def _kind(value: Any, where: str, feature: int | None) -> AreaKind:
    found = _KIND_KEYS.get(normalise_key(str(value)).replace("_", " "))
    if found is None:
        raise UserError(
            Problem(
                "not a kind of area: {value} (use {kinds})",
                {"value": str(value), "kinds": ", ".join(k.value for k in AreaKind)},
                Location(where, None, "kind", feature),
            )
        )
    return found


def _area(
    props: Mapping[str, Any],
    geometry: Any,
    why: str | None,
    fixed: AreaKind | None,
    where: str,
    feature: int,
    problems: list[Problem],
) -> Area | None:
    before = len(problems)
    kind = fixed
    if kind is None:
        _, value = _first(props, "kind")
        if value is None:
            problems.append(
                _problem("no kind: give --kind or a kind property", where, feature, "kind")
            )
        else:
            try:
                kind = _kind(value, where, feature)
            except UserError as exc:
                problems.extend(exc.problems)
    polygon = None
    if geometry is None:
        problems.append(
            _problem("not a valid polygon: {reason}", where, feature, "geometry", reason=why)
        )
    elif geometry.geom_type not in ("Polygon", "MultiPolygon"):
        problems.append(
            _problem(
                "an area must be a Polygon or MultiPolygon, not {type}",
                where,
                feature,
                "geometry",
                type=geometry.geom_type,
            )
        )
    elif geometry.is_empty:
        problems.append(
            _problem("not a valid polygon: {reason}", where, feature, "geometry", reason="empty")
        )
    else:
        minx, miny, maxx, maxy = geometry.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            problems.append(
                _problem(
                    "coordinates must be WGS84 longitude/latitude (EPSG:4326), not {srs}",
                    where,
                    feature,
                    "geometry",
                    srs="?",
                )
            )
        else:
            polygon = geometry if geometry.is_valid else shapely.make_valid(geometry)
    name_fa = _text(props, "name_fa")
    name_en = _text(props, "name_en")
    relation = _relation(props, where, feature, problems)
    number: int | None = None
    code = ""
    column, value = _first(props, "number")
    if kind is not None and kind.numbered:
        if value is None:
            problems.append(
                _problem(
                    "a {kind} needs its number (property number, district or ref)",
                    where,
                    feature,
                    "number",
                    kind=kind.value,
                )
            )
        else:
            try:
                number = int(normalise(str(value)))
            except ValueError:
                number = 0
            if not 1 <= number <= 32767:
                problems.append(
                    _problem(
                        "a district must be a whole number, not {value}",
                        where,
                        feature,
                        column,
                        value=str(value),
                    )
                )
            code = str(number)
    elif kind is not None:
        _, given = _first(props, "code")
        code = normalise(str(given)) if given is not None else slug(name_en)[:MAX_CODE_LENGTH]
        if code and not is_code(code):
            problems.append(
                _problem(
                    "not a code: {value} (Latin letters, digits, . _ -; at most {limit})",
                    where,
                    feature,
                    "code",
                    value=code,
                    limit=MAX_CODE_LENGTH,
                )
            )
        elif not code:
            problems.append(
                _problem(
                    "a {kind} needs a code or an English name (property code or name_en)",
                    where,
                    feature,
                    "code",
                    kind=kind.value,
                )
            )
    if len(problems) > before or kind is None or polygon is None:
        return None
    return Area(kind, code, name_fa, name_en, polygon, number, relation)


def _text(props: Mapping[str, Any], field: str) -> str:
    _, value = _first(props, field)
    return normalise(str(value)) if value is not None else ""


def _relation(
    props: Mapping[str, Any], where: str, feature: int, problems: list[Problem]
) -> int | None:
    column, value = _first(props, "osm_relation")
    if value is None:
        return None
    text = str(value).strip().removeprefix("relation/").removeprefix("r")
    try:
        return int(text)
    except ValueError:
        if column in ("osm_relation", "osm_id"):
            problems.append(
                _problem(
                    "not an OpenStreetMap relation id: {value}",
                    where,
                    feature,
                    column,
                    value=str(value),
                )
            )
        return None
