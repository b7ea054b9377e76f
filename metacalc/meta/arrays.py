"""Array plumbing shared by the vectorised engines: many analyses as rows of one padded matrix.

An analysis is a row, its studies are columns; rows with fewer studies are padded at the end. Two rules make a
fit independent of the company it keeps, so that a single fit and the same analysis inside any batch give the
same bits:

- sums over studies are taken column by column, left to right (:func:`study_sum`). Adding the exact 0.0 that
  a padding cell contributes then changes nothing, whereas numpy's pairwise summation would group the real
  values differently once the row is longer. For fewer than 8 studies this is exactly ``numpy.sum``.
- everything else is elementwise or per row.

Rows are fitted in buckets of similar size (:func:`size_buckets`), so that padding never dominates the work.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# A bucket spans study counts k0 .. k0 + max(_SPAN_MIN, k0 // _SPAN_DIVISOR): at most a quarter of its cells (or
# two columns) are padding.
_SPAN_MIN = 2
_SPAN_DIVISOR = 4


def study_sum(values: np.ndarray) -> np.ndarray:
    """Sum over the last axis (the studies), left to right; see the module docstring for why.

    A cumulative sum is sequential by definition (each partial sum from the previous one), so its last column
    is the left-to-right sum, in one call; adding 0.0 gives a zero sum the sign numpy.sum would give it.
    """
    values = np.asarray(values, dtype=float)
    if values.shape[-1] == 0:
        return np.zeros(values.shape[:-1])
    return np.cumsum(values, axis=-1)[..., -1] + 0.0


def padded(rows: Sequence[np.ndarray], fill: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Rows of different lengths as one float matrix padded with ``fill`` at the end, and the mask of real cells."""
    lengths = np.array([len(row) for row in rows], dtype=int)
    width = int(lengths.max()) if len(rows) else 0
    mask = np.arange(width)[None, :] < lengths[:, None]
    matrix = np.full((len(rows), width), fill, dtype=float)
    if len(rows):
        matrix[mask] = np.concatenate([np.asarray(row, dtype=float).ravel() for row in rows])
    return matrix, mask


def size_buckets(k: np.ndarray, max_cells: int = 1 << 20) -> list[np.ndarray]:
    """Row positions grouped by similar number of studies ``k`` (padding at most about a quarter of a bucket),
    each bucket at most ``max_cells`` rows x columns (at least one row), in increasing k."""
    k = np.asarray(k, dtype=int)
    order = np.argsort(k, kind="stable")
    buckets: list[np.ndarray] = []
    start = 0
    while start < len(order):
        k0 = int(k[order[start]])
        limit = k0 + max(_SPAN_MIN, k0 // _SPAN_DIVISOR)
        stop = start
        while stop < len(order) and k[order[stop]] <= limit:
            stop += 1
        width = max(int(k[order[stop - 1]]), 1)
        rows = max(1, max_cells // width)
        for chunk in range(start, stop, rows):
            buckets.append(order[chunk:min(chunk + rows, stop)])
        start = stop
    return buckets
