"""Degree tests: the exact reductions that shrink a Steiner instance before the search.

A node that is not a terminal and has at most two edges is *inner*. The inner nodes fall into
chains: paths (or cycles) of inner nodes, each leaving the chain through at most two edges (its
*exits*). A tree that enters a chain without crossing it ends in a Steiner leaf, which pruning
removes, so an optimal tree holds a chain whole or not at all:

- a chain with two exits to two different nodes becomes one edge between them, as long as the
  chain (exits included);
- a chain with fewer exits (a dead end, or a lone cycle) or with both exits on one node (a loop)
  can never be part of a pruned tree and is dropped.

Dead ends are peeled first, until none is left, and the chains contracted after that.
On street networks this removes most nodes (the bends and dead ends of streets): the synthetic
city keeps 40 % of its nodes and 55 % of its edges. Both steps are compiled linear passes
(:func:`pollnet.plan.steiner._kernels.reduce_degrees`). :func:`reduce` is what the heuristic
``solve`` uses.

For the exact solver, :func:`reduce_exact` goes further with two classic tests (after Duin and
Volgenant, "Reduction tests for the Steiner problem in graphs", 1989; Wong, "A dual ascent
approach for Steiner tree problems on a directed graph", 1984; Polzin and Vahdati Daneshmand,
"Improved algorithms for the Steiner problem in networks", 2001), each followed by the degree
tests again, round after round while they remove something:

- *special distance* (edge elimination): an edge ``a-b`` longer than the bottleneck Steiner
  distance of its ends (the best route from ``a`` to ``b`` whose longest stretch between
  terminals, or ends, is shorter than the edge) is in no optimal tree: swapping it for one
  stretch of that route gives a cheaper tree. The distance is bounded from above by a bounded
  search from ``a`` (which covers the long-edge test: a shorter path) and by the terminals'
  bottlenecks in Mehlhorn's distance graph;
- *bound test*: Wong's dual ascent gives a lower bound and reduced costs; an edge or node
  whose every tree costs more (bound plus reduced-cost distances) than a known tree (the
  heuristic's) is in no optimal tree.

Both tests use strict inequalities, with a relative tolerance of 1e-9 on the safe side, so
they keep every optimal tree, and any number of their removals may be applied at once. They
only remove edges and nodes, so a reduced tree maps back through :meth:`Reduced.caller_edges`
(:func:`compose` chains the levels).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pollnet.plan.steiner import _graph as sg
from pollnet.plan.steiner import _kernels as kernels

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class Reduced:
    """A reduced graph and how it maps back to the caller's.

    ``u``, ``v``, ``w`` are the reduced edges on nodes ``0..num_nodes-1``; ``node`` gives the
    caller's node of each reduced node (increasing, so the order of nodes is kept) and
    ``local`` the reverse (-1: removed). ``edge_of`` gives, for each caller's edge, the reduced
    edge standing for it (-1: removed); a contracted chain's edges all share one.
    """

    num_nodes: int
    u: IntArray
    v: IntArray
    w: FloatArray
    node: IntArray
    local: IntArray
    edge_of: IntArray

    def caller_edges(self, chosen: IntArray) -> IntArray:
        """The caller's edges (sorted) that the reduced edges ``chosen`` stand for."""
        marked = np.zeros(self.u.size + 1, dtype=bool)  # the extra slot answers edge_of == -1
        marked[chosen] = True
        return np.flatnonzero(marked[self.edge_of]).astype(np.int64)


def reduce(num_nodes: int, u: IntArray, v: IntArray, w: FloatArray, terminals: IntArray) -> Reduced:
    """The degree-test reduction of a graph for the ``terminals`` (self loops and infinite
    edges dropped; parallel edges count twice at their ends, which can only keep a node)."""
    is_terminal = np.zeros(num_nodes, dtype=bool)
    is_terminal[terminals] = True
    count, ru, rv, rw, node, local, edge_of = kernels.reduce_degrees(
        num_nodes,
        u.astype(np.int64, copy=False),
        v.astype(np.int64, copy=False),
        w.astype(np.float64, copy=False),
        is_terminal,
    )
    return Reduced(count, ru, rv, rw, node, local, edge_of)


def compose(first: Reduced, second: Reduced) -> Reduced:
    """``second`` (a reduction of ``first``'s graph) as a reduction of the caller's graph."""
    local = np.where(first.local >= 0, second.local[np.maximum(first.local, 0)], -1)
    edge_of = np.where(first.edge_of >= 0, second.edge_of[np.maximum(first.edge_of, 0)], -1)
    return Reduced(
        second.num_nodes,
        second.u,
        second.v,
        second.w,
        first.node[second.node],
        local.astype(np.int64),
        edge_of.astype(np.int64),
    )


@dataclass(frozen=True)
class Step:
    """What one reduction test left: its name, the nodes and edges after it (and after the
    degree tests it made possible)."""

    name: str
    nodes: int
    edges: int


@dataclass(frozen=True)
class Reduction:
    """The result of :func:`reduce_exact`: the reduced graph, the steps in order and the best
    lower bound on the optimum that dual ascent proved (0 without an upper bound)."""

    reduced: Reduced
    steps: list[Step]
    lower_bound: float


def steiner_distance(g: sg.SimpleGraph, terminals: IntArray, max_visits: int = 64) -> BoolArray:
    """The simple edges the special-distance test removes (see
    :func:`pollnet.plan.steiner._kernels.steiner_distance_test`).

    The terminals' bottlenecks come from the minimum spanning tree of Mehlhorn's distance
    graph (each of its edges is a real path: terminal, its region, one edge, the other
    region, terminal), an upper bound on the bottleneck distance between two terminals.
    """
    is_terminal = np.zeros(g.num_nodes, dtype=bool)
    is_terminal[terminals] = True
    dist, _pred, base = sg.voronoi(g, terminals)
    k = terminals.size
    index = np.full(g.num_nodes, -1, dtype=np.int64)
    index[terminals] = np.arange(k)
    base_index = np.where(base >= 0, index[np.maximum(base, 0)], -1)
    if k > 3_000:  # the bottleneck matrix is k x k: beyond this, only the local searches
        bottleneck = np.full((1, 1), np.inf)
        base_index = np.full(g.num_nodes, -1, dtype=np.int64)
    else:
        p, q, _cross, length = sg.boundary(g, dist, base)
        a, b = index[p], index[q]
        chosen, _labels = kernels.spanning_forest(k, a, b, np.arange(p.size))
        bottleneck = kernels.tree_bottlenecks(k, a[chosen], b[chosen], length[chosen])
    return kernels.steiner_distance_test(
        g.indptr,
        g.indices,
        g.arc_weight,
        g.arc_edge,
        g.lo,
        g.hi,
        g.weight,
        is_terminal,
        dist,
        base_index,
        bottleneck,
        max_visits,
    )


def bound_test(
    g: sg.SimpleGraph, terminals: IntArray, root: int, upper: float
) -> tuple[float, BoolArray, BoolArray]:
    """Wong's dual ascent from ``root`` and the edges and nodes its reduced costs exclude.

    Dual ascent gives a lower bound ``L`` and reduced costs ``r >= 0`` such that every tree,
    directed from the root, costs at least ``L`` plus the reduced costs of its arcs. A tree
    through the arc ``x -> y`` holds a path root..x, the arc, and a path from ``y`` down to a
    terminal, all disjoint: it costs at least ``L + d(root, x) + r(x, y) + d(y, terminals)``
    (``d``: shortest paths on reduced costs). When that exceeds ``upper`` (the cost of a known
    tree) for both directions of an edge, no optimal tree uses the edge; when
    ``L + d(root, v) + d(v, terminals)`` exceeds it, none passes through the node ``v``.
    Returns the lower bound, the excluded simple edges and the excluded nodes.
    """
    is_terminal = np.zeros(g.num_nodes, dtype=bool)
    is_terminal[terminals] = True
    lower, rc = kernels.dual_ascent(g.indptr, g.indices, g.arc_weight, root, is_terminal)
    twin = kernels.twin_arcs(g.arc_edge, g.num_edges)
    # rc[p] prices the arc indices[p] -> x (x: p's row); rc[twin[p]] the arc x -> indices[p].
    from_root = kernels.voronoi(g.indptr, g.indices, rc[twin], np.array([root]), np.inf)[0]
    others = terminals[terminals != root]
    to_terminal = kernels.voronoi(g.indptr, g.indices, rc, others, np.inf)[0]
    slack = upper + 1e-9 * max(1.0, abs(upper))
    head = np.repeat(np.arange(g.num_nodes), np.diff(g.indptr))
    tail = g.indices
    with np.errstate(invalid="ignore"):
        arc_out = lower + from_root[tail] + rc + to_terminal[head] > slack
        node_out = (lower + from_root + to_terminal > slack) & ~is_terminal
    edge_out = np.ones(g.num_edges, dtype=bool)
    np.logical_and.at(edge_out, g.arc_edge, arc_out)
    return lower, edge_out, node_out


def reduce_exact(
    num_nodes: int,
    u: IntArray,
    v: IntArray,
    w: FloatArray,
    terminals: IntArray,
    upper: float | None = None,
    *,
    rounds: int = 4,
    max_visits: int = 64,
    ascent_roots: int = 3,
) -> Reduction:
    """The degree tests, then the special-distance test and (given ``upper``, the cost of a
    known tree) the dual-ascent bound test, each followed by the degree tests again, for up to
    ``rounds`` rounds or until a round removes nothing.

    Every test removes only edges and nodes that no optimal tree uses (strict inequalities,
    with a relative tolerance of 1e-9 on the safe side), and the degree tests keep an optimum:
    the reduced graph's optimum is the caller's, and its trees map back through
    :meth:`Reduced.caller_edges`. Dual ascent runs from up to ``ascent_roots`` terminals (the
    first, and ones spread over the list), each run's exclusions valid on its own.
    """
    terminals = np.unique(terminals)
    reduced = reduce(num_nodes, u, v, w, terminals)
    steps = [Step("degree", reduced.num_nodes, int(reduced.u.size))]
    lower = 0.0
    if terminals.size < 2:
        return Reduction(reduced, steps, lower)
    for _round in range(rounds):
        changed = False
        for name in ("special distance", "bound"):
            if name == "bound" and upper is None:
                continue
            g = sg.simple_graph(reduced.num_nodes, reduced.u, reduced.v, reduced.w)
            local = reduced.local[terminals]
            drop = np.ones(reduced.u.size, dtype=bool)
            drop[g.edge_id] = False  # parallel edges, loops, infinite ones
            if name == "special distance":
                drop[g.edge_id[steiner_distance(g, local, max_visits)]] = True
            else:
                assert upper is not None
                picks = np.unique(np.linspace(0, local.size - 1, ascent_roots).round())
                for pick in picks.astype(np.int64).tolist():
                    bound, edge_out, node_out = bound_test(g, local, int(local[pick]), upper)
                    lower = max(lower, bound)
                    node_edges = node_out[g.lo] | node_out[g.hi]
                    drop[g.edge_id[edge_out | node_edges]] = True
            if not drop.any():
                continue
            weight = np.where(drop, np.inf, reduced.w)
            again = reduce(reduced.num_nodes, reduced.u, reduced.v, weight, local)
            changed = changed or again.u.size < reduced.u.size
            reduced = compose(reduced, again)
            steps.append(Step(name, reduced.num_nodes, int(reduced.u.size)))
        if not changed:
            break
    return Reduction(reduced, steps, lower)
