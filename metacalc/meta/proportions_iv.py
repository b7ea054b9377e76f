"""Pooled proportions by the two-step inverse-variance route (``pool_proportions(method="iv")``), many at once.

Each analysis: metafor's ``escalc`` on ``measure`` with its continuity correction, one ``rma_batch`` for all
analyses, then back-transformation as metafor's transf functions (expit, sin², Miller's inverse Freeman-Tukey
with the harmonic mean of n, identity for PR, which is clipped here and says so).

Freeman-Tukey warning: Miller's inverse is evaluated at the harmonic mean n_hm of the study sizes. Any pooled
value below the transform of 0 events at n_hm back-transforms to exactly 0 (and above that of n_hm events to 1);
that dead zone is about 1/(4 (n_hm + 1)) wide on the proportion scale: 14.6% at n_hm = 1, 4.2% at 5, 2.3% at 10.
Below n_hm = 10 the dead zone exceeds 2% and covers the rates a case-report review is often about, so the result
carries a warning (PFT_HARMONIC_MEAN_WARNING); values that actually fall there, or where Miller's formula has no
solution, get their own warning.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from metacalc.meta.errors import EstimationError, InvalidInput, MetaError
from metacalc.meta.random_effects import rma_batch
from metacalc.meta.results import (BACK_TRANSFORMED_MEAN, MEAN_PROPORTION, MEDIAN_SETTING, ConfidenceInterval,
                                   ProportionResult, ProportionSettings, RandomEffectsResult)
from metacalc.meta.study_rows import proportion_table
from metacalc.meta.transforms import (back_transform, corrected_counts, default_add, escalc_proportion,
                                      freeman_tukey, harmonic_mean, inverse_freeman_tukey)

PFT_HARMONIC_MEAN_WARNING = 10.0
_BOUNDS = ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper")


def pool_iv(data: Sequence[tuple[np.ndarray, np.ndarray, list[str]]], studies: Sequence[dict[str, np.ndarray]],
            reasons: Sequence[str], options: ProportionSettings) -> list[ProportionResult | MetaError]:
    """The inverse-variance pooled proportion of each analysis (checked counts), or why it has none."""
    if not data:
        return []
    out: list[ProportionResult | MetaError | None] = [None] * len(data)
    # every analysis' studies one after another: escalc and its corrections elementwise, in one pass
    sizes = np.array([len(x) for x, _, _ in data])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    x_all = np.concatenate([x for x, _, _ in data])
    n_all = np.concatenate([n for _, n, _ in data])
    _, _, corrected = corrected_counts(x_all, n_all, options.measure, options.cc, options.add, starts)
    yi, vi = escalc_proportion(x_all, n_all, options.measure, options.cc, options.add, starts)
    unusable = ~(np.isfinite(yi) & np.isfinite(vi) & (vi > 0))
    for j in np.unique(np.searchsorted(starts, np.flatnonzero(unusable), side="right") - 1):
        x, n, labels = data[j]
        bad = unusable[starts[j]:starts[j] + sizes[j]]
        names = ", ".join(label for label, b in zip(labels, bad) if b)
        out[j] = InvalidInput(f"measure {options.measure} with continuity correction {options.cc!r} cannot use "
                              f"studies with 0 or all events ({names}): use cc='only0', or method 'exact' or 'glmm'")
    usable = [j for j in range(len(data)) if out[j] is None]
    if not usable:
        return [result for result in out if result is not None]
    ends = starts + sizes
    batch = rma_batch([yi[starts[j]:ends[j]] for j in usable], [vi[starts[j]:ends[j]] for j in usable],
                      method=options.tau2_method, test="knha" if options.knha else "z", level=options.level)
    values = np.stack([batch.estimate, batch.ci_lower, batch.ci_upper, batch.pi_lower, batch.pi_upper], axis=1)
    hm = np.array([harmonic_mean(data[j][1]) for j in usable])
    with np.errstate(invalid="ignore"):
        back = inverse_freeman_tukey(values, hm[:, None]) if options.measure == "PFT" else \
            back_transform(values, options.measure)
    # per analysis: how many studies were corrected, and whether a single-patient report was among them
    corrected_count = np.add.reduceat(corrected.astype(int), starts)[usable]
    corrected_single = np.logical_or.reduceat(corrected & (n_all == 1), starts)[usable]
    fits = batch.results(labels=[data[j][2] for j in usable])
    for row, j in enumerate(usable):
        fit = fits[row]
        if isinstance(fit, EstimationError):
            out[j] = EstimationError(
                f"the {options.tau2_method} estimate of tau² could not be computed for these data ({fit}); "
                "try tau2_method='DL' or 'PM', or method 'glmm'")
            continue
        x, n, labels = data[j]
        out[j] = _result(fit, x, n, labels, studies[j], reasons[j], options, values[row], back[row], float(hm[row]),
                         int(corrected_count[row]), bool(corrected_single[row]))
    return [result for result in out if result is not None]


def _result(fit: RandomEffectsResult, x: np.ndarray, n: np.ndarray, labels: list[str], columns: dict[str, np.ndarray],
            reason: str, options: ProportionSettings, values: np.ndarray, back: np.ndarray, hm: float,
            corrected: int, corrected_single: bool) -> ProportionResult:
    measure = options.measure
    warnings: list[str] = []
    nulls: dict[str, str] = {"q_lrt": "a likelihood-ratio test of heterogeneity is the GLMM's; inverse-variance "
                                      "models give Cochran's Q", "q_lrt_pvalue": "see q_lrt"}
    bounds = back.tolist()
    if measure == "PR":
        outside = [math.isfinite(v) and (v < 0 or v > 1) for v in bounds]
        if any(outside):
            warnings.append("the raw-proportion (PR) interval reached beyond [0, 1] and was clipped; the unclipped "
                            "values are in 'transformed' (metafor reports them unclipped)")
            bounds = [min(1.0, max(0.0, v)) if math.isfinite(v) else v for v in bounds]
    if measure == "PFT":
        warnings += _freeman_tukey_warnings(values, back, hm)
        for name, value, model_value in zip(_BOUNDS, bounds, values.tolist()):
            if not math.isfinite(value) and math.isfinite(model_value):
                nulls[name] = "Miller's inverse Freeman-Tukey formula has no solution at the harmonic mean n"
    if fit.method == "FE":
        nulls["pi_lower"] = nulls["pi_upper"] = "a common-effect model has no prediction interval"
        nulls["transformed.pi_lower"] = nulls["transformed.pi_upper"] = nulls["pi_lower"]
        nulls["tau2_ci"] = "a common-effect model has no between-study variance"
        if options.knha:
            warnings.append("the Hartung-Knapp adjustment is not meant for a common-effect model (metafor warns too)")
    elif fit.tau2_ci is None:
        nulls["tau2_ci"] = "a single study: no interval for tau²"
    if options.knha and fit.k == 1:
        warnings.append("Hartung-Knapp needs at least 2 studies; a z test was used (as metafor)")
    if corrected:
        added = options.add if options.add is not None else default_add(measure)
        message = (f"continuity correction: {added:g} added to the events and non-events of "
                   f"{corrected} of {len(x)} studies (cc={options.cc!r})")
        if corrected_single:
            message += "; this moves single-patient reports to 0.25 or 0.75"
        warnings.append(message)
    level = options.level
    estimate, ci_lower, ci_upper, pi_lower, pi_upper = bounds
    return ProportionResult(
        k=fit.k, method="iv", measure=measure, tau2_method=options.tau2_method, level=level, estimate=estimate,
        ci=ConfidenceInterval(ci_lower, ci_upper, level, fit.test), pi=ConfidenceInterval(pi_lower, pi_upper, level,
                                                                                           fit.test),
        transformed={"estimate": fit.estimate, "se": fit.se, "ci_lower": fit.ci.lower, "ci_upper": fit.ci.upper,
                     "pi_lower": fit.pi.lower, "pi_upper": fit.pi.upper},
        tau2=fit.tau2, tau2_ci=fit.tau2_ci, i2=fit.i2, h2=fit.h2, q=fit.q, q_df=fit.q_df, q_pvalue=fit.q_pvalue,
        studies=proportion_table(x, n, labels, columns, fit.weights),
        reason=reason, warnings=tuple(warnings), nulls=nulls, settings=options, model=fit,
        estimand={"PLO": MEDIAN_SETTING, "PR": MEAN_PROPORTION}.get(measure, BACK_TRANSFORMED_MEAN),
        lower_bounds=(False,) * len(x),
    )


def _freeman_tukey_warnings(values: np.ndarray, back: np.ndarray, hm: float) -> list[str]:
    warnings = []
    if hm < PFT_HARMONIC_MEAN_WARNING:
        warnings.append(
            f"Freeman-Tukey back-transformation uses the harmonic mean of the study sizes ({hm:.3g}), which is "
            f"below {PFT_HARMONIC_MEAN_WARNING:g}: pooled values within about {1 / (4 * (hm + 1)):.1%} of 0 or "
            "1 are returned as exactly 0 or 1 and the interval can be distorted (Schwarzer et al. 2019); "
            "prefer PLO or the GLMM")
    finite = np.isfinite(values)
    at_edge = finite & ((values < freeman_tukey(0.0, hm)) | (values > freeman_tukey(1.0, hm)))
    if np.any(at_edge):
        warnings.append("part of the Freeman-Tukey result lies beyond the transform of 0 or all events at the "
                        "harmonic mean n and was back-transformed to exactly 0 or 1")
    if np.any(finite & ~np.isfinite(back)):
        warnings.append("Miller's inverse Freeman-Tukey formula has no solution for part of the result at the "
                        "harmonic mean n; those values are null")
    return warnings
