"""Second routes' search graph (pollnet.plan.redundancy)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pollnet.plan.redundancy import _Graph


def _reference(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, ...]:
    """One entry per directed (row, column) pair, the cheapest parallel edge, the first of
    equals: the (row, column, weight) lexicographic order, as the graph was first built."""
    rows, cols = np.concatenate([u, v]), np.concatenate([v, u])
    weight, edge = np.concatenate([w, w]), np.concatenate([np.arange(u.size)] * 2)
    keep = np.isfinite(weight) & (rows != cols)
    rows, cols, weight, edge = rows[keep], cols[keep], weight[keep], edge[keep]
    order = np.lexsort((weight, cols, rows))
    rows, cols, weight, edge = rows[order], cols[order], weight[order], edge[order]
    first = np.ones(rows.size, dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return rows[first] * n + cols[first], weight[first], edge[first]


@settings(max_examples=80, deadline=None)
@given(
    st.integers(2, 7),
    st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 6), st.sampled_from([0.0, 1.0, 2.0, np.inf])),
        max_size=40,
    ),
)
def test_parallel_edges_keep_the_cheapest_and_the_first_of_equals(
    n: int, edges: list[tuple[int, int, float]]
) -> None:
    u = np.array([a % n for a, _, _ in edges], dtype=np.int64)
    v = np.array([b % n for _, b, _ in edges], dtype=np.int64)
    w = np.array([c for _, _, c in edges], dtype=np.float64)
    graph = _Graph(n, u, v, w)
    keys, weight, edge = _reference(n, u, v, w)
    assert np.array_equal(graph.keys, keys)
    assert np.array_equal(graph.edge, edge)
    assert np.array_equal(graph.matrix.data, weight)
    assert np.array_equal(graph.matrix.indptr, np.searchsorted(keys, np.arange(n + 1) * n))
