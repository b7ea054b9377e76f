"""Interval methods the coverage study evaluates that ``metacalc.meta`` does not have, because the study found
them wanting for what a case-report review reports (README.md, table T1). The methods the rules need live in the
core and the study calls them there: ``metacalc.meta.population_average`` (the population-average proportion and
the GLMM's interval carried to it), ``metacalc.meta.auto_rule`` (the ``auto`` rule, ``choose_auto``) and
``metacalc.meta.summaries`` (the time rule: ``summarise_values``, ``reports_mean_interval``,
``median_interval``).

Each function is a pure function on numpy arrays, vectorised over rows (one row = one sample; a 1-d input is one
row), so the study can evaluate thousands of replicates at once. Levels are fractions (0.95).

Mean of a positive, right-skewed quantity (time to onset)
    :func:`log_t_interval` -- t interval of log values, back-transformed (an interval for the geometric mean,
        which is the median of a log-normal distribution, not its mean).
    :func:`cox_interval` -- modified Cox interval for the mean of a log-normal distribution (Olsson 2005).
    :func:`exponential_interval` -- exact chi-square interval for the mean of an exponential distribution.
    :func:`gamma_interval` -- chi-square interval for a gamma mean with the shape fixed at its ML estimate.
    :func:`bootstrap_intervals` -- percentile and BCa bootstrap intervals of the mean (Efron 1987).

References
    Efron B. Better bootstrap confidence intervals. J Am Stat Assoc 1987;82:171-185.
    Efron B, Tibshirani RJ. An Introduction to the Bootstrap. Chapman & Hall 1993, ch. 14 (BCa, jackknife
        acceleration).
    Lawless JF. Statistical Models and Methods for Lifetime Data, 2nd ed. Wiley 2003, sec. 3.2 (exponential).
    Minka TP. Estimating a gamma distribution. Microsoft Research technical note, 2002 (closed-form start of
        the shape MLE).
    Olsson U. Confidence intervals for the mean of a log-normal distribution. J Stat Educ 2005;13(1).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def _rows(values):
    array = np.asarray(values, dtype=float)
    return array[None, :] if array.ndim == 1 else array


# ----------------------------------------------------------------------------------------------------------
# Mean of a positive, right-skewed quantity
# ----------------------------------------------------------------------------------------------------------


def _t_quantile(n, level):
    from scipy.stats import t

    return t.ppf(0.5 + level / 2, n - 1)


def log_t_interval(values: ArrayLike, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """exp(mean(log x) -/+ t s_log / sqrt(n)): an interval for the geometric mean (the log-normal median).

    Needs n >= 2 and positive values. It never extends below 0, but it is not an interval for the arithmetic
    mean: under a log-normal distribution that mean is exp(sigma^2 / 2) times larger.
    """
    logs = np.log(_rows(values))
    n = logs.shape[1]
    centre = logs.mean(axis=1)
    half = _t_quantile(n, level) * logs.std(axis=1, ddof=1) / np.sqrt(n)
    return np.exp(centre - half), np.exp(centre + half)


def cox_interval(values: ArrayLike, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Modified Cox interval for a log-normal mean (Olsson 2005, eq. 5), with t(n - 1) quantiles:

        exp(ybar + s^2 / 2 -/+ t sqrt(s^2 / n + s^4 / (2 (n - 1)))),   y = log x.
    """
    logs = np.log(_rows(values))
    n = logs.shape[1]
    ybar = logs.mean(axis=1)
    s2 = logs.var(axis=1, ddof=1)
    half = _t_quantile(n, level) * np.sqrt(s2 / n + s2**2 / (2 * (n - 1)))
    with np.errstate(over="ignore"):  # two very different values can give an upper limit beyond 1e308: inf
        return np.exp(ybar + s2 / 2 - half), np.exp(ybar + s2 / 2 + half)


def exponential_interval(values: ArrayLike, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact interval for the mean theta of an exponential distribution: 2 n xbar / theta ~ chi^2(2n), so
    [2 n xbar / chi^2_{2n, (1+level)/2}, 2 n xbar / chi^2_{2n, (1-level)/2}] (Lawless 2003, sec. 3.2)."""
    from scipy.stats import chi2

    x = _rows(values)
    n = x.shape[1]
    total = 2 * x.sum(axis=1)
    return total / chi2.ppf(0.5 + level / 2, 2 * n), total / chi2.ppf(0.5 - level / 2, 2 * n)


def gamma_shape_mle(values: ArrayLike) -> np.ndarray:
    """ML estimate of the gamma shape for each row: Minka's (2002) closed-form start, then Newton steps on
    log k - digamma(k) = log(mean) - mean(log x)."""
    from scipy.special import digamma, polygamma

    x = _rows(values)
    s = np.log(x.mean(axis=1)) - np.log(x).mean(axis=1)
    s = np.maximum(s, 1e-12)  # equal values: s = 0 and the shape is infinite; cap it instead
    k = (3 - s + np.sqrt((s - 3) ** 2 + 24 * s)) / (12 * s)
    for _ in range(8):
        k = k - (np.log(k) - digamma(k) - s) / (1 / k - polygamma(1, k))
        k = np.maximum(k, 1e-3)
    return k


def gamma_interval(values: ArrayLike, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Interval for a gamma mean treating the ML shape k as known: 2 n k xbar / mean ~ chi^2(2 n k).

    Exact when the shape is known; with the shape estimated from the same few values it is a plug-in whose
    coverage the study measures.
    """
    from scipy.stats import chi2

    x = _rows(values)
    n = x.shape[1]
    df = 2 * n * gamma_shape_mle(x)
    total = df * x.mean(axis=1)
    return total / chi2.ppf(0.5 + level / 2, df), total / chi2.ppf(0.5 - level / 2, df)


Interval = tuple[np.ndarray, np.ndarray]


def bootstrap_intervals(values: ArrayLike, n_boot: int, rng: np.random.Generator, level: float = 0.95,
                        chunk_cells: int = 4_000_000) -> tuple[Interval, Interval]:
    """Percentile and BCa bootstrap intervals of the mean for each row: ((lo, hi), (lo, hi)).

    Percentile: the (1 - level)/2 and (1 + level)/2 quantiles of the resampled means (what
    ``metacalc.meta.means.summarise_values`` reports). BCa (Efron 1987): those quantile levels moved by the
    bias correction z0 = Phi^-1(share of resampled means below the mean, ties counted half) and the jackknife
    acceleration a = sum(d^3) / (6 sum(d^2)^1.5), d_i = mean of jackknife means - i-th jackknife mean.
    Rows are resampled in chunks of about ``chunk_cells`` numbers; the stream of ``rng`` is used in row order,
    so the result does not depend on the chunk size.
    """
    from scipy.stats import norm

    x = _rows(values)
    rows, n = x.shape
    alpha = (1 - level) / 2
    per_chunk = max(1, chunk_cells // (n_boot * n))
    means = np.empty((rows, n_boot))
    for start in range(0, rows, per_chunk):
        block = x[start:start + per_chunk]
        picks = rng.integers(0, n, size=(block.shape[0], n_boot, n))
        means[start:start + per_chunk] = np.take_along_axis(block[:, None, :], picks, axis=2).mean(axis=2)
    means.sort(axis=1)
    percentile = (np.quantile(means, alpha, axis=1), np.quantile(means, 1 - alpha, axis=1))

    centre = x.mean(axis=1)
    below = (means < centre[:, None]).sum(axis=1) + 0.5 * (means == centre[:, None]).sum(axis=1)
    share = np.clip(below / n_boot, 0.5 / n_boot, 1 - 0.5 / n_boot)
    z0 = norm.ppf(share)
    jackknife = (x.sum(axis=1, keepdims=True) - x) / (n - 1)
    d = jackknife.mean(axis=1, keepdims=True) - jackknife
    with np.errstate(invalid="ignore", divide="ignore"):
        a = np.nan_to_num((d**3).sum(axis=1) / (6 * ((d**2).sum(axis=1)) ** 1.5))
    limits = []
    for z_alpha in (norm.ppf(alpha), norm.ppf(1 - alpha)):
        adjusted = norm.cdf(z0 + (z0 + z_alpha) / (1 - a * (z0 + z_alpha)))
        # R's quantile type 7 on each row's sorted means, at a level that differs by row
        position = adjusted * (n_boot - 1)
        low = np.clip(np.floor(position).astype(int), 0, n_boot - 1)
        high = np.minimum(low + 1, n_boot - 1)
        frac = position - low
        row = np.arange(rows)
        limits.append(means[row, low] + frac * (means[row, high] - means[row, low]))
    return percentile, (limits[0], limits[1])
