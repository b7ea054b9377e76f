"""Inverse-variance common-effect and random-effects models: metafor's ``rma.uni`` for an intercept-only model.

``rma(yi, vi)`` reproduces ``metafor::rma(yi, vi, method=..., test=...)`` together with ``predict()`` (the
prediction interval) and ``confint()`` (the Q-profile interval for tau²):

- pooled estimate with weights 1/(v_i + tau²) and its standard error (Hedges & Vevea 1998);
- test="knha": Hartung-Knapp (Hartung & Knapp 2001; Sidik & Jonkman 2002): the variance is multiplied by
  s² = sum w_i (y_i - mu)² / (k - 1) (no truncation of s² at 1, as metafor's "knha"; s² is set to 0 when the
  weighted residual sum of squares is below machine epsilon, as metafor does) and t(k - 1) quantiles are used;
- prediction interval estimate ± crit * sqrt(se² + tau²) with the same critical value as the CI (metafor's
  default ``pi.type``; Riley et al. 2011 discuss the t(k - 2) variant, which metafor does not use by default);
- Q, I², H² as metafor (see ``heterogeneity``).

k = 1: tau² = 0, Q = 0 (p = 1), I² = 0, H² = 1, no tau² interval (``tau2_ci`` None) and test="knha" falls
back to "z" (the result's ``test`` says "z"), all as metafor.
method="FE": tau² = 0, ``tau2_ci`` None (metafor's confint refuses: no random effect) and the prediction
interval is nan (metafor's predict gives none for a common-effect model).
"""

from __future__ import annotations

import math

import numpy as np

from metacalc.meta import heterogeneity
from metacalc.meta.results import RandomEffectsResult

TESTS = ("z", "knha")


def _check_inputs(yi, vi, method, test, level):
    yi = np.asarray(yi, dtype=float).ravel()
    vi = np.asarray(vi, dtype=float).ravel()
    if yi.shape != vi.shape:
        raise ValueError(f"yi and vi differ in length ({len(yi)} and {len(vi)})")
    if len(yi) == 0:
        raise ValueError("no studies to pool")
    if not (np.all(np.isfinite(yi)) and np.all(np.isfinite(vi))):
        raise ValueError("yi and vi must be finite numbers (drop missing studies first)")
    if np.any(vi <= 0):
        raise ValueError("sampling variances vi must be positive")
    if method not in heterogeneity.TAU2_METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(heterogeneity.TAU2_METHODS)}")
    if test not in TESTS:
        raise ValueError(f"unknown test {test!r}; expected 'z' or 'knha'")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1 (got {level})")
    return yi, vi


def rma(yi, vi, method="REML", test="z", level=0.95, labels=None) -> RandomEffectsResult:
    """Fit the intercept-only model to effect sizes ``yi`` with sampling variances ``vi``.

    ``method``: "FE" (common effect) or a tau² estimator "DL", "REML", "ML", "PM", "HE", "SJ".
    ``test``: "z" (normal quantiles) or "knha" (Hartung-Knapp, t with k - 1 df). ``level`` as a fraction.
    Raises ``heterogeneity.EstimationError`` where metafor stops with an error (e.g. Fisher scoring not converging).
    """
    from scipy.stats import chi2, norm, t as student_t

    yi, vi = _check_inputs(yi, vi, method, test, level)
    k = len(yi)
    if labels is not None:
        labels = tuple(str(label) for label in labels)
        if len(labels) != k:
            raise ValueError(f"{len(labels)} labels for {k} studies")

    if k == 1:
        test = "z"  # as metafor ("Setting argument test='z' since k=1"): a t test would have 0 degrees of freedom
    tau2 = heterogeneity.estimate_tau2(yi, vi, method)
    wi = 1.0 / (vi + tau2)
    sum_w = float(np.sum(wi))
    estimate = float(np.sum(wi * yi) / sum_w)
    variance = 1.0 / sum_w
    alpha = 1 - level

    if test == "knha":
        df = k - 1
        rss = float(np.sum(wi * (yi - estimate) ** 2))
        s2w = 0.0 if rss <= np.finfo(float).eps else rss / df
        variance *= s2w
        crit = float(student_t.isf(alpha / 2, df)) if df > 0 else math.nan
    else:
        df = None
        crit = float(norm.isf(alpha / 2))
    se = math.sqrt(variance)
    statistic = estimate / se if se > 0 else math.copysign(math.inf, estimate) if estimate != 0 else math.nan
    if test == "knha":
        pvalue = float(2 * student_t.sf(abs(statistic), df)) if df > 0 else math.nan
    else:
        pvalue = float(2 * norm.sf(abs(statistic)))

    if k > 1:
        q = heterogeneity.q_statistic(yi, vi)
        q = max(0.0, q)
        q_pvalue = float(chi2.sf(q, k - 1))
    else:
        q, q_pvalue = 0.0, 1.0
    i2, h2 = heterogeneity.i2_h2(q, k, vi, tau2, common_effect=(method == "FE"))

    tau2_ci = None
    if k > 1 and method != "FE":
        tau2_ci = heterogeneity.tau2_profile_interval(yi, vi, tau2, level)

    # metafor's predict() gives no prediction interval for a common-effect model: there is no tau² to predict with
    prediction_sd = math.nan if method == "FE" else math.sqrt(variance + tau2)
    return RandomEffectsResult(
        k=k,
        method=method,
        test=test,
        level=level,
        estimate=estimate,
        se=se,
        ci_lower=estimate - crit * se,
        ci_upper=estimate + crit * se,
        pi_lower=estimate - crit * prediction_sd,
        pi_upper=estimate + crit * prediction_sd,
        statistic=statistic,
        pvalue=pvalue,
        df=df,
        tau2=tau2,
        tau2_ci=tau2_ci,
        i2=i2,
        h2=h2,
        q=q,
        q_df=k - 1,
        q_pvalue=q_pvalue,
        weights=100 * wi / sum_w,
        yi=yi,
        vi=vi,
        labels=labels,
    )
