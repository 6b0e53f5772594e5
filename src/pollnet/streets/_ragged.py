"""Ragged arrays in CSR form (``indptr`` plus flat values), the shape points of edges."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]


def spans(starts: IntArray, counts: IntArray) -> tuple[IntArray, IntArray]:
    """The flat positions of runs ``starts[i] .. starts[i] + counts[i] - 1``, and their indptr."""
    counts = np.asarray(counts, dtype=np.int64)
    indptr = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    shift = np.repeat(np.asarray(starts, dtype=np.int64) - indptr[:-1], counts)
    return np.arange(indptr[-1], dtype=np.int64) + shift, indptr


def take(indptr: IntArray, rows: IntArray) -> tuple[IntArray, IntArray]:
    """The flat positions of the chosen ``rows`` of a CSR array, and the new indptr."""
    rows = np.asarray(rows, dtype=np.int64)
    return spans(indptr[rows], indptr[rows + 1] - indptr[rows])


def row_of(indptr: IntArray) -> IntArray:
    """The row of every flat position."""
    return np.repeat(np.arange(indptr.size - 1, dtype=np.int64), np.diff(indptr))
