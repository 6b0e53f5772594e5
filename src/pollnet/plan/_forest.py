"""The Steiner forest from many exchanges, and the repair of overloaded exchanges.

The forest: a virtual root node joins every exchange's street node by a zero-weight edge, and
one Steiner tree on the street graph plus that root spans the root and every station's node.
Cutting the root off leaves one tree per exchange, which owns the stations in it.

Capacity (PON ports x split): an exchange owning more stations than it can serve sheds the
stations that cost least to move, those on its boundary: for each of its stations the extra
cost of the cheapest route to the nearest other exchange with spare capacity, smallest first
(street distances by Dijkstra on the same edge weights). What no exchange can take is flagged.
The trees of the exchanges whose stations changed are then solved again, one Steiner tree each.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse import csgraph

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

_BOX_MARGIN_M = 1000.0


def weighted_matrix(num_nodes: int, u: IntArray, v: IntArray, w: FloatArray) -> sparse.csr_array:
    """A symmetric N x N matrix of edge weights (the cheapest of parallel edges)."""
    finite = np.isfinite(w)
    a, b, ww = u[finite], v[finite], w[finite]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    order = np.lexsort((ww, hi, lo))
    lo, hi, ww = lo[order], hi[order], ww[order]
    first = np.ones(lo.size, dtype=bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    first &= lo != hi
    lo, hi, ww = lo[first], hi[first], ww[first]
    return sparse.csr_array(
        (np.concatenate([ww, ww]), (np.concatenate([lo, hi]), np.concatenate([hi, lo]))),
        shape=(num_nodes, num_nodes),
    )


def solve_forest(
    num_nodes: int,
    u: IntArray,
    v: IntArray,
    w: FloatArray,
    station_node: IntArray,
    exchange_node: IntArray,
    seconds: float = 0.0,
) -> tuple[tuple[IntArray, ...], IntArray]:
    """The Steiner forest; returns each exchange's street edges and each station's owner.

    ``w`` may hold ``inf`` for edges that cannot be built; stations with ``station_node == -1``
    and stations no exchange reaches get owner -1. ``seconds`` is the solver's search budget
    (``time_limit``; 0: local search only).
    """
    finite = np.flatnonzero(np.isfinite(w))
    root = num_nodes
    k = exchange_node.size
    attached = np.flatnonzero(exchange_node >= 0)
    su = np.concatenate([u[finite], np.full(attached.size, root)])
    sv = np.concatenate([v[finite], exchange_node[attached]])
    sw = np.concatenate([w[finite], np.zeros(attached.size)])
    terminals = np.unique(np.concatenate([[root], station_node[station_node >= 0]]))
    from pollnet.plan import steiner

    result = steiner.solve(num_nodes + 1, su, sv, sw, terminals, time_limit=seconds or None)
    chosen = np.asarray(result.edges, dtype=np.int64)
    street = chosen[chosen < finite.size]
    street_edges = finite[street]
    roots = attached[chosen[chosen >= finite.size] - finite.size]

    # Ownership: walk the forest from every used exchange.
    a, b = u[street_edges], v[street_edges]
    matrix = sparse.csr_array(
        (np.ones(a.size * 2), (np.concatenate([a, b]), np.concatenate([b, a]))),
        shape=(num_nodes, num_nodes),
    )
    node_owner = np.full(num_nodes, -1, dtype=np.int64)
    for x in roots.tolist():
        if node_owner[exchange_node[x]] >= 0:
            continue
        reached = csgraph.breadth_first_order(matrix, int(exchange_node[x]), directed=False)[0]
        node_owner[reached] = x
    owner = np.where(station_node >= 0, node_owner[np.maximum(station_node, 0)], -1)
    edge_owner = node_owner[a]
    edges = tuple(street_edges[edge_owner == x] for x in range(k))
    return edges, owner


def exchange_tree_edges(
    num_nodes: int,
    u: IntArray,
    v: IntArray,
    w: FloatArray,
    root: int,
    nodes: IntArray,
    node_xy: tuple[FloatArray, FloatArray] | None = None,
    seconds: float = 0.0,
) -> IntArray:
    """The street edges of one Steiner tree spanning ``root`` and ``nodes`` (``seconds``: the
    solver's search budget, 0 for none).

    With ``node_xy`` (metres) the tree is first sought in the streets inside the terminals'
    bounding box widened by a quarter of its diagonal (at least 1 km), which is much faster on
    a city graph; the whole graph is used when that box does not join every terminal.
    """
    from pollnet.plan import steiner

    terminals = np.unique(np.concatenate([[root], nodes])).astype(np.int64)
    if terminals.size < 2:
        return np.zeros(0, dtype=np.int64)
    finite = np.isfinite(w)
    if node_xy is not None:
        x, y = node_xy
        tx, ty = x[terminals], y[terminals]
        margin = max(_BOX_MARGIN_M, 0.25 * float(np.hypot(np.ptp(tx), np.ptp(ty))))
        inside = (
            (x >= tx.min() - margin)
            & (x <= tx.max() + margin)
            & (y >= ty.min() - margin)
            & (y <= ty.max() + margin)
        )
        local_edges = np.flatnonzero(finite & inside[u] & inside[v])
        if local_edges.size:
            ids, inverse = np.unique(
                np.concatenate([u[local_edges], v[local_edges]]), return_inverse=True
            )
            k = local_edges.size
            position = np.searchsorted(ids, terminals)
            present = (position < ids.size) & (ids[np.minimum(position, ids.size - 1)] == terminals)
            if present.all():
                result = steiner.solve(
                    ids.size,
                    inverse[:k],
                    inverse[k:],
                    w[local_edges],
                    position,
                    time_limit=seconds or None,
                )
                if not len(getattr(result, "unreachable", ())):
                    return local_edges[np.asarray(result.edges, dtype=np.int64)]
    everything = np.flatnonzero(finite)
    result = steiner.solve(
        num_nodes,
        u[everything],
        v[everything],
        w[everything],
        terminals,
        time_limit=seconds or None,
    )
    return everything[np.asarray(result.edges, dtype=np.int64)]


def repair_capacity(
    matrix: sparse.csr_array,
    station_node: IntArray,
    exchange_node: IntArray,
    owner: IntArray,
    capacity: IntArray,
) -> tuple[IntArray, NDArray[np.bool_], NDArray[np.bool_]]:
    """Move stations off overloaded exchanges; returns (owner, changed exchanges, unserved).

    ``capacity`` is how many stations each exchange can serve. A station left over on an
    overloaded exchange with nowhere to go is unserved (owner -1).
    """
    k = exchange_node.size
    owner = owner.copy()
    load = np.bincount(owner[owner >= 0], minlength=k)
    changed = np.zeros(k, dtype=bool)
    unserved = np.zeros(owner.size, dtype=bool)
    if not (load > capacity).any():
        return owner, changed, unserved
    dist = csgraph.dijkstra(matrix, directed=False, indices=exchange_node)
    dist = np.asarray(dist)[:, np.maximum(station_node, 0)]  # exchanges x stations
    over = np.flatnonzero(load > capacity)
    candidates = np.flatnonzero(np.isin(owner, over))
    moves: list[tuple[float, int]] = []
    for s in candidates.tolist():
        own = dist[owner[s], s]
        alternatives = np.delete(np.arange(k), owner[s])
        best = np.min(dist[alternatives, s]) if alternatives.size else np.inf
        moves.append((float(best - own), s))
    moves.sort()
    for _penalty, s in moves:
        x = int(owner[s])
        if load[x] <= capacity[x]:
            continue
        spare = (load < capacity) & np.isfinite(dist[:, s])
        spare[x] = False
        if spare.any():
            target = int(np.flatnonzero(spare)[np.argmin(dist[spare, s])])
            owner[s] = target
            load[target] += 1
            changed[target] = True
        else:
            owner[s] = -1
            unserved[s] = True
        load[x] -= 1
        changed[x] = True
    return owner, changed, unserved
