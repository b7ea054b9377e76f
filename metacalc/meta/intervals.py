"""Confidence intervals for one study's proportion x/n, vectorised over arrays of studies.

Methods (two-sided, ``level`` as a fraction):

- "clopper-pearson": exact interval from beta quantiles (Clopper & Pearson 1934); statsmodels' "beta".
- "wilson": score interval (Wilson 1927); statsmodels' "wilson".
- "wilson-cc": score interval with continuity correction, the interval of R's ``prop.test(x, n, correct=TRUE)``
  computed as R computes it: the correction is YATES = min(1/2, |x - n/2|) (R's default p = 1/2), so at x = n/2
  it is 0 and the interval is Wilson's; elsewhere it is Newcombe's (1998) method 4.
- "agresti-coull": add z²/2 successes and failures, then Wald, clipped to [0, 1] (Agresti & Coull 1998);
  statsmodels' "agresti_coull".
- "jeffreys": equal-tailed Beta(x + 1/2, n - x + 1/2) interval (Brown, Cai & DasGupta 2001); statsmodels'
  "jeffreys" except at the edges, see below.

:func:`lower_limit` is the one-sided exact (Clopper-Pearson) lower confidence limit, R's
``binom.test(x, n, alternative="greater")$conf.int[1]``: the limit for a count that is itself only a lower bound
(the true number of events is at least x, and the limit only grows with x, so it is a valid lower limit).

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
    from metacalc.meta.distributions import beta_isf, beta_ppf, norm_isf

    if method not in METHODS:
        raise InvalidInput(f"unknown interval method {method!r}; expected one of {', '.join(METHODS)}")
    if not 0 < level < 1:
        raise InvalidInput(f"level must be between 0 and 1 (got {level})")
    x, n = _counts(events, totals)
    alpha = 1 - level
    z = float(norm_isf(alpha / 2))
    p = x / n

    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "clopper-pearson":
            lower = beta_ppf(alpha / 2, x, n - x + 1)
            upper = beta_isf(alpha / 2, x + 1, n - x)
        elif method == "jeffreys":
            lower = beta_ppf(alpha / 2, x + 0.5, n - x + 0.5)
            upper = beta_isf(alpha / 2, x + 0.5, n - x + 0.5)
        elif method == "wilson":
            centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
            half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
            lower, upper = centre - half, centre + half
        elif method == "wilson-cc":
            lower, upper = _prop_test(x, n, z)
        else:  # agresti-coull
            n_tilde = n + z**2
            p_tilde = (x + z**2 / 2) / n_tilde
            half = z * np.sqrt(p_tilde * (1 - p_tilde) / n_tilde)
            lower, upper = p_tilde - half, p_tilde + half

    lower = np.clip(np.where(x == 0, 0.0, lower), 0.0, 1.0)
    upper = np.clip(np.where(x == n, 1.0, upper), 0.0, 1.0)
    return lower, upper


def _prop_test(x: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """R's ``prop.test(x, n, correct=TRUE)$conf.int`` line by line (stats:::prop.test, one sample, p = 1/2)."""
    estimate = x / n
    yates = np.minimum(0.5, np.abs(x - n * 0.5))
    z22n = z**2 / (2 * n)

    def limit(shifted: np.ndarray, sign: float) -> np.ndarray:
        root = np.sqrt(np.clip(shifted * (1 - shifted), 0.0, None) / n + z22n / (2 * n))
        return (shifted + z22n + sign * z * root) / (1 + 2 * z22n)

    high, low = estimate + yates / n, estimate - yates / n
    return np.where(low <= 0, 0.0, limit(low, -1.0)), np.where(high >= 1, 1.0, limit(high, 1.0))


def lower_limit(events: Sequence[float] | np.ndarray | float, totals: Sequence[float] | np.ndarray | float,
                level: float = 0.95) -> np.ndarray:
    """One-sided exact lower confidence limit of events/totals at ``level`` (0 when there are no events).

    R's ``binom.test(x, n, alternative="greater")$conf.int[1]``: the ``1 - level`` quantile of
    Beta(x, n - x + 1). Used for a count that is only a lower bound, where no upper limit can be given.
    """
    from metacalc.meta.distributions import beta_ppf

    if not 0 < level < 1:
        raise InvalidInput(f"level must be between 0 and 1 (got {level})")
    x, n = _counts(events, totals)
    with np.errstate(divide="ignore", invalid="ignore"):
        limit = beta_ppf(1 - level, x, n - x + 1)
    return np.clip(np.where(x == 0, 0.0, limit), 0.0, 1.0)
