"""Between-study variance (tau²) estimators, Cochran's Q, I², H² and the Q-profile interval for tau².

All for the intercept-only model, reproducing metafor 3.8's ``rma.uni`` and ``confint.rma.uni`` step by step,
including their numerical choices, so that the numbers agree to ~1e-10 rather than to the solvers' tolerances:

- REML and ML use metafor's Fisher scoring (start at the Hedges (HE) estimate truncated at 0, stop when the change
  is at most 1e-5, step-halving to stay >= 0, at most 100 iterations, then metafor's check that the likelihood at
  tau² = 0 is not higher);
- PM (Paule-Mandel) and the Q-profile interval solve with R's ``uniroot`` (Brent's zeroin with tol =
  eps^0.25 ≈ 1.2e-4), ported below, on metafor's search ranges ([0, max(100, 10 mad(yi)²)] for PM;
  [min(0, tau²), max(100, 10 tau²)] for the profile);
- DL, HE and SJ are closed forms, truncated at 0 as metafor does.

References: DerSimonian & Laird 1986; Hedges & Olkin 1985 (HE); Sidik & Jonkman 2005; Paule & Mandel 1982;
Viechtbauer 2005 (ML/REML, Fisher scoring); Viechtbauer 2007 (Q-profile); Higgins & Thompson 2002 (I², H²).
"""

from __future__ import annotations

import math

import numpy as np

TAU2_METHODS = ("FE", "DL", "REML", "ML", "PM", "HE", "SJ")

# metafor's rma.uni control defaults
THRESHOLD = 1e-5
MAXITER = 100
TAU2_MAX = 100.0
UNIROOT_TOL = np.finfo(float).eps ** 0.25
DBL_EPSILON = np.finfo(float).eps


class EstimationError(ValueError):
    """metafor would stop with an error here (non-convergence, tau2.max too low)."""


def zeroin(f, lower, upper, f_lower, f_upper, tol=UNIROOT_TOL, maxiter=1000):
    """R's ``uniroot`` (R_zeroin2 from R's stats/src/zeroin.c), step for step, so roots agree with R exactly.

    Returns the root estimate. After ``maxiter`` iterations without convergence R only warns and returns the
    current estimate, and so does this function; end points of the same sign raise EstimationError (R's error).
    """
    if f_lower * f_upper > 0:
        raise EstimationError("f() values at end points not of opposite sign")
    a, b = lower, upper
    fa, fb = f_lower, f_upper
    c, fc = a, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(maxiter + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * DBL_EPSILON * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


def weighted_mean(yi, wi):
    return float(np.sum(wi * yi) / np.sum(wi))


def q_statistic(yi, vi, tau2=0.0):
    """Generalised Q: sum of w_i (y_i - mu_w)^2 with w_i = 1/(v_i + tau2). tau2 = 0 gives Cochran's Q."""
    wi = 1.0 / (vi + tau2)
    mu = weighted_mean(yi, wi)
    return float(np.sum(wi * (yi - mu) ** 2))


def _hedges(yi, vi):
    k = len(yi)
    centred = yi - yi.mean()
    return (float(np.sum(centred**2)) - float(np.sum(vi)) * (k - 1) / k) / (k - 1)


def _dersimonian_laird(yi, vi):
    k = len(yi)
    wi = 1.0 / vi
    trace_p = float(np.sum(wi) - np.sum(wi**2) / np.sum(wi))
    return (q_statistic(yi, vi) - (k - 1)) / trace_p


def _sidik_jonkman(yi, vi):
    k = len(yi)
    tau2_0 = float(np.var(yi))  # metafor: var(yi) * (k - 1) / k
    return tau2_0 * q_statistic(yi, vi, tau2_0) / (k - 1)


def _paule_mandel(yi, vi):
    k = len(yi)
    target = k - 1

    def excess(tau2):
        return q_statistic(yi, vi, tau2) - target

    at_zero = excess(0.0)
    if at_zero < 0:
        return 0.0
    upper = search_limit(yi)
    at_max = excess(upper)
    if at_max > 0:
        raise EstimationError(f"Paule-Mandel: value of 'tau2.max' ({upper:g}) too low")
    return zeroin(excess, 0.0, upper, at_zero, at_max, maxiter=MAXITER)  # metafor passes its maxiter (100)


def search_limit(yi):
    """metafor's default tau2.max for rma.uni's root searches: max(100, 10 * mad(yi)²), R's mad (constant 1.4826)."""
    median = np.median(yi)
    mad = 1.4826 * float(np.median(np.abs(yi - median)))
    return max(TAU2_MAX, 10 * mad**2)


def log_likelihood(yi, vi, tau2, reml):
    """metafor's (restricted) log-likelihood of the intercept-only model."""
    k = len(yi)
    wi = 1.0 / (vi + tau2)
    mu = weighted_mean(yi, wi)
    rss = float(np.sum(wi * (yi - mu) ** 2))
    if reml:
        return -0.5 * (k - 1) * math.log(2 * math.pi) - 0.5 * float(np.sum(np.log(vi + tau2))) - 0.5 * math.log(
            float(np.sum(wi))
        ) - 0.5 * rss
    return -0.5 * k * math.log(2 * math.pi) - 0.5 * float(np.sum(np.log(vi + tau2))) - 0.5 * rss


def _fisher_scoring(yi, vi, reml):
    tau2 = max(0.0, _hedges(yi, vi))
    change = THRESHOLD + 1
    iterations = 0
    while change > THRESHOLD:
        iterations += 1
        old = tau2
        wi = 1.0 / (vi + tau2)
        sw = wi.sum()
        residual = yi - np.sum(wi * yi) / sw
        ypp_y = float(np.sum(wi**2 * residual**2))
        if reml:
            sw2 = float(np.sum(wi**2))
            trace_p = sw - sw2 / sw
            trace_pp = sw2 - 2 * float(np.sum(wi**3)) / sw + sw2**2 / sw**2
            adj = (ypp_y - trace_p) / trace_pp
        else:
            adj = (ypp_y - sw) / float(np.sum(wi**2))
        if not math.isfinite(adj):
            adj = 0.0
        if tau2 == 0 and adj < 0:
            adj = 0.0  # what metafor's halving reaches (the step underflows to -0.0), without ~1075 halvings
        while tau2 + adj < 0:
            adj /= 2
        tau2 = tau2 + adj
        change = abs(old - tau2)
        if iterations > MAXITER:
            raise EstimationError("Fisher scoring algorithm did not converge")
    # metafor's guard against a local maximum: fall back to 0 when the likelihood there is higher
    if log_likelihood(yi, vi, 0.0, reml) - log_likelihood(yi, vi, tau2, reml) > UNIROOT_TOL and tau2 > THRESHOLD:
        tau2 = 0.0
    return tau2


def estimate_tau2(yi, vi, method="REML"):
    """tau² by ``method`` (one of TAU2_METHODS), truncated at 0; k = 1 and "FE" give 0 as metafor does."""
    yi = np.asarray(yi, dtype=float)
    vi = np.asarray(vi, dtype=float)
    if method not in TAU2_METHODS:
        raise ValueError(f"unknown tau2 method {method!r}; expected one of {', '.join(TAU2_METHODS)}")
    if method == "FE" or len(yi) == 1:
        return 0.0
    if method == "DL":
        tau2 = _dersimonian_laird(yi, vi)
    elif method == "HE":
        tau2 = _hedges(yi, vi)
    elif method == "SJ":
        tau2 = _sidik_jonkman(yi, vi)
    elif method == "PM":
        tau2 = _paule_mandel(yi, vi)
    else:
        tau2 = _fisher_scoring(yi, vi, reml=(method == "REML"))
    return max(0.0, float(tau2))


def i2_h2(q, k, vi, tau2, common_effect):
    """metafor's I² (percent) and H²: from Q for a common-effect model, else from tau² and the typical
    within-study variance (k - 1) / tr(P) (Higgins & Thompson 2002, metafor's i2def "1")."""
    if k <= 1:
        return 0.0, 1.0
    if common_effect:
        i2 = max(0.0, 100 * (q - (k - 1)) / q) if q > 0 else 0.0
        return i2, q / (k - 1)
    typical = typical_variance(vi)
    return 100 * tau2 / (typical + tau2), tau2 / typical + 1


def typical_variance(vi):
    wi = 1.0 / np.asarray(vi, dtype=float)
    k = len(wi)
    return (k - 1) / float(np.sum(wi) - np.sum(wi**2) / np.sum(wi))


def tau2_profile_interval(yi, vi, tau2, level=0.95):
    """Q-profile confidence interval for tau² (Viechtbauer 2007) as metafor's ``confint(rma)``.

    Bounds are truncated at 0; the search is over [min(0, tau2), max(100, 10 tau2)], and a bound beyond the
    upper end is reported as that end (metafor prints it with ">"). Needs k >= 2 (k = 1 raises ValueError;
    ``rma`` then reports no interval); k = 2 works as any other k, with 1 degree of freedom. A bound whose search
    fails is nan, as metafor gives NA with a warning.
    """
    from scipy.stats import chi2

    yi = np.asarray(yi, dtype=float)
    vi = np.asarray(vi, dtype=float)
    k = len(yi)
    if k < 2:
        raise ValueError("the Q-profile interval needs at least 2 studies")
    alpha = 1 - level
    lower_search = min(0.0, tau2)
    upper_search = max(TAU2_MAX, tau2 * 10, lower_search * 10)
    crit_upper = float(chi2.isf(alpha / 2, k - 1))
    crit_lower = float(chi2.ppf(alpha / 2, k - 1))

    def q_at(value):
        return q_statistic(yi, vi, value)

    q_max = q_at(upper_search)
    q_min = q_at(lower_search)
    ci_low = ci_high = math.nan

    if q_min < crit_lower:
        ci_low = ci_high = lower_search
    elif q_max > crit_lower:
        ci_high = upper_search
    else:
        try:
            ci_high = zeroin(lambda t: q_at(t) - crit_lower, lower_search, upper_search, q_min - crit_lower,
                             q_max - crit_lower)
        except EstimationError:
            ci_high = math.nan

    if q_max > crit_upper:
        ci_low = ci_high = upper_search
    elif q_min < crit_upper:
        ci_low = lower_search
    else:
        try:
            ci_low = zeroin(lambda t: q_at(t) - crit_upper, lower_search, upper_search, q_min - crit_upper,
                            q_max - crit_upper)
        except EstimationError:
            ci_low = math.nan
    return ci_low, ci_high
