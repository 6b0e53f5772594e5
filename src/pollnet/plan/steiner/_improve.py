"""Local improvement of a Steiner tree: key-path exchange, key-vertex re-solve, vertex moves.

A *key node* of a tree is a terminal or a node of degree 3 or more; a *key path* joins two key
nodes through degree-2 Steiner nodes only. Removing a key path splits the tree in two, and the
cheapest path reconnecting the halves replaces it when it is shorter.

All key paths are examined at once (after Uchoa and Werneck, "Fast local search for Steiner
trees in graphs", 2010): one multi-source Dijkstra from the key nodes gives Voronoi regions, the
boundary edges between regions give reconnection paths, and processing those in increasing cost
with a union-find over the key tree gives every key path its cheapest reconnection. Improvements
are applied in batches whose union still connects every terminal, then the tree is rebuilt as the
MST of the subgraph its nodes induce and pruned.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from pollnet.plan.steiner import _kernels as kernels
from pollnet.plan.steiner._graph import (
    BoolArray,
    IntArray,
    Regions,
    SimpleGraph,
    Tree,
    boundary,
    expand,
    mehlhorn,
    mst_prune,
    voronoi,
)

_BATCH_TESTS = 64  # at most this many one-by-one connectivity tests per exchange round


def improves(new: Tree, old: Tree) -> bool:
    """Whether ``new`` is cheaper than ``old`` by more than rounding noise."""
    return new.cost < old.cost - 1e-9 * max(1.0, abs(old.cost))


def spans(tree: Tree, terminals: IntArray) -> bool:
    """Whether every terminal hangs in ``tree``."""
    return bool(np.all((tree.parent[terminals] >= 0) | (terminals == tree.root)))


def _fixpoint(step: IntArray) -> IntArray:
    """Iterate ``x -> step[x]`` to its fixed point for every node, by pointer doubling."""
    jump = step.copy()
    while True:
        again = jump[jump]
        if np.array_equal(again, jump):
            return jump
        jump = again


def _degrees(g: SimpleGraph, tree: Tree) -> IntArray:
    return np.bincount(
        np.concatenate([g.lo[tree.edges], g.hi[tree.edges]]), minlength=g.num_nodes
    ).astype(np.int64)


def key_nodes(g: SimpleGraph, tree: Tree, is_terminal: BoolArray) -> BoolArray:
    """Terminals, the root and every tree node of degree 3 or more."""
    key = np.zeros(g.num_nodes, dtype=bool)
    key[tree.nodes] = is_terminal[tree.nodes] | (_degrees(g, tree)[tree.nodes] >= 3)
    key[tree.root] = True
    return key


def key_path_exchange(
    g: SimpleGraph,
    tree: Tree,
    terminals: IntArray,
    is_terminal: BoolArray,
    regions: Regions | None = None,
    reach: float = np.inf,
) -> Tree | None:
    """One round of key-path exchange; a cheaper tree, or None when no exchange improves.

    The key nodes' Voronoi regions come from one Dijkstra, or, given the terminals'
    ``regions`` (the graph's, which no tree changes), from a Dijkstra from the Steiner key
    nodes alone that stops at distance ``reach``: a node takes the nearer of the two. Nodes
    farther than ``reach`` from every Steiner key node keep their terminal, which can only miss
    exchanges (every candidate tree is checked), never produce a wrong one.
    """
    if tree.edges.size < 2:
        return None
    n = g.num_nodes
    parent, nodes = tree.parent, tree.nodes
    key = key_nodes(g, tree, is_terminal)
    inner = nodes[~key[nodes]]  # degree-2 Steiner nodes: exactly one child each
    child = np.full(n, -1, dtype=np.int64)
    below_root = nodes[parent[nodes] >= 0]
    child[parent[below_root]] = below_root
    local = np.empty(n, dtype=np.int64)  # pointer doubling runs on the tree's nodes only
    local[nodes] = np.arange(nodes.size)
    down = np.arange(nodes.size, dtype=np.int64)
    down[local[inner]] = local[child[inner]]
    low = np.arange(n, dtype=np.int64)  # an inner node's key path, named by its lower key node
    low[nodes] = nodes[_fixpoint(down)]
    up = np.arange(nodes.size, dtype=np.int64)
    up[local[inner]] = local[parent[inner]]
    keys = nodes[key[nodes]]
    lower = keys[keys != tree.root]
    top = np.arange(n, dtype=np.int64)  # the upper key node of each key path
    top[lower] = nodes[_fixpoint(up)[local[parent[lower]]]]

    path_cost = np.zeros(n, dtype=np.float64)
    path_cost[lower] = g.weight[tree.parent_edge[lower]]
    np.add.at(path_cost, low[inner], g.weight[tree.parent_edge[inner]])

    dist, pred, base = _key_regions(g, keys, is_terminal, regions, reach)
    p, q, cross, length = boundary(g, dist, base, below=float(path_cost.max()))
    # A pair of neighbouring key nodes crosses only the key path between them: it matters only
    # when shorter. (Pairs come sorted by length, so a skipped pair's path has no better one.)
    lower_end = np.where(top[p] == q, p, np.where(top[q] == p, q, -1))
    useful = (lower_end < 0) | (length < path_cost[np.maximum(lower_end, 0)])
    p, q, cross, length = p[useful], q[useful], cross[useful], length[useful]
    best = _cheapest_reconnections(keys, top, tree.root, p, q)
    has = best >= 0
    paths = keys[has]
    replacement = best[has]
    gain = path_cost[paths] - length[replacement]
    good = gain > 1e-9 * max(1.0, tree.cost)
    if not good.any():
        return None
    order = np.lexsort((paths[good], -gain[good]))
    paths, replacement = paths[good][order], replacement[good][order]

    position = np.zeros(n, dtype=np.int64)
    position[keys] = np.arange(keys.size)
    kp, kq = position[p[replacement]], position[q[replacement]]
    kself = position[paths]
    key_edges_from = position[lower]
    key_edges_to = position[top[lower]]
    chosen = _connected_batch(keys.size, key_edges_from, key_edges_to, kself, kp, kq)

    removed = np.zeros(n, dtype=bool)
    removed[paths[chosen]] = True
    keep = nodes[key[nodes] | ~removed[low[nodes]]]
    added = expand(g, pred, cross[replacement[chosen]])
    candidate = mst_prune(g, np.union1d(keep, added), terminals, tree.root)
    if spans(candidate, terminals) and improves(candidate, tree):
        return candidate
    if chosen.size > 1:  # the batch interfered: the single best exchange always helps
        keep = nodes[key[nodes] | (low[nodes] != paths[0])]
        added = expand(g, pred, cross[replacement[:1]])
        candidate = mst_prune(g, np.union1d(keep, added), terminals, tree.root)
        if spans(candidate, terminals) and improves(candidate, tree):
            return candidate
    return None


def _key_regions(
    g: SimpleGraph,
    keys: IntArray,
    is_terminal: BoolArray,
    regions: Regions | None,
    reach: float,
) -> Regions:
    if regions is None:
        return voronoi(g, keys)
    dist, pred, base = regions
    steiner = keys[~is_terminal[keys]]
    if steiner.size == 0:
        return regions
    near_dist, near_pred, near_base = voronoi(g, steiner, reach)
    nearer = np.flatnonzero(near_dist < dist)
    dist, pred, base = dist.copy(), pred.copy(), base.copy()
    dist[nearer] = near_dist[nearer]
    pred[nearer] = near_pred[nearer]
    base[nearer] = near_base[nearer]
    return dist, pred, base


def _cheapest_reconnections(
    keys: IntArray, top: IntArray, root: int, p: IntArray, q: IntArray
) -> IntArray:
    """For every key node (aligned with ``keys``), the first boundary pair crossing its key path.

    A pair of regions (p, q) crosses exactly the key paths on the key-tree path between p and q;
    each pair paints the still unpainted ones and a union-find skips painted stretches, so the
    loop is near-linear in the number of pairs.
    """
    index = np.searchsorted(keys, np.concatenate([p, q]))
    parent_k = np.searchsorted(keys, top[keys])
    root_k = int(np.searchsorted(keys, root))
    parent_k[root_k] = root_k
    return kernels.paint_key_paths(
        index[: p.size], index[p.size :], parent_k, _depths(parent_k, root_k)
    )


def _depths(parent: IntArray, root: int) -> IntArray:
    """Depth of every node of a tree given by ``parent`` (root its own parent), by doubling."""
    hops = np.ones(parent.size, dtype=np.int64)
    hops[root] = 0
    jump = parent.copy()
    while np.any(jump != root):  # invariant: hops[x] = depth[x] - depth[jump[x]]
        hops = hops + hops[jump]
        jump = jump[jump]
    return hops


def _connected_batch(
    k: int,
    tree_a: IntArray,
    tree_b: IntArray,
    removed: IntArray,
    new_a: IntArray,
    new_b: IntArray,
) -> IntArray:
    """A prefix-greedy set of exchanges whose combined effect keeps the key nodes connected."""

    def connected(take: IntArray) -> bool:
        drop = np.zeros(k, dtype=bool)
        drop[removed[take]] = True
        stay = ~drop[tree_a]
        a = np.concatenate([tree_a[stay], new_a[take]])
        b = np.concatenate([tree_b[stay], new_b[take]])
        joined, _labels = kernels.spanning_forest(k, a, b, np.arange(a.size))
        return joined.size == k - 1

    everything = np.arange(removed.size, dtype=np.int64)
    if connected(everything):
        return everything
    taken = [0]
    for i in range(1, min(removed.size, _BATCH_TESTS)):
        trial = np.asarray([*taken, i], dtype=np.int64)
        if connected(trial):
            taken.append(i)
    return np.asarray(taken, dtype=np.int64)


def key_vertex_resolve(
    g: SimpleGraph, tree: Tree, terminals: IntArray, is_terminal: BoolArray
) -> Tree | None:
    """Mehlhorn again with the tree's Steiner key nodes as extra terminals, then pruned."""
    key = key_nodes(g, tree, is_terminal)
    extra = tree.nodes[key[tree.nodes] & ~is_terminal[tree.nodes]]
    if extra.size == 0:
        return None
    grown = mehlhorn(g, np.union1d(terminals, extra), tree.root)
    candidate = mst_prune(g, grown.nodes, terminals, tree.root)
    if spans(candidate, terminals) and improves(candidate, tree):
        return candidate
    return None


def vertex_moves(
    g: SimpleGraph, tree: Tree, terminals: IntArray, is_terminal: BoolArray, budget: int
) -> tuple[Tree, int]:
    """Steiner-vertex insertion and elimination, first improvement, within ``budget`` trials.

    Insertion tries every node off the tree as one more terminal of Mehlhorn's construction
    (with the tree's Steiner key nodes kept as terminals too), which can replace several Steiner
    nodes at once; elimination drops one Steiner node and takes the MST of the rest's induced
    subgraph. Every candidate is pruned. Returns the best tree found and the trials left.
    """
    key = key_nodes(g, tree, is_terminal)
    kept = np.union1d(terminals, tree.nodes[key[tree.nodes]])
    outside = np.setdiff1d(np.arange(g.num_nodes), tree.nodes)
    for v in outside.tolist():
        if budget <= 0:
            return tree, budget
        budget -= 1
        grown = mehlhorn(g, np.union1d(kept, [v]), tree.root)
        if not spans(grown, terminals):
            continue
        candidate = mst_prune(g, grown.nodes, terminals, tree.root)
        if spans(candidate, terminals) and improves(candidate, tree):
            return candidate, budget
    steiner = tree.nodes[~is_terminal[tree.nodes]]
    for v in steiner.tolist():
        if budget <= 0:
            return tree, budget
        budget -= 1
        candidate = mst_prune(g, tree.nodes[tree.nodes != v], terminals, tree.root)
        if spans(candidate, terminals) and improves(candidate, tree):
            return candidate, budget
    return tree, budget


def exact_key_path_exchange(
    g: SimpleGraph, tree: Tree, terminals: IntArray, is_terminal: BoolArray
) -> Tree | None:
    """Key-path exchange with one bounded Dijkstra per key path (for small graphs).

    Unlike the batch version, the halves left by removing a key path keep *all* their nodes as
    sources, so a reconnection may end in the middle of another key path. First improvement.
    """
    if tree.edges.size < 2:
        return None
    parent, nodes = tree.parent, tree.nodes
    key = key_nodes(g, tree, is_terminal)
    order = csgraph.depth_first_order(
        _tree_matrix(g, tree), tree.root, directed=False, return_predecessors=False
    )
    position = np.full(g.num_nodes, -1, dtype=np.int64)
    position[order] = np.arange(order.size)
    size = np.ones(g.num_nodes, dtype=np.int64)
    for x in order[::-1].tolist()[:-1]:
        size[parent[x]] += size[x]
    lower = [x for x in order.tolist() if key[x] and x != tree.root]
    for x in lower:
        inner: list[int] = []
        y = int(parent[x])
        cost = float(g.weight[tree.parent_edge[x]])
        while not key[y]:
            inner.append(y)
            cost += float(g.weight[tree.parent_edge[y]])
            y = int(parent[y])
        side = (position[order] >= position[x]) & (position[order] < position[x] + size[x])
        below = order[side]
        free = np.zeros(g.num_nodes, dtype=bool)
        free[inner] = True
        rest = order[~side & ~free[order]]
        dist, pred, _src = csgraph.dijkstra(
            g.matrix,
            directed=True,
            indices=below,
            return_predecessors=True,
            min_only=True,
            limit=cost,
        )
        reach = dist[rest]
        best = int(np.argmin(reach))
        if not reach[best] < cost - 1e-9 * max(1.0, cost):
            continue
        path = [int(rest[best])]
        while pred[path[-1]] >= 0:
            path.append(int(pred[path[-1]]))
        keep = nodes[~np.isin(nodes, inner)]
        candidate = mst_prune(g, np.union1d(keep, path), terminals, tree.root)
        if spans(candidate, terminals) and improves(candidate, tree):
            return candidate
    return None


def _tree_matrix(g: SimpleGraph, tree: Tree) -> sparse.csr_array:
    a, b = g.lo[tree.edges], g.hi[tree.edges]
    return sparse.csr_array(
        (np.ones(2 * a.size), (np.concatenate([a, b]), np.concatenate([b, a]))),
        shape=(g.num_nodes, g.num_nodes),
    )
