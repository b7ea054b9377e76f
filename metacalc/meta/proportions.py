"""Pooled proportions (e.g. the response rate to one therapy) from case reports and case series.

``pool_proportions(events, totals)`` chooses, fits and back-transforms; every result says which method was used
and why (``reason``), and what a reader must know (``warnings``). ``pool_proportions_many`` does the same for
many analyses at once through the batch engines (one GLMM batch, one inverse-variance batch, one call for all
study intervals); ``pool_proportions`` is it on one analysis, so both give the same numbers.

Methods
-------
"exact": the pooled count X/N = sum(x)/sum(n) with the exact Clopper-Pearson interval; study weights n_i/N.
    No between-study model: tau², Q, I², H² and the prediction interval are null.
"iv": two-step inverse-variance model on ``measure`` (PLO logit, PR raw, PAS arcsine, PFT Freeman-Tukey) with
    metafor's escalc continuity correction (``cc``/``add``), tau² by ``tau2_method`` ("FE" for a common-effect
    model), optional Hartung-Knapp (``knha``), back-transformed as metafor (see ``proportions_iv``). Numbers agree
    with metafor 3.8.1 ``escalc`` + ``rma`` + ``predict`` + ``confint`` (tests/fixtures/metafor/iv_reference.json).
"glmm": the binomial-normal random-intercept model (``metacalc.meta.glmm``, metafor's
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

Edge cases (all finite, never NaN in ``to_dict()``): k = 1 (tau² = 0, no tau² interval); every study 0 or all
events ("exact" under auto; under "iv" the continuity correction makes the model fit); tau² = 0 (I² = 0, H² = 1,
tau² interval [0, 0] or [0, upper]); identical studies (Q = 0). Counts that are impossible (x > n, n < 1,
fractional) raise ``InvalidInput``; so does "iv" with ``cc="none"`` when a study has 0 or all events under PLO or
PR (its logit or variance is infinite/zero; metafor would silently drop it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from metacalc.meta.counts import check_counts, check_counts_many
from metacalc.meta.errors import ERROR_MODES, GlmmNotEstimable, InvalidInput, MetaError, settle
from metacalc.meta.glmm import rma_glmm_batch
from metacalc.meta.intervals import proportion_interval
from metacalc.meta.options import CORRECTIONS, INTERVAL_METHODS, MEASURES, PROPORTION_METHODS, TAU2_METHODS
from metacalc.meta.options import ProportionSettings
from metacalc.meta.proportions_iv import PFT_HARMONIC_MEAN_WARNING, pool_iv
from metacalc.meta.results import CLOPPER_PEARSON, Z, ConfidenceInterval, GlmmResult, ProportionResult
from metacalc.meta.study_rows import proportion_table

__all__ = ["METHODS", "PFT_HARMONIC_MEAN_WARNING", "check_counts", "pool_proportions", "pool_proportions_many"]

METHODS = PROPORTION_METHODS

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
FALLBACK = "; so the pooled count with an exact Clopper-Pearson interval is used"

Counts = Sequence[float] | np.ndarray


def settings(method: str = "auto", measure: str = "PLO", tau2_method: str = "REML", knha: bool = False,
             cc: str = "only0", add: float | None = None, level: float = 0.95,
             ci_method: str = "clopper-pearson") -> ProportionSettings:
    """The options of ``pool_proportions``, checked (every problem in one :class:`InvalidInput`)."""
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
        raise InvalidInput(problems)
    return ProportionSettings(method, measure, tau2_method, bool(knha), cc, add, float(level), ci_method)


def pool_proportions(events: Counts, totals: Counts, method: str = "auto", measure: str = "PLO",
                     tau2_method: str = "REML", knha: bool = False, cc: str = "only0", add: float | None = None,
                     level: float = 0.95, ci_method: str = "clopper-pearson",
                     labels: Sequence[str] | None = None) -> ProportionResult:
    """Pool x_i/n_i across studies. See the module docstring for the methods and the "auto" rule.

    ``add=None`` means metafor's default for the measure (1/2 for PLO and PR, 0 for PAS and PFT).
    ``ci_method`` is the per-study interval (see ``metacalc.meta.intervals``); the pooled interval of "exact" is
    always Clopper-Pearson. ``level`` is a fraction (0.95). Raises ``InvalidInput`` or ``EstimationError``.
    """
    options = settings(method, measure, tau2_method, knha, cc, add, level, ci_method)
    result = pool_with([events], [totals], [labels], options, errors="raise")[0]
    assert isinstance(result, ProportionResult)
    return result


def pool_proportions_many(events_list: Sequence[Counts], totals_list: Sequence[Counts],
                          labels_list: Sequence[Sequence[str] | None] | None = None, method: str = "auto",
                          measure: str = "PLO", tau2_method: str = "REML", knha: bool = False, cc: str = "only0",
                          add: float | None = None, level: float = 0.95, ci_method: str = "clopper-pearson",
                          errors: str = "return") -> list[ProportionResult | MetaError]:
    """``pool_proportions`` for many analyses with the same options, fitted together.

    Returns one result per analysis, in order; with ``errors="return"`` (the default) an analysis that cannot be
    pooled has its ``InvalidInput`` / ``EstimationError`` in its place, with "raise" the first one is raised.
    """
    options = settings(method, measure, tau2_method, knha, cc, add, level, ci_method)
    return pool_with(events_list, totals_list, labels_list, options, errors)


def pool_with(events_list: Sequence[Counts], totals_list: Sequence[Counts],
              labels_list: Sequence[Sequence[str] | None] | None, options: ProportionSettings,
              errors: str = "return") -> list[ProportionResult | MetaError]:
    """The engine behind both: ``options`` already checked (see :func:`settings`)."""
    if errors not in ERROR_MODES:
        raise InvalidInput(f"errors must be 'raise' or 'return' (got {errors!r})")
    if len(events_list) != len(totals_list) or (labels_list is not None and len(labels_list) != len(events_list)):
        raise InvalidInput("events, totals and labels must have one entry per analysis")
    out: list[ProportionResult | MetaError | None] = [None] * len(events_list)
    data: dict[int, tuple[np.ndarray, np.ndarray, list[str]]] = {}
    for i, checked in enumerate(check_counts_many(events_list, totals_list, labels_list)):
        if isinstance(checked, MetaError):
            out[i] = checked
        else:
            data[i] = checked
    studies = _study_tables(data, options)
    requested = (options.method, f"requested (method={options.method!r})")
    chosen = {i: _choose(x, n) if options.method == "auto" else requested for i, (x, n, _) in data.items()}
    glmm = [i for i in data if chosen[i][0] == "glmm"]
    for i, result in zip(glmm, _pool_glmm([data[i] for i in glmm], studies, glmm, chosen, options)):
        if isinstance(result, GlmmNotEstimable) and options.method == "auto":
            chosen[i] = ("exact", "; ".join(result.problems) + FALLBACK)
        else:
            out[i] = result
    iv = [i for i in data if chosen[i][0] == "iv"]
    for i, result in zip(iv, pool_iv([data[i] for i in iv], [studies[i] for i in iv], [chosen[i][1] for i in iv],
                                     options)):
        out[i] = result
    exact = [i for i in data if chosen[i][0] == "exact"]
    for i, result in zip(exact, _pool_exact([data[i] for i in exact], [studies[i] for i in exact],
                                            [chosen[i][1] for i in exact], options)):
        out[i] = result
    return settle(out, errors)


def _choose(x: np.ndarray, n: np.ndarray) -> tuple[str, str]:
    if np.all(n == 1):
        return "exact", REASON_ALL_REPORTS
    if np.all(x == 0):
        return "exact", REASON_ALL_ZERO
    if np.all(x == n):
        return "exact", REASON_ALL_EVENTS
    return "glmm", REASON_SERIES


def _study_tables(data: dict[int, tuple[np.ndarray, np.ndarray, list[str]]],
                  options: ProportionSettings) -> dict[int, dict[str, np.ndarray]]:
    """Each study's raw proportion and ``ci_method`` interval, for every analysis in one vectorised call."""
    if not data:
        return {}
    x = np.concatenate([d[0] for d in data.values()])
    n = np.concatenate([d[1] for d in data.values()])
    lower, upper = proportion_interval(x, n, options.ci_method, options.level)
    estimate = x / n
    tables, start = {}, 0
    for i, (xi, _, _) in data.items():
        part = slice(start, start + len(xi))
        tables[i] = {"estimate": estimate[part], "ci_lower": lower[part], "ci_upper": upper[part]}
        start += len(xi)
    return tables


def _pool_exact(data: list[tuple[np.ndarray, np.ndarray, list[str]]], studies: list[dict[str, np.ndarray]],
                reasons: list[str], options: ProportionSettings) -> list[ProportionResult]:
    if not data:
        return []
    events = np.array([int(x.sum()) for x, _, _ in data])
    totals = np.array([int(n.sum()) for _, n, _ in data])
    lower, upper = proportion_interval(events, totals, "clopper-pearson", options.level)
    no_model = "pooled count: no between-study model"
    results = []
    for j, ((x, n, labels), columns, reason) in enumerate(zip(data, studies, reasons)):
        total = int(totals[j])
        p = int(events[j]) / total
        low, high = float(lower[j]), float(upper[j])
        nulls = {name: no_model for name in ("tau2", "tau2_ci", "i2", "h2", "q", "q_df", "q_pvalue")}
        nulls["pi_lower"] = nulls["pi_upper"] = "pooled count: no prediction interval without a between-study model"
        warnings = []
        if len(x) > 1 and np.any(n > 1):
            warnings.append("the pooled count weights studies by their size and ignores differences between studies")
        results.append(ProportionResult(
            k=len(x), method="exact", measure=None, tau2_method=None, level=options.level, estimate=p,
            ci=ConfidenceInterval(low, high, options.level, CLOPPER_PEARSON), pi=None,
            transformed={"estimate": p, "se": math.sqrt(p * (1 - p) / total), "ci_lower": low, "ci_upper": high},
            tau2=None, tau2_ci=None, i2=None, h2=None, q=None, q_df=None, q_pvalue=None,
            studies=proportion_table(x, n, labels, columns, 100 * n / total),
            reason=reason, warnings=tuple(warnings), nulls=nulls, settings=options,
        ))
    return results


def _pool_glmm(data: list[tuple[np.ndarray, np.ndarray, list[str]]], studies: dict[int, dict[str, np.ndarray]],
               positions: list[int], chosen: dict[int, tuple[str, str]],
               options: ProportionSettings) -> list[ProportionResult | MetaError]:
    from scipy.special import expit

    if not data:
        return []
    fits = rma_glmm_batch([x for x, _, _ in data], [n for _, n, _ in data], level=options.level,
                          labels=[labels for _, _, labels in data], errors="return")
    nulls = {"tau2_ci": "no profile interval for tau² is computed for the GLMM",
             "studies.weight": "the GLMM has no inverse-variance study weights"}
    results: list[ProportionResult | MetaError] = []
    for i, (x, n, labels), fit in zip(positions, data, fits):
        if not isinstance(fit, GlmmResult):
            results.append(fit)
            continue
        level = options.level
        results.append(ProportionResult(
            k=len(x), method="glmm", measure="PLO", tau2_method="ML", level=level,
            estimate=float(expit(fit.estimate)),
            ci=ConfidenceInterval(float(expit(fit.ci.lower)), float(expit(fit.ci.upper)), level, Z),
            pi=ConfidenceInterval(float(expit(fit.pi.lower)), float(expit(fit.pi.upper)), level, Z),
            transformed={"estimate": fit.estimate, "se": fit.se, "ci_lower": fit.ci.lower, "ci_upper": fit.ci.upper},
            tau2=fit.tau2, tau2_ci=None, i2=fit.i2, h2=fit.h2, q=fit.q, q_df=fit.q_df, q_pvalue=fit.q_pvalue,
            studies=proportion_table(x, n, labels, studies[i], None),
            reason=chosen[i][1], warnings=tuple(fit.warnings), nulls=dict(nulls), settings=options, model=fit,
        ))
    return results
