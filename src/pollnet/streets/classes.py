"""Street classes: which OpenStreetMap ``highway`` values fiber can follow.

Fiber is laid in a trench, a micro-trench or an existing duct along a street, or hung from poles
along it. That is possible along every public street a crew and a permit can reach, so the
default keeps ``trunk`` down to ``service`` and pedestrian streets, and leaves out:

- ``motorway`` and ``motorway_link``: controlled-access roads where street works need a closure
  of the carriageway and crossings need bridges; in Tehran the expressways (``بزرگراه``) are
  mapped as motorway. A plan may still add them with the ``classes`` setting.
- paths for people or bicycles only (``footway``, ``path``, ``cycleway``, ``steps``,
  ``bridleway``, ``corridor``, ``platform``, ``elevator``, ``crossing``, ``trail``) and
  ``track``: no permit regime for street works, often no ground to dig.
- ``construction``, ``proposed``, ``abandoned``, ``raceway``, ``bus_guideway``, ``escape``: not
  streets yet, or not streets at all.

The order of :data:`HIGHWAY_CLASSES` (largest first) fixes the integer class codes of a graph
read from OpenStreetMap or GeoJSON.
"""

from __future__ import annotations

from collections.abc import Iterable

HIGHWAY_CLASSES: tuple[str, ...] = (
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "unclassified",
    "residential",
    "living_street",
    "service",
    "pedestrian",
    "road",
)
"""Every street class pollnet knows, largest first; the code of a class is its index here."""

STREET_CLASS_LABELS: dict[str, str] = {
    "motorway": "motorway (expressway)",
    "motorway_link": "expressway ramp",
    "trunk": "trunk road",
    "trunk_link": "trunk road ramp",
    "primary": "primary road",
    "primary_link": "primary road ramp",
    "secondary": "secondary road",
    "secondary_link": "secondary road ramp",
    "tertiary": "tertiary road",
    "tertiary_link": "tertiary road ramp",
    "unclassified": "minor road",
    "residential": "residential street",
    "living_street": "living street",
    "service": "service road",
    "pedestrian": "pedestrian street",
    "road": "road of unknown class",
}
"""An English msgid describing each street class, for the translated (Persian) outputs."""


def street_class_label(street_class: str, lang: str) -> str:
    """``street_class`` for a reader of ``lang``: the OSM word itself in English (it is what the
    cost model and OSM use), translated in Persian; a class pollnet does not know stays as is."""
    from pollnet.i18n import gettext

    if lang == "en" or street_class not in STREET_CLASS_LABELS:
        return street_class
    return gettext(STREET_CLASS_LABELS[street_class], lang)


MAJOR_CLASSES: frozenset[str] = frozenset(HIGHWAY_CLASSES[: HIGHWAY_CLASSES.index("unclassified")])
"""The through roads, ``motorway`` down to ``tertiary_link``: everything larger than a local
street (maps draw them at every zoom)."""

DEFAULT_CLASSES: frozenset[str] = frozenset(HIGHWAY_CLASSES) - {"motorway", "motorway_link"}
"""The classes kept by default: every street fiber can follow (see the module docstring)."""


def check_classes(classes: Iterable[str]) -> frozenset[str]:
    """``classes`` as a set, refusing names that are not in :data:`HIGHWAY_CLASSES`."""
    from pollnet.errors import ConfigError

    chosen = frozenset(c.strip() for c in classes if c.strip())
    unknown = sorted(chosen - set(HIGHWAY_CLASSES))
    if unknown:
        raise ConfigError.of(
            "unknown street classes: {names} (known: {known})",
            column="classes",
            names=", ".join(unknown),
            known=", ".join(HIGHWAY_CLASSES),
        )
    if not chosen:
        raise ConfigError.of("no street classes chosen", column="classes")
    return chosen
