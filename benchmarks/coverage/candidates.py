"""Interval methods the coverage study evaluates that ``metacalc.meta`` does not have (yet).

Each function is a pure function on numpy arrays, vectorised over rows (one row = one simulated review or one
sample; a 1-d input is one row), so the study can evaluate thousands of replicates at once and the next
engineer can move a function into ``metacalc/meta/`` unchanged. Levels are fractions (0.95).

Pooled proportions
    :func:`population_average` / :func:`mean_logit_for_average` -- the population-average proportion
        E[expit(mu + tau Z)] of the binomial-normal model and its inverse (the estimand discussion in README.md).
    :func:`glmm_population_average_interval` -- the GLMM's interval for mu carried to the population-average
        proportion with tau^2 fixed at its estimate (Lin & Chu 2020 discuss the marginal vs the median).
    :func:`proposed_auto` -- the ``auto`` rule this study proposes, evaluated as one more method.

Mean and median of a positive, right-skewed quantity (time to onset)
    :func:`log_t_interval` -- t interval of log values, back-transformed (an interval for the geometric mean,
        which is the median of a log-normal distribution, not its mean).
    :func:`cox_interval` -- modified Cox interval for the mean of a log-normal distribution (Olsson 2005).
    :func:`exponential_interval` -- exact chi-square interval for the mean of an exponential distribution.
    :func:`gamma_interval` -- chi-square interval for a gamma mean with the shape fixed at its ML estimate.
    :func:`bootstrap_intervals` -- percentile and BCa bootstrap intervals of the mean (Efron 1987).
    The exact order-statistic interval for the median already exists: ``metacalc.meta.means.median_interval``.
    :func:`proposed_time_summary` / :func:`reports_mean_interval` -- the proposed rule for what to report.

References
    Clopper CJ, Pearson ES. The use of confidence or fiducial limits illustrated in the case of the binomial.
        Biometrika 1934;26:404-413.
    Efron B. Better bootstrap confidence intervals. J Am Stat Assoc 1987;82:171-185.
    Efron B, Tibshirani RJ. An Introduction to the Bootstrap. Chapman & Hall 1993, ch. 14 (BCa, jackknife
        acceleration).
    Lawless JF. Statistical Models and Methods for Lifetime Data, 2nd ed. Wiley 2003, sec. 3.2 (exponential).
    Lin L, Chu H. Meta-analysis of proportions using generalized linear mixed models. Epidemiology
        2020;31:713-717.
    Minka TP. Estimating a gamma distribution. Microsoft Research technical note, 2002 (closed-form start of
        the shape MLE).
    Olsson U. Confidence intervals for the mean of a log-normal distribution. J Stat Educ 2005;13(1).
    Zeger SL, Liang KY, Albert PS. Models for longitudinal data: a generalized estimating equation approach.
        Biometrics 1988;44:1049-1060 (subject-specific vs population-averaged parameters).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

# Probabilists' Gauss-Hermite rule for E[f(Z)], Z ~ N(0, 1). 61 nodes integrate expit(mu + tau z) to 1e-12 for
# tau up to 5 (checked against 201 nodes); the runaway fits the rule rejects have larger tau and need no precision.
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(61)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def _expit(x):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))


def _rows(values):
    array = np.asarray(values, dtype=float)
    return array[None, :] if array.ndim == 1 else array


# ----------------------------------------------------------------------------------------------------------
# Pooled proportions
# ----------------------------------------------------------------------------------------------------------


def population_average(mu: ArrayLike, tau: ArrayLike) -> np.ndarray:
    """E[expit(mu + tau Z)], Z ~ N(0, 1): the proportion of all patients (across settings) who have the event,
    as opposed to expit(mu), the proportion in the median setting. Broadcasts ``mu`` and ``tau``."""
    mu, tau = np.broadcast_arrays(np.asarray(mu, dtype=float), np.asarray(tau, dtype=float))
    return (_expit(mu[..., None] + tau[..., None] * _NODES) * _WEIGHTS).sum(axis=-1)


def mean_logit_for_average(average: float, tau: float) -> float:
    """The mean logit mu at which the population-average proportion is ``average`` (scalars; bisection)."""
    if not 0 < average < 1:
        raise ValueError(f"the population-average proportion must lie strictly between 0 and 1 (got {average})")
    if tau == 0:
        return math.log(average / (1 - average))
    lo, hi = -40.0, 40.0
    for _ in range(200):  # population_average increases in mu; 200 halvings reach double precision
        mid = 0.5 * (lo + hi)
        if population_average(mid, tau) < average:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def glmm_population_average_interval(estimate: ArrayLike, se: ArrayLike, tau2: ArrayLike, level: float = 0.95,
                                     df: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The GLMM's interval for mu, estimate -/+ crit * se, mapped to the population-average proportion at
    tau = sqrt(tau2). ``crit`` is the normal quantile, or Student's t on ``df`` degrees of freedom (NaN where
    df < 1).

    population_average(mu, tau) increases in mu, so the limits map to limits; the uncertainty of tau^2 is
    ignored (a plug-in interval), which the study measures rather than assumes. The study's candidate uses
    df = (number of case series) - 1, because only studies with n > 1 carry information on tau^2: the same
    reasoning as the Hartung-Knapp t(k - 1) interval, counting the studies that can differ beyond binomial noise.
    """
    from scipy.stats import norm, t

    estimate, se = np.asarray(estimate, dtype=float), np.asarray(se, dtype=float)
    if df is None:
        crit = norm.ppf(0.5 + level / 2)
    else:
        df = np.asarray(df, dtype=float)
        with np.errstate(invalid="ignore"):
            crit = np.where(df >= 1, t.ppf(0.5 + level / 2, np.maximum(df, 1)), np.nan)
    tau = np.sqrt(np.asarray(tau2, dtype=float))
    return population_average(estimate - crit * se, tau), population_average(estimate + crit * se, tau)


# The thresholds of the proposed rule (README.md gives the table rows each one rests on).
MIN_SERIES_FOR_T = 3         # case series (n > 1) from which the GLMM interval uses t on (series - 1) df
DOMINANT_SHARE = 0.5         # with 1-2 series: a study holding more than this share of the patients dominates
RUNAWAY_TAU2 = 25.0          # tau^2 above this (logit scale, tau = 5) is a fit running off, not a heterogeneity
UNINFORMATIVE_WIDTH = 0.9    # a GLMM interval wider than this (proportion scale) says next to nothing

_EXACT = "the pooled count with its exact (Clopper-Pearson) interval is used"
REASONS = {
    "single study": "a single study: its own exact (Clopper-Pearson) interval",
    "single-patient reports": "every study is one patient: the pooled count is Binomial(k, population-average "
                              "proportion) whatever the heterogeneity, so its Clopper-Pearson interval is exact",
    "all or none": f"every study has 0 events, or every study all events: no model has a finite logit; {_EXACT}",
    "not estimable": f"the GLMM has no finite maximum or no standard error; {_EXACT}",
    "dominant series": f"one or two case series, one of them holding more than {DOMINANT_SHARE:.0%} of the "
                       f"patients: no model can tell its setting from the others; {_EXACT}, which assumes one "
                       "proportion for all settings and covers less than 95% if they differ",
    "too few series": f"fewer than {MIN_SERIES_FOR_T} case series; {_EXACT}, which assumes one proportion for all "
                      "settings and covers less than 95% if they differ",
    "tau2 runaway": f"the GLMM's tau^2 exceeds {RUNAWAY_TAU2:g} on the logit scale (a fit running off towards "
                    f"a boundary, not a plausible heterogeneity); {_EXACT}",
    "uninformative": f"the GLMM's interval is wider than {UNINFORMATIVE_WIDTH:g} on the proportion scale; {_EXACT}",
    "glmm-series": f"{MIN_SERIES_FOR_T} or more case series: binomial-normal GLMM, population-average proportion, "
                   "t interval on (number of case series - 1) degrees of freedom",
    "glmm-reports": "one or two case series, none holding more than half of the patients: binomial-normal GLMM, "
                    "population-average proportion, normal (Wald) interval; the single-patient reports carry the "
                    "information on the other settings",
}


@dataclass(frozen=True)
class AutoChoice:
    """What :func:`proposed_auto` chose for each row: ``method`` ("exact" or "glmm"), the interval on the
    proportion scale and the key of ``REASONS`` that says why."""

    method: np.ndarray
    reason: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def proposed_auto(events: ArrayLike, totals: ArrayLike, glmm_estimate: ArrayLike, glmm_se: ArrayLike,
                  glmm_tau2: ArrayLike, level: float = 0.95, runaway_tau2: float = RUNAWAY_TAU2,
                  uninformative_width: float = UNINFORMATIVE_WIDTH, borrow_from_reports: bool = True) -> AutoChoice:
    """The proposed ``auto`` rule, row by row (rows = analyses, columns = studies; whole-number counts).

    ``glmm_*``: the GLMM fit of each row on the logit scale (``GlmmResult.estimate``, ``.se``, ``.tau2``), NaN
    where it is not estimable. The first condition that holds decides:

    1. one study -> that study's exact interval ("single study");
    2. every study n = 1 -> exact pooled count ("single-patient reports");
    3. every study 0 events or every study all events -> exact ("all or none");
    4. GLMM not estimable -> exact ("not estimable");
    5. MIN_SERIES_FOR_T or more series -> GLMM, population average, t on (series - 1) df ("glmm-series");
    6. one or two series, none with more than DOMINANT_SHARE of the patients -> GLMM, population average, z
       ("glmm-reports"); otherwise exact ("dominant series");
    then a GLMM result from 5 or 6 is replaced by the exact pooled count when tau^2 > ``runaway_tau2``
    ("tau2 runaway") or its interval is wider than ``uninformative_width`` ("uninformative").
    ``borrow_from_reports=False`` drops step 6 (1-2 series always exact, "too few series"); the study runs that
    variant and the one without the two replacements to measure what each part of the rule does.
    """
    from metacalc.meta.intervals import proportion_interval

    x, n = _rows(events), _rows(totals)
    rows, k = x.shape
    events_total, total = x.sum(axis=1), n.sum(axis=1)
    exact_lower, exact_upper = proportion_interval(events_total, total, "clopper-pearson", level)
    series = (n > 1).sum(axis=1)
    dominant = n.max(axis=1) > DOMINANT_SHARE * total
    many = series >= MIN_SERIES_FOR_T
    z_lower, z_upper = glmm_population_average_interval(glmm_estimate, glmm_se, glmm_tau2, level)
    t_lower, t_upper = glmm_population_average_interval(glmm_estimate, glmm_se, glmm_tau2, level, df=series - 1)
    glmm_lower, glmm_upper = np.where(many, t_lower, z_lower), np.where(many, t_upper, z_upper)
    tau2 = np.asarray(glmm_tau2, dtype=float)
    few = "dominant series" if borrow_from_reports else "too few series"
    with np.errstate(invalid="ignore"):
        checks = [
            ("single study", np.full(rows, k == 1)),
            ("single-patient reports", series == 0),
            ("all or none", (events_total == 0) | (events_total == total)),
            ("not estimable", ~np.isfinite(glmm_upper - glmm_lower)),
            (few, ~many & (dominant | (not borrow_from_reports))),
            ("tau2 runaway", tau2 > runaway_tau2),
            ("uninformative", glmm_upper - glmm_lower > uninformative_width),
        ]
    reason = np.where(many, "glmm-series", "glmm-reports").astype(object)
    decided = np.zeros(rows, dtype=bool)
    for key, applies in checks:
        reason = np.where(~decided & applies, key, reason)
        decided |= applies
    use_glmm = ~decided
    return AutoChoice(method=np.where(use_glmm, "glmm", "exact"), reason=reason,
                      lower=np.where(use_glmm, glmm_lower, exact_lower),
                      upper=np.where(use_glmm, glmm_upper, exact_upper))


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


# ----------------------------------------------------------------------------------------------------------
# What to report for a time (README.md gives the rows of T1 each threshold rests on)
# ----------------------------------------------------------------------------------------------------------

MIN_N_MEDIAN_INTERVAL = 6    # the smallest n at which two order statistics cover the median with >= 95%
MIN_N_MEAN_INTERVAL = 10     # below this the t interval of the mean is not reported


def reports_mean_interval(n: int, t_lower: ArrayLike) -> np.ndarray:
    """Whether the proposed rule reports the t interval of the mean: n >= MIN_N_MEAN_INTERVAL and the t
    interval's lower limit is not below 0 (vectorised over ``t_lower``)."""
    return (n >= MIN_N_MEAN_INTERVAL) & (np.asarray(t_lower, dtype=float) >= 0)


def proposed_time_summary(values: ArrayLike, level: float = 0.95) -> dict:
    """What the proposed rule reports for one sample of a positive quantity (e.g. years to onset).

    Always the median and the range. From MIN_N_MEDIAN_INTERVAL values on, the exact order-statistic interval
    of the median (``metacalc.meta.means.median_interval``); below that the range is labelled with the chance
    that it contains the median, 1 - 2^(1 - n). From MIN_N_MEAN_INTERVAL values on, the t interval of the mean,
    unless its lower limit is below 0: a t interval that crosses zero on positive data signals skew under which
    it covers far less than 95% (T1), so the mean is then given without an interval, with that reason.
    """
    from scipy.stats import t

    from metacalc.meta.means import median_interval

    x = np.sort(np.asarray(values, dtype=float).ravel())
    n = x.size
    if n == 0 or np.any(~np.isfinite(x)) or np.any(x < 0):
        raise ValueError("values must be finite, non-negative numbers (at least one)")
    out: dict = {"n": n, "median": float(np.median(x)), "min": float(x[0]), "max": float(x[-1]),
                 "mean": float(x.mean()), "median_ci": None, "range_coverage": None, "mean_ci": None, "reason": ""}
    if n >= MIN_N_MEDIAN_INTERVAL:
        low, high, coverage = median_interval(x, level)
        out["median_ci"] = (low, high, coverage)
    else:
        out["range_coverage"] = 1 - 2.0 ** (1 - n) if n > 1 else 0.0
    if n < MIN_N_MEAN_INTERVAL:
        out["reason"] = (f"fewer than {MIN_N_MEAN_INTERVAL} values: a t interval of the mean covers too little "
                         "(or extends below 0) on skewed data; median and range reported")
        return out
    half = t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / np.sqrt(n)
    if not reports_mean_interval(n, x.mean() - half):
        out["reason"] = ("the t interval of the mean extends below 0: the values are too skewed for it; median "
                         "and range reported")
        return out
    out["mean_ci"] = (float(x.mean() - half), float(x.mean() + half))
    out["reason"] = "t interval of the mean"
    return out
