"""The exact Steiner tree of a small graph, as a MIP on HiGHS: the reference for the heuristic.

The formulation is the directed multi-commodity flow one: the first terminal is the root; every
edge becomes two arcs with a binary "built" variable ``y``; every other terminal ``k`` receives
one unit of its own flow from the root, which may only use built arcs (``f_k <= y``). Each node
has at most one built arc coming in (none at the root), and an edge is built in one direction at
most. Its LP relaxation is as tight as the directed cut formulation, so HiGHS proves optimality
quickly on graphs of tens of nodes and a handful of terminals; it grows as ``terminals x arcs``.
The graph is first reduced exactly (:func:`pollnet.plan.steiner._reduce.reduce_exact`): the
degree tests, which on street networks leave about 40 % of the nodes, then the special-distance
test (Duin and Volgenant) and the bound test of Wong's dual ascent against the cost of the
heuristic's tree (:func:`pollnet.plan.steiner.solve` with ``heuristic_seconds``), repeated while
they remove something. That tree is also handed to HiGHS as its starting solution. (A directed
cut model with generated cuts was tried too: its LP re-solves after each batch of cuts took
thousands of simplex iterations on street graphs, slower than this model.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import highspy
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from scipy.sparse import csgraph

from pollnet._highs import quiet_highs
from pollnet.plan.steiner import _edges, _nodes, solve
from pollnet.plan.steiner import _graph as sg
from pollnet.plan.steiner import _reduce as sr

__all__ = ["ExactResult", "solve_exact"]

IntArray = NDArray[np.int64]

_BUDGET_FROM = 500  # nodes: from this size the heuristic gets ``heuristic_seconds``


@dataclass(frozen=True)
class ExactResult:
    """The MIP's tree: ``edges`` (indices into the caller's arrays), ``cost`` and its status.

    ``optimal`` is True when HiGHS proved optimality (within ``mip_rel_gap``); ``bound`` is the
    best lower bound on the optimum it found (or dual ascent's, when higher). ``steps`` are the
    graph's sizes after each reduction test, ``seconds`` the wall time of the phases
    ("heuristic", "reduce", "mip").
    """

    edges: IntArray
    cost: float
    optimal: bool
    bound: float
    steps: tuple[sr.Step, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)


def solve_exact(
    num_nodes: int,
    u: ArrayLike,
    v: ArrayLike,
    w: ArrayLike,
    terminals: ArrayLike,
    *,
    time_limit: float = 60.0,
    mip_rel_gap: float = 1e-9,
    reductions: bool = True,
    heuristic_seconds: float = 1.0,
) -> ExactResult:
    """The minimum-weight tree joining ``terminals`` (same graph conventions as ``solve``).

    Parameters
    ----------
    num_nodes, u, v, w, terminals
        As for :func:`pollnet.plan.steiner.solve` (weights ``>= 0``, ``inf`` = no edge).
    time_limit
        Seconds HiGHS may spend; on timeout the best tree found is returned with
        ``optimal=False``.
    mip_rel_gap
        Relative optimality gap at which HiGHS stops.
    reductions
        Run the special-distance and bound tests and start HiGHS from the heuristic's tree
        (False: the degree tests only, as a baseline).
    heuristic_seconds
        The budget of the heuristic whose tree gives the bound test its upper bound, on
        graphs of at least 500 nodes (on smaller ones its local search alone, which is
        near-optimal there and takes milliseconds).

    Raises
    ------
    ValueError
        Bad input (as ``solve``), terminals in different connected components, or no tree
        found within the time limit.
    """
    n0 = int(num_nodes)
    u0, v0, w0 = _edges(n0, u, v, w)
    wanted0 = _nodes(n0, terminals, "terminals")
    if wanted0.size < 2:
        return ExactResult(np.zeros(0, dtype=np.int64), 0.0, True, 0.0)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    known: IntArray | None = None
    if reductions:
        budget = heuristic_seconds if n0 >= _BUDGET_FROM else None  # small: local search
        heuristic = solve(n0, u0, v0, w0, wanted0, time_limit=budget)
        if heuristic.unreachable.size:
            raise ValueError("the terminals lie in different connected components")
        known = heuristic.edges
    seconds["heuristic"] = time.perf_counter() - started
    started = time.perf_counter()
    if known is not None:
        reduction = sr.reduce_exact(n0, u0, v0, w0, wanted0, float(w0[known].sum()))
    else:
        reduction = sr.Reduction(sr.reduce(n0, u0, v0, w0, wanted0), [], 0.0)
    reduced = reduction.reduced
    seconds["reduce"] = time.perf_counter() - started
    n = reduced.num_nodes
    wanted = reduced.local[wanted0]
    g = sg.simple_graph(n, reduced.u, reduced.v, reduced.w)
    _count, labels = csgraph.connected_components(g.matrix, directed=True, connection="weak")
    if np.unique(labels[wanted]).size > 1:
        raise ValueError("the terminals lie in different connected components")

    m = g.num_edges
    tail = np.concatenate([g.lo, g.hi])  # arc a: tail[a] -> head[a]; arcs a and a+m pair up
    head = np.concatenate([g.hi, g.lo])
    arcs = 2 * m
    root, sinks = int(wanted[0]), wanted[1:]
    k = sinks.size
    num_col = arcs * (1 + k)  # y for every arc, then f_1, ..., f_k
    cost = np.concatenate([g.weight, g.weight, np.zeros(arcs * k)])

    rows: list[NDArray[np.int64]] = []
    cols: list[NDArray[np.int64]] = []
    vals: list[NDArray[np.float64]] = []
    lower: list[NDArray[np.float64]] = []
    upper: list[NDArray[np.float64]] = []
    row = 0

    def add(r: IntArray, c: IntArray, x: NDArray[np.float64], count: int) -> None:
        nonlocal row
        rows.append(r + row)
        cols.append(c)
        vals.append(x)
        row += count

    arc = np.arange(arcs, dtype=np.int64)
    for j, sink in enumerate(sinks.tolist()):
        flow = arcs * (1 + j) + arc
        # conservation at every node: inflow - outflow = 1 at the sink, -1 at the root
        add(
            np.concatenate([head, tail]),
            np.concatenate([flow, flow]),
            np.concatenate([np.ones(arcs), -np.ones(arcs)]),
            n,
        )
        demand = np.zeros(n)
        demand[sink], demand[root] = 1.0, -1.0
        lower.append(demand)
        upper.append(demand)
        # f_j <= y
        add(np.concatenate([arc, arc]), np.concatenate([flow, arc]), _pm(arcs), arcs)
        lower.append(np.full(arcs, -np.inf))
        upper.append(np.zeros(arcs))
    # one direction per edge
    add(np.concatenate([arc[:m], arc[:m]]), np.concatenate([arc[:m], arc[:m] + m]), _ones(2 * m), m)
    lower.append(np.full(m, -np.inf))
    upper.append(np.ones(m))
    # at most one arc into a node, none into the root
    add(head, arc, np.ones(arcs), n)
    lower.append(np.full(n, -np.inf))
    cap = np.ones(n)
    cap[root] = 0.0
    upper.append(cap)

    matrix = sparse.csc_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(row, num_col),
    )
    lp = highspy.HighsLp()
    lp.num_col_ = num_col
    lp.num_row_ = row
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(num_col)
    lp.col_upper_ = np.ones(num_col)
    lp.row_lower_ = np.concatenate(lower)
    lp.row_upper_ = np.concatenate(upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * arcs + [
        highspy.HighsVarType.kContinuous
    ] * (arcs * k)

    h = quiet_highs()
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    h.passModel(lp)
    start = None if known is None else _start(g, reduced, known, root, sinks)
    if start is not None:
        solution = highspy.HighsSolution()
        solution.col_value = start
        solution.value_valid = True
        h.setSolution(solution)
    started = time.perf_counter()
    h.run()
    seconds["mip"] = time.perf_counter() - started
    status = h.getModelStatus()
    values = np.asarray(h.getSolution().col_value, dtype=np.float64)
    feasible = int(h.getInfo().primal_solution_status) == int(
        highspy.SolutionStatus.kSolutionStatusFeasible
    )
    if not feasible or values.size != num_col:
        # No tree within the time limit (the columns may hold an LP point, or nothing).
        if start is None:
            raise ValueError(f"HiGHS found no tree ({h.modelStatusToString(status)})")
        values = start
    built = values[:arcs] > 0.5
    chosen = np.unique(np.flatnonzero(built) % m).astype(np.int64)
    tree = sg.prune(g, sg.orient(g, chosen, root), wanted)
    bound = max(float(h.getInfo().mip_dual_bound), reduction.lower_bound)
    edges = reduced.caller_edges(g.edge_id[tree.edges])
    return ExactResult(
        edges=edges,
        cost=float(w0[edges].sum()),
        optimal=status == highspy.HighsModelStatus.kOptimal,
        bound=bound,
        steps=tuple(reduction.steps),
        seconds=seconds,
    )


def _start(
    g: sg.SimpleGraph, reduced: sr.Reduced, tree: IntArray, root: int, sinks: IntArray
) -> NDArray[np.float64] | None:
    """The model's columns for the caller's ``tree`` (``y`` on its arcs directed from the
    root, each sink's flow along its path), or None when the tree does not survive the
    reduction (the special-distance test may remove edges of a tree that is not optimal)."""
    mapped = reduced.edge_of[tree]
    if (mapped < 0).any():
        return None
    simple = np.full(reduced.u.size, -1, dtype=np.int64)
    simple[g.edge_id] = np.arange(g.num_edges)
    edges = np.unique(simple[mapped])
    if (edges < 0).any():
        return None
    oriented = sg.orient(g, edges, root)
    m = g.num_edges
    arcs = 2 * m
    values = np.zeros(arcs * (1 + sinks.size))
    for j, sink in enumerate(sinks.tolist()):
        x = sink
        if oriented.parent[x] < 0:
            return None
        while x != root:
            e = int(oriented.parent_edge[x])
            arc = e if g.hi[e] == x else e + m  # arc e runs lo -> hi
            values[arc] = 1.0
            values[arcs * (1 + j) + arc] = 1.0
            x = int(oriented.parent[x])
    return values


def _ones(count: int) -> NDArray[np.float64]:
    return np.ones(count, dtype=np.float64)


def _pm(count: int) -> NDArray[np.float64]:
    """``+1`` for the first ``count`` entries, ``-1`` for the next ``count``."""
    return np.concatenate([np.ones(count), -np.ones(count)])
