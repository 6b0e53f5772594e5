"""Splitting ways into edges: the sort-based grouping that stands in for ``np.unique``."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pollnet.streets._ways import _distinct, _group

keys = arrays(np.int64, st.integers(0, 300), elements=st.integers(-(2**62), 2**62))
few_keys = arrays(np.int64, st.integers(0, 300), elements=st.integers(0, 5))


@given(st.one_of(keys, few_keys))
def test_group_agrees_with_np_unique(key: np.ndarray) -> None:
    unique, first, inverse = _group(key)
    expected, expected_inverse = np.unique(key, return_inverse=True)
    assert np.array_equal(unique, expected)
    assert np.array_equal(inverse, expected_inverse)
    assert np.array_equal(key[first], unique)  # a position holding each value


@given(st.one_of(keys, few_keys))
def test_distinct_counts_like_np_unique(values: np.ndarray) -> None:
    assert _distinct(values) == np.unique(values).size
