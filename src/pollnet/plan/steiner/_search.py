"""Spending a budget on a better Steiner tree: local search to the end, then restarts.

After the local search of :mod:`pollnet.plan.steiner._improve` has stopped, the budget goes to
what the literature finds works on street networks (Ribeiro, Uchoa and Werneck, "A hybrid GRASP
with perturbations for the Steiner problem in graphs", 2002; Uchoa and Werneck 2010):

- *key-vertex perturbation*: Mehlhorn's tree again with a random part of the best tree's
  Steiner key nodes kept as terminals (the others eliminated) and a few nodes next to the tree
  inserted, then local search;
- *weight perturbation*: Mehlhorn's tree on randomly raised weights (a different shortest-path
  construction each time), measured and searched on the true weights;
- *recombination*: the union of two or three of the best trees found is a small graph; it is
  reduced and solved there with every move (including Steiner-vertex insertion and
  elimination, which a whole city cannot afford), and the result searched again on the graph.

Every iteration runs the local search to its end; a pool keeps the best distinct trees. The
search stops when ``stall`` iterations in a row found nothing better, or the budget is spent.

**Determinism.** The budget is counted in *work*, not seconds: every construction, Dijkstra or
exchange round is charged the number of arcs and nodes of the graph it runs on (plus a fixed
amount for the call itself), and random choices come
from a generator seeded with ``seed``. The same input, seed and work budget therefore give the
same tree on any machine. A time limit is turned into work at a fixed rate
(:data:`WORK_PER_SECOND`, measured on the development machine); the wall clock is only a safety
cap (``clock_factor`` times the limit) for a much slower or overloaded machine, and a result it
cut short says so (``stopped == "clock"``): only then may a second run differ.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from pollnet.plan.steiner import _graph as sg
from pollnet.plan.steiner import _improve as si
from pollnet.plan.steiner import _kernels as kernels
from pollnet.plan.steiner import _reduce as sr
from pollnet.plan.steiner._graph import BoolArray, IntArray, SimpleGraph, Tree

WORK_PER_SECOND = 60_000_000
"""Work units the search is assumed to do per second. Measured on the development machine (2
cores, AMD EPYC) while it was shared with four other sessions (load average 8): 18-38 million
a second; a quiet machine does two to three times that, so a time limit is honoured on a quiet
machine and overrun by up to about two times on a loaded one (the clock cap is farther still)."""

_CALL = 10_000  # work charged per pass on top of the graph's size (the fixed cost of a call)
_POOL = 8  # best distinct trees kept for recombination
_STALL = 40  # iterations without a better tree before the search stops
_KEEP_KEYS = 0.75  # share of the Steiner key nodes kept by a key-vertex perturbation
_INSERT = 0.02  # share of the tree's size inserted as extra terminals by the same
_NOISE = 0.25  # weights are raised by up to this share in a weight perturbation
_RECOMBINE_NODES = 3_000  # a union of trees larger than this is not recombined


@dataclass
class Budget:
    """Work left (arcs scanned) and the wall-clock cap; ``stopped`` says what ended it."""

    work: float
    deadline: float = float("inf")
    spent: float = 0.0
    stopped: str = ""

    def charge(self, g: SimpleGraph, times: float = 1.0) -> None:
        self.spent += times * (g.indices.size + g.num_nodes + _CALL)

    def affords(self, g: SimpleGraph, times: float) -> bool:
        return self.spent + times * (g.indices.size + g.num_nodes + _CALL) <= self.work

    def left(self) -> bool:
        if self.spent >= self.work:
            self.stopped = self.stopped or "work"
            return False
        if time.perf_counter() > self.deadline:
            self.stopped = "clock"
            return False
        return True


def local_search(
    g: SimpleGraph,
    tree: Tree,
    terminals: IntArray,
    is_terminal: BoolArray,
    budget: Budget,
    shared: tuple[sg.Regions, float] | tuple[()] = (),
    *,
    vertex_moves: bool = True,
) -> Tree:
    """Key-path exchange, key-vertex re-solve, and (when the budget affords a whole pass of
    them) exact key-path exchange and, with ``vertex_moves``, Steiner-vertex insertion and
    elimination, to a local optimum or until the budget is spent."""
    while budget.left():
        budget.charge(g, 2)
        better = si.key_path_exchange(g, tree, terminals, is_terminal, *shared)
        if better is None:
            budget.charge(g, 3)
            better = si.key_vertex_resolve(g, tree, terminals, is_terminal)
        if better is None:
            keys = int(si.key_nodes(g, tree, is_terminal).sum())
            if budget.affords(g, keys):
                budget.charge(g, keys)
                better = si.exact_key_path_exchange(g, tree, terminals, is_terminal)
        if better is None and vertex_moves:
            trials = g.num_nodes
            if budget.affords(g, 3 * trials):
                moved, left = si.vertex_moves(g, tree, terminals, is_terminal, trials)
                budget.charge(g, 3 * (trials - left))
                better = moved if moved is not tree else None
        if better is None:
            break
        tree = better
    return tree


def search(
    g: SimpleGraph,
    tree: Tree,
    terminals: IntArray,
    budget: Budget,
    seed: int,
    shared: tuple[sg.Regions, float] | tuple[()] = (),
    stall: int = _STALL,
) -> tuple[Tree, int]:
    """The best tree found within ``budget`` from ``tree`` (already locally optimal, or not),
    and the number of iterations that found a better one."""
    is_terminal = np.zeros(g.num_nodes, dtype=bool)
    is_terminal[terminals] = True
    rng = np.random.default_rng([20261207, seed])
    best = local_search(g, tree, terminals, is_terminal, budget, shared)
    pool = [best]
    found = 0
    quiet = 0
    iteration = 0
    while quiet < stall and budget.left():
        iteration += 1
        kind = iteration % 3
        if kind == 0 and len(pool) >= 2:
            start = _recombine(g, pool, terminals, budget, rng)
        elif kind == 2:
            start = _perturb_weights(g, best, terminals, budget, rng)
        else:
            start = _perturb_keys(g, best, terminals, is_terminal, budget, rng)
        if start is None:
            quiet += 1
            continue
        candidate = local_search(
            g, start, terminals, is_terminal, budget, shared, vertex_moves=False
        )
        if si.improves(candidate, best):
            best = local_search(g, candidate, terminals, is_terminal, budget, shared)
            found += 1
            quiet = 0
        else:
            quiet += 1
        _remember(pool, candidate)
    if quiet >= stall:
        budget.stopped = "stall"
    return best, found


def _remember(pool: list[Tree], tree: Tree) -> None:
    """Keep ``tree`` among the pool's best distinct trees (by cost)."""
    if any(abs(t.cost - tree.cost) <= 1e-9 * max(1.0, tree.cost) for t in pool):
        return
    pool.append(tree)
    pool.sort(key=lambda t: t.cost)
    del pool[_POOL:]


def _perturb_keys(
    g: SimpleGraph,
    tree: Tree,
    terminals: IntArray,
    is_terminal: BoolArray,
    budget: Budget,
    rng: np.random.Generator,
) -> Tree | None:
    """Mehlhorn's tree with part of ``tree``'s Steiner key nodes and a few nodes beside it."""
    key = si.key_nodes(g, tree, is_terminal)
    steiner_keys = tree.nodes[key[tree.nodes] & ~is_terminal[tree.nodes]]
    kept = steiner_keys[rng.random(steiner_keys.size) < _KEEP_KEYS]
    on_tree = np.zeros(g.num_nodes, dtype=bool)
    on_tree[tree.nodes] = True
    beside = np.unique(g.indices[_arcs_of(g, tree.nodes)])
    beside = beside[~on_tree[beside]]
    count = min(beside.size, max(1, int(_INSERT * tree.nodes.size)))
    inserted = rng.choice(beside, count, replace=False) if count else beside[:0]
    budget.charge(g, 3)
    grown = sg.mehlhorn(g, np.union1d(terminals, np.union1d(kept, inserted)), tree.root)
    candidate = sg.mst_prune(g, grown.nodes, terminals, tree.root)
    return candidate if si.spans(candidate, terminals) else None


def _perturb_weights(
    g: SimpleGraph,
    tree: Tree,
    terminals: IntArray,
    budget: Budget,
    rng: np.random.Generator,
) -> Tree | None:
    """Mehlhorn's tree on weights raised at random by up to ``_NOISE``, on the true weights."""
    weight = g.weight * (1.0 + _NOISE * rng.random(g.weight.size))
    noisy = dataclasses.replace(g, weight=weight, arc_weight=weight[g.arc_edge])
    budget.charge(g, 4)
    grown = sg.mehlhorn(noisy, terminals, tree.root)
    candidate = sg.mst_prune(g, grown.nodes, terminals, tree.root)
    return candidate if si.spans(candidate, terminals) else None


def _recombine(
    g: SimpleGraph,
    pool: list[Tree],
    terminals: IntArray,
    budget: Budget,
    rng: np.random.Generator,
) -> Tree | None:
    """The best tree of the graph the union of the pool's best and one or two others induce,
    solved there with every move."""
    others = rng.choice(np.arange(1, len(pool)), min(2, len(pool) - 1), replace=False)
    nodes = pool[0].nodes
    for i in sorted(others.tolist()):
        nodes = np.union1d(nodes, pool[i].nodes)
    if nodes.size > _RECOMBINE_NODES:
        return None
    edges = np.sort(kernels.induced_edges(g.num_nodes, g.indptr, g.indices, g.arc_edge, nodes))
    lo = np.searchsorted(nodes, g.lo[edges])
    hi = np.searchsorted(nodes, g.hi[edges])
    local_terminals = np.searchsorted(nodes, terminals)
    reduced = sr.reduce(nodes.size, lo, hi, g.weight[edges], local_terminals)
    sub = sg.simple_graph(reduced.num_nodes, reduced.u, reduced.v, reduced.w)
    sub_terminals = reduced.local[local_terminals]
    anchor = int(reduced.local[np.searchsorted(nodes, pool[0].root)])
    budget.charge(sub, 3)
    start, left_out, _regions = sg.construct(sub, sub_terminals, anchor)
    if left_out.size:
        return None
    sub_is_terminal = np.zeros(sub.num_nodes, dtype=bool)
    sub_is_terminal[sub_terminals] = True
    solved = local_search(sub, start, sub_terminals, sub_is_terminal, budget)
    chosen = edges[reduced.caller_edges(sub.edge_id[solved.edges])]
    joined = np.union1d(np.union1d(g.lo[chosen], g.hi[chosen]), terminals)
    candidate = sg.mst_prune(g, joined, terminals, pool[0].root)
    return candidate if si.spans(candidate, terminals) else None


def _arcs_of(g: SimpleGraph, nodes: IntArray) -> IntArray:
    """The positions in ``g.indices`` of every arc leaving ``nodes``."""
    starts, ends = g.indptr[nodes], g.indptr[nodes + 1]
    counts = ends - starts
    offsets = np.repeat(starts - np.cumsum(counts) + counts, counts)
    arcs: IntArray = np.arange(int(counts.sum()), dtype=np.int64) + offsets
    return arcs
