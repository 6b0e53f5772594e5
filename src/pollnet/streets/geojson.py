"""Streets from GeoJSON (RFC 7946): LineString and MultiLineString features in WGS84.

Feature properties read: ``highway`` (the street class, as in OpenStreetMap), ``name:fa`` or
``name`` (native name), ``name:en`` (English name), ``district`` (municipal district number),
``area`` (``yes`` drops the feature). Shared end points join lines into one network; a line is
split wherever another line passes through one of its points.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from pollnet.errors import UserError
from pollnet.streets._ways import SCALE, NoStreets, WayLists, split
from pollnet.streets.classes import DEFAULT_CLASSES, HIGHWAY_CLASSES
from pollnet.streets.graph import StreetGraph
from pollnet.streets.report import ImportReport


def read_geojson_file(path: str | Path) -> list[Mapping[str, Any]]:
    """The features of a GeoJSON file (a FeatureCollection, a Feature or a bare geometry)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError.of("file not found", file=str(path)) from None
    except UnicodeDecodeError:
        raise UserError.of("not a UTF-8 text file", file=str(path)) from None
    if not text.strip():
        raise UserError.of("the file is empty", file=str(path))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError.of(
            "not valid JSON: {reason} (line {line}, column {col})",
            file=str(path),
            reason=exc.msg,
            line=exc.lineno,
            col=exc.colno,
        ) from None
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            raise UserError.of("a FeatureCollection without a features list", file=str(path))
        return [f if isinstance(f, dict) else {} for f in features]
    if isinstance(data, dict) and data.get("type") == "Feature":
        return [data]
    if isinstance(data, dict) and "coordinates" in data:
        return [{"type": "Feature", "geometry": data, "properties": {}}]
    raise UserError.of("not a GeoJSON feature collection", file=str(path))


def read_geojson(
    path: str | Path,
    *,
    classes: Collection[str] = DEFAULT_CLASSES,
    district_property: str = "district",
) -> StreetGraph:
    """The street graph of a GeoJSON file of street lines (see the module docstring).

    ``district_property`` names the property holding an edge's municipal district number
    (absent: 0). Raises :class:`~pollnet.errors.UserError` naming the file and the feature
    (as the row, counted from 1) for malformed input, and when no street is left.
    """
    features = read_geojson_file(path)
    where = str(path)
    code = {name: i for i, name in enumerate(HIGHWAY_CLASSES)}
    dropped: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    acc = WayLists()
    for row, feature in enumerate(features, start=1):
        geometry = feature.get("geometry") or {}
        props = feature.get("properties") or {}
        kind = geometry.get("type") if isinstance(geometry, dict) else None
        if kind not in ("LineString", "MultiLineString"):
            counts["non_line_geometry"] += 1
            continue
        highway = props.get("highway")
        if not highway:
            counts["no_class"] += 1
            continue
        if highway not in classes:
            dropped[str(highway)] += 1
            continue
        if props.get("area") == "yes":
            counts["area"] += 1
            continue
        lines = geometry.get("coordinates")
        lines = [lines] if kind == "LineString" else lines
        if not isinstance(lines, list):
            raise UserError.of("coordinates are not a list", file=where, row=row)
        native = _text(props.get("name:fa") or props.get("name"))
        english = _text(props.get("name:en"))
        district = parse_district(props.get(district_property), where, row, district_property)
        for line in lines:
            for x, y in _points(line, where, row):
                acc.lon.append(x)
                acc.lat.append(y)
            acc.indptr.append(len(acc.lon))
            acc.way_class.append(code[str(highway)])
            acc.way_name.append(acc.name_id(native))
            acc.way_name_en.append(acc.name_id(english))
            acc.way_district.append(district)
            acc.way_source.append(row)

    report = ImportReport(
        source=Path(path).name,
        ways_read=len(features),
        counts={"non_street_class": sum(dropped.values()), **counts},
        dropped_classes=dict(dropped),
    )
    try:
        if len(acc.indptr) == 1:
            raise NoStreets(report)
        return split(acc.ways(), class_names=HIGHWAY_CLASSES, names=tuple(acc.names), report=report)
    except NoStreets:
        raise UserError.of(
            "no streets of the chosen classes in this file ({count} features read)",
            file=where,
            count=len(features),
        ) from None


def _points(line: Any, where: str, row: int) -> list[tuple[int, int]]:
    """A line's positions in fixed point (1e-7 degree), checked."""
    if not isinstance(line, list):
        raise UserError.of("coordinates are not a list", file=where, row=row)
    out = []
    for position in line:
        if (
            not isinstance(position, list | tuple)
            or len(position) < 2
            or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in position)
        ):
            raise UserError.of(
                "a position is not [longitude, latitude]: {value}",
                file=where,
                row=row,
                value=json.dumps(position)[:60],
            )
        x, y = float(position[0]), float(position[1])
        if not (math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
            raise UserError.of(
                "a position is outside longitude -180..180, latitude -90..90: {value}",
                file=where,
                row=row,
                value=json.dumps(position)[:60],
            )
        out.append((round(x * SCALE), round(y * SCALE)))
    return out


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def parse_district(
    value: Any, where: str, row: int, column: str | None, *, minimum: int = 0
) -> int:
    """A district number from a property or cell; 0 for an empty one when ``minimum`` is 0.

    Raises :class:`UserError` naming file, row and column for anything but a whole number from
    ``minimum`` to 32767 (the range of the graph's int16 district array).
    """
    if minimum == 0 and (value is None or value == ""):
        return 0
    try:
        number = int(str(value).strip())
    except ValueError:
        number = minimum - 1
    if not minimum <= number <= 32767:
        raise UserError.of(
            "a district must be a whole number, not {value}",
            file=where,
            row=row,
            column=column,
            value=str(value),
        )
    return number
