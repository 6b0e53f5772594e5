"""The lattice the synthetic streets grow on, and the local streets along it.

The city is a lattice of candidate street corners (one lattice unit is :data:`BLOCK_M` metres)
clipped to an irregular outline. Neighbourhoods (a jittered Voronoi partition of the lattice)
choose how many lattice lines apart their local streets run, so block sizes differ from one
neighbourhood to the next; whole street segments are removed at random (irregular blocks), some
only half (cul-de-sacs). Collector (tertiary) and secondary streets run the whole city along
chosen lattice lines. Lattice point ``(i, j)`` (row, column) has index ``i * nx + j``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

HIGHWAY_CLASSES: tuple[str, ...] = (
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "residential",
    "service",
)
"""OSM ``highway`` values; an edge's ``highway`` code indexes this tuple (lower is bigger)."""

MOTORWAY, TRUNK, PRIMARY, SECONDARY, TERTIARY, RESIDENTIAL, SERVICE = range(7)

BLOCK_M = 40.0
"""Metres between neighbouring lattice lines: the smallest block side."""

ASPECT = 1.6
"""Width over height of the city (Tehran is wider east-west than north-south)."""

KEEP_RATE = 0.60
"""Street nodes per lattice point of the bounding rectangle (measured), to size the lattice."""

_NEIGHBOURHOOD = 28  # lattice units between neighbourhood seeds
_LINE_SPACING = (1, 2, 3, 4)
_LINE_SPACING_P = (0.2, 0.4, 0.3, 0.1)
_CULDESAC_P = 0.45  # a removed segment keeps one half, ending in a dead end

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Lattice:
    """The candidate street corners, their neighbourhoods and each neighbourhood's pattern."""

    nx: int
    ny: int
    inside: NDArray[np.bool_]  # per lattice point, row-major (i * nx + j)
    hood: IntArray  # neighbourhood of each lattice point
    row_step: IntArray  # per neighbourhood: lattice rows between its east-west streets
    col_step: IntArray
    p_remove: FloatArray  # per neighbourhood: share of street segments removed
    row_class: NDArray[np.int8]  # per lattice row: SECONDARY/TERTIARY for a city street, else 0
    col_class: NDArray[np.int8]
    outline: Callable[[FloatArray, FloatArray], NDArray[np.bool_]]


class Edges:
    """Edges collected part by part, each with a highway code and a street key."""

    def __init__(self) -> None:
        self.parts: list[tuple[IntArray, IntArray, NDArray[np.int8], IntArray]] = []

    def add(
        self, u: IntArray, v: IntArray, highway: int | NDArray[np.int8], street: IntArray
    ) -> None:
        cls = np.broadcast_to(np.asarray(highway, dtype=np.int8), u.shape)
        self.parts.append((u, v, cls, np.broadcast_to(street, u.shape)))

    def arrays(self) -> tuple[IntArray, IntArray, NDArray[np.int8], IntArray]:
        u, v, cls, street = zip(*self.parts, strict=True)
        return np.concatenate(u), np.concatenate(v), np.concatenate(cls), np.concatenate(street)


def street_key(part: int, value: IntArray | int) -> IntArray:
    """A street key unique across the parts of the network (part in the top bits)."""
    return (np.int64(part) << np.int64(56)) | np.asarray(value, dtype=np.int64)


def make_lattice(target_nodes: int, rng: np.random.Generator) -> Lattice:
    n_points = target_nodes / KEEP_RATE
    ny = max(8, round(math.sqrt(n_points / ASPECT)))
    nx = max(8, round(ny * ASPECT))
    outline = _outline(rng)
    jj, ii = np.meshgrid(np.arange(nx), np.arange(ny))
    u = jj.ravel() / ((nx - 1) / 2) - 1
    v = ii.ravel() / ((ny - 1) / 2) - 1
    inside = outline(u, v)

    # Neighbourhoods: a Voronoi partition around one jittered seed per coarse cell.
    cy, cx = -(-ny // _NEIGHBOURHOOD), -(-nx // _NEIGHBOURHOOD)
    seeds = (np.stack(np.meshgrid(np.arange(cy), np.arange(cx), indexing="ij"), -1) + 0.5).reshape(
        -1, 2
    )
    seeds = (seeds + rng.uniform(-0.35, 0.35, size=seeds.shape)) * _NEIGHBOURHOOD
    fi, fj = ii.ravel().astype(np.float64), jj.ravel().astype(np.float64)
    ci, cj = ii.ravel() // _NEIGHBOURHOOD, jj.ravel() // _NEIGHBOURHOOD
    best = np.full(fi.size, np.inf)
    hood = np.zeros(fi.size, dtype=np.int64)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            ni, nj = ci + di, cj + dj
            ok = (ni >= 0) & (ni < cy) & (nj >= 0) & (nj < cx)
            cand = np.where(ok, ni * cx + nj, 0)
            d = (seeds[cand, 0] - fi) ** 2 + (seeds[cand, 1] - fj) ** 2
            better = ok & (d < best)
            best = np.where(better, d, best)
            hood = np.where(better, cand, hood)
    n_hoods = cy * cx
    row_step = rng.choice(_LINE_SPACING, p=_LINE_SPACING_P, size=n_hoods).astype(np.int64)
    col_step = rng.choice(_LINE_SPACING, p=_LINE_SPACING_P, size=n_hoods).astype(np.int64)
    p_remove = rng.uniform(0.04, 0.16, size=n_hoods)
    return Lattice(
        nx=nx,
        ny=ny,
        inside=inside,
        hood=hood,
        row_step=row_step,
        col_step=col_step,
        p_remove=p_remove,
        row_class=_city_lines(ny, rng),
        col_class=_city_lines(nx, rng),
        outline=outline,
    )


def _outline(rng: np.random.Generator) -> Callable[[FloatArray, FloatArray], NDArray[np.bool_]]:
    """The city's outline: a rounded rectangle with a wavy edge, in normalised coordinates."""
    phase = rng.uniform(0, 2 * np.pi, size=2)

    def inside(u: FloatArray, v: FloatArray) -> NDArray[np.bool_]:
        r = (np.abs(u) ** 3.5 + np.abs(v) ** 3.5) ** (1 / 3.5)
        theta = np.arctan2(v, u)
        limit = 0.9 + 0.04 * np.sin(3 * theta + phase[0]) + 0.03 * np.sin(5 * theta + phase[1])
        result: NDArray[np.bool_] = r <= limit
        return result

    return inside


def _city_lines(n: int, rng: np.random.Generator) -> NDArray[np.int8]:
    """Per lattice line: SECONDARY or TERTIARY where a city-wide street runs along it, else 0."""
    cls = np.zeros(n, dtype=np.int8)
    for code, low, high in ((TERTIARY, 8, 15), (SECONDARY, 22, 38)):
        gaps = rng.integers(low, high, size=n // low + 2)
        at = np.cumsum(gaps) - rng.integers(0, low)
        at = at[(at > 0) & (at < n - 1)]
        cls[at] = code
    return cls


def local_streets(
    lattice: Lattice, rng: np.random.Generator, edges: Edges, *, horizontal: bool
) -> None:
    """Edges between neighbouring lattice points along rows (or columns), in street order."""
    nx, ny = lattice.nx, lattice.ny
    if horizontal:
        i, j = np.divmod(np.arange(ny * (nx - 1), dtype=np.int64), nx - 1)
        a = i * nx + j
        b = a + 1
        line, along = i, j
        line_step, across_step, city = lattice.row_step, lattice.col_step, lattice.row_class
    else:
        j, i = np.divmod(np.arange(nx * (ny - 1), dtype=np.int64), ny - 1)
        a = i * nx + j
        b = a + nx
        line, along = j, i
        line_step, across_step, city = lattice.col_step, lattice.row_step, lattice.col_class
    ha, hb = lattice.hood[a], lattice.hood[b]
    inside = lattice.inside[a] & lattice.inside[b]
    city_cls = city[line]
    local = inside & (city_cls == 0) & (line % line_step[ha] == 0) & (line % line_step[hb] == 0)

    # Remove whole segments between junctions; some keep one half as a cul-de-sac.
    step = across_step[ha[local]]
    pos = along[local] % step
    width = max(nx, ny) + 1
    seg = (ha[local] * width + line[local]) * width + along[local] // step
    _, inverse = np.unique(seg, return_inverse=True)
    draws = rng.random((3, int(inverse.max(initial=-1)) + 1))[:, inverse]
    first_half = pos < step // 2
    keep_half = (
        (step >= 2) & (draws[1] < _CULDESAC_P) & np.where(draws[2] < 0.5, first_half, ~first_half)
    )
    removed = (draws[0] < lattice.p_remove[ha[local]]) & ~keep_half
    keep_local = local.copy()
    keep_local[local] = ~removed

    orientation = 0 if horizontal else 1
    city_edge = inside & (city_cls > 0)
    street = np.where(
        city_edge,
        street_key(1, orientation * width + line),
        street_key(2, (orientation * width + line) * (lattice.hood.max() + 1) + ha),
    )
    keep = keep_local | city_edge
    cls = np.where(city_edge, city_cls, np.int8(RESIDENTIAL)).astype(np.int8)
    edges.add(a[keep], b[keep], cls[keep], street[keep])
