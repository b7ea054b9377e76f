"""Many intercept-only inverse-variance fits at once, vectorised across analyses.

A review reruns dozens of therapy x subgroup x sensitivity fits (and a living review reruns them all), so
``rma_batch`` fits a 2-D array of analyses in one pass of numpy operations: rows are analyses, columns studies,
NaN pads rows with fewer studies. It gives the same numbers as calling ``random_effects.rma`` row by row (to
rounding: the tests require 1e-10 relative), because it runs the same algorithms step for step:

- DL, HE, SJ and FE are closed forms evaluated for all rows together;
- REML and ML run metafor's Fisher scoring for all rows together, each row stopping at its own iteration (a row
  that has converged is frozen while the others go on), with the same step-halving and local-maximum check;
- PM needs a root search per row (R's uniroot); it is run row by row with the scalar code.

The Q-profile interval for tau² is not computed here (it is a root search per row); call ``rma`` for it.
Rows where metafor would stop with an error (Fisher scoring not converging, PM beyond tau2.max) are returned
with ``converged`` False and nan values instead of stopping the batch.
"""

from __future__ import annotations

import numpy as np

from metacalc.meta import heterogeneity
from metacalc.meta.results import BatchResult


def _as_matrix(values, name):
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[None, :]
    if values.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (rows = analyses, columns = studies)")
    return values


def _weighted(Y, W):
    sw = W.sum(axis=1)
    mu = (W * Y).sum(axis=1) / sw
    return sw, mu


def _q(Y, V, mask, tau2):
    W = np.where(mask, 1.0 / (V + tau2[:, None]), 0.0)
    sw, mu = _weighted(Y, W)
    return (W * (Y - mu[:, None]) ** 2).sum(axis=1)


def _hedges(Y, V, mask, k):
    ybar = Y.sum(axis=1) / k
    rss = np.where(mask, (Y - ybar[:, None]) ** 2, 0.0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (rss - np.where(mask, V, 0.0).sum(axis=1) * (k - 1) / k) / (k - 1), rss / k


def _log_likelihood(Y, V, mask, tau2, reml, k):
    W = np.where(mask, 1.0 / (V + tau2[:, None]), 0.0)
    sw, mu = _weighted(Y, W)
    rss = (W * (Y - mu[:, None]) ** 2).sum(axis=1)
    log_v = np.where(mask, np.log(V + tau2[:, None]), 0.0).sum(axis=1)
    if reml:
        return -0.5 * (k - 1) * np.log(2 * np.pi) - 0.5 * log_v - 0.5 * np.log(sw) - 0.5 * rss
    return -0.5 * k * np.log(2 * np.pi) - 0.5 * log_v - 0.5 * rss


def _fisher_scoring(Y, V, mask, k, start, reml):
    tau2 = np.maximum(0.0, start)
    active = k > 1
    converged = np.ones(len(k), dtype=bool)
    iterations = np.zeros(len(k), dtype=int)
    while np.any(active):
        iterations[active] += 1
        W = np.where(mask, 1.0 / (V + tau2[:, None]), 0.0)
        sw, mu = _weighted(Y, W)
        W2 = W * W
        sw2 = W2.sum(axis=1)
        ypp_y = (W2 * (Y - mu[:, None]) ** 2).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            if reml:
                trace_p = sw - sw2 / sw
                trace_pp = sw2 - 2 * (W2 * W).sum(axis=1) / sw + sw2**2 / sw**2
                adj = (ypp_y - trace_p) / trace_pp
            else:
                adj = (ypp_y - sw) / sw2
        adj = np.where(np.isfinite(adj) & active, adj, 0.0)
        # metafor halves the step until tau² stays >= 0; from tau² = 0 a negative step halves until it underflows
        # to -0.0, i.e. tau² stays 0, which is set directly (the same number, without ~1075 halvings)
        adj = np.where((tau2 == 0) & (adj < 0), 0.0, adj)
        negative = np.flatnonzero(tau2 + adj < 0)
        if negative.size:
            base, step = tau2[negative], adj[negative]
            while np.any(base + step < 0):
                step = np.where(base + step < 0, step / 2, step)
            adj[negative] = step
        new = tau2 + adj
        change = np.abs(tau2 - new)
        tau2 = np.where(active, new, tau2)
        stopped = active & (change <= heterogeneity.THRESHOLD)
        failed = active & ~stopped & (iterations > heterogeneity.MAXITER)
        converged[failed] = False
        active = active & ~stopped & ~failed
    check = converged & (k > 1) & (tau2 > heterogeneity.THRESHOLD)
    if np.any(check):
        ll0 = _log_likelihood(Y, V, mask, np.zeros_like(tau2), reml, k)
        ll = _log_likelihood(Y, V, mask, tau2, reml, k)
        tau2 = np.where(check & (ll0 - ll > heterogeneity.UNIROOT_TOL), 0.0, tau2)
    return tau2, converged, iterations


def rma_batch(yi, vi, method="REML", test="z", level=0.95) -> BatchResult:
    """Fit ``rma(yi[r], vi[r], method, test, level)`` for every row r of the 2-D arrays ``yi`` and ``vi``.

    NaN marks padding (a study position a row does not use); yi and vi must be NaN at the same places and every
    row needs at least one study. A 1-D input is one analysis.
    """
    from scipy.stats import chi2, norm, t as student_t

    if method not in heterogeneity.TAU2_METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(heterogeneity.TAU2_METHODS)}")
    if test not in ("z", "knha"):
        raise ValueError(f"unknown test {test!r}; expected 'z' or 'knha'")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1 (got {level})")
    yi = _as_matrix(yi, "yi")
    vi = _as_matrix(vi, "vi")
    if yi.shape != vi.shape:
        raise ValueError(f"yi and vi differ in shape ({yi.shape} and {vi.shape})")
    mask = np.isfinite(yi)
    if np.any(mask != np.isfinite(vi)):
        raise ValueError("yi and vi must be missing (NaN) at the same places")
    if np.any(mask & ~(vi > 0)):
        raise ValueError("sampling variances vi must be positive")
    k = mask.sum(axis=1)
    if np.any(k == 0):
        raise ValueError(f"row(s) {np.flatnonzero(k == 0).tolist()} have no studies")
    Y = np.where(mask, yi, 0.0)
    V = np.where(mask, vi, 1.0)
    rows = len(k)
    converged = np.ones(rows, dtype=bool)
    iterations = np.zeros(rows, dtype=int)

    if method == "FE":
        tau2 = np.zeros(rows)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            hedges, spread = _hedges(Y, V, mask, k)
            if method == "HE":
                tau2 = hedges
            elif method == "DL":
                W0 = np.where(mask, 1.0 / V, 0.0)
                sw0 = W0.sum(axis=1)
                tau2 = (_q(Y, V, mask, np.zeros(rows)) - (k - 1)) / (sw0 - (W0**2).sum(axis=1) / sw0)
            elif method == "SJ":
                tau2 = spread * _q(Y, V, mask, spread) / (k - 1)
            elif method == "PM":
                tau2 = np.zeros(rows)
                for r in np.flatnonzero(k > 1):
                    try:
                        tau2[r] = heterogeneity.estimate_tau2(yi[r, mask[r]], vi[r, mask[r]], "PM")
                    except heterogeneity.EstimationError:
                        converged[r] = False
            else:
                tau2, converged, iterations = _fisher_scoring(Y, V, mask, k, hedges, reml=(method == "REML"))
        tau2 = np.where(k > 1, np.maximum(0.0, np.nan_to_num(tau2)), 0.0)

    W = np.where(mask, 1.0 / (V + tau2[:, None]), 0.0)
    sw, estimate = _weighted(Y, W)
    variance = 1.0 / sw
    alpha = 1 - level
    knha = (test == "knha") & (k > 1)  # metafor uses z for k = 1
    with np.errstate(divide="ignore", invalid="ignore"):
        rss = (W * (Y - estimate[:, None]) ** 2).sum(axis=1)
        s2w = np.where(rss <= np.finfo(float).eps, 0.0, rss / np.maximum(k - 1, 1))
        variance = np.where(knha, variance * s2w, variance)
        df = np.maximum(k - 1, 1)
        crit = np.where(knha, student_t.isf(alpha / 2, df), norm.isf(alpha / 2))
        se = np.sqrt(variance)
        statistic = estimate / se
        pvalue = np.where(knha, 2 * student_t.sf(np.abs(statistic), df), 2 * norm.sf(np.abs(statistic)))

        q = np.where(k > 1, np.maximum(0.0, _q(Y, V, mask, np.zeros(rows))), 0.0)
        q_pvalue = np.where(k > 1, chi2.sf(q, np.maximum(k - 1, 1)), 1.0)
        if method == "FE":
            i2 = np.where((k > 1) & (q > 0), np.maximum(0.0, 100 * (q - (k - 1)) / q), 0.0)
            h2 = np.where(k > 1, q / np.maximum(k - 1, 1), 1.0)
            prediction_sd = np.full(rows, np.nan)
        else:
            W0 = np.where(mask, 1.0 / V, 0.0)
            sw0 = W0.sum(axis=1)
            typical = (k - 1) / (sw0 - (W0**2).sum(axis=1) / sw0)
            i2 = np.where(k > 1, 100 * tau2 / (typical + tau2), 0.0)
            h2 = np.where(k > 1, tau2 / typical + 1, 1.0)
            prediction_sd = np.sqrt(variance + tau2)

    def failed_to_nan(values):
        return np.where(converged, values, np.nan)

    return BatchResult(
        k=k,
        method=method,
        test=test,
        level=level,
        estimate=failed_to_nan(estimate),
        se=failed_to_nan(se),
        ci_lower=failed_to_nan(estimate - crit * se),
        ci_upper=failed_to_nan(estimate + crit * se),
        pi_lower=failed_to_nan(estimate - crit * prediction_sd),
        pi_upper=failed_to_nan(estimate + crit * prediction_sd),
        statistic=failed_to_nan(statistic),
        pvalue=failed_to_nan(pvalue),
        tau2=failed_to_nan(tau2),
        i2=failed_to_nan(i2),
        h2=failed_to_nan(h2),
        q=failed_to_nan(q),
        q_pvalue=failed_to_nan(q_pvalue),
        converged=converged,
        iterations=iterations,
    )
