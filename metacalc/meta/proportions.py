"""Pooled proportions (e.g. the response rate to one therapy) from case reports and case series.

``pool_proportions(events, totals)`` chooses, fits and back-transforms; every result says which method was used
and why (``reason``), and what a reader must know (``warnings``).

Methods
-------
"exact": the pooled count X/N = sum(x)/sum(n) with the exact Clopper-Pearson interval; study weights n_i/N.
    No between-study model: tau², Q, I², H² and the prediction interval are null.
"iv": two-step inverse-variance model on ``measure`` (PLO logit, PR raw, PAS arcsine, PFT Freeman-Tukey) with
    metafor's escalc continuity correction (``cc``/``add``), tau² by ``tau2_method`` ("FE" for a common-effect
    model), optional Hartung-Knapp (``knha``), back-transformed as metafor (expit, sin², Miller's inverse with the
    harmonic mean of n, identity). Numbers agree with metafor 3.8.1 ``escalc`` + ``rma`` + ``predict`` +
    ``confint`` (tests/fixtures/metafor/iv_reference.json).
"glmm": the binomial-normal random-intercept model (``metacalc.meta.glmm.rma_glmm``, metafor's
    ``rma.glmm(measure="PLO")``).
"auto" (the default) is the rule for case-report data:
    - every study a single patient (n = 1) -> "exact". A random-effects model over single patients cannot
      separate between-study variance from binomial noise (each study is one Bernoulli draw), and the
      inverse-variance route needs metafor's continuity correction, which moves every report: with metafor's
      defaults (add = 1/2, to = "only0") a responder becomes 1.5/2 = 0.75 and a non-responder 0.5/2 = 0.25, so
      14 responders in 20 reports pool to 0.600 (95% CI 0.466 to 0.734) under PR and 0.608 (0.431 to 0.760)
      under PLO (metafor 3.8.1, FE, REML and DL alike since tau² = 0), whereas the pooled count is 14/20 = 0.700
      (Clopper-Pearson 0.457 to 0.881). These numbers are recorded by iv_reference.R.
    - every study 0 events, or every study all events -> "exact" (the GLMM's pooled logit is infinite).
    - otherwise (at least one case series, n > 1) -> "glmm": the exact binomial likelihood, no continuity
      correction, and tau² is identified from the series. If the GLMM has no finite maximum, "exact".

Studies: every result lists each study's raw proportion x/n with its ``ci_method`` interval (Clopper-Pearson by
default, whatever the pooling method) and its weight in percent (n_i/N for "exact", the model's inverse-variance
weight for "iv", null for "glmm", which has none).

Freeman-Tukey warning: Miller's inverse is evaluated at the harmonic mean n_hm of the study sizes. Any pooled
value below the transform of 0 events at n_hm back-transforms to exactly 0 (and above that of n_hm events to 1);
that dead zone is about 1/(4 (n_hm + 1)) wide on the proportion scale: 14.6% at n_hm = 1, 4.2% at 5, 2.3% at 10.
Below n_hm = 10 the dead zone exceeds 2% and covers the rates a case-report review is often about, so the result
carries a warning (PFT_HARMONIC_MEAN_WARNING); values that actually fall there, or where Miller's formula has no
solution, get their own warning.

Edge cases (all finite, never NaN in ``to_dict()``): k = 1 (tau² = 0, no tau² interval); every study 0 or all
events ("exact" under auto; under "iv" the continuity correction makes the model fit); tau² = 0 (I² = 0, H² = 1,
tau² interval [0, 0] or [0, upper]); identical studies (Q = 0). Counts that are impossible (x > n, n < 1,
fractional) raise ``UserError``; so does "iv" with ``cc="none"`` when a study has 0 or all events under PLO or PR
(its logit or variance is infinite/zero; metafor would silently drop it).
"""

from __future__ import annotations

import math
import warnings as warnings_module

import numpy as np

from metacalc.errors import UserError
from metacalc.meta.results import ProportionResult, StudyProportion

METHODS = ("auto", "exact", "iv", "glmm")
PFT_HARMONIC_MEAN_WARNING = 10.0

REASON_ALL_REPORTS = (
    "every study is a single-patient report (n = 1): between-study variance cannot be identified from single "
    "patients and the inverse-variance route needs a continuity correction that moves each report to 0.25 or "
    "0.75 (14 responders in 20 reports would pool to 0.60 instead of 0.70), so the pooled count with an exact "
    "Clopper-Pearson interval is used"
)
REASON_ALL_ZERO = ("every study has 0 events: no model has a finite pooled logit, so the pooled count with an exact "
                   "Clopper-Pearson interval is used")
REASON_ALL_EVENTS = ("every study has all events: no model has a finite pooled logit, so the pooled count with an "
                     "exact Clopper-Pearson interval is used")
REASON_SERIES = (
    "at least one case series (n > 1): binomial-normal GLMM (random-intercept logistic model, maximum likelihood, "
    "adaptive Gauss-Hermite quadrature), which uses the exact binomial likelihood without continuity correction"
)


def check_counts(events, totals, labels=None):
    """Events and totals as integer arrays with study labels; every bad study is listed in one UserError."""
    x = np.asarray(events, dtype=float).ravel()
    n = np.asarray(totals, dtype=float).ravel()
    if x.shape != n.shape:
        raise UserError([f"events and totals differ in length ({x.size} and {n.size})"])
    if x.size == 0:
        raise UserError(["no studies to pool"])
    if labels is None:
        labels = [f"Study {i + 1}" for i in range(x.size)]
    labels = [str(label) for label in labels]
    if len(labels) != x.size:
        raise UserError([f"{len(labels)} labels for {x.size} studies"])
    problems = []
    for label, xi, ni in zip(labels, x, n):
        if not (math.isfinite(xi) and math.isfinite(ni)):
            problems.append(f"{label}: events and total must both be given (got {xi:g} of {ni:g})")
        elif xi != round(xi) or ni != round(ni):
            problems.append(f"{label}: events and total must be whole numbers (got {xi:g} of {ni:g})")
        elif ni < 1:
            problems.append(f"{label}: total must be at least 1 (got {ni:g})")
        elif xi < 0 or xi > ni:
            problems.append(f"{label}: events must be between 0 and the total (got {xi:g} of {ni:g})")
    if problems:
        raise UserError(problems)
    return x.astype(int), n.astype(int), labels


def _studies(x, n, labels, weights, ci_method, level):
    from metacalc.meta.intervals import proportion_interval

    lower, upper = proportion_interval(x, n, ci_method, level)
    return tuple(
        StudyProportion(label, int(xi), int(ni), xi / ni, float(lo), float(hi), None if weights is None else float(w))
        for label, xi, ni, lo, hi, w in zip(labels, x, n, lower, upper,
                                            weights if weights is not None else [None] * len(x))
    )


def _choose(x, n):
    if np.all(n == 1):
        return "exact", REASON_ALL_REPORTS
    if np.all(x == 0):
        return "exact", REASON_ALL_ZERO
    if np.all(x == n):
        return "exact", REASON_ALL_EVENTS
    return "glmm", REASON_SERIES


def pool_proportions(events, totals, method="auto", measure="PLO", tau2_method="REML", knha=False, cc="only0",
                     add=None, level=0.95, ci_method="clopper-pearson", labels=None) -> ProportionResult:
    """Pool x_i/n_i across studies. See the module docstring for the methods and the "auto" rule.

    ``add=None`` means metafor's default for the measure (1/2 for PLO and PR, 0 for PAS and PFT).
    ``ci_method`` is the per-study interval (see ``metacalc.meta.intervals``); the pooled interval of "exact" is
    always Clopper-Pearson. ``level`` is a fraction (0.95).
    """
    from metacalc.meta.transforms import CORRECTIONS, MEASURES
    from metacalc.meta.heterogeneity import TAU2_METHODS
    from metacalc.meta.intervals import METHODS as INTERVAL_METHODS

    problems = []
    if method not in METHODS:
        problems.append(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    if measure not in MEASURES:
        problems.append(f"unknown measure {measure!r}; expected one of {', '.join(MEASURES)}")
    if tau2_method not in TAU2_METHODS:
        problems.append(f"unknown tau2 method {tau2_method!r}; expected one of {', '.join(TAU2_METHODS)}")
    if cc not in CORRECTIONS:
        problems.append(f"unknown continuity correction {cc!r}; expected one of {', '.join(CORRECTIONS)}")
    if add is not None and not (isinstance(add, (int, float)) and add >= 0):
        problems.append(f"add must be a number >= 0 (got {add!r})")
    if ci_method not in INTERVAL_METHODS:
        problems.append(f"unknown interval method {ci_method!r}; expected one of {', '.join(INTERVAL_METHODS)}")
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        problems.append(f"level must be a fraction between 0 and 1 (got {level!r})")
    if problems:
        raise UserError(problems)
    x, n, labels = check_counts(events, totals, labels)

    if method == "auto":
        chosen, reason = _choose(x, n)
        if chosen == "glmm":
            from metacalc.meta.glmm import GlmmNotEstimable

            try:
                return _pool_glmm(x, n, labels, level, ci_method, reason)
            except GlmmNotEstimable as error:
                fallback = "; ".join(error.problems)
                return _pool_exact(x, n, labels, level, ci_method,
                                   f"{fallback}; so the pooled count with an exact Clopper-Pearson interval is used")
        return _pool_exact(x, n, labels, level, ci_method, reason)
    requested = f"requested (method={method!r})"
    if method == "exact":
        return _pool_exact(x, n, labels, level, ci_method, requested)
    if method == "glmm":
        return _pool_glmm(x, n, labels, level, ci_method, requested)
    return _pool_iv(x, n, labels, measure, tau2_method, knha, cc, add, level, ci_method, requested)


def _pool_exact(x, n, labels, level, ci_method, reason):
    from metacalc.meta.intervals import proportion_interval

    events, total = int(x.sum()), int(n.sum())
    p = events / total
    lower, upper = (float(v) for v in proportion_interval(events, total, "clopper-pearson", level))
    no_model = "pooled count: no between-study model"
    nulls = {name: no_model for name in ("tau2", "tau2_ci", "i2", "h2", "q", "q_df", "q_pvalue")}
    nulls["pi_lower"] = nulls["pi_upper"] = "pooled count: no prediction interval without a between-study model"
    warnings = []
    if len(x) > 1 and np.any(n > 1):
        warnings.append("the pooled count weights studies by their size and ignores differences between studies")
    return ProportionResult(
        k=len(x), method="exact", measure=None, tau2_method=None, level=level,
        estimate=p, ci_lower=lower, ci_upper=upper, pi_lower=None, pi_upper=None,
        transformed={"estimate": p, "se": math.sqrt(p * (1 - p) / total), "ci_lower": lower, "ci_upper": upper},
        tau2=None, tau2_ci=None, i2=None, h2=None, q=None, q_df=None, q_pvalue=None,
        studies=_studies(x, n, labels, 100 * n / total, ci_method, level),
        reason=reason, warnings=tuple(warnings), nulls=nulls,
    )


def _pool_glmm(x, n, labels, level, ci_method, reason):
    from scipy.special import expit

    from metacalc.meta.glmm import rma_glmm

    with warnings_module.catch_warnings():
        warnings_module.simplefilter("ignore")  # the same messages are kept in fit.warnings
        fit = rma_glmm(x, n, level=level, labels=labels)
    nulls = {"tau2_ci": "no profile interval for tau² is computed for the GLMM",
             "studies.weight": "the GLMM has no inverse-variance study weights"}
    return ProportionResult(
        k=len(x), method="glmm", measure="PLO", tau2_method="ML", level=level,
        estimate=float(expit(fit.estimate)), ci_lower=float(expit(fit.ci_lower)), ci_upper=float(expit(fit.ci_upper)),
        pi_lower=float(expit(fit.pi_lower)), pi_upper=float(expit(fit.pi_upper)),
        transformed={"estimate": fit.estimate, "se": fit.se, "ci_lower": fit.ci_lower, "ci_upper": fit.ci_upper},
        tau2=fit.tau2, tau2_ci=None, i2=fit.i2, h2=fit.h2, q=fit.q, q_df=fit.q_df, q_pvalue=fit.q_pvalue,
        studies=_studies(x, n, labels, None, ci_method, level),
        reason=reason, warnings=tuple(fit.warnings), nulls=nulls, model=fit,
    )


def _pool_iv(x, n, labels, measure, tau2_method, knha, cc, add, level, ci_method, reason):
    from metacalc.meta.heterogeneity import EstimationError
    from metacalc.meta.random_effects import rma
    from metacalc.meta.transforms import back_transform, corrected_counts, escalc_proportion, harmonic_mean

    _, _, corrected = corrected_counts(x, n, measure, cc, add)
    yi, vi = escalc_proportion(x, n, measure, cc, add)
    unusable = ~(np.isfinite(yi) & np.isfinite(vi) & (vi > 0))
    if np.any(unusable):
        names = ", ".join(label for label, bad in zip(labels, unusable) if bad)
        raise UserError([f"measure {measure} with continuity correction {cc!r} cannot use studies with 0 or all "
                         f"events ({names}): use cc='only0', or method 'exact' or 'glmm'"])
    try:
        fit = rma(yi, vi, method=tau2_method, test="knha" if knha else "z", level=level, labels=labels)
    except EstimationError as error:
        raise UserError([f"the {tau2_method} estimate of tau² could not be computed for these data ({error}); "
                         "try tau2_method='DL' or 'PM', or method 'glmm'"]) from None

    warnings, nulls = [], {}
    values = np.array([fit.estimate, fit.ci_lower, fit.ci_upper, fit.pi_lower, fit.pi_upper])
    with np.errstate(invalid="ignore"):
        back = back_transform(values, measure, totals=n)
    if measure == "PR":
        outside = np.isfinite(back) & ((back < 0) | (back > 1))
        if np.any(outside):
            warnings.append("the raw-proportion (PR) interval reached beyond [0, 1] and was clipped; unclipped "
                            "values are in 'transformed' (metafor reports them unclipped)")
            back = np.where(np.isfinite(back), np.clip(back, 0.0, 1.0), back)
    if measure == "PFT":
        hm = harmonic_mean(n)
        if hm < PFT_HARMONIC_MEAN_WARNING:
            warnings.append(
                f"Freeman-Tukey back-transformation uses the harmonic mean of the study sizes ({hm:.3g}), which is "
                f"below {PFT_HARMONIC_MEAN_WARNING:g}: pooled values within about {1 / (4 * (hm + 1)):.1%} of 0 or "
                "1 are returned as exactly 0 or 1 and the interval can be distorted (Schwarzer et al. 2019); "
                "prefer PLO or the GLMM")
        from metacalc.meta.transforms import freeman_tukey

        finite = np.isfinite(values)
        at_edge = finite & ((values < freeman_tukey(0.0, hm)) | (values > freeman_tukey(1.0, hm)))
        if np.any(at_edge):
            warnings.append("part of the Freeman-Tukey result lies beyond the transform of 0 or all events at the "
                            "harmonic mean n and was back-transformed to exactly 0 or 1")
        if np.any(finite & ~np.isfinite(back)):
            warnings.append("Miller's inverse Freeman-Tukey formula has no solution for part of the result at the "
                            "harmonic mean n; those values are null")
            for name, value in zip(("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper"), back):
                if not math.isfinite(value):
                    nulls[name] = "Miller's inverse Freeman-Tukey formula has no solution at the harmonic mean n"
    if fit.method == "FE":
        nulls["pi_lower"] = nulls["pi_upper"] = "a common-effect model has no prediction interval"
        nulls["tau2_ci"] = "a common-effect model has no between-study variance"
        if knha:
            warnings.append("the Hartung-Knapp adjustment is not meant for a common-effect model (metafor warns too)")
    elif fit.tau2_ci is None:
        nulls["tau2_ci"] = "a single study: no interval for tau²"
    if knha and fit.k == 1:
        warnings.append("Hartung-Knapp needs at least 2 studies; a z test was used (as metafor)")
    if np.any(corrected):
        added = add if add is not None else (0.0 if measure in ("PAS", "PFT") else 0.5)
        message = (f"continuity correction: {added:g} added to the events and non-events of "
                   f"{int(corrected.sum())} of {len(x)} studies (cc={cc!r})")
        if np.any(corrected & (n == 1)):
            message += "; this moves single-patient reports to 0.25 or 0.75"
        warnings.append(message)

    return ProportionResult(
        k=fit.k, method="iv", measure=measure, tau2_method=tau2_method, level=level,
        estimate=float(back[0]), ci_lower=float(back[1]), ci_upper=float(back[2]),
        pi_lower=float(back[3]), pi_upper=float(back[4]),
        transformed={"estimate": fit.estimate, "se": fit.se, "ci_lower": fit.ci_lower, "ci_upper": fit.ci_upper},
        tau2=fit.tau2, tau2_ci=fit.tau2_ci, i2=fit.i2, h2=fit.h2, q=fit.q, q_df=fit.q_df, q_pvalue=fit.q_pvalue,
        studies=_studies(x, n, labels, fit.weights, ci_method, level),
        reason=reason, warnings=tuple(warnings), nulls=nulls, model=fit,
    )
