"""The population-average proportion of the binomial-normal model, and the GLMM's interval carried to it.

A GLMM's pooled logit mu describes the median setting: expit(mu) is the proportion in a setting whose logit is
the mean. The proportion of all patients across the settings is the population average
E[expit(mu + tau Z)], Z ~ N(0, 1), which is smaller than expit(mu) below 1/2 and larger above it once
tau > 0 (Zeger, Liang & Albert 1988; Lin & Chu 2020). It is what a clinician asks ("how often does the drug
help?"), the only quantity single-patient reports identify (each report is one Bernoulli draw with exactly that
probability), and what the pooled count x/N estimates in every design; so the ``auto`` rule of
``proportions`` reports it whenever it uses the GLMM, and states the estimand (see ``auto_rule``).

- :func:`population_average` -- E[expit(mu + tau Z)] by the trapezoidal rule on a fine grid.
- :func:`mean_logit_for_average` -- its inverse in mu (for simulations with a given population average).
- :func:`population_average_interval` -- mu -/+ crit * SE mapped to the population average at tau = sqrt(tau²):
  a plug-in interval (the uncertainty of tau² is ignored), with the normal quantile or Student's t on given df.

References
    Zeger SL, Liang KY, Albert PS. Models for longitudinal data: a generalized estimating equation approach.
        Biometrics 1988;44:1049-1060 (subject-specific versus population-averaged parameters).
    Lin L, Chu H. Meta-analysis of proportions using generalized linear mixed models. Epidemiology
        2020;31:713-717 (the marginal versus the median proportion).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from metacalc.meta.distributions import norm_ppf, t_isf
from metacalc.meta.errors import InvalidInput

# E[f(Z)], Z ~ N(0, 1), by the trapezoidal rule on [-10, 10] with step 1/40: for a function analytic in a strip
# of half-width d its error falls as exp(-2 pi d / step), and expit(mu + tau z) has its poles at d = pi / tau,
# so the error is below 1e-13 up to tau = 25 (the tails beyond 10 weigh 1.5e-23). Gauss-Hermite rules converge
# slowly here: 61 nodes are off by 2e-5 at tau = 5.
_NODES = np.linspace(-10.0, 10.0, 801)
_WEIGHTS = np.exp(-0.5 * _NODES**2)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def _expit(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def population_average(mu: ArrayLike, tau: ArrayLike) -> np.ndarray:
    """E[expit(mu + tau Z)], Z ~ N(0, 1): the proportion of all patients across settings (arrays broadcast;
    NaN in, NaN out). At tau = 0 it is expit(mu)."""
    mu_, tau_ = np.broadcast_arrays(np.asarray(mu, dtype=float), np.asarray(tau, dtype=float))
    return (_expit(mu_[..., None] + tau_[..., None] * _NODES) * _WEIGHTS).sum(axis=-1)


def mean_logit_for_average(average: float, tau: float) -> float:
    """The mean logit mu at which the population-average proportion is ``average`` (bisection to double
    precision; the average increases in mu)."""
    if not 0 < average < 1:
        raise InvalidInput(f"the population-average proportion must lie strictly between 0 and 1 (got {average})")
    if tau == 0:
        return math.log(average / (1 - average))
    lo, hi = -40.0, 40.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if population_average(mid, tau) < average:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def critical_value(level: float, df: ArrayLike | None = None) -> np.ndarray:
    """The two-sided critical value at ``level``: normal, or Student's t on ``df`` (NaN where df < 1)."""
    if df is None:
        return np.asarray(norm_ppf(0.5 + level / 2), dtype=float)
    degrees = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(degrees >= 1, t_isf((1 - level) / 2, np.maximum(degrees, 1)), np.nan)


def population_average_interval(estimate: ArrayLike, se: ArrayLike, tau2: ArrayLike, level: float = 0.95,
                                df: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The GLMM's interval for mu, estimate -/+ crit * se, mapped to the population-average proportion at
    tau = sqrt(tau2). ``crit`` is the normal quantile, or Student's t on ``df`` degrees of freedom (NaN limits
    where df < 1). The average increases in mu, so limits map to limits.

    The ``auto`` rule uses df = (number of case series) - 1 with three or more series: only studies with n > 1
    carry information on tau², the reasoning of the Hartung-Knapp t(k - 1) interval applied to the studies that
    can differ beyond binomial noise (coverage study, tables P1 and G1).
    """
    mu, error = np.asarray(estimate, dtype=float), np.asarray(se, dtype=float)
    crit = critical_value(level, df)
    tau = np.sqrt(np.asarray(tau2, dtype=float))
    return population_average(mu - crit * error, tau), population_average(mu + crit * error, tau)
