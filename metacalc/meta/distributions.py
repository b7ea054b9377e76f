"""Tail probabilities and quantiles of the normal, t, chi², beta and binomial distributions, straight from
``scipy.special``.

These are the very functions ``scipy.stats.norm``, ``t`` and ``chi2`` evaluate (so the numbers are the same to
the last bit, which tests/meta/test_distributions.py checks), without the ~0.1 ms of argument handling that
``scipy.stats`` spends on every call: a single fit makes a dozen such calls. And without importing
``scipy.stats`` at all (its own modules, beyond what scipy.special and the fits import anyway: 0.13 s of CPU in
the bundled review's analyse job).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special
from scipy.special import _ufuncs

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


def norm_cdf(x: ArrayLike) -> np.ndarray:
    return special.ndtr(np.asarray(x, dtype=float))


def t_ppf(q: ArrayLike, df: ArrayLike) -> np.ndarray:
    return special.stdtrit(df, q)


def beta_ppf(q: ArrayLike, a: ArrayLike, b: ArrayLike) -> np.ndarray:
    return _BETA_PPF(q, a, b)


def beta_isf(q: ArrayLike, a: ArrayLike, b: ArrayLike) -> np.ndarray:
    return special.betainccinv(a, b, q)


def binom_cdf(k: ArrayLike, n: ArrayLike, p: ArrayLike) -> np.ndarray:
    # Outside the support 0..n, as scipy.stats has it: 0 below, 1 from n on.
    k, n = np.floor(np.asarray(k, dtype=float)), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore"):
        inside = _BINOM_CDF(np.clip(k, 0, n), n, p)
    return np.where(k < 0, 0.0, np.where(k >= n, 1.0, inside))


def _stats_method(distribution: str, method: str) -> Any:
    """scipy.stats' own method, for a SciPy whose private ufunc below has another name (slower, same numbers)."""
    def call(*args: Any) -> np.ndarray:
        from scipy import stats

        return getattr(getattr(stats, distribution), method)(*args)
    return call


# scipy.stats' beta quantile and binomial cdf are Boost ufuncs that scipy.special keeps private (its public
# betaincinv and bdtr are other implementations, not the same bits).
_BETA_PPF: Any = getattr(_ufuncs, "_beta_ppf", None) or _stats_method("beta", "ppf")
_BINOM_CDF: Any = getattr(_ufuncs, "_binom_cdf", None) or _stats_method("binom", "cdf")
