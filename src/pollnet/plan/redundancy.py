"""Second routes for critical stations, sharing no trench with their first route.

For each critical station, in order, the street edges of its first route are taken out of the
graph and the cheapest path from the station's street node to any exchange is found (Dijkstra,
so it may end at the station's own exchange through other streets or at a second exchange).
Edges the plan already digs are searched at a share (``reuse_w``, 30 % by default in the
design) of their full price, so second routes prefer existing trenches (other than the
station's own route) and each other's, while the search stays local; a route's extra cost is
the civil work it adds plus its cable. The search stops at ``limit_factor`` times the full
price of the first route: a station with no disjoint route within that reach is flagged
``no_second_route``.

The building drop is shared by both routes (one building entry); disjointness is over street
trenches. Removing the first route and searching again can miss a disjoint pair that exists
only if the first route itself were moved (a "trap"); :func:`disjoint_pair_exists` (a flow of
two, Suurballe's feasibility test) then tells such a station, flagged for re-routing by hand,
from one the streets cannot give two disjoint routes at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse import csgraph

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

_REMOVED = np.inf
_WIDENING = (0.3, 0.6, 1.2, np.inf)  # search limits, as shares of the first route's full price


@dataclass(frozen=True)
class SecondRoute:
    """A second route: street edges from the exchange to the station, and what it adds."""

    edges: tuple[int, ...]
    exchange: int
    length_m: float
    new_edges: tuple[int, ...]


class _Graph:
    """A directed CSR copy of the street graph whose edge weights can be changed in place."""

    def __init__(self, num_nodes: int, u: IntArray, v: IntArray, w: FloatArray) -> None:
        n = num_nodes
        rows = np.concatenate([u, v])
        cols = np.concatenate([v, u])
        weight = np.concatenate([w, w])
        edge = np.concatenate([np.arange(u.size), np.arange(u.size)])
        keep = np.isfinite(weight) & (rows != cols)
        rows, cols, weight, edge = rows[keep], cols[keep], weight[keep], edge[keep]
        # One entry per (row, column): the cheapest of parallel edges, the first of equals
        # (as np.lexsort((weight, cols, rows)) would order them, without its cost).
        keys = rows * n + cols
        order = np.argsort(keys, kind="stable")
        keys, cols, weight, edge = keys[order], cols[order], weight[order], edge[order]
        start = np.flatnonzero(np.concatenate([[keys.size > 0], keys[1:] != keys[:-1]]))
        if start.size < keys.size:
            run = np.repeat(np.arange(start.size), np.diff(np.append(start, keys.size)))
            cheapest = np.flatnonzero(weight == np.minimum.reduceat(weight, start)[run])
            start = cheapest[np.searchsorted(cheapest, start)]
        keys, cols, weight, edge = keys[start], cols[start], weight[start], edge[start]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(keys // max(n, 1), minlength=n), out=indptr[1:])
        self.n = n
        self.keys = keys
        self.edge = edge
        self.matrix = sparse.csr_matrix((weight.astype(np.float64), cols, indptr), shape=(n, n))
        # Both directed entries of every street edge (parallel edges share their pair's entry).
        self.fwd = self._position(u, v)
        self.bwd = self._position(v, u)

    def _position(self, a: IntArray, b: IntArray) -> IntArray:
        keys = a * self.n + b
        pos = np.searchsorted(self.keys, keys)
        pos = np.minimum(pos, self.keys.size - 1)
        return np.where(self.keys[pos] == keys, pos, -1) if self.keys.size else np.full(a.size, -1)

    def set_weight(self, edges: IntArray, values: FloatArray) -> None:
        for pos in (self.fwd[edges], self.bwd[edges]):
            ok = pos >= 0
            self.matrix.data[pos[ok]] = values[ok] if values.ndim else values

    def weight(self, edges: IntArray) -> FloatArray:
        pos = self.fwd[edges]
        return np.where(pos >= 0, self.matrix.data[np.maximum(pos, 0)], np.inf)

    def edge_between(self, a: IntArray, b: IntArray) -> IntArray:
        found: IntArray = self.edge[self._position(a, b)]
        return found


def second_routes(
    num_nodes: int,
    u: IntArray,
    v: IntArray,
    full_w: FloatArray,
    reuse_w: FloatArray,
    in_plan: NDArray[np.bool_],
    length_m: FloatArray,
    requests: Sequence[tuple[int, Sequence[int]]],
    exchange_node: IntArray,
    *,
    limit_factor: float = 2.5,
) -> list[SecondRoute | None]:
    """A trench-disjoint second route for each ``(station node, first route's edges)``.

    ``full_w`` is each edge's full price (civil work and cable), ``reuse_w`` its search weight
    where ``in_plan`` says the trench is dug anyway. Requests are served in
    order, and each route's new trenches are cheap for the requests after it.
    """
    in_plan = in_plan.copy()
    current = np.where(in_plan, reuse_w, full_w)
    graph = _Graph(num_nodes, u, v, current)
    is_exchange = np.zeros(num_nodes, dtype=bool)
    is_exchange[exchange_node[exchange_node >= 0]] = True
    exchange_of = {
        int(node): i for i, node in reversed(list(enumerate(exchange_node.tolist()))) if node >= 0
    }
    out: list[SecondRoute | None] = []
    for node, first in requests:
        first_edges = np.asarray(first, dtype=np.int64)
        if first_edges.size == 0:
            out.append(None)  # the station sits at the exchange's street node
            continue
        saved = graph.weight(first_edges)
        graph.set_weight(first_edges, np.full(first_edges.size, _REMOVED))
        full = float(full_w[first_edges].sum()) + 1.0
        # Dijkstra cannot stop at the first exchange it settles: search a small disc first and
        # widen it only when no exchange lies within (the cost grows with the disc's area).
        for share in _WIDENING:
            dist, pred = csgraph.dijkstra(
                graph.matrix,
                directed=True,
                indices=node,
                return_predecessors=True,
                limit=min(share, limit_factor) * full,
            )
            reached = np.flatnonzero(is_exchange & np.isfinite(dist))
            reached = reached[reached != node]
            if reached.size or share >= limit_factor:
                break
        graph.set_weight(first_edges, saved)
        if reached.size == 0:
            out.append(None)
            continue
        target = int(reached[np.argmin(dist[reached])])
        path = [target]
        while path[-1] != node:
            path.append(int(pred[path[-1]]))
        nodes = np.asarray(path, dtype=np.int64)  # from the exchange to the station
        edges = graph.edge_between(nodes[:-1], nodes[1:])
        new = edges[~in_plan[edges]]
        in_plan[new] = True
        graph.set_weight(new, reuse_w[new])
        out.append(
            SecondRoute(
                edges=tuple(int(e) for e in edges),
                exchange=exchange_of[target],
                length_m=float(length_m[edges].sum()),
                new_edges=tuple(int(e) for e in np.unique(new)),
            )
        )
    return out


class DisjointPairs:
    """Whether two street-edge-disjoint routes join a node to exchanges (the same or two).

    A unit-capacity flow of 2 from a source feeding every exchange twice (one building may
    take two cable entries) to the node: one augmenting path by breadth-first search, then
    another in the residual graph, where the first path's edges may only be walked backwards.
    This is Suurballe's feasibility test without the costs. The arcs are built once.
    """

    def __init__(
        self,
        num_nodes: int,
        u: IntArray,
        v: IntArray,
        usable: NDArray[np.bool_],
        exchange_node: IntArray,
    ) -> None:
        attached = exchange_node[exchange_node >= 0]
        k = attached.size
        self.source = num_nodes
        entries = num_nodes + 1 + np.arange(2 * k)
        a, b = u[usable], v[usable]
        rows = np.concatenate([a, b, np.full(2 * k, self.source), entries])
        cols = np.concatenate([b, a, entries, np.repeat(attached, 2)])
        size = num_nodes + 1 + 2 * k
        self.arcs = sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(size, size))
        self.arcs.sum_duplicates()
        self.arcs.sort_indices()
        self.order, self.pred = csgraph.breadth_first_order(
            self.arcs, self.source, directed=True, return_predecessors=True
        )

    def exists(self, node: int) -> bool:
        """Whether ``node`` has two edge-disjoint routes from the exchanges."""
        if self.pred[node] < 0:
            return False
        path = [node]
        while path[-1] != self.source:
            path.append(int(self.pred[path[-1]]))
        residual = self.arcs.copy()
        for x, y in zip(path[:0:-1], path[-2::-1], strict=True):  # arcs x -> y, source first
            # the first path used one unit of x -> y: one less that way, one more back
            _add(residual, x, y, -1.0)
            _add(residual, y, x, 1.0)
        residual.eliminate_zeros()
        reached = csgraph.breadth_first_order(
            residual, self.source, directed=True, return_predecessors=False
        )
        return bool(np.isin(node, reached))


def _add(matrix: sparse.csr_matrix, row: int, col: int, amount: float) -> None:
    """Add ``amount`` to an entry that exists (entries that do not are left alone)."""
    lo, hi = matrix.indptr[row], matrix.indptr[row + 1]
    at = lo + int(np.searchsorted(matrix.indices[lo:hi], col))
    if at < hi and matrix.indices[at] == col:
        matrix.data[at] += amount
