"""The synthetic street network, built as arrays.

:mod:`pollnet.datasets._lattice` lays the local streets, :mod:`pollnet.datasets._arterials` the
big roads; here short service stubs into blocks add dead ends, duplicate edges go, a smooth warp
and a small jitter keep streets from being ruler straight, and streets get their names.

Coordinates here are metres east and north of the city centre; :mod:`pollnet.datasets.synth`
shifts them into UTM zone 39N.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pollnet.datasets._arterials import motorways, snapped_arterials
from pollnet.datasets._lattice import (
    BLOCK_M,
    HIGHWAY_CLASSES,
    MOTORWAY,
    PRIMARY,
    RESIDENTIAL,
    SECONDARY,
    SERVICE,
    TERTIARY,
    TRUNK,
    Edges,
    FloatArray,
    IntArray,
    Lattice,
    local_streets,
    make_lattice,
    street_key,
)
from pollnet.i18n import to_persian_digits

__all__ = ["HIGHWAY_CLASSES", "RESIDENTIAL", "SECONDARY", "Streets", "build"]

_STUB_P = 0.02  # lattice nodes that get a service stub into the block
_JITTER = 0.10  # lattice units, each way

# Street name prefixes (Persian, English), by highway code; streets are numbered per prefix.
_PREFIXES = {
    MOTORWAY: ("بزرگراه", "Expressway"),
    TRUNK: ("بلوار", "Boulevard"),
    PRIMARY: ("خیابان", "Street"),
    SECONDARY: ("خیابان", "Street"),
    TERTIARY: ("خیابان", "Street"),
    RESIDENTIAL: ("کوچه", "Alley"),
    SERVICE: ("بن‌بست", "Dead end"),
}


@dataclass(frozen=True)
class Streets:
    """A street network: node positions in metres from the centre, edges with class and name.

    ``highway`` codes index :data:`HIGHWAY_CLASSES`; ``name`` indexes ``names_fa``/``names_en``;
    ``arterials`` are the node chains of the trunk and primary roads, in order.
    """

    x: FloatArray
    y: FloatArray
    u: IntArray
    v: IntArray
    highway: NDArray[np.int8]
    name: NDArray[np.int32]
    names_fa: tuple[str, ...]
    names_en: tuple[str, ...]
    arterials: tuple[IntArray, ...]
    half_width_m: float
    half_height_m: float


def build(target_nodes: int, rng: np.random.Generator) -> Streets:
    """A street network of about ``target_nodes`` nodes (within a few percent)."""
    lattice = make_lattice(target_nodes, rng)
    nx, ny = lattice.nx, lattice.ny
    n_lattice = nx * ny
    edges = Edges()
    # Arterials first: where they share an edge with a local street, theirs is kept.
    art_chains, art_pos = snapped_arterials(lattice, rng, edges)
    local_streets(lattice, rng, edges, horizontal=True)
    local_streets(lattice, rng, edges, horizontal=False)

    u, v, _, _ = edges.arrays()
    degree = np.bincount(np.concatenate([u, v]), minlength=n_lattice)
    extra_j: list[FloatArray] = []
    extra_i: list[FloatArray] = []
    next_id = n_lattice
    next_id = motorways(lattice, rng, edges, degree, next_id, extra_j, extra_i)
    next_id = _stubs(lattice, rng, edges, degree, art_pos, next_id, extra_j, extra_i)

    u, v, highway, street = edges.arrays()
    u, v, highway, street = _dedupe(u, v, highway, street)

    # Node positions in lattice units, then metres from the centre.
    jj = (np.arange(n_lattice) % nx).astype(np.float64)
    ii = (np.arange(n_lattice) // nx).astype(np.float64)
    jitter = rng.uniform(-_JITTER, _JITTER, size=(2, n_lattice))
    on_arterial = art_pos[2] > 0
    jj = np.where(on_arterial, art_pos[0] / np.maximum(art_pos[2], 1), jj + jitter[0])
    ii = np.where(on_arterial, art_pos[1] / np.maximum(art_pos[2], 1), ii + jitter[1])
    jj = np.concatenate([jj, *extra_j])
    ii = np.concatenate([ii, *extra_i])

    used = np.zeros(jj.size, dtype=bool)
    used[u] = True
    used[v] = True
    new_id = np.cumsum(used) - 1
    x = (jj[used] - (nx - 1) / 2) * BLOCK_M
    y = (ii[used] - (ny - 1) / 2) * BLOCK_M
    x, y = _warp(x, y, rng)
    chains = tuple(new_id[c] for c in art_chains)

    name, names_fa, names_en = _names(street, highway)
    return Streets(
        x=x,
        y=y,
        u=new_id[u],
        v=new_id[v],
        highway=highway,
        name=name,
        names_fa=names_fa,
        names_en=names_en,
        arterials=chains,
        half_width_m=(nx - 1) / 2 * BLOCK_M,
        half_height_m=(ny - 1) / 2 * BLOCK_M,
    )


def _stubs(
    lattice: Lattice,
    rng: np.random.Generator,
    edges: Edges,
    degree: IntArray,
    art_pos: FloatArray,
    next_id: int,
    extra_j: list[FloatArray],
    extra_i: list[FloatArray],
) -> int:
    """Short service roads from street corners diagonally into blocks: dead ends."""
    n = lattice.nx * lattice.ny
    pick = (degree >= 2) & (degree <= 3) & (art_pos[2] == 0) & (rng.random(n) < _STUB_P)
    origin = np.flatnonzero(pick).astype(np.int64)
    k = origin.size
    reach = 0.5 * rng.uniform(0.5, 0.85, size=k)
    sj = rng.choice([-1.0, 1.0], size=k) * reach
    si = rng.choice([-1.0, 1.0], size=k) * reach
    extra_j.append((origin % lattice.nx) + sj)
    extra_i.append((origin // lattice.nx) + si)
    ids = np.arange(next_id, next_id + k, dtype=np.int64)
    edges.add(origin, ids, SERVICE, street_key(5, np.arange(k)))
    return next_id + k


def _dedupe(
    u: IntArray, v: IntArray, highway: NDArray[np.int8], street: IntArray
) -> tuple[IntArray, IntArray, NDArray[np.int8], IntArray]:
    """One edge per node pair (the biggest class wins), no self loops, in generation order."""
    ok = u != v
    u, v, highway, street = u[ok], v[ok], highway[ok], street[ok]
    n = int(max(u.max(initial=0), v.max(initial=0))) + 1
    key = np.minimum(u, v) * n + np.maximum(u, v)
    order = np.lexsort((highway, key))
    sk = key[order]
    first = order[np.concatenate([[True], sk[1:] != sk[:-1]])]
    keep = np.sort(first)
    return u[keep], v[keep], highway[keep], street[keep]


def _warp(x: FloatArray, y: FloatArray, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """A smooth displacement (slopes below 0.1) that bends straight streets gently."""
    out = [x.copy(), y.copy()]
    for axis in range(2):
        for _ in range(2):
            wavelength = rng.uniform(3000, 8000)
            amplitude = rng.uniform(0.3, 1.0) * 0.08 * wavelength / (2 * np.pi)
            direction = rng.uniform(0, 2 * np.pi)
            phase = rng.uniform(0, 2 * np.pi)
            along = x * np.cos(direction) + y * np.sin(direction)
            out[axis] += amplitude * np.sin(2 * np.pi * along / wavelength + phase)
    return out[0], out[1]


def _names(
    street: IntArray, highway: NDArray[np.int8]
) -> tuple[NDArray[np.int32], tuple[str, ...], tuple[str, ...]]:
    """Number the streets per name prefix; each edge gets its street's name index."""
    keys, index = np.unique(street, return_inverse=True)
    cls = np.full(keys.size, SERVICE, dtype=np.int8)
    np.minimum.at(cls, index, highway)
    prefix_of = {
        code: sorted({p for p in _PREFIXES.values()}).index(p) for code, p in _PREFIXES.items()
    }
    prefix = np.array([prefix_of[int(c)] for c in range(len(HIGHWAY_CLASSES))])[cls]
    order = np.lexsort((np.arange(keys.size), prefix))
    group_start = np.searchsorted(prefix[order], prefix[order], side="left")
    number = np.empty(keys.size, dtype=np.int64)
    number[order] = np.arange(keys.size) - group_start + 1
    names_fa: list[str] = []
    names_en: list[str] = []
    for c, n in zip(cls.tolist(), number.tolist(), strict=True):
        fa, en = _PREFIXES[c]
        names_fa.append(f"{fa} {to_persian_digits(str(n))}")
        names_en.append(f"{en} {n}")
    return index.astype(np.int32), tuple(names_fa), tuple(names_en)
