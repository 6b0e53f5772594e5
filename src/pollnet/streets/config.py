"""The ``[streets]`` table of the settings file.

.. code-block:: toml

    [streets]
    classes = ["trunk", "primary", "secondary", "tertiary", "residential", "service"]
    max_drop_m = 300        # farthest a station may be from a street before it is flagged
    cache = "pollnet-data/streets.npz"
    district_property = "district"
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pollnet.errors import ConfigError, Problem
from pollnet.settings import BoundingBox, Settings, reject_unknown
from pollnet.streets.classes import DEFAULT_CLASSES, check_classes
from pollnet.streets.snap import DEFAULT_MAX_DROP_M

_KEYS = {"classes", "max_drop_m", "cache", "district_property"}


@dataclass(frozen=True)
class StreetsConfig:
    """What the street network is built from: kept classes, drop threshold, cache file."""

    classes: frozenset[str] = DEFAULT_CLASSES
    max_drop_m: float = DEFAULT_MAX_DROP_M
    cache: Path = Path("pollnet-data/streets.npz")
    district_property: str = "district"

    @classmethod
    def from_settings(cls, settings: Settings) -> StreetsConfig:
        """The configuration from ``settings.section("streets")``, checked."""
        table: dict[str, Any] = dict(settings.section("streets"))
        reject_unknown(table, _KEYS, "streets", settings.source)
        classes = DEFAULT_CLASSES
        if "classes" in table:
            value = table["classes"]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError.of("streets.classes must be a list of names", column="classes")
            classes = check_classes(value)
        try:
            max_drop = float(table.get("max_drop_m", DEFAULT_MAX_DROP_M))
        except (TypeError, ValueError):
            max_drop = -1.0
        if not max_drop > 0:
            raise ConfigError.of(
                "streets.max_drop_m must be a positive number of metres", column="max_drop_m"
            )
        cache = Path(str(table["cache"])) if "cache" in table else default_cache_path(settings)
        return cls(classes, max_drop, cache, str(table.get("district_property", "district")))


def default_cache_path(settings: Settings) -> Path:
    """Where the street cache lives unless configured: next to a SQLite database, else in
    ``pollnet-data/``."""
    configured = settings.section("streets").get("cache")
    if configured:
        return Path(str(configured))
    url = settings.db_url
    if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
        return Path(url[len("sqlite:///") :]).parent / "streets.npz"
    return Path("pollnet-data/streets.npz")


def outside_area(
    node_lat: NDArray[np.float64], node_lon: NDArray[np.float64], bbox: BoundingBox
) -> Problem | None:
    """A warning when most of a street network (node degrees) lies outside the stations' area
    ``bbox``: the stations along those streets would be refused on import. It names the
    network's extent as the ``[pollnet] bbox`` setting that would take them in; None when at
    least half of the nodes are inside (or there are none)."""
    if node_lat.size == 0:
        return None
    inside = int(
        np.count_nonzero(
            (node_lat >= bbox.min_lat)
            & (node_lat <= bbox.max_lat)
            & (node_lon >= bbox.min_lon)
            & (node_lon <= bbox.max_lon)
        )
    )
    if inside * 2 >= node_lat.size:
        return None
    return Problem(
        "{share}% of the streets lie outside the stations' area (latitude {min_lat} to "
        "{max_lat}, longitude {min_lon} to {max_lon}); stations there will be refused. If this "
        "is your area, set it in pollnet.toml: [pollnet] {setting}",
        {
            "share": 100 - round(100 * inside / node_lat.size),
            "min_lat": bbox.min_lat,
            "max_lat": bbox.max_lat,
            "min_lon": bbox.min_lon,
            "max_lon": bbox.max_lon,
            "setting": BoundingBox.around(
                (float(node_lat.min()), float(node_lat.max())),
                (float(node_lon.min()), float(node_lon.max())),
            ).toml(),
        },
    )
