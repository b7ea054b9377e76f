"""Confidence intervals for one study's proportion x/n, vectorised over arrays of studies.

Methods (two-sided, ``level`` as a fraction):

- "clopper-pearson": exact interval from beta quantiles (Clopper & Pearson 1934); statsmodels' "beta".
- "wilson": score interval (Wilson 1927); statsmodels' "wilson".
- "wilson-cc": score interval with continuity correction (Newcombe 1998, method 4), the interval of R's
  ``prop.test(x, n, correct=TRUE)``.
- "agresti-coull": add z²/2 successes and failures, then Wald, clipped to [0, 1] (Agresti & Coull 1998);
  statsmodels' "agresti_coull".
- "jeffreys": equal-tailed Beta(x + 1/2, n - x + 1/2) interval (Brown, Cai & DasGupta 2001); statsmodels'
  "jeffreys" except at the edges, see below.

Edges: every method gives lower bound exactly 0 when x = 0 and upper bound exactly 1 when x = n. For Jeffreys this
is Brown, Cai & DasGupta's boundary modification (statsmodels instead returns the raw beta quantile, e.g. 4.8e-5
for 0/10); the other methods already satisfy it (Wilson up to rounding, which is snapped).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from metacalc.meta.errors import InvalidInput
from metacalc.meta.options import INTERVAL_METHODS as METHODS


def _counts(events: Sequence[float] | np.ndarray | float,
            totals: Sequence[float] | np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(events, dtype=float)
    n = np.asarray(totals, dtype=float)
    x, n = np.broadcast_arrays(x, n)
    problems = []
    if np.any(~np.isfinite(x)) or np.any(~np.isfinite(n)):
        problems.append("events and totals must be finite numbers")
    elif np.any(n <= 0):
        problems.append("every total must be at least 1")
    elif np.any(x < 0) or np.any(x > n):
        problems.append("events must be between 0 and the total")
    elif np.any(x != np.round(x)) or np.any(n != np.round(n)):
        problems.append("events and totals must be whole numbers")
    if problems:
        raise InvalidInput(problems)
    return x, n


def proportion_interval(events: Sequence[float] | np.ndarray | float, totals: Sequence[float] | np.ndarray | float,
                        method: str = "clopper-pearson", level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper confidence bounds for events/totals (arrays broadcast; scalars give 0-d arrays)."""
    from scipy.stats import beta, norm

    if method not in METHODS:
        raise InvalidInput(f"unknown interval method {method!r}; expected one of {', '.join(METHODS)}")
    if not 0 < level < 1:
        raise InvalidInput(f"level must be between 0 and 1 (got {level})")
    x, n = _counts(events, totals)
    alpha = 1 - level
    z = norm.isf(alpha / 2)
    p = x / n

    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "clopper-pearson":
            lower = beta.ppf(alpha / 2, x, n - x + 1)
            upper = beta.isf(alpha / 2, x + 1, n - x)
        elif method == "jeffreys":
            lower = beta.ppf(alpha / 2, x + 0.5, n - x + 0.5)
            upper = beta.isf(alpha / 2, x + 0.5, n - x + 0.5)
        elif method == "wilson":
            centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
            half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
            lower, upper = centre - half, centre + half
        elif method == "wilson-cc":
            denominator = 2 * (n + z**2)
            lower = (2 * n * p + z**2 - 1 - z * np.sqrt(z**2 - 2 - 1 / n + 4 * p * (n * (1 - p) + 1))) / denominator
            upper = (2 * n * p + z**2 + 1 + z * np.sqrt(z**2 + 2 - 1 / n + 4 * p * (n * (1 - p) - 1))) / denominator
        else:  # agresti-coull
            n_tilde = n + z**2
            p_tilde = (x + z**2 / 2) / n_tilde
            half = z * np.sqrt(p_tilde * (1 - p_tilde) / n_tilde)
            lower, upper = p_tilde - half, p_tilde + half

    lower = np.clip(np.where(x == 0, 0.0, lower), 0.0, 1.0)
    upper = np.clip(np.where(x == n, 1.0, upper), 0.0, 1.0)
    return lower, upper
