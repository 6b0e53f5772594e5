"""The big roads: a trunk road and primary roads snapped to the lattice, and two motorways.

Snapped roads follow gently curved diagonals through lattice points (so they meet every street
they cross); their nodes sit on the curve. The motorways (a ring and a diagonal) are
grade-separated: nodes of their own, joined to the streets only at interchanges.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from pollnet.datasets._lattice import (
    MOTORWAY,
    PRIMARY,
    TRUNK,
    Edges,
    FloatArray,
    IntArray,
    Lattice,
    street_key,
)

_MOTORWAY_STEP = 2.5  # lattice units between motorway nodes
_INTERCHANGE_EVERY = 12  # motorway nodes between interchanges


def _curve_samples(
    fn: Callable[[FloatArray], tuple[FloatArray, FloatArray]],
    t0: float,
    t1: float,
    lattice: Lattice,
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


def snapped_arterials(
    lattice: Lattice, rng: np.random.Generator, edges: Edges
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
            edges.add(chain[:-1], chain[1:], cls, street_key(3, index))
    return chains, pos


def motorways(
    lattice: Lattice,
    rng: np.random.Generator,
    edges: Edges,
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
        key = street_key(4, index)
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
    lattice: Lattice, degree: IntArray, fj: FloatArray, fi: FloatArray, reach: int = 3
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
