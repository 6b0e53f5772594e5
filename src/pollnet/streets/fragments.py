"""The parts of a street network no exchange reaches: stranded fragments.

Real OpenStreetMap extracts leave many small pieces of street once footways, pedestrian areas
and tracks are dropped; a station snapped to one is cut off. :func:`fragments` says how many
there are, how long they are and which is the largest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from pollnet.streets.graph import StreetGraph
from pollnet.streets.snap import DEFAULT_MAX_DROP_M, TOO_FAR, snap


@dataclass(frozen=True)
class Fragments:
    """Street components no exchange reaches (or, without exchanges, every component but the
    largest): how many, their length in metres, and the largest of them (length, nodes, a
    node's WGS84 position)."""

    count: int
    length_m: float
    largest_m: float = 0.0
    largest_nodes: int = 0
    largest_lonlat: tuple[float, float] | None = None
    exchanges: int = 0
    reached_m: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (lengths in km)."""
        return {
            "count": self.count,
            "km": round(self.length_m / 1000.0, 3),
            "largest_km": round(self.largest_m / 1000.0, 3),
            "largest_nodes": self.largest_nodes,
            "largest_lonlat": list(self.largest_lonlat) if self.largest_lonlat else None,
            "exchanges": self.exchanges,
            "reached_km": round(self.reached_m / 1000.0, 3),
        }


def fragments(
    graph: StreetGraph,
    exchange_lon: ArrayLike = (),
    exchange_lat: ArrayLike = (),
    *,
    max_drop_m: float = DEFAULT_MAX_DROP_M,
) -> Fragments:
    """The components of ``graph`` that no exchange (WGS84 degrees; one within ``max_drop_m``
    of a street) is attached to; without exchanges, every component but the largest."""
    labels = graph.components()
    if graph.num_edges == 0:
        return Fragments(0, 0.0)
    edge_label = labels[graph.edge_u]
    count = int(labels.max()) + 1
    length = np.bincount(edge_label, weights=graph.edge_length_m, minlength=count)
    nodes = np.bincount(labels, minlength=count)
    edges = np.bincount(edge_label, minlength=count)
    lon = np.asarray(exchange_lon, dtype=np.float64).ravel()
    lat = np.asarray(exchange_lat, dtype=np.float64).ravel()
    if lon.size:
        snaps = snap(graph, lon, lat, max_drop_m=max_drop_m)
        ok = (snaps.edge >= 0) & ((snaps.flags & TOO_FAR) == 0)
        fed = np.zeros(count, dtype=bool)
        fed[snaps.component[ok]] = True
    else:
        fed = np.zeros(count, dtype=bool)
        fed[int(np.argmax(length))] = True
    stranded = np.flatnonzero(~fed & (edges > 0))
    if stranded.size == 0:
        return Fragments(0, 0.0, exchanges=int(lon.size), reached_m=float(length[fed].sum()))
    biggest = int(stranded[np.argmax(length[stranded])])
    node = int(np.flatnonzero(labels == biggest)[0])
    return Fragments(
        count=int(stranded.size),
        length_m=float(length[stranded].sum()),
        largest_m=float(length[biggest]),
        largest_nodes=int(nodes[biggest]),
        largest_lonlat=(
            round(float(graph.node_lon[node]), 6),
            round(float(graph.node_lat[node]), 6),
        ),
        exchanges=int(lon.size),
        reached_m=float(length[fed].sum()),
    )
