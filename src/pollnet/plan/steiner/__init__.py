"""Steiner trees and forests on any undirected graph, fast enough for a whole city.

>>> r = solve(4, [0, 1, 2, 0], [1, 2, 3, 3], [1.0, 1.0, 1.0, 5.0], [0, 3])
>>> r.edges.tolist(), r.cost
([0, 1, 2], 3.0)

First the degree tests shrink the graph exactly (:mod:`pollnet.plan.steiner._reduce`): dead
ends without terminals are peeled and every chain of degree-2 non-terminals becomes one edge,
which on street networks leaves about 40 % of the nodes. Everything below runs on that reduced
graph, and the chosen chains are expanded back into the caller's edges at the end.

The construction is Mehlhorn's ("A faster approximation algorithm for the Steiner problem in
graphs", 1988): a multi-source Dijkstra from the terminals gives each node its nearest terminal
(Voronoi regions); the cheapest edge between each pair of regions gives a distance graph on the
terminals; its MST, expanded back into shortest paths, spans the terminals. The MST of the
subgraph those paths' nodes induce, with non-terminal leaves pruned, is the starting tree (a
2-approximation). Local search then improves it: key-path exchange on the whole tree at once
(from one Voronoi diagram of the tree's key nodes, after Uchoa and Werneck 2010), round after
round while a round saves at least ``min_gain`` of the cost; on reduced graphs of at most 500
nodes also Mehlhorn again with the tree's Steiner key nodes as terminals, exact key-path
exchange (one bounded Dijkstra per key path), Steiner-vertex insertion (Mehlhorn with one more
terminal) and elimination. The loops over nodes and edges (the reduction, Dijkstra's Voronoi
regions, the boundary pairs, Kruskal on induced subgraphs, orienting and pruning trees) are
compiled with numba (:mod:`pollnet.plan.steiner._kernels`); the rest is numpy/scipy on whole
arrays. The result is deterministic for a given input: of parallel edges the cheapest (then
the lowest index) is used, MST ties break by edge number, and no clock or randomness decides
anything.

With a budget (``time_limit=`` seconds or ``work_limit=`` work units) the search goes on after
the local search stops: key-vertex and weight perturbations, recombination of the best trees
(:mod:`pollnet.plan.steiner._search`), which brings street networks within a few tenths of a
percent of the optimum in a second or two. It is seeded and counts work, not time, so it stays
deterministic for a given input, seed and budget (see that module for the one exception, the
wall-clock safety cap).

A Steiner *forest* from many sources (telecom exchanges feeding stations) is one Steiner tree on
the graph plus a virtual root joined to every source by a zero-weight edge; cutting the root off
leaves one tree per source. ``solve(..., roots=exchange_nodes)`` does exactly that and returns
only the real edges.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pollnet.plan.steiner import _graph as sg
from pollnet.plan.steiner import _improve as si
from pollnet.plan.steiner import _kernels as kernels
from pollnet.plan.steiner import _reduce as sr
from pollnet.plan.steiner import _search as search

__all__ = ["SteinerResult", "solve"]

IntArray = NDArray[np.int64]

_SMALL_GRAPH = 500  # nodes: up to this, the small-graph moves run too (see the module doc)


@dataclass(frozen=True)
class SteinerResult:
    """A Steiner tree (or forest, with ``roots``) and how it was found.

    Attributes
    ----------
    edges
        Sorted int64 indices of the chosen edges into the caller's ``u``/``v``/``w``.
    cost
        Total weight of ``edges`` (same unit as ``w``).
    nodes
        Sorted int64 node indices the result touches (terminals included).
    root
        The node the tree is oriented from (a terminal), or -1 with ``roots`` (a forest).
    parent
        Length ``num_nodes``: each result node's neighbour towards the root (towards its own
        root with ``roots``); -1 for the root(s) and for nodes not in the result.
    parent_edge
        Length ``num_nodes``: the caller's edge index joining a node to ``parent`` (-1 likewise).
    terminals
        The distinct terminals that were asked for, sorted.
    unreachable
        Terminals left out because no path joins them to the rest: with ``roots``, those no
        root reaches; otherwise those outside the connected component holding the most
        terminals (ties go to the component of the smallest terminal).
    phase_seconds
        Wall time of each phase ("graph", "mehlhorn", "improve").
    rounds
        Improvement rounds that found a cheaper tree.
    initial_cost
        The cost of Mehlhorn's tree before local improvement.
    stopped
        What ended the search with a budget: ``"stall"`` (many restarts in a row found nothing
        better), ``"work"`` (the work budget was spent), ``"clock"`` (the wall-clock cap: only
        then may a second run differ); empty without a budget.
    work
        Work units the budgeted search spent (arcs scanned; see :mod:`_search`).
    """

    edges: IntArray
    cost: float
    nodes: IntArray
    root: int
    parent: IntArray
    parent_edge: IntArray
    terminals: IntArray
    unreachable: IntArray
    phase_seconds: dict[str, float] = field(default_factory=dict)
    rounds: int = 0
    initial_cost: float = 0.0
    stopped: str = ""
    work: float = 0.0


def solve(
    num_nodes: int,
    u: ArrayLike,
    v: ArrayLike,
    w: ArrayLike,
    terminals: ArrayLike,
    *,
    roots: ArrayLike | None = None,
    improve: bool = True,
    max_rounds: int = 50,
    min_gain: float = 5e-3,
    vertex_trials: int = 2_000,
    time_limit: float | None = None,
    work_limit: float | None = None,
    seed: int = 0,
    clock_factor: float = 4.0,
) -> SteinerResult:
    """A cheap tree joining ``terminals`` in an undirected graph (Mehlhorn + local search).

    Parameters
    ----------
    num_nodes
        Number of nodes; nodes are ``0..num_nodes-1``.
    u, v
        Edge end nodes (integer arrays of one length). Self loops are ignored; of parallel
        edges only the cheapest is ever used (the lowest index among equals).
    w
        Edge weights (e.g. metres or rials), ``>= 0``; zero is fine, ``inf`` means the edge
        cannot be used. Negative or NaN weights raise :class:`ValueError`.
    terminals
        Nodes the tree must join (duplicates are ignored).
    roots
        Optional sources of a Steiner *forest*: every terminal is joined to some root, and
        each tree of the result holds exactly one root that is connected to terminals (roots
        that serve nothing are left out). Internally a virtual node joined to every root by a
        zero-weight edge becomes one more terminal; only real edges are returned.
    improve
        Run the local search after Mehlhorn's construction.
    max_rounds
        At most this many improving rounds of the local search (a deterministic budget).
    min_gain
        Stop after an improving round that saved less than this fraction of the cost (each
        round on a large graph costs about one Dijkstra; the last rounds save little).
    vertex_trials
        At most this many Steiner-vertex insertion/elimination trials (and exact key-path
        exchange rounds), on reduced graphs of at most 500 nodes (a trial costs about one Mehlhorn
        construction on the graph).
    time_limit
        Seconds to spend after the local search on restarts, perturbations and recombination
        (:mod:`pollnet.plan.steiner._search`), for a tree near the optimum. It is turned into a
        work budget at a fixed rate, so the result depends on the input, ``seed`` and the limit,
        not on the machine; the wall clock stops the search only at ``clock_factor`` times the
        limit (``stopped == "clock"``). None (the default): no such search.
    work_limit
        The same budget given directly in work units (arcs scanned); with it, and no
        ``time_limit``, there is no wall-clock cap at all.
    seed
        Seeds the random choices of the budgeted search.

    Returns
    -------
    SteinerResult
        Empty ``edges`` when fewer than two terminals (or, with ``roots``, no terminals) are
        reachable.
    """
    clock = time.perf_counter
    started = clock()
    n = int(num_nodes)
    if n < 0:
        raise ValueError("num_nodes must not be negative")
    ua, va, wa = _edges(n, u, v, w)
    wanted = _nodes(n, terminals, "terminals")
    source = None if roots is None else _nodes(n, roots, "roots")
    if source is not None:  # the virtual root of a Steiner forest
        virtual = n
        ua = np.concatenate([ua, np.full(source.size, virtual, dtype=np.int64)])
        va = np.concatenate([va, source])
        wa = np.concatenate([wa, np.zeros(source.size)])
        n += 1
    forest = source is not None
    required = np.append(wanted, n - 1) if forest else wanted
    reduced = sr.reduce(n, ua, va, wa, required)
    g = sg.simple_graph(reduced.num_nodes, reduced.u, reduced.v, reduced.w)
    phases = {"graph": clock() - started}

    started = clock()
    if required.size == 0:
        phases["mehlhorn"] = phases["improve"] = 0.0
        return _result(n, ua, va, wa, None, wanted, wanted, phases, 0, 0.0, forest=forest)
    local = reduced.local[required]
    tree, left_out, regions = sg.construct(g, local, local[-1] if forest else None)
    local = np.setdiff1d(local, left_out)
    initial = tree.cost
    phases["mehlhorn"] = clock() - started
    if tree.edges.size == 0:
        phases["improve"] = 0.0
        unreached = reduced.node[left_out]
        return _result(n, ua, va, wa, None, wanted, unreached, phases, 0, initial, forest=forest)

    started = clock()
    rounds = 0
    stopped, work = "", 0.0
    regions = _reached(regions, left_out)
    if improve:
        tree, rounds = _improve(g, tree, local, regions, max_rounds, min_gain, vertex_trials)
    phases["improve"] = clock() - started
    if improve and (time_limit is not None or work_limit is not None):
        started = clock()
        seconds = float(time_limit) if time_limit is not None else np.inf
        budget = search.Budget(
            work=work_limit if work_limit is not None else seconds * search.WORK_PER_SECOND,
            deadline=started + clock_factor * seconds,
        )
        tree, found = search.search(g, tree, local, budget, seed, _shared(g, regions))
        rounds += found
        stopped, work = budget.stopped, budget.spent
        phases["search"] = clock() - started
    chosen = reduced.caller_edges(g.edge_id[tree.edges])
    root = int(reduced.node[tree.root])
    unreached = reduced.node[left_out]
    result = _result(
        n, ua, va, wa, (chosen, root), wanted, unreached, phases, rounds, initial, forest=forest
    )
    return replace(result, stopped=stopped, work=work) if stopped else result


def _shared(g: sg.SimpleGraph, regions: sg.Regions) -> tuple[sg.Regions, float] | tuple[()]:
    """What key-path exchange reuses on a large graph: the terminals' regions and the mean
    distance of a node from its terminal (see ``key_path_exchange``)."""
    if g.num_nodes <= _SMALL_GRAPH:
        return ()
    dist = regions[0]
    return regions, float(dist[np.isfinite(dist)].mean())


def _reached(regions: sg.Regions, left_out: IntArray) -> sg.Regions:
    """The terminals' regions without those of the terminals left out."""
    if left_out.size == 0:
        return regions
    dist, pred, base = regions
    stale = np.isin(base, left_out)
    return np.where(stale, np.inf, dist), np.where(stale, -1, pred), np.where(stale, -1, base)


def _improve(
    g: sg.SimpleGraph,
    tree: sg.Tree,
    terminals: IntArray,
    regions: sg.Regions,
    max_rounds: int,
    min_gain: float,
    vertex_trials: int,
) -> tuple[sg.Tree, int]:
    is_terminal = np.zeros(g.num_nodes, dtype=bool)
    is_terminal[terminals] = True
    rounds = 0
    small_graph = g.num_nodes <= _SMALL_GRAPH
    budget = vertex_trials if small_graph else 0
    # On a large graph the key nodes' regions come from the terminals' and a Dijkstra from the
    # Steiner key nodes that goes as far as a node lies from its terminal on average.
    shared = _shared(g, regions)
    while rounds < max_rounds:
        better = si.key_path_exchange(g, tree, terminals, is_terminal, *shared)
        if better is None and budget > 0:
            better = si.key_vertex_resolve(g, tree, terminals, is_terminal)
        if better is None and budget > 0:
            budget -= 1
            better = si.exact_key_path_exchange(g, tree, terminals, is_terminal)
        if better is None and budget > 0:
            moved, budget = si.vertex_moves(g, tree, terminals, is_terminal, budget)
            better = moved if moved is not tree else None
        if better is None:
            break
        small = better.cost > tree.cost * (1.0 - min_gain)
        tree = better
        rounds += 1
        if small and budget <= 0:
            break
    return tree, rounds


def _edges(
    n: int, u: ArrayLike, v: ArrayLike, w: ArrayLike
) -> tuple[IntArray, IntArray, NDArray[np.float64]]:
    ua = np.asarray(u).reshape(-1)
    va = np.asarray(v).reshape(-1)
    wa = np.asarray(w, dtype=np.float64).reshape(-1)
    if not (ua.size == va.size == wa.size):
        raise ValueError(f"u, v and w differ in length: {ua.size}, {va.size}, {wa.size}")
    if ua.size and not (
        np.issubdtype(ua.dtype, np.integer) and np.issubdtype(va.dtype, np.integer)
    ):
        raise ValueError("u and v must hold integer node indices")
    ua, va = ua.astype(np.int64), va.astype(np.int64)
    if ua.size and (min(ua.min(), va.min()) < 0 or max(ua.max(), va.max()) >= n):
        raise ValueError(f"an edge end node is outside 0..{n - 1}")
    if np.isnan(wa).any():
        raise ValueError("an edge weight is NaN")
    if (wa < 0).any():
        first = int(np.flatnonzero(wa < 0)[0])
        raise ValueError(f"edge {first} has a negative weight ({wa[first]})")
    return ua, va, wa


def _nodes(n: int, nodes: ArrayLike, name: str) -> IntArray:
    array = np.asarray(nodes).reshape(-1)
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must be integer node indices")
    array = np.unique(array.astype(np.int64))
    if array.size and (array[0] < 0 or array[-1] >= n):
        raise ValueError(f"{name} hold a node outside 0..{n - 1}")
    return array


def _result(
    n: int,
    u: IntArray,
    v: IntArray,
    w: NDArray[np.float64],
    tree: tuple[IntArray, int] | None,
    wanted: IntArray,
    left_out: IntArray,
    phases: dict[str, float],
    rounds: int,
    initial: float,
    *,
    forest: bool,
) -> SteinerResult:
    """The caller's view of a tree given as its edges (into ``u``/``v``/``w``) and root; with
    ``forest`` the last node is the virtual root, whose edges (the last ones) are left out."""
    real_nodes = n - 1 if forest else n
    parent = np.full(real_nodes, -1, dtype=np.int64)
    parent_edge = np.full(real_nodes, -1, dtype=np.int64)
    if tree is None or tree[0].size == 0:
        nodes = wanted[np.isin(wanted, left_out, invert=True)] if not forest else wanted[:0]
        return SteinerResult(
            edges=np.zeros(0, dtype=np.int64),
            cost=0.0,
            nodes=nodes,
            root=-1 if forest else (int(nodes[0]) if nodes.size else -1),
            parent=parent,
            parent_edge=parent_edge,
            terminals=wanted,
            unreachable=wanted if forest else left_out,
            phase_seconds=phases,
            rounds=rounds,
            initial_cost=initial,
        )
    edges, root = tree
    nodes, tree_parent, tree_edge = kernels.orient(n, u[edges], v[edges], root)
    nodes = nodes[nodes < real_nodes]
    children = nodes[(tree_parent[nodes] >= 0) & (tree_parent[nodes] < real_nodes)]
    parent[children] = tree_parent[children]
    parent_edge[children] = edges[tree_edge[children]]
    kept = edges[(u[edges] < real_nodes) & (v[edges] < real_nodes)] if forest else edges
    return SteinerResult(
        edges=kept,
        cost=float(w[kept].sum()),
        nodes=nodes.astype(np.int64),
        root=-1 if forest else root,
        parent=parent,
        parent_edge=parent_edge,
        terminals=wanted,
        unreachable=left_out,
        phase_seconds=phases,
        rounds=rounds,
        initial_cost=initial,
    )
