"""Tail probabilities and quantiles of the normal, t and chi² distributions, straight from ``scipy.special``.

These are the very functions ``scipy.stats.norm``, ``t`` and ``chi2`` evaluate (so the numbers are the same to
the last bit, which tests/meta/test_distributions.py checks), without the ~0.1 ms of argument handling that
``scipy.stats`` spends on every call: a single fit makes a dozen such calls.
"""

from __future__ import annotations

import numpy as np
from scipy import special

ArrayLike = float | np.ndarray


def norm_sf(x: ArrayLike) -> np.ndarray:
    return special.ndtr(-np.asarray(x, dtype=float))


def norm_isf(q: ArrayLike) -> np.ndarray:
    return -special.ndtri(q)


def norm_ppf(q: ArrayLike) -> np.ndarray:
    return special.ndtri(q)


def t_sf(x: ArrayLike, df: ArrayLike) -> np.ndarray:
    return special.stdtr(df, -np.asarray(x, dtype=float))


def t_isf(q: ArrayLike, df: ArrayLike) -> np.ndarray:
    return -special.stdtrit(df, q)


def chi2_sf(x: ArrayLike, df: ArrayLike) -> np.ndarray:
    return special.chdtrc(df, x)


def chi2_isf(q: ArrayLike, df: ArrayLike) -> np.ndarray:
    return special.chdtri(df, q)


def chi2_ppf(p: ArrayLike, df: ArrayLike) -> np.ndarray:
    return 2 * special.gammaincinv(np.asarray(df, dtype=float) / 2, p)
