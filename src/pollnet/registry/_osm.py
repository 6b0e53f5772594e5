"""Candidate buildings from an OpenStreetMap file: schools, or any public building a tag names.

The file is read as the street import reads it (``.osm.pbf``, ``.osm`` XML, compressed XML; see
:mod:`pollnet.streets.osm`). A building is an object carrying one of the chosen tags
(``amenity=school`` unless the ``[sites] osm_tags`` setting names others, e.g.
``amenity=place_of_worship``, ``amenity=community_centre``): a node stands where it is; a closed
way or a multipolygon relation (assembled by libosmium's area handling) stands at its
polygon's centroid, or at a point inside the polygon when the centroid falls outside it (an
L-shaped school); a way cut at the extract's border stands at the centre of its nodes in the
file. Each becomes a :class:`~pollnet.registry.Candidate` whose code is the OSM type and id
(``osm-n123``, ``osm-w123``, ``osm-r123``: stable across extracts), whose name is ``name:fa``,
else ``name``, else ``name:en``, and whose capacity is the OSM ``capacity`` tag when it is a
whole number (else none: pollnet never invents one). Buildings outside the settings' area are
left out and counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pollnet.errors import ConfigError, UserError
from pollnet.i18n import normalise
from pollnet.registry._candidates import Candidate
from pollnet.registry._validate import MAX_LENGTHS
from pollnet.registry._values import parse_int
from pollnet.settings import BoundingBox, Settings, reject_unknown

DEFAULT_OSM_TAGS = ("amenity=school",)
"""The buildings taken from an OpenStreetMap file unless ``[sites] osm_tags`` says otherwise."""

_SETTINGS = {"osm_tags"}

_TYPES = {"n": "node", "w": "way", "r": "relation"}


def is_osm_file(path: Path | str) -> bool:
    """Whether ``path`` names an OpenStreetMap file by its suffix (those the street import
    reads)."""
    from pollnet.streets.read import OSM_SUFFIXES

    return Path(path).name.lower().endswith(OSM_SUFFIXES)


def osm_tags(settings: Settings) -> tuple[str, ...]:
    """The ``[sites] osm_tags`` setting: ``key=value`` or ``key`` (any value) per entry;
    :data:`DEFAULT_OSM_TAGS` when not set."""
    table = settings.section("sites")
    reject_unknown(table, _SETTINGS, "sites", settings.source)
    value = table.get("osm_tags", DEFAULT_OSM_TAGS)
    if (
        not isinstance(value, list | tuple)
        or not value
        or not all(isinstance(v, str) and v.partition("=")[0].strip() for v in value)
    ):
        raise ConfigError.of(
            'sites.osm_tags must be a list of OpenStreetMap tags such as "amenity=school"',
            file=settings.source,
            column="osm_tags",
        )
    return tuple(str(v).strip() for v in value)


def _tag_pairs(tags: Iterable[str]) -> tuple[tuple[str, str | None], ...]:
    pairs = []
    for tag in tags:
        key, equals, value = (part.strip() for part in tag.partition("="))
        pairs.append((key, value if equals and value else None))
    return tuple(pairs)


@dataclass(frozen=True)
class OsmCandidates:
    """What an OpenStreetMap file gave: the buildings inside the area and what was left out.

    ``found`` counts the tagged objects read by OSM type (``node``, ``way``, ``relation``);
    ``outside`` those outside the area; ``unlocated`` those without any node in the file;
    ``bad_capacity`` the codes whose ``capacity`` tag is not a whole number (their capacity is
    left empty).
    """

    file: str
    tags: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    found: dict[str, int] = field(default_factory=dict)
    outside: int = 0
    unlocated: int = 0
    bad_capacity: tuple[str, ...] = ()

    @property
    def with_capacity(self) -> int:
        """How many of the candidates have a capacity from OpenStreetMap."""
        return sum(c.capacity is not None for c in self.candidates)

    @property
    def without_name(self) -> int:
        """How many of the candidates have no name in OpenStreetMap."""
        return sum(not c.name for c in self.candidates)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (without the candidates themselves)."""
        return {
            "file": self.file,
            "tags": list(self.tags),
            "candidates": len(self.candidates),
            "found": dict(self.found),
            "outside": self.outside,
            "unlocated": self.unlocated,
            "with_capacity": self.with_capacity,
            "without_name": self.without_name,
            "bad_capacity": list(self.bad_capacity),
        }


def read_osm_candidates(
    path: Path | str, bbox: BoundingBox, tags: Sequence[str] = DEFAULT_OSM_TAGS
) -> OsmCandidates:
    """The buildings of an OpenStreetMap file carrying one of ``tags``, inside ``bbox``.

    Raises one :class:`UserError` naming the file when it is missing, empty or not an
    OpenStreetMap file, or when no tagged building lies inside the area.
    """
    path = Path(path)
    file = str(path)
    if not path.is_file():
        raise UserError.of("file not found", file=file)
    if path.stat().st_size == 0:
        raise UserError.of("the file is empty", file=file)
    try:
        positions, tagged, unlocated = _scan(file, _tag_pairs(tags))
    except (RuntimeError, ValueError, OSError) as exc:
        raise UserError.of(
            "cannot read this OpenStreetMap file: {reason}", file=file, reason=str(exc)
        ) from None
    found: dict[str, int] = {}
    candidates: list[Candidate] = []
    bad_capacity: list[str] = []
    outside = 0
    for kind, osm_id in sorted(positions, key=lambda k: ("nwr".index(k[0]), k[1])):
        lon, lat = positions[(kind, osm_id)]
        found[_TYPES[kind]] = found.get(_TYPES[kind], 0) + 1
        if not bbox.contains(lat, lon):
            outside += 1
            continue
        values = tagged[(kind, osm_id)]
        code = f"osm-{kind}{osm_id}"
        capacity_text = normalise(values.get("capacity", ""))
        capacity = parse_int(capacity_text) if capacity_text else None
        if capacity is not None and capacity < 0:
            capacity = None
        if capacity_text and capacity is None:
            bad_capacity.append(code)
        name = normalise(values.get("name:fa") or values.get("name") or values.get("name:en") or "")
        candidates.append(
            Candidate(
                code, name[: MAX_LENGTHS["site"]], round(lat, 7), round(lon, 7), capacity, None
            )
        )
    result = OsmCandidates(
        file, tuple(tags), tuple(candidates), found, outside, unlocated, tuple(bad_capacity)
    )
    if not candidates:
        raise UserError.of(
            "no building tagged {tags} inside the area in this OpenStreetMap file ({found} "
            "found, {outside} of them outside the area)",
            file=file,
            tags=", ".join(tags),
            found=sum(found.values()),
            outside=outside,
        )
    return result


_Key = tuple[str, int]
"""An OSM object: its type (``n``, ``w``, ``r``) and id."""


def _scan(
    file: str, pairs: Sequence[tuple[str, str | None]]
) -> tuple[dict[_Key, tuple[float, float]], dict[_Key, dict[str, str]], int]:
    """Where each object carrying one of ``pairs`` stands (longitude, latitude), its tags, and
    how many such objects have no node in the file."""
    import osmium
    import shapely

    keys = sorted({key for key, _ in pairs})
    points: dict[_Key, tuple[float, float]] = {}  # nodes and areas
    centres: dict[_Key, tuple[float, float]] = {}  # ways, by their nodes
    tagged: dict[_Key, dict[str, str]] = {}
    unlocated = 0
    factory = osmium.geom.WKBFactory()
    processor = (
        osmium.FileProcessor(file)
        .with_locations()
        .with_areas(osmium.filter.KeyFilter(*keys))
        .with_filter(osmium.filter.KeyFilter(*keys))
    )
    for obj in processor:
        if not _matches(obj.tags, pairs):
            continue
        if isinstance(obj, osmium.osm.Area):
            key = ("w" if obj.from_way() else "r", obj.orig_id())
            polygon = shapely.from_wkb(factory.create_multipolygon(obj))
            point = polygon.centroid
            if not polygon.contains(point):
                point = polygon.representative_point()
            points[key] = (point.x, point.y)
        elif isinstance(obj, osmium.osm.Node) and obj.location.valid():
            key = ("n", obj.id)
            points[key] = (obj.location.lon, obj.location.lat)
        elif isinstance(obj, osmium.osm.Way) and any(n.location.valid() for n in obj.nodes):
            key = ("w", obj.id)
            nodes = [(n.lon, n.lat) for n in obj.nodes if n.location.valid()]
            hull = shapely.MultiPoint(nodes).convex_hull
            centres[key] = (hull.centroid.x, hull.centroid.y)
        else:
            unlocated += not isinstance(obj, osmium.osm.Relation)
            continue
        tagged[key] = {t.k: t.v for t in obj.tags}
    # A way's polygon, when libosmium could assemble one, wins over the centre of its nodes.
    return {**centres, **points}, tagged, unlocated


def _matches(tags: Any, pairs: Sequence[tuple[str, str | None]]) -> bool:
    """Whether an object's tags carry one of ``pairs`` (a value of None matches any value)."""
    for key, value in pairs:
        have = tags.get(key)
        if have is not None and (value is None or have == value):
            return True
    return False
