"""The graph machinery of the Steiner solver: a simple CSR graph, MSTs, trees, Mehlhorn's tree.

Every function works on whole arrays (numpy/scipy); a loop here runs once per *level* of a tree
or of a shortest-path chain, never once per edge of the graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse import csgraph

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class SimpleGraph:
    """The input graph without self loops, unusable edges and all but the cheapest parallel edge.

    Simple edges are numbered ``0..m-1`` in ``(lo, hi)`` order; ``edge_id`` maps them back to the
    caller's edge indices and ``rank`` orders them by (weight, caller's index), which is how every
    MST here breaks ties (so the solver is deterministic). ``matrix`` is the symmetric CSR
    adjacency (explicit zeros are edges, as :mod:`scipy.sparse.csgraph` reads them) and
    ``arc_edge`` the simple edge of each of its stored arcs.
    """

    num_nodes: int
    lo: IntArray
    hi: IntArray
    weight: FloatArray
    edge_id: IntArray
    key: IntArray
    matrix: sparse.csr_array
    arc_edge: IntArray

    @property
    def num_edges(self) -> int:
        return int(self.lo.size)

    def lookup(self, a: IntArray, b: IntArray) -> IntArray:
        """Simple-edge numbers of the node pairs ``(a, b)`` (every pair must be an edge)."""
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        return np.searchsorted(self.key, lo * self.num_nodes + hi).astype(np.int64)

    def cost(self, edges: IntArray) -> float:
        return float(self.weight[edges].sum())


def simple_graph(num_nodes: int, u: IntArray, v: IntArray, w: FloatArray) -> SimpleGraph:
    """The :class:`SimpleGraph` of the caller's edges (infinite weights mean "no edge")."""
    index = np.flatnonzero(np.isfinite(w) & (u != v))
    a, b, ww = u[index], v[index], w[index]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    key = lo * num_nodes + hi
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    if np.any(sorted_key[1:] == sorted_key[:-1]):  # parallel edges: the cheapest, then first
        start = np.flatnonzero(np.concatenate([[True], sorted_key[1:] != sorted_key[:-1]]))
        group = np.cumsum(np.concatenate([[True], sorted_key[1:] != sorted_key[:-1]])) - 1
        cheapest = np.minimum.reduceat(ww[order], start)
        candidates = np.flatnonzero(ww[order] == cheapest[group])
        _groups, first = np.unique(group[candidates], return_index=True)
        order = order[candidates[first]]
    lo, hi, ww, index, key = lo[order], hi[order], ww[order], index[order], key[order]
    m = lo.size
    # The CSR arcs, grouped by tail node with a stable sort (lo is sorted already, so the sort
    # only has to merge in the reverse arcs).
    tail = np.concatenate([lo, hi])
    arcs = np.argsort(tail, kind="stable")
    index_type = np.int32 if 2 * m < 2**31 and num_nodes < 2**31 else np.int64  # as scipy's
    indptr = np.zeros(num_nodes + 1, dtype=index_type)
    np.cumsum(np.bincount(tail, minlength=num_nodes), out=indptr[1:])
    arc_edge = np.where(arcs < m, arcs, arcs - m)
    head = np.concatenate([hi, lo])[arcs].astype(index_type)
    matrix = sparse.csr_array((ww[arc_edge], head, indptr), shape=(num_nodes, num_nodes))
    return SimpleGraph(
        num_nodes=num_nodes,
        lo=lo,
        hi=hi,
        weight=ww,
        edge_id=index,
        key=key,
        matrix=matrix,
        arc_edge=arc_edge,
    )


def mst(num_nodes: int, a: IntArray, b: IntArray, weight: FloatArray) -> IntArray:
    """Positions of the minimum spanning forest's edges among the edges ``(a, b)``.

    The node pairs must be distinct. Ties break by position: scipy gets each edge's rank in
    (weight, position) order instead of its weight, so zero weights (which scipy would read as
    "no edge") and ties cannot change the result, and the solver stays deterministic.
    """
    if a.size == 0:
        return np.zeros(0, dtype=np.int64)
    by_weight = np.argsort(weight, kind="stable")
    rank = np.empty(a.size, dtype=np.float64)
    rank[by_weight] = np.arange(1, a.size + 1, dtype=np.float64)
    graph = sparse.coo_array((rank, (a, b)), shape=(num_nodes, num_nodes))
    tree = sparse.coo_array(csgraph.minimum_spanning_tree(graph.tocsr()))
    return np.sort(by_weight[tree.data.astype(np.int64) - 1]).astype(np.int64)


def climb(parent: IntArray, start: IntArray, marked: BoolArray) -> None:
    """Mark ``start`` and all their ancestors along ``parent`` (-1 or negative ends a chain).

    Stops at already marked nodes, so the work is linear in what gets marked; one numpy step per
    level of the deepest chain.
    """
    front = start[start >= 0]
    front = front[~marked[front]]
    while front.size:
        marked[front] = True
        up = parent[front]
        front = up[up >= 0]
        front = front[~marked[front]]


@dataclass(frozen=True)
class Tree:
    """A tree of simple edges oriented from ``root`` (``parent``, ``parent_edge``: -1 off it)."""

    root: int
    edges: IntArray
    nodes: IntArray
    parent: IntArray
    parent_edge: IntArray
    cost: float


def orient(g: SimpleGraph, edges: IntArray, root: int) -> Tree:
    """Orient the tree (or the part of a forest holding ``root``) made of simple ``edges``."""
    a, b = g.lo[edges], g.hi[edges]
    nodes = np.unique(np.concatenate([a, b, [root]]))
    la, lb = np.searchsorted(nodes, a), np.searchsorted(nodes, b)
    adjacency = sparse.csr_array((np.ones(a.size), (la, lb)), shape=(nodes.size, nodes.size))
    return _orient_local(g, nodes, la, lb, edges, root, adjacency)


def _orient_local(
    g: SimpleGraph,
    nodes: IntArray,
    a: IntArray,
    b: IntArray,
    edges: IntArray,
    root: int,
    adjacency: sparse.csr_array,
) -> Tree:
    """:func:`orient` on the sorted ``nodes`` numbered locally (``a``, ``b``: the edges' ends,
    ``adjacency``: the edges in either direction), so the cost follows the tree's size."""
    order, pred = csgraph.breadth_first_order(
        adjacency, int(np.searchsorted(nodes, root)), directed=False, return_predecessors=True
    )
    parent = np.full(g.num_nodes, -1, dtype=np.int64)
    parent_edge = np.full(g.num_nodes, -1, dtype=np.int64)
    children = order[1:]
    parent[nodes[children]] = nodes[pred[children]]
    reached = np.zeros(nodes.size, dtype=bool)
    reached[order] = True
    inside = reached[a]  # an edge lies in root's part when either end does
    ga, gb, used = nodes[a[inside]], nodes[b[inside]], edges[inside]
    parent_edge[np.where(parent[ga] == gb, ga, gb)] = used
    return Tree(
        root=root,
        edges=np.sort(used),
        nodes=nodes[np.sort(order)].astype(np.int64),
        parent=parent,
        parent_edge=parent_edge,
        cost=g.cost(used),
    )


def prune(g: SimpleGraph, tree: Tree, terminals: IntArray) -> Tree:
    """Drop every branch of ``tree`` that holds no terminal (non-terminal leaves, repeatedly)."""
    keep = np.zeros(g.num_nodes, dtype=bool)
    climb(tree.parent, terminals[tree.parent[terminals] >= 0], keep)
    keep[tree.root] = True
    kept = keep[tree.nodes]
    if kept.all():
        return tree
    cut = tree.nodes[~kept]
    parent, parent_edge = tree.parent.copy(), tree.parent_edge.copy()
    parent[cut] = -1
    parent_edge[cut] = -1
    nodes = tree.nodes[kept]
    used = parent_edge[nodes]
    used = used[used >= 0]
    return Tree(tree.root, np.sort(used), nodes, parent, parent_edge, g.cost(used))


def mst_prune(g: SimpleGraph, nodes: IntArray, terminals: IntArray, root: int) -> Tree:
    """The MST of the subgraph induced by ``nodes``, oriented from ``root``, then pruned.

    ``nodes`` must be sorted, distinct and induce a connected subgraph holding every terminal.
    Only the arcs of ``nodes`` are read, so the cost follows the subgraph's size.
    """
    local = np.full(g.num_nodes, -1, dtype=np.int64)
    local[nodes] = np.arange(nodes.size)
    indptr, indices = g.matrix.indptr, g.matrix.indices
    start, count = indptr[nodes].astype(np.int64), np.diff(indptr)[nodes].astype(np.int64)
    offset = np.cumsum(count) - count
    arc = np.repeat(start - offset, count) + np.arange(int(count.sum()), dtype=np.int64)
    own = np.repeat(nodes, count)
    other = indices[arc]
    induced = np.sort(g.arc_edge[arc[(local[other] >= 0) & (own < other)]])
    if induced.size == 0:
        return prune(g, orient(g, induced, root), terminals)
    a, b = local[g.lo[induced]], local[g.hi[induced]]
    # The MST as in mst(), keeping scipy's forest matrix for the breadth-first search.
    by_weight = np.argsort(g.weight[induced], kind="stable")
    rank = np.empty(induced.size, dtype=np.float64)
    rank[by_weight] = np.arange(1, induced.size + 1, dtype=np.float64)
    forest = csgraph.minimum_spanning_tree(
        sparse.csr_array((rank, (a, b)), shape=(nodes.size, nodes.size))
    )
    chosen = np.sort(by_weight[forest.data.astype(np.int64) - 1])
    tree = _orient_local(g, nodes, a[chosen], b[chosen], induced[chosen], root, forest)
    return prune(g, tree, terminals)


Regions = tuple[FloatArray, IntArray, IntArray]
"""Voronoi regions: each node's distance to, predecessor towards and nearest source (-1: none)."""


def voronoi(g: SimpleGraph, sources: IntArray, limit: float = np.inf) -> Regions:
    """The :data:`Regions` of ``sources``; nodes farther than ``limit`` get ``inf`` and -1."""
    dist, pred, base = csgraph.dijkstra(
        g.matrix,
        directed=True,
        indices=sources,
        return_predecessors=True,
        min_only=True,
        limit=limit,
    )
    pred = np.where(pred < 0, -1, pred).astype(np.int64)
    base = np.where(base < 0, -1, base).astype(np.int64)
    return np.asarray(dist, dtype=np.float64), pred, base


def boundary(
    g: SimpleGraph, dist: FloatArray, base: IntArray, below: float = np.inf
) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
    """The cheapest edge between each pair of Voronoi regions, in (cost, edge) order.

    Returns the two regions' sources ``(p, q)`` with ``p < q``, the simple edge and the length
    of the path source-edge-source; only paths shorter than ``below`` count.
    """
    bl, bh = base[g.lo], base[g.hi]
    cross = np.flatnonzero((bl != bh) & (bl >= 0) & (bh >= 0))
    length = dist[g.lo[cross]] + g.weight[cross] + dist[g.hi[cross]]
    if below < np.inf:
        short = length < below
        cross, length = cross[short], length[short]
    p, q = np.minimum(bl[cross], bh[cross]), np.maximum(bl[cross], bh[cross])
    pair = p * g.num_nodes + q
    order = np.lexsort((length, pair))
    p, q, cross, length, pair = p[order], q[order], cross[order], length[order], pair[order]
    first = np.ones(p.size, dtype=bool)
    first[1:] = pair[1:] != pair[:-1]
    p, q, cross, length = p[first], q[first], cross[first], length[first]
    again = np.argsort(length, kind="stable")
    return p[again], q[again], cross[again], length[again]


def expand(g: SimpleGraph, pred: IntArray, cross: IntArray) -> IntArray:
    """The nodes of the paths source-...-edge-...-source through the boundary edges ``cross``."""
    marked = np.zeros(g.num_nodes, dtype=bool)
    climb(pred, np.concatenate([g.lo[cross], g.hi[cross]]), marked)
    return np.flatnonzero(marked).astype(np.int64)


def construct(
    g: SimpleGraph, terminals: IntArray, anchor: int | None
) -> tuple[Tree, IntArray, Regions]:
    """Mehlhorn's tree over the terminals that can be joined, the terminals left out, and the
    terminals' Voronoi regions (which the local search reuses).

    The tree spans the terminals connected to ``anchor`` (itself a terminal) or, without one,
    the largest group of connected terminals (ties: the group of the smallest terminal); the
    smallest of them is then the root. Mehlhorn's 2-approximation is followed by the MST of the
    subgraph its nodes induce, pruned.
    """
    regions = voronoi(g, terminals)
    dist, pred, base = regions
    p, q, cross, length = boundary(g, dist, base)
    where = np.searchsorted(terminals, np.concatenate([p, q]))
    a, b = where[: p.size], where[p.size :]
    k = terminals.size
    _count, labels = csgraph.connected_components(
        sparse.coo_array((np.ones(a.size), (a, b)), shape=(k, k)), directed=False
    )
    if anchor is None:
        counts = np.bincount(labels)
        main = labels[np.flatnonzero(counts[labels] == counts.max())[0]]
    else:
        main = labels[np.searchsorted(terminals, anchor)]
    inside = labels == main
    reached = terminals[inside]
    root = int(reached[0]) if anchor is None else anchor
    if reached.size == 1:
        return orient(g, np.zeros(0, dtype=np.int64), root), terminals[~inside], regions
    chosen = mst(k, a, b, length)
    chosen = chosen[inside[a[chosen]]]
    nodes = np.union1d(expand(g, pred, cross[chosen]), reached)
    return mst_prune(g, nodes, reached, root), terminals[~inside], regions


def mehlhorn(g: SimpleGraph, terminals: IntArray, root: int) -> Tree:
    """Mehlhorn's tree (see :func:`construct`) over connected ``terminals``, from ``root``."""
    return construct(g, terminals, root)[0]
