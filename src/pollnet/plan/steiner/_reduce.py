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
(:func:`pollnet.plan.steiner._kernels.reduce_degrees`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

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
