"""The synthetic street network, built as arrays.

The city is a lattice of candidate street corners (one lattice unit is :data:`BLOCK_M` metres)
clipped to an irregular outline. Neighbourhoods (a jittered Voronoi partition of the lattice)
choose how many lattice lines apart their local streets run, so block sizes differ from one
neighbourhood to the next; whole street segments are removed at random (irregular blocks), some
only half (cul-de-sacs). Collector (tertiary) and secondary streets run the whole city along
chosen lattice lines, a trunk road and a few primary roads follow gently curved diagonals snapped
to the lattice (so they meet every street they cross), and two grade-separated motorways (a ring
and a diagonal) have nodes of their own, joined to the grid only at interchanges. Short service
stubs into blocks add dead ends. A smooth warp and a small jitter keep streets from being ruler
straight.

Coordinates here are metres east and north of the city centre; :mod:`pollnet.datasets.synth`
shifts them into UTM zone 39N.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pollnet.i18n import to_persian_digits

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
_STUB_P = 0.02  # lattice nodes that get a service stub into the block
_JITTER = 0.10  # lattice units, each way
_MOTORWAY_STEP = 2.5  # lattice units between motorway nodes
_INTERCHANGE_EVERY = 12  # motorway nodes between interchanges

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

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


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


@dataclass(frozen=True)
class _Lattice:
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


class _Edges:
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


def _street_key(part: int, value: IntArray | int) -> IntArray:
    """A street key unique across the parts of the network (part in the top bits)."""
    return (np.int64(part) << np.int64(56)) | np.asarray(value, dtype=np.int64)


def build(target_nodes: int, rng: np.random.Generator) -> Streets:
    """A street network of about ``target_nodes`` nodes (within a few percent)."""
    lattice = _lattice(target_nodes, rng)
    nx, ny = lattice.nx, lattice.ny
    n_lattice = nx * ny
    edges = _Edges()
    # Arterials first: where they share an edge with a local street, theirs is kept.
    art_chains, art_pos = _snapped_arterials(lattice, rng, edges)
    _local_streets(lattice, rng, edges, horizontal=True)
    _local_streets(lattice, rng, edges, horizontal=False)

    u, v, _, _ = edges.arrays()
    degree = np.bincount(np.concatenate([u, v]), minlength=n_lattice)
    extra_j: list[FloatArray] = []
    extra_i: list[FloatArray] = []
    next_id = n_lattice
    next_id = _motorways(lattice, rng, edges, degree, next_id, extra_j, extra_i)
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


def _lattice(target_nodes: int, rng: np.random.Generator) -> _Lattice:
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
    return _Lattice(
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


def _local_streets(
    lattice: _Lattice, rng: np.random.Generator, edges: _Edges, *, horizontal: bool
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
        _street_key(1, orientation * width + line),
        _street_key(2, (orientation * width + line) * (lattice.hood.max() + 1) + ha),
    )
    keep = keep_local | city_edge
    cls = np.where(city_edge, city_cls, np.int8(RESIDENTIAL)).astype(np.int8)
    edges.add(a[keep], b[keep], cls[keep], street[keep])


def _curve_samples(
    fn: Callable[[FloatArray], tuple[FloatArray, FloatArray]],
    t0: float,
    t1: float,
    lattice: _Lattice,
    step: float,
) -> tuple[FloatArray, FloatArray]:
    """Points of a curve given in normalised coordinates, ``step`` lattice units apart or less."""
    scale = np.array([(lattice.nx - 1) / 2, (lattice.ny - 1) / 2])
    probe_u, probe_v = fn(np.linspace(t0, t1, 257))
    length = float(np.hypot(np.diff(probe_u) * scale[0], np.diff(probe_v) * scale[1]).sum())
    cu, cv = fn(np.linspace(t0, t1, math.ceil(length / step * 1.5) + 2))
    return cu, cv


def _runs(mask: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(start, stop) of each run of True in ``mask``."""
    padded = np.concatenate([[False], mask, [False]])
    change = np.flatnonzero(padded[1:] != padded[:-1])
    return [(int(s), int(e)) for s, e in zip(change[::2], change[1::2], strict=True)]


def _snapped_arterials(
    lattice: _Lattice, rng: np.random.Generator, edges: _Edges
) -> tuple[list[IntArray], FloatArray]:
    """A trunk road and primary roads along curves snapped to the lattice.

    Returns the node chains and, per lattice point, the summed curve position (j, i) and count
    of the samples snapped to it: arterial nodes sit on their curve, not on the lattice.
    """
    nx, ny = lattice.nx, lattice.ny
    curves: list[tuple[int, Callable[[FloatArray], tuple[FloatArray, FloatArray]]]] = []
    u0, phase = rng.uniform(-0.2, 0.2), rng.uniform(0, 2 * np.pi)
    curves.append((TRUNK, lambda t: (u0 + 0.08 * np.sin(1.3 * np.pi * t + phase), t)))
    for _ in range(int(rng.integers(2, 4))):
        angle = rng.uniform(np.radians(20), np.radians(70)) * rng.choice([1, -1])
        angle += np.pi / 2 * rng.integers(0, 2)
        p0 = rng.uniform(-0.35, 0.35, size=2)
        bend, bend_phase = rng.uniform(0.02, 0.06), rng.uniform(0, 2 * np.pi)
        d = np.array([np.cos(angle), np.sin(angle)])

        def line(
            t: FloatArray,
            p0: FloatArray = p0,
            d: FloatArray = d,
            b: float = bend,
            ph: float = bend_phase,
        ) -> tuple[FloatArray, FloatArray]:
            off = b * np.sin(np.pi * t + ph)
            return p0[0] + t * d[0] - off * d[1], p0[1] + t * d[1] + off * d[0]

        curves.append((PRIMARY, line))

    pos = np.zeros((3, nx * ny))
    chains: list[IntArray] = []
    for index, (cls, fn) in enumerate(curves):
        cu, cv = _curve_samples(fn, -2.0, 2.0, lattice, step=0.4)
        fj, fi = (cu + 1) * (nx - 1) / 2, (cv + 1) * (ny - 1) / 2
        rj, ri = np.rint(fj).astype(np.int64), np.rint(fi).astype(np.int64)
        ok = (rj >= 0) & (rj < nx) & (ri >= 0) & (ri < ny)
        ids = np.where(ok, ri * nx + rj, 0)
        ok &= lattice.inside[ids]
        for start, stop in _runs(ok):
            run = ids[start:stop]
            np.add.at(pos[0], run, fj[start:stop])
            np.add.at(pos[1], run, fi[start:stop])
            np.add.at(pos[2], run, 1.0)
            chain = run[np.concatenate([[True], run[1:] != run[:-1]])]
            if chain.size < 2:
                continue
            chains.append(chain)
            edges.add(chain[:-1], chain[1:], cls, _street_key(3, index))
    return chains, pos


def _motorways(
    lattice: _Lattice,
    rng: np.random.Generator,
    edges: _Edges,
    degree: IntArray,
    next_id: int,
    extra_j: list[FloatArray],
    extra_i: list[FloatArray],
) -> int:
    """A ring motorway and a diagonal one, with nodes of their own and interchanges."""
    nx, ny = lattice.nx, lattice.ny
    radius, wobble = rng.uniform(0.45, 0.6), rng.uniform(0, 2 * np.pi)
    angle = rng.uniform(np.radians(25), np.radians(65)) + np.pi / 2 * rng.integers(0, 2)
    p0 = rng.uniform(-0.15, 0.15, size=2)

    def ring(t: FloatArray) -> tuple[FloatArray, FloatArray]:
        r = radius * (1 + 0.06 * np.sin(3 * t + wobble))
        return r * np.cos(t), r * np.sin(t)

    def diagonal(t: FloatArray) -> tuple[FloatArray, FloatArray]:
        return p0[0] + t * np.cos(angle), p0[1] + t * np.sin(angle)

    shapes = ((ring, 0.0, 2 * np.pi, True), (diagonal, -2.0, 2.0, False))
    for index, (fn, t0, t1, closed) in enumerate(shapes):
        cu, cv = _curve_samples(fn, t0, t1, lattice, step=_MOTORWAY_STEP)
        if closed:
            cu, cv = cu[:-1], cv[:-1]
        ok = lattice.outline(cu, cv)
        runs = _runs(ok)
        if not runs:
            continue
        start, stop = max(runs, key=lambda r: r[1] - r[0])
        if stop - start < 2:
            continue
        fj = (cu[start:stop] + 1) * (nx - 1) / 2
        fi = (cv[start:stop] + 1) * (ny - 1) / 2
        ids = np.arange(next_id, next_id + fj.size, dtype=np.int64)
        next_id += fj.size
        extra_j.append(fj)
        extra_i.append(fi)
        key = _street_key(4, index)
        u, v = ids[:-1], ids[1:]
        if closed and stop - start == ok.size:
            u, v = np.append(u, ids[-1]), np.append(v, ids[0])
        edges.add(u, v, MOTORWAY, key)
        at = np.arange(0, fj.size, _INTERCHANGE_EVERY)
        target = _nearest_street_node(lattice, degree, fj[at], fi[at])
        found = target >= 0
        edges.add(ids[at][found], target[found], MOTORWAY, key)
    return next_id


def _nearest_street_node(
    lattice: _Lattice, degree: IntArray, fj: FloatArray, fi: FloatArray, reach: int = 3
) -> IntArray:
    """The lattice node with a street nearest to each point (within ``reach``), or -1."""
    off = np.arange(-reach, reach + 1)
    dj, di = (a.ravel() for a in np.meshgrid(off, off))
    cj = np.rint(fj)[:, None].astype(np.int64) + dj
    ci = np.rint(fi)[:, None].astype(np.int64) + di
    ok = (cj >= 0) & (cj < lattice.nx) & (ci >= 0) & (ci < lattice.ny)
    ids = np.where(ok, ci * lattice.nx + cj, 0)
    ok &= degree[ids] > 0
    dist = np.where(ok, (cj - fj[:, None]) ** 2 + (ci - fi[:, None]) ** 2, np.inf)
    best = dist.argmin(axis=1)
    rows = np.arange(fj.size)
    return np.where(ok[rows, best], ids[rows, best], -1)


def _stubs(
    lattice: _Lattice,
    rng: np.random.Generator,
    edges: _Edges,
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
    edges.add(origin, ids, SERVICE, _street_key(5, np.arange(k)))
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
