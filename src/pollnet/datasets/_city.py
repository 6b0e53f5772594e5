"""The generated city as a frozen dataclass of numpy arrays (see :mod:`pollnet.datasets.synth`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pollnet.datasets._streets import HIGHWAY_CLASSES
from pollnet.model import District, Exchange, ExistingFiber, Site, Station, Tower

CRS = "EPSG:32639"
"""The projected coordinate system of ``node_x``/``node_y``: UTM zone 39N, metres."""

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class SyntheticCity:
    """A generated city as arrays (see the module docstring for units and CRS)."""

    seed: int
    node_x: FloatArray
    node_y: FloatArray
    node_lon: FloatArray
    node_lat: FloatArray
    node_district: NDArray[np.int8]
    edge_u: NDArray[np.int32]
    edge_v: NDArray[np.int32]
    edge_length_m: FloatArray
    edge_class: NDArray[np.int8]
    edge_name: NDArray[np.int32]
    edge_district: NDArray[np.int8]
    street_names_fa: tuple[str, ...]
    street_names_en: tuple[str, ...]
    sites: tuple[Site, ...]
    stations: tuple[Station, ...]
    station_node: NDArray[np.int32]
    exchanges: tuple[Exchange, ...]
    exchange_node: NDArray[np.int32]
    towers: tuple[Tower, ...]
    existing_fiber: tuple[ExistingFiber, ...]
    districts: tuple[District, ...]

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                value.setflags(write=False)

    @property
    def node_count(self) -> int:
        return int(self.node_x.size)

    @property
    def edge_count(self) -> int:
        return int(self.edge_u.size)

    @property
    def highway_classes(self) -> tuple[str, ...]:
        """The OSM ``highway`` value of each ``edge_class`` code."""
        return HIGHWAY_CLASSES

    @property
    def edge_highway(self) -> NDArray[np.object_]:
        """Each edge's OSM ``highway`` value."""
        return np.asarray(HIGHWAY_CLASSES, dtype=object)[self.edge_class]

    @property
    def edge_name_fa(self) -> NDArray[np.object_]:
        """Each edge's Persian street name (Persian digits)."""
        return np.asarray(self.street_names_fa, dtype=object)[self.edge_name]

    @property
    def edge_name_en(self) -> NDArray[np.object_]:
        """Each edge's English street name."""
        return np.asarray(self.street_names_en, dtype=object)[self.edge_name]

    def arrays(self) -> dict[str, NDArray[Any]]:
        """The numpy fields by name."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if isinstance(getattr(self, f.name), np.ndarray)
        }

    def equals(self, other: SyntheticCity) -> bool:
        """Whether two cities hold identical arrays and values."""
        if self.arrays().keys() != other.arrays().keys():
            return False
        same_arrays = all(
            a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
            for a, b in zip(self.arrays().values(), other.arrays().values(), strict=True)
        )
        values = [f.name for f in dataclasses.fields(self) if f.name not in self.arrays()]
        return same_arrays and all(getattr(self, n) == getattr(other, n) for n in values)
