"""Pooled proportions (e.g. the response rate to one therapy) from case reports and case series.

``pool_proportions(events, totals)`` chooses, fits and back-transforms; every result says which method was used
and why (``reason``; under "auto" also the rule's ``branch``), which quantity it estimates (``estimand``), and
what a reader must know (``warnings``). ``pool_proportions_many`` does the same for many analyses at once through
the batch engines (one GLMM batch, one inverse-variance batch, one call for all study intervals);
``pool_proportions`` is it on one analysis, so both give the same numbers.

Methods
-------
"exact": the pooled count X/N = sum(x)/sum(n) with the exact Clopper-Pearson interval; study weights n_i/N.
    No between-study model: tau², Q, I², H² and the prediction interval are null. Estimand: the proportion of
    all pooled patients ("pooled count"), which estimates the population average in every design.
"iv": two-step inverse-variance model on ``measure`` (PLO logit, PR raw, PAS arcsine, PFT Freeman-Tukey) with
    metafor's escalc continuity correction (``cc``/``add``), tau² by ``tau2_method`` ("FE" for a common-effect
    model), optional Hartung-Knapp (``knha``), back-transformed as metafor (see ``proportions_iv``). Numbers agree
    with metafor 3.8.1 ``escalc`` + ``rma`` + ``predict`` + ``confint`` (tests/fixtures/metafor/iv_reference.json).
"glmm": the binomial-normal random-intercept model (``metacalc.meta.glmm``), exactly metafor's
    ``rma.glmm(measure="PLO")``: the pooled logit mu with its Wald interval, back-transformed by expit, i.e. the
    proportion in the median setting ("median setting"). Both heterogeneity tests are given: the Wald test
    (``q``, metafor's QE.Wld) and the likelihood-ratio test (``q_lrt``, QE.LRT).
"auto" (the default): the rule chosen by the coverage study, in ``auto_rule`` (its ``RULE`` lists the branches
    with the table rows each rests on). The exact pooled count unless the data can support a model of differences
    between settings; the GLMM with three or more case series (t on series - 1 df) or with one or two series none
    of which holds most patients (z). Where the rule uses the GLMM it reports the population-average proportion
    E[expit(mu + tau Z)] ("population average", see ``population_average``), not expit(mu); ``transformed`` keeps
    the model's own logit-scale numbers. A GLMM result whose tau² runs away or whose interval is uninformative is
    replaced by the exact pooled count, and the reason says so.

Lower bounds: ``lower_bounds`` flags studies whose events are only a lower bound of the outcome (a series that
reports partial responses but not complete ones, for "any response"). The pooled count is then a lower bound
too, and it is reported as such: estimate X/N with the one-sided exact lower limit (``intervals.lower_limit``,
R's binom.test(alternative = "greater")), no upper limit (``ci_upper`` null, ``lower_bound`` true), under "auto"
and "exact". A model ("iv", "glmm") has no honest two-sided interval on such counts and refuses them
(``InvalidInput``). The flagged studies' own rows get the one-sided limit too.

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
from dataclasses import dataclass

import numpy as np

from metacalc.meta import auto_rule
from metacalc.meta.counts import check_counts, check_counts_many
from metacalc.meta.errors import ERROR_MODES, InvalidInput, MetaError, settle
from metacalc.meta.glmm import rma_glmm_batch
from metacalc.meta.intervals import lower_limit, proportion_interval
from metacalc.meta.options import CORRECTIONS, INTERVAL_METHODS, MEASURES, PROPORTION_METHODS, TAU2_METHODS
from metacalc.meta.options import ProportionSettings
from metacalc.meta.proportions_iv import PFT_HARMONIC_MEAN_WARNING, pool_iv
from metacalc.meta.results import (CLOPPER_PEARSON, CLOPPER_PEARSON_LOWER, MEDIAN_SETTING, POOLED_COUNT,
                                   POPULATION_AVERAGE, T, Z, ConfidenceInterval, GlmmResult, ProportionResult)
from metacalc.meta.study_rows import proportion_table

__all__ = ["METHODS", "PFT_HARMONIC_MEAN_WARNING", "check_counts", "pool_proportions", "pool_proportions_many"]

METHODS = PROPORTION_METHODS

LOWER_BOUND = "lower bound"  # the branch of a pooled count that is only a lower bound
REASON_LOWER_BOUND = (
    "the events of {studies} are only a lower bound of the outcome, so the pooled count is a lower bound of the "
    "proportion: it is reported with its one-sided exact (Clopper-Pearson) lower limit, and no upper limit exists")
NO_UPPER_LIMIT = "the count is only a lower bound: a one-sided lower limit is given, and no upper limit exists"

Counts = Sequence[float] | np.ndarray
Data = tuple[np.ndarray, np.ndarray, list[str]]


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
                     labels: Sequence[str] | None = None,
                     lower_bounds: Sequence[bool] | None = None) -> ProportionResult:
    """Pool x_i/n_i across studies. See the module docstring for the methods, the "auto" rule and lower bounds.

    ``add=None`` means metafor's default for the measure (1/2 for PLO and PR, 0 for PAS and PFT).
    ``ci_method`` is the per-study interval (see ``metacalc.meta.intervals``); the pooled interval of "exact" is
    always Clopper-Pearson. ``level`` is a fraction (0.95). ``lower_bounds``: one flag per study, True where its
    events are only a lower bound. Raises ``InvalidInput`` or ``EstimationError``.
    """
    options = settings(method, measure, tau2_method, knha, cc, add, level, ci_method)
    result = pool_with([events], [totals], [labels], options, errors="raise", lower_bounds_list=[lower_bounds])[0]
    assert isinstance(result, ProportionResult)
    return result


def pool_proportions_many(events_list: Sequence[Counts], totals_list: Sequence[Counts],
                          labels_list: Sequence[Sequence[str] | None] | None = None, method: str = "auto",
                          measure: str = "PLO", tau2_method: str = "REML", knha: bool = False, cc: str = "only0",
                          add: float | None = None, level: float = 0.95, ci_method: str = "clopper-pearson",
                          errors: str = "return",
                          lower_bounds_list: Sequence[Sequence[bool] | None] | None = None
                          ) -> list[ProportionResult | MetaError]:
    """``pool_proportions`` for many analyses with the same options, fitted together.

    Returns one result per analysis, in order; with ``errors="return"`` (the default) an analysis that cannot be
    pooled has its ``InvalidInput`` / ``EstimationError`` in its place, with "raise" the first one is raised.
    """
    options = settings(method, measure, tau2_method, knha, cc, add, level, ci_method)
    return pool_with(events_list, totals_list, labels_list, options, errors, lower_bounds_list)


@dataclass(frozen=True)
class _Choice:
    """How one analysis is pooled: the method, why, and (under "auto") the rule's branch."""

    method: str
    reason: str
    branch: str | None = None
    warnings: tuple[str, ...] = ()


def pool_with(events_list: Sequence[Counts], totals_list: Sequence[Counts],
              labels_list: Sequence[Sequence[str] | None] | None, options: ProportionSettings,
              errors: str = "return",
              lower_bounds_list: Sequence[Sequence[bool] | None] | None = None) -> list[ProportionResult | MetaError]:
    """The engine behind both: ``options`` already checked (see :func:`settings`)."""
    if errors not in ERROR_MODES:
        raise InvalidInput(f"errors must be 'raise' or 'return' (got {errors!r})")
    count = len(events_list)
    if len(totals_list) != count or (labels_list is not None and len(labels_list) != count) or (
            lower_bounds_list is not None and len(lower_bounds_list) != count):
        raise InvalidInput("events, totals, labels and lower bounds must have one entry per analysis")
    out: list[ProportionResult | MetaError | None] = [None] * count
    data: dict[int, Data] = {}
    bounds: dict[int, np.ndarray] = {}
    for i, checked in enumerate(check_counts_many(events_list, totals_list, labels_list)):
        flags = _lower_bound_flags(None if lower_bounds_list is None else lower_bounds_list[i], checked)
        if isinstance(checked, MetaError):
            out[i] = checked
        elif isinstance(flags, MetaError):
            out[i] = flags
        else:
            data[i], bounds[i] = checked, flags
    studies = _study_tables(data, bounds, options)
    chosen = _choose(data, bounds, options)
    for i in [i for i in data if chosen[i].method == "refuse"]:
        out[i] = InvalidInput(chosen.pop(i).reason)
        del data[i]
    glmm = [i for i in data if chosen[i].method == "glmm"]
    for i, result in zip(glmm, _pool_glmm(glmm, data, studies, chosen, options)):
        if isinstance(result, _Choice):
            chosen[i] = result  # under auto: replaced by the pooled count
        else:
            out[i] = result
    iv = [i for i in data if chosen[i].method == "iv"]
    for i, result in zip(iv, pool_iv([data[i] for i in iv], [studies[i] for i in iv], [chosen[i].reason for i in iv],
                                     options)):
        out[i] = result
    exact = [i for i in data if chosen[i].method == "exact"]
    for i, result in zip(exact, _pool_exact(exact, data, bounds, studies, chosen, options)):
        out[i] = result
    return settle(out, errors)


def _lower_bound_flags(given: Sequence[bool] | None, checked: Data | MetaError) -> np.ndarray | MetaError:
    if isinstance(checked, MetaError):
        return np.zeros(0, dtype=bool)
    k = len(checked[0])
    if given is None:
        return np.zeros(k, dtype=bool)
    flags = np.asarray(given, dtype=bool).ravel()
    if flags.size != k:
        return InvalidInput(f"{flags.size} lower-bound flags for {k} studies")
    return flags


def _choose(data: dict[int, Data], bounds: dict[int, np.ndarray], options: ProportionSettings) -> dict[int, _Choice]:
    """The method of each analysis: as requested, or by the auto rule's branches that need no fit."""
    chosen: dict[int, _Choice] = {}
    for i, (_, _, labels) in data.items():
        if bounds[i].any():
            chosen[i] = _lower_bound_choice(labels, bounds[i], options)
    rest = [i for i in data if i not in chosen]
    if options.method != "auto":
        requested = f"requested (method={options.method!r})"
        chosen.update({i: _Choice(options.method, requested) for i in rest})
        return chosen
    if not rest:
        return chosen
    rows = [data[i] for i in rest]
    branches = auto_rule.branch_from_counts(
        k=np.array([len(x) for x, _, _ in rows]), series=np.array([int((n > 1).sum()) for _, n, _ in rows]),
        largest=np.array([int(n.max()) for _, n, _ in rows]), events=np.array([int(x.sum()) for x, _, _ in rows]),
        total=np.array([int(n.sum()) for _, n, _ in rows]))
    for i, branch in zip(rest, branches):
        if branch == auto_rule.NEEDS_FIT:
            chosen[i] = _Choice("glmm", "", None)
        else:
            warnings = (auto_rule.DOMINANT_WARNING,) if branch == auto_rule.DOMINANT_SERIES else ()
            chosen[i] = _Choice("exact", auto_rule.REASONS[branch], branch, warnings)
    return chosen


def _lower_bound_choice(labels: list[str], flags: np.ndarray, options: ProportionSettings) -> _Choice:
    names = ", ".join(label for label, flag in zip(labels, flags) if flag)
    if options.method in ("auto", "exact"):
        return _Choice("exact", REASON_LOWER_BOUND.format(studies=names),
                       LOWER_BOUND if options.method == "auto" else None)
    # refused by _pool_exact's caller: a model's two-sided interval on a lower bound would not be honest
    return _Choice("refuse", f"the events of {names} are only a lower bound of the outcome: method "
                             f"{options.method!r} would give a two-sided interval on a lower bound; use method "
                             "'exact' or 'auto' (the pooled count with a one-sided lower limit), or leave the study out")


def _study_tables(data: dict[int, Data], bounds: dict[int, np.ndarray],
                  options: ProportionSettings) -> dict[int, dict[str, np.ndarray]]:
    """Each study's raw proportion and ``ci_method`` interval (one-sided for a lower bound), for every analysis
    in one vectorised call."""
    if not data:
        return {}
    x = np.concatenate([d[0] for d in data.values()])
    n = np.concatenate([d[1] for d in data.values()])
    flags = np.concatenate([bounds[i] for i in data])
    lower, upper = proportion_interval(x, n, options.ci_method, options.level)
    if flags.any():
        lower = np.where(flags, lower_limit(x, n, options.level), lower)
        upper = np.where(flags, np.nan, upper)
    estimate = x / n
    tables, start = {}, 0
    for i, (xi, _, _) in data.items():
        part = slice(start, start + len(xi))
        tables[i] = {"estimate": estimate[part], "ci_lower": lower[part], "ci_upper": upper[part]}
        start += len(xi)
    return tables


def _pool_exact(positions: list[int], data: dict[int, Data], bounds: dict[int, np.ndarray],
                studies: dict[int, dict[str, np.ndarray]], chosen: dict[int, _Choice],
                options: ProportionSettings) -> list[ProportionResult]:
    if not positions:
        return []
    events = np.array([int(data[i][0].sum()) for i in positions])
    totals = np.array([int(data[i][1].sum()) for i in positions])
    lower, upper = proportion_interval(events, totals, "clopper-pearson", options.level)
    one_sided = lower_limit(events, totals, options.level)
    no_model = "pooled count: no between-study model"
    results = []
    for j, i in enumerate(positions):
        x, n, labels = data[i]
        choice, flags = chosen[i], bounds[i]
        total = int(totals[j])
        p = int(events[j]) / total
        nulls = {name: no_model for name in ("tau2", "tau2_ci", "i2", "h2", "q", "q_df", "q_pvalue", "q_lrt",
                                             "q_lrt_pvalue")}
        nulls["pi_lower"] = nulls["pi_upper"] = "pooled count: no prediction interval without a between-study model"
        if flags.any():
            ci = ConfidenceInterval(float(one_sided[j]), math.nan, options.level, CLOPPER_PEARSON_LOWER)
            nulls["ci_upper"] = nulls["transformed.ci_upper"] = NO_UPPER_LIMIT
            nulls["studies.ci_upper"] = "a study whose events are only a lower bound has no upper limit"
        else:
            ci = ConfidenceInterval(float(lower[j]), float(upper[j]), options.level, CLOPPER_PEARSON)
        warnings = list(choice.warnings)
        if len(x) > 1 and np.any(n > 1):
            warnings.append("the pooled count weights studies by their size and ignores differences between studies")
        results.append(ProportionResult(
            k=len(x), method="exact", measure=None, tau2_method=None, level=options.level, estimate=p, ci=ci, pi=None,
            transformed={"estimate": p, "se": math.sqrt(p * (1 - p) / total), "ci_lower": ci.lower,
                         "ci_upper": ci.upper},
            tau2=None, tau2_ci=None, i2=None, h2=None, q=None, q_df=None, q_pvalue=None,
            studies=proportion_table(x, n, labels, studies[i], 100 * n / total),
            reason=choice.reason, warnings=tuple(warnings), nulls=nulls, settings=options, estimand=POOLED_COUNT,
            branch=choice.branch, lower_bound=bool(flags.any()), lower_bounds=tuple(bool(f) for f in flags),
        ))
    return results


def _pool_glmm(positions: list[int], data: dict[int, Data], studies: dict[int, dict[str, np.ndarray]],
               chosen: dict[int, _Choice], options: ProportionSettings) -> list[ProportionResult | MetaError | _Choice]:
    """The GLMM of each analysis; under "auto" the rule's branch from the fit, a replacement by the pooled count
    coming back as the :class:`_Choice` that says why."""
    if not positions:
        return []
    level = options.level
    fits = rma_glmm_batch([data[i][0] for i in positions], [data[i][1] for i in positions], level=level,
                          labels=[data[i][2] for i in positions], errors="return")
    auto = options.method == "auto"
    rule = None
    if auto:
        values = np.array([(f.estimate, f.se, f.tau2) if isinstance(f, GlmmResult) else (math.nan,) * 3
                           for f in fits])
        series = np.array([int((data[i][1] > 1).sum()) for i in positions])
        rule = auto_rule.branch_from_fit(series, values[:, 0], values[:, 1], values[:, 2], level)
    out: list[ProportionResult | MetaError | _Choice] = []
    for j, (i, fit) in enumerate(zip(positions, fits)):
        if rule is None:
            out.append(fit if not isinstance(fit, GlmmResult) else
                       _glmm_result(fit, data[i], studies[i], chosen[i].reason, options))
            continue
        branch = str(rule.branch[j])
        if branch not in auto_rule.GLMM_BRANCHES:
            detail = ("; ".join(fit.problems) if isinstance(fit, MetaError) else
                      f"tau² = {fit.tau2:.3g}" if branch == auto_rule.TAU2_RUNAWAY else
                      f"its interval was {rule.lower[j]:.3f} to {rule.upper[j]:.3f}")
            out.append(_Choice("exact", f"{auto_rule.REASONS[branch]} (GLMM: {detail})", branch))
            continue
        assert isinstance(fit, GlmmResult)
        out.append(_glmm_result(fit, data[i], studies[i], auto_rule.REASONS[branch], options, branch=branch,
                                average=(float(rule.estimate[j]), float(rule.lower[j]), float(rule.upper[j]),
                                         float(rule.crit[j]), float(rule.df[j]))))
    return out


def _glmm_result(fit: GlmmResult, data: Data, columns: dict[str, np.ndarray], reason: str,
                 options: ProportionSettings, branch: str | None = None,
                 average: tuple[float, float, float, float, float] | None = None) -> ProportionResult:
    """A GLMM fit as a pooled proportion: metafor's expit(mu) with its Wald interval, or (``average`` given, the
    auto rule) the population average with the rule's interval; the logit-scale numbers in ``transformed``."""
    def expit(value: float) -> float:
        return 0.5 * (1.0 + math.tanh(0.5 * value))

    x, n, labels = data
    level = options.level
    if average is None:
        estimate, lower, upper = fit.proportion()
        crit_df, method, estimand = None, Z, MEDIAN_SETTING
        ci_logit, pi_logit = (fit.ci.lower, fit.ci.upper), (fit.pi.lower, fit.pi.upper)
    else:
        estimate, lower, upper, crit, df = average
        crit_df, method, estimand = (None, Z, POPULATION_AVERAGE) if math.isnan(df) else (df, T, POPULATION_AVERAGE)
        # the prediction interval of a new setting's proportion, with the critical value of the interval
        spread = crit * math.sqrt(fit.se**2 + fit.tau2)
        ci_logit = (fit.estimate - crit * fit.se, fit.estimate + crit * fit.se)
        pi_logit = (fit.estimate - spread, fit.estimate + spread)
    nulls = {"tau2_ci": "no profile interval for tau² is computed for the GLMM",
             "studies.weight": "the GLMM has no inverse-variance study weights"}
    return ProportionResult(
        k=len(x), method="glmm", measure="PLO", tau2_method="ML", level=level, estimate=estimate,
        ci=ConfidenceInterval(lower, upper, level, method, df=crit_df),
        pi=ConfidenceInterval(expit(pi_logit[0]), expit(pi_logit[1]), level, method, df=crit_df),
        transformed={"estimate": fit.estimate, "se": fit.se, "ci_lower": ci_logit[0], "ci_upper": ci_logit[1],
                     "pi_lower": pi_logit[0], "pi_upper": pi_logit[1]},
        tau2=fit.tau2, tau2_ci=None, i2=fit.i2, h2=fit.h2, q=fit.q, q_df=fit.q_df, q_pvalue=fit.q_pvalue,
        q_lrt=fit.q_lrt, q_lrt_pvalue=fit.q_lrt_pvalue,
        studies=proportion_table(x, n, labels, columns, None),
        reason=reason, warnings=tuple(fit.warnings), nulls=nulls, settings=options, model=fit, estimand=estimand,
        branch=branch, lower_bounds=(False,) * len(x),
    )
