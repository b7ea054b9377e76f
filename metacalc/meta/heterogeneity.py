"""Between-study variance (tau²) estimators, Cochran's Q, I², H² and the Q-profile interval for tau², for many
intercept-only analyses at once.

Every function takes :class:`Rows`: analyses as rows of a padded matrix (see ``arrays``). The numbers reproduce
metafor 3.8's ``rma.uni`` and ``confint.rma.uni`` step by step, including their numerical choices, so that they
agree to ~1e-10 rather than to the solvers' tolerances:

- REML and ML use metafor's Fisher scoring (start at the Hedges (HE) estimate truncated at 0, stop when the change
  is at most 1e-5, step-halving to stay >= 0, at most 100 iterations, then metafor's check that the likelihood at
  tau² = 0 is not higher); each row stops at its own iteration;
- PM (Paule-Mandel) and the Q-profile interval solve with R's ``uniroot`` (``rootfind.zeroin``) on metafor's
  search ranges ([0, max(100, 10 mad(yi)²)] for PM; [min(0, tau²), max(100, 10 tau²)] for the profile);
- DL, HE and SJ are closed forms, truncated at 0 as metafor does.

Where metafor stops with an error (Fisher scoring not converging, PM beyond tau2.max) the row's tau² is nan and
its message is returned, so that one analysis cannot stop the others.

References: DerSimonian & Laird 1986; Hedges & Olkin 1985 (HE); Sidik & Jonkman 2005; Paule & Mandel 1982;
Viechtbauer 2005 (ML/REML, Fisher scoring); Viechtbauer 2007 (Q-profile); Higgins & Thompson 2002 (I², H²).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from metacalc.meta.arrays import study_sum
from metacalc.meta.distributions import chi2_isf, chi2_ppf
from metacalc.meta.errors import InvalidInput
from metacalc.meta.options import TAU2_METHODS  # noqa: F401 (re-exported: the estimators of this module)
from metacalc.meta.rootfind import UNIROOT_TOL, zeroin

# metafor's rma.uni control defaults
THRESHOLD = 1e-5
MAXITER = 100
TAU2_MAX = 100.0

FISHER_NOT_CONVERGED = "Fisher scoring algorithm did not converge"


@dataclass(frozen=True)
class Rows:
    """Analyses as rows: ``y`` effect sizes and ``v`` sampling variances (padding: y = 0, v = 1, ``mask`` False)."""

    y: np.ndarray
    v: np.ndarray
    mask: np.ndarray
    k: np.ndarray

    @cached_property
    def full(self) -> bool:
        """No padding at all (a single fit, or a bucket of equal k)."""
        return bool(self.mask.all())

    def take(self, rows: np.ndarray) -> Rows:
        return Rows(self.y[rows], self.v[rows], self.mask[rows], self.k[rows])

    def weights(self, tau2: np.ndarray) -> np.ndarray:
        """1 / (v + tau²) per study, 0 for padding."""
        w = 1.0 / (self.v + np.asarray(tau2)[..., None])
        return w if self.full else np.where(self.mask, w, 0.0)


def weighted_mean(rows: Rows, w: np.ndarray) -> np.ndarray:
    return study_sum(w * rows.y) / study_sum(w)


def q_statistic(rows: Rows, tau2: np.ndarray) -> np.ndarray:
    """Generalised Q: sum of w_i (y_i - mu_w)² with w_i = 1/(v_i + tau²). tau² = 0 gives Cochran's Q."""
    w = rows.weights(tau2)
    mu = weighted_mean(rows, w)
    return study_sum(w * (rows.y - mu[..., None]) ** 2)


def _hedges(rows: Rows) -> tuple[np.ndarray, np.ndarray]:
    """The HE estimate and the plain variance of y (metafor's var(yi) * (k - 1) / k, used by SJ)."""
    k = rows.k
    ybar = study_sum(rows.y) / k
    rss = study_sum(np.where(rows.mask, (rows.y - ybar[:, None]) ** 2, 0.0))
    sum_v = study_sum(np.where(rows.mask, rows.v, 0.0))
    return (rss - sum_v * (k - 1) / k) / (k - 1), rss / k


def _trace_p(rows: Rows) -> np.ndarray:
    w = rows.weights(np.zeros(len(rows.k)))
    sw = study_sum(w)
    return sw - study_sum(w * w) / sw


def _dersimonian_laird(rows: Rows) -> np.ndarray:
    return (q_statistic(rows, np.zeros(len(rows.k))) - (rows.k - 1)) / _trace_p(rows)


def _sidik_jonkman(rows: Rows, spread: np.ndarray) -> np.ndarray:
    return spread * q_statistic(rows, spread) / (rows.k - 1)


def _row_median(values: np.ndarray, mask: np.ndarray, k: np.ndarray) -> np.ndarray:
    """np.median of each row's real values (padding sorted to the end)."""
    ordered = np.sort(np.where(mask, values, np.inf), axis=1)
    index = np.arange(len(k))
    return (ordered[index, (k - 1) // 2] + ordered[index, k // 2]) / 2


def search_limit(rows: Rows) -> np.ndarray:
    """metafor's default tau2.max for rma.uni's root searches: max(100, 10 * mad(yi)²), R's mad (constant 1.4826)."""
    median = _row_median(rows.y, rows.mask, rows.k)
    mad = 1.4826 * _row_median(np.abs(rows.y - median[:, None]), rows.mask, rows.k)
    return np.maximum(TAU2_MAX, 10 * mad**2)


def _paule_mandel(rows: Rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PM tau² (0 where Q at 0 is already below k - 1), the search limits, and the rows where metafor's
    tau2.max is too low (their tau² is nan)."""
    target = (rows.k - 1).astype(float)
    at_zero = q_statistic(rows, np.zeros(len(rows.k))) - target
    upper = search_limit(rows)
    at_max = q_statistic(rows, upper) - target
    tau2 = np.zeros(len(rows.k))
    too_low = (at_zero >= 0) & (at_max > 0)
    search = np.flatnonzero((at_zero >= 0) & ~too_low)
    if search.size:
        sub = rows.take(search)

        def excess(values: np.ndarray, which: np.ndarray) -> np.ndarray:
            part = sub if len(which) == len(sub.k) else sub.take(which)  # rows come in increasing order
            return q_statistic(part, values) - (part.k - 1)

        # metafor passes its maxiter (100) to uniroot
        tau2[search], _ = zeroin(excess, np.zeros(search.size), upper[search], at_zero[search], at_max[search],
                                 maxiter=MAXITER)
    tau2[too_low] = np.nan
    return tau2, upper, too_low


def log_likelihood(rows: Rows, tau2: np.ndarray, reml: bool) -> np.ndarray:
    """metafor's (restricted) log-likelihood of the intercept-only model."""
    k = rows.k
    w = rows.weights(tau2)
    sw = study_sum(w)
    mu = study_sum(w * rows.y) / sw
    rss = study_sum(w * (rows.y - mu[:, None]) ** 2)
    log_v = study_sum(np.where(rows.mask, np.log(rows.v + tau2[:, None]), 0.0))
    if reml:
        return -0.5 * (k - 1) * np.log(2 * np.pi) - 0.5 * log_v - 0.5 * np.log(sw) - 0.5 * rss
    return -0.5 * k * np.log(2 * np.pi) - 0.5 * log_v - 0.5 * rss


def _fisher_scoring(rows: Rows, start: np.ndarray, reml: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """metafor's Fisher scoring for ML / REML; returns tau², converged and iterations per row."""
    tau2 = np.maximum(0.0, start)
    active = np.ones(len(rows.k), dtype=bool)
    converged = np.ones(len(rows.k), dtype=bool)
    iterations = np.zeros(len(rows.k), dtype=int)
    while np.any(active):
        iterations[active] += 1
        w = rows.weights(tau2)
        sw = study_sum(w)
        w2 = w * w
        sw2 = study_sum(w2)
        ypp_y = study_sum(w2 * (rows.y - (study_sum(w * rows.y) / sw)[:, None]) ** 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            if reml:
                trace_p = sw - sw2 / sw
                trace_pp = sw2 - 2 * study_sum(w2 * w) / sw + sw2**2 / sw**2
                adj = (ypp_y - trace_p) / trace_pp
            else:
                adj = (ypp_y - sw) / sw2
        adj = np.where(np.isfinite(adj) & active, adj, 0.0)
        # metafor halves the step until tau² stays >= 0; from tau² = 0 a negative step halves until it underflows
        # to -0.0, i.e. tau² stays 0, which is set directly (the same number, without ~1075 halvings)
        adj = np.where((tau2 == 0) & (adj < 0), 0.0, adj)
        while np.any(tau2 + adj < 0):
            adj = np.where(tau2 + adj < 0, adj / 2, adj)
        new = tau2 + adj
        change = np.abs(tau2 - new)
        tau2 = np.where(active, new, tau2)
        # as metafor: past maxiter the fit fails, even when this last step met the threshold
        failed = active & (iterations > MAXITER)
        converged &= ~failed
        active &= ~failed & (change > THRESHOLD)
    # metafor's guard against a local maximum: fall back to 0 when the likelihood there is higher
    check = converged & (tau2 > THRESHOLD)
    if np.any(check):
        gain = log_likelihood(rows, np.zeros_like(tau2), reml) - log_likelihood(rows, tau2, reml)
        tau2 = np.where(check & (gain > UNIROOT_TOL), 0.0, tau2)
    return tau2, converged, iterations


def estimate_tau2(rows: Rows, method: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """tau² by ``method`` (one of TAU2_METHODS) per row, truncated at 0; k = 1 and "FE" give 0 as metafor does.

    Returns ``(tau2, errors, iterations)``: ``errors`` holds metafor's message where it would stop (else None)
    and that row's tau² is nan; ``iterations`` counts Fisher scoring steps (0 for the other methods).
    """
    count = len(rows.k)
    errors = np.full(count, None, dtype=object)
    iterations = np.zeros(count, dtype=int)
    tau2 = np.zeros(count)
    several = np.flatnonzero(rows.k > 1)
    if method == "FE" or several.size == 0:
        return tau2, errors, iterations
    sub = rows.take(several)
    with np.errstate(divide="ignore", invalid="ignore"):
        hedges, spread = _hedges(sub)
        if method == "HE":
            value = hedges
        elif method == "DL":
            value = _dersimonian_laird(sub)
        elif method == "SJ":
            value = _sidik_jonkman(sub, spread)
        elif method == "PM":
            value, limits, too_low = _paule_mandel(sub)
            for position in np.flatnonzero(too_low):
                errors[several[position]] = f"Paule-Mandel: value of 'tau2.max' ({limits[position]:g}) too low"
        else:
            value, converged, steps = _fisher_scoring(sub, hedges, reml=(method == "REML"))
            iterations[several] = steps
            errors[several[~converged]] = FISHER_NOT_CONVERGED
    # truncated at 0; a closed form that is not a number (0/0 on degenerate data) counts as 0
    tau2[several] = np.maximum(0.0, np.where(np.isnan(value), 0.0, value))
    tau2[errors != None] = np.nan  # noqa: E711 (elementwise comparison of an object array)
    return tau2, errors, iterations


def typical_variance(rows: Rows) -> np.ndarray:
    """The "typical" within-study variance (k - 1) / tr(P) of Higgins & Thompson 2002 (metafor's i2def "1")."""
    return (rows.k - 1) / _trace_p(rows)


def i2_h2(rows: Rows, q: np.ndarray, tau2: np.ndarray, common_effect: bool) -> tuple[np.ndarray, np.ndarray]:
    """metafor's I² (percent) and H²: from Q for a common-effect model, else from tau² and the typical variance.
    k = 1 gives I² = 0 and H² = 1."""
    k = rows.k
    single = k <= 1
    with np.errstate(divide="ignore", invalid="ignore"):
        if common_effect:
            i2 = np.where(q > 0, np.maximum(0.0, 100 * (q - (k - 1)) / q), 0.0)
            h2 = q / (k - 1)
        else:
            typical = typical_variance(rows)
            i2 = 100 * tau2 / (typical + tau2)
            h2 = tau2 / typical + 1
    return np.where(single, 0.0, i2), np.where(single, 1.0, h2)


CENSORED_BELOW, CENSORED_ABOVE = -1, 1  # metafor's "<" and ">" before a bound of confint(rma)


def tau2_profile_interval(rows: Rows, tau2: np.ndarray,
                          level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Q-profile confidence interval for tau² (Viechtbauer 2007) as metafor's ``confint(rma)``, per row.

    Needs k >= 2 in every row (k = 2 works as any other k, with 1 degree of freedom). Bounds are truncated at 0;
    the search is over [min(0, tau2), max(100, 10 tau2)]. A bound beyond an end of the search is reported as that
    end and is censored, as metafor's ``lb.sign`` / ``ub.sign`` say: ``CENSORED_ABOVE`` (+1, printed ">100.0000")
    where Q at the upper end still exceeds the critical value, ``CENSORED_BELOW`` (-1, "<0.0000", both bounds)
    where Q at the lower end is already below it (the null/empty set). A bound whose search fails is nan, as
    metafor gives NA with a warning. The chi² quantiles depend only on k, so they are computed once per distinct k.

    Returns ``(lower, upper, lower_censored, upper_censored)``, the last two as -1 / 0 / +1 codes per row.
    """
    if np.any(rows.k < 2):
        raise InvalidInput("the Q-profile interval needs at least 2 studies")
    alpha = 1 - level
    distinct, position = np.unique(rows.k, return_inverse=True)
    crit_upper = np.asarray(chi2_isf(alpha / 2, distinct - 1), dtype=float)[position]
    crit_lower = np.asarray(chi2_ppf(alpha / 2, distinct - 1), dtype=float)[position]
    lower_search = np.minimum(0.0, tau2)
    upper_search = np.maximum(np.maximum(TAU2_MAX, tau2 * 10), lower_search * 10)
    q_max = q_statistic(rows, upper_search)
    q_min = q_statistic(rows, lower_search)

    def bound(crit: np.ndarray, which: np.ndarray) -> np.ndarray:
        """Root of Q(tau²) = crit for the rows ``which`` (nan where the search fails)."""
        sub = rows.take(which)

        target = crit[which]

        def excess(values: np.ndarray, inner: np.ndarray) -> np.ndarray:
            if len(inner) == len(sub.k):  # rows come in increasing order: all of them
                return q_statistic(sub, values) - target
            return q_statistic(sub.take(inner), values) - target[inner]

        root, _ = zeroin(excess, lower_search[which], upper_search[which], q_min[which] - crit[which],
                         q_max[which] - crit[which])
        return root

    ci_low = np.full(len(rows.k), np.nan)
    ci_high = np.full(len(rows.k), np.nan)
    low_sign = np.zeros(len(rows.k), dtype=np.int8)
    high_sign = np.zeros(len(rows.k), dtype=np.int8)
    below = q_min < crit_lower
    ci_low[below] = ci_high[below] = lower_search[below]
    low_sign[below] = high_sign[below] = CENSORED_BELOW
    beyond = ~below & (q_max > crit_lower)
    ci_high[beyond] = upper_search[beyond]
    high_sign[beyond] = CENSORED_ABOVE
    search = np.flatnonzero(~below & ~beyond)
    if search.size:
        ci_high[search] = bound(crit_lower, search)

    beyond = q_max > crit_upper
    ci_low[beyond] = ci_high[beyond] = upper_search[beyond]
    low_sign[beyond] = high_sign[beyond] = CENSORED_ABOVE
    at_lower = ~beyond & (q_min < crit_upper)
    ci_low[at_lower] = lower_search[at_lower]
    # metafor marks this bound "<" only when the search starts above 0 (never here: it starts at min(0, tau2))
    search = np.flatnonzero(~beyond & ~at_lower)
    if search.size:
        ci_low[search] = bound(crit_upper, search)
    return ci_low, ci_high, low_sign, high_sign
