"""The graph machinery of the Steiner solver: a simple CSR graph, MSTs, trees, Mehlhorn's tree.

Every function works on whole arrays (numpy/scipy); a loop here runs once per *level* of a tree
or of a shortest-path chain, never once per edge of the graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from pollnet.plan.steiner import _kernels as kernels

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class SimpleGraph:
    """The input graph without self loops, unusable edges and all but the cheapest parallel edge.

    Simple edges are numbered ``0..m-1`` in the caller's order; ``edge_id`` maps them back to the
    caller's edge indices. Every MST here breaks ties by simple-edge number, so the solver is
    deterministic. The symmetric adjacency is CSR in int64 (``indptr``, ``indices``, as the
    compiled kernels take it: one type each, so each kernel is compiled once), with each arc's
    simple edge and weight (``arc_edge``, ``arc_weight``).
    """

    num_nodes: int
    lo: IntArray
    hi: IntArray
    weight: FloatArray
    edge_id: IntArray
    indptr: IntArray
    indices: IntArray
    arc_edge: IntArray
    arc_weight: FloatArray

    @property
    def num_edges(self) -> int:
        return int(self.lo.size)

    @cached_property
    def matrix(self) -> sparse.csr_array:
        """The adjacency as a scipy CSR array (explicit zeros are edges, as
        :mod:`scipy.sparse.csgraph` reads them), for the scipy calls of the small-graph moves."""
        small = self.indices.size < 2**31 and self.num_nodes < 2**31
        index_type = np.int32 if small else np.int64  # as scipy's
        return sparse.csr_array(
            (self.arc_weight, self.indices.astype(index_type), self.indptr.astype(index_type)),
            shape=(self.num_nodes, self.num_nodes),
        )

    def cost(self, edges: IntArray) -> float:
        return float(self.weight[edges].sum())


def simple_graph(num_nodes: int, u: IntArray, v: IntArray, w: FloatArray) -> SimpleGraph:
    """The :class:`SimpleGraph` of the caller's edges (infinite weights mean "no edge")."""
    lo, hi, weight, edge_id, indptr, indices, arc_edge = kernels.simple_csr(
        num_nodes, u.astype(np.int64, copy=False), v.astype(np.int64, copy=False), w
    )
    return SimpleGraph(
        num_nodes=num_nodes,
        lo=lo,
        hi=hi,
        weight=weight,
        edge_id=edge_id,
        indptr=indptr,
        indices=indices,
        arc_edge=arc_edge,
        arc_weight=weight[arc_edge],
    )


def climb(parent: IntArray, start: IntArray, marked: BoolArray) -> None:
    """Mark ``start`` and all their ancestors along ``parent`` (-1 or negative ends a chain).

    Stops at already marked nodes, so the work is linear in what gets marked.
    """
    kernels.climb(parent, start.astype(np.int64, copy=False), marked)


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
    nodes, parent, position = kernels.orient(g.num_nodes, g.lo[edges], g.hi[edges], root)
    parent_edge = np.full(g.num_nodes, -1, dtype=np.int64)
    has = parent >= 0
    parent_edge[has] = edges[position[has]]
    used = np.sort(parent_edge[nodes[parent[nodes] >= 0]])
    return Tree(root, used, nodes, parent, parent_edge, g.cost(used))


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
    return prune(g, orient(g, induced_mst(g, nodes), root), terminals)


def induced_mst(g: SimpleGraph, nodes: IntArray) -> IntArray:
    """The minimum spanning forest (sorted simple edges) of the subgraph ``nodes`` induce;
    Kruskal in (weight, edge number) order, so ties break by edge number."""
    edges = np.sort(kernels.induced_edges(g.num_nodes, g.indptr, g.indices, g.arc_edge, nodes))
    ordered = edges[np.argsort(g.weight[edges], kind="stable")]
    chosen, _labels = kernels.spanning_forest(g.num_nodes, g.lo, g.hi, ordered)
    return np.sort(chosen)


Regions = tuple[FloatArray, IntArray, IntArray]
"""Voronoi regions: each node's distance to, predecessor towards and nearest source (-1: none)."""


def voronoi(g: SimpleGraph, sources: IntArray, limit: float = np.inf) -> Regions:
    """The :data:`Regions` of ``sources``; nodes farther than ``limit`` get ``inf`` and -1."""
    return kernels.voronoi(
        g.indptr, g.indices, g.arc_weight, sources.astype(np.int64, copy=False), float(limit)
    )


def boundary(
    g: SimpleGraph, dist: FloatArray, base: IntArray, below: float = np.inf
) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
    """The cheapest edge between each pair of Voronoi regions, in increasing path length.

    Returns the two regions' sources ``(p, q)`` with ``p < q``, the simple edge and the length
    of the path source-edge-source; only paths shorter than ``below`` count.
    """
    p, q, cross, length = kernels.boundary(g.lo, g.hi, g.weight, dist, base, float(below))
    order = np.argsort(length, kind="stable")  # ties by p, then by edge
    return p[order], q[order], cross[order], length[order]


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
    p, q, cross, _length = boundary(g, dist, base)
    where = np.searchsorted(terminals, np.concatenate([p, q]))
    a, b = where[: p.size], where[p.size :]
    k = terminals.size
    # The boundary pairs come shortest first: Kruskal on them in that order is the MST of
    # Mehlhorn's distance graph, and its trees are the groups of connected terminals.
    chosen, labels = kernels.spanning_forest(k, a, b, np.arange(p.size))
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
    chosen = chosen[inside[a[chosen]]]
    nodes = np.union1d(expand(g, pred, cross[chosen]), reached)
    return mst_prune(g, nodes, reached, root), terminals[~inside], regions


def mehlhorn(g: SimpleGraph, terminals: IntArray, root: int) -> Tree:
    """Mehlhorn's tree (see :func:`construct`) over connected ``terminals``, from ``root``."""
    return construct(g, terminals, root)[0]
