"""One exchange's tree of trenches and the PON layout on it: splitters, fibers, cable runs.

A :class:`Tree` holds the street nodes an exchange's trenches reach in depth-first preorder
(``nodes[0]`` is the exchange's street node), each node's parent and the street edge to it.
:func:`lay_out` places the PON ports' splitters, counts the fibers on every edge, cuts the tree
into cable runs and finds the splice closures.

Fibers on the edge into node ``c`` (with the splitter of each port at the branch point of its
stations): the feeders of the splitters below ``c`` plus the drops of the stations below ``c``
whose splitter is above it, i.e. ``splitters_below + stations_below - stations_below_own_splitter``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse import csgraph

from pollnet.plan.model import CORE_SIZES, cores_for

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Tree:
    """A rooted tree of street nodes in preorder; ``parent`` holds local indices (-1 at the root)
    and ``edge`` the street edge from the parent (-1 at the root)."""

    nodes: IntArray
    parent: IntArray
    edge: IntArray

    def local(self) -> dict[int, int]:
        """Street node -> local index."""
        return {int(node): i for i, node in enumerate(self.nodes.tolist())}


def build_tree(
    num_nodes: int, edge_u: IntArray, edge_v: IntArray, edges: IntArray, root: int
) -> Tree:
    """The tree spanned by street ``edges`` from ``root`` (edges not reaching it are ignored)."""
    edges = np.asarray(edges, dtype=np.int64)
    if edges.size == 0:
        none = np.array([-1], dtype=np.int64)
        return Tree(np.array([root], dtype=np.int64), none, none.copy())
    a, b = edge_u[edges], edge_v[edges]
    matrix = sparse.csr_array(
        (np.ones(2 * edges.size), (np.concatenate([a, b]), np.concatenate([b, a]))),
        shape=(num_nodes, num_nodes),
    )
    order, pred = csgraph.depth_first_order(matrix, root, directed=False, return_predecessors=True)
    order = np.asarray(order, dtype=np.int64)
    position = np.full(num_nodes, -1, dtype=np.int64)
    position[order] = np.arange(order.size)
    parent_node = np.asarray(pred, dtype=np.int64)[order]
    parent = np.where(parent_node >= 0, position[np.maximum(parent_node, 0)], -1)
    parent[0] = -1
    # The edge joining each node to its parent: look pairs up by a sorted key.
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keys = lo * num_nodes + hi
    sort = np.argsort(keys, kind="stable")
    child = order[1:]
    want = np.minimum(child, parent_node[1:]) * num_nodes + np.maximum(child, parent_node[1:])
    found = sort[np.searchsorted(keys[sort], want)]
    edge = np.concatenate([[-1], edges[found]])
    return Tree(order, parent, edge)


@dataclass(frozen=True)
class Run:
    """A cable run: street edges from the top node down, in order; ``end`` is the local node."""

    edges: tuple[int, ...]
    nodes: tuple[int, ...]  # the local node each edge leads down to
    top: int
    end: int
    fibers: int
    cores: int
    parallel: int
    existing: bool
    stations: int


@dataclass(frozen=True, eq=False)
class Layout:
    """The PON layout of one tree (arrays indexed by local node)."""

    tree: Tree
    kept: NDArray[np.bool_]
    stations_below: IntArray
    dist_m: FloatArray
    splices_above: IntArray  # splices a fiber passes from the exchange to each node
    closure: NDArray[np.bool_]
    fusion: int  # fusion splices in this tree's closures
    splitter_node: IntArray  # local node of each port's splitter
    station_port: IntArray  # port of each station, in the order given
    runs: tuple[Run, ...]
    fibers: IntArray

    @property
    def ports(self) -> int:
        return int(self.splitter_node.size)

    def splices_to_station(self, local: int) -> int:
        """Fusion splices on a station's fiber inside the network: closures and the splitter."""
        return int(self.splices_above[local]) + int(self.closure[local]) + 2

    @cached_property
    def _lists(self) -> tuple[list[int], list[int]]:
        return self.tree.parent.tolist(), self.tree.edge.tolist()

    def path_edges(self, local: int) -> list[int]:
        """The street edges from the root down to local node ``local``."""
        out: list[int] = []
        parent, edge = self._lists
        while local > 0:
            out.append(edge[local])
            local = parent[local]
        out.reverse()
        return out


def lay_out(
    tree: Tree,
    station_local: Sequence[int],
    edge_length_m: FloatArray,
    on_fiber: NDArray[np.bool_],
    *,
    split: int,
    placement: str,
    spare: float,
) -> Layout:
    """Splitters, fibers, cable runs and splice closures of one exchange's tree.

    ``station_local`` gives each served station's local node; stations are grouped onto PON
    ports of ``split`` in depth-first order, so a port serves neighbouring stations.
    """
    size = tree.nodes.size
    parent = tree.parent.tolist()
    count = np.bincount(np.asarray(station_local, dtype=np.int64), minlength=size)
    below = _subtree_sum(parent, count)

    depth = [0] * size
    for i in range(1, size):
        depth[i] = depth[parent[i]] + 1
    order = np.argsort(np.asarray(station_local, dtype=np.int64), kind="stable")
    ports = max(1, -(-len(station_local) // split)) if len(station_local) else 0
    splitter_node = np.zeros(ports, dtype=np.int64)
    station_port = np.zeros(len(station_local), dtype=np.int64)
    splitters = np.zeros(size, dtype=np.int64)
    own = np.zeros(size, dtype=np.int64)
    for port in range(ports):
        members = order[port * split : (port + 1) * split]
        station_port[members] = port
        if placement == "exchange":
            node = 0
        else:
            node = _lca(
                parent, depth, int(station_local[members[0]]), int(station_local[members[-1]])
            )
        splitter_node[port] = node
        splitters[node] += 1
        own[node] += members.size
    fibers = _subtree_sum(parent, splitters) + below - _subtree_sum(parent, own)

    kept = below > 0
    kept[0] = True
    kids = np.zeros(size, dtype=np.int64)
    only_child = np.full(size, -1, dtype=np.int64)
    heavy = np.full(size, -1, dtype=np.int64)  # the child with the most stations below
    for i in (np.flatnonzero(kept[1:]) + 1).tolist():
        p = parent[i]
        kids[p] += 1
        only_child[p] = i
        if heavy[p] < 0 or below[i] > below[heavy[p]]:
            heavy[p] = i
    edge = tree.edge
    existing = np.zeros(size, dtype=bool)
    existing[1:] = on_fiber[edge[1:]]
    cores = np.array([cores_for(int(f), spare) for f in fibers])
    brk = (kids != 1) | (count > 0) | (splitters > 0)
    single = np.flatnonzero(kids == 1)
    c = only_child[single]
    brk[single] |= (cores[c] != cores[single]) | (existing[c] != existing[single])
    brk[0] = True
    brk &= kept
    closure = brk & (kids > 0)
    closure[0] = False

    # A closure splices only the fibers that leave the main cable: those into the branches other
    # than the heaviest, and the drops of stations at the closure; the rest pass through uncut.
    dist = np.zeros(size)
    splices_above = np.zeros(size, dtype=np.int64)
    lengths = np.zeros(size)
    lengths[1:] = edge_length_m[edge[1:]]
    fusion = 0
    for i in range(1, size):
        p = parent[i]
        dist[i] = dist[p] + lengths[i]
        light = bool(closure[p]) and heavy[p] != i
        splices_above[i] = splices_above[p] + int(light)
        if light and kept[i]:
            fusion += int(fibers[i])
    fusion += int(count[closure].sum())

    runs: list[Run] = []
    largest = CORE_SIZES[-1]
    for end in np.flatnonzero(brk[1:]) + 1:
        chain = [int(edge[end])]
        below_nodes = [int(end)]
        node = parent[end]
        while not brk[node]:
            chain.append(int(edge[node]))
            below_nodes.append(int(node))
            node = parent[node]
        chain.reverse()
        below_nodes.reverse()
        f = int(fibers[end])
        runs.append(
            Run(
                edges=tuple(chain),
                nodes=tuple(below_nodes),
                top=int(node),
                end=int(end),
                fibers=f,
                cores=int(cores[end]),
                parallel=max(1, -(-round(f * (1 + spare)) // largest)),
                existing=bool(existing[end]),
                stations=int(below[end]),
            )
        )
    return Layout(
        tree=tree,
        kept=kept,
        stations_below=below,
        dist_m=dist,
        splices_above=splices_above,
        closure=closure,
        fusion=fusion,
        splitter_node=splitter_node,
        station_port=station_port,
        runs=tuple(runs),
        fibers=fibers,
    )


def _subtree_sum(parent: list[int], values: IntArray) -> IntArray:
    total = values.astype(np.int64).copy()
    for i in range(len(parent) - 1, 0, -1):
        total[parent[i]] += total[i]
    return total


def _lca(parent: list[int], depth: list[int], a: int, b: int) -> int:
    while a != b:
        if depth[a] >= depth[b]:
            a = parent[a]
        else:
            b = parent[b]
    return a
