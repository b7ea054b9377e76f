"""Pooled means (e.g. time from diagnosis to onset in case series): inverse-variance random effects on raw means,
metafor's ``escalc(measure="MN")`` (``yi = mean``, ``vi = sd**2 / n``) fitted by the batch engine of
``random_effects``; :func:`pool_means` is :func:`pool_means_many` on one analysis.

Case reports give one value per patient: summarise them with ``summaries.summarise_values`` and combine them
into one study with ``summaries.study_from_patients``; series that give only a median with quartiles or range
get a mean and SD from ``quantiles.mean_sd_from_quantiles``; ``comparison.compare_with_published`` compares
patients' values with a published figure (Welch where its n and SD are known, else a descriptive difference).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Re-exported for callers that import them from here (the review's analyse step); new code imports them from
# metacalc.meta.
from metacalc.meta.comparison import PublishedComparison, compare_with_published  # noqa: F401
from metacalc.meta.errors import ERROR_MODES, EstimationError, InvalidInput, MetaError, settle
from metacalc.meta.quantiles import EstimatedMeanSD, mean_sd_from_quantiles  # noqa: F401
from metacalc.meta.random_effects import option_problems, rma_batch
from metacalc.meta.options import MeanSettings
from metacalc.meta.results import MeanResult, RandomEffectsResult
from metacalc.meta.study_rows import StudyMean, StudyTable
from metacalc.meta.summaries import (  # noqa: F401
    StudySummary,
    ValueSummary,
    as_values,
    median_interval,
    study_from_patients,
    summarise_values,
)

Values = Sequence[float] | np.ndarray


def _check(means: Values, sds: Values, ns: Values,
           labels: Sequence[str] | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    mean = as_values(means, "means")
    sd = as_values(sds, "sds")
    n = as_values(ns, "ns")
    if not (len(mean) == len(sd) == len(n)):
        raise InvalidInput(f"means, sds and ns differ in length ({len(mean)}, {len(sd)}, {len(n)})")
    if len(mean) == 0:
        raise InvalidInput("no studies to pool")
    if np.any(n < 1):
        raise InvalidInput("every study needs n >= 1")
    if np.any(sd <= 0):
        raise InvalidInput("every study needs an SD above 0 (its sampling variance is sd**2 / n)")
    if labels is None:
        names = tuple(f"study {i + 1}" for i in range(len(mean)))
    else:
        names = tuple(str(label) for label in labels)
        if len(names) != len(mean):
            raise InvalidInput(f"labels has {len(names)} entries for {len(mean)} studies")
    return mean, sd, n, names


def pool_means(means: Values, sds: Values, ns: Values, tau2_method: str = "REML", knha: bool = False,
               level: float = 0.95, labels: Sequence[str] | None = None) -> MeanResult:
    """Pool study means by inverse-variance random effects (metafor: ``rma(escalc("MN", mi, sdi, ni))``).

    Each study's sampling variance is ``sd**2 / n``, so a study needs n >= 1 and sd > 0: a single patient
    has no SD, and such patients belong in ``study_from_patients`` first. ``knha`` uses the
    Hartung-Knapp adjustment (metafor's ``test="knha"``). Study intervals are ``mean +/- z * sd / sqrt(n)``,
    as metafor's forest plot draws them. Raises ``InvalidInput`` or ``EstimationError``.
    """
    result = pool_means_many([means], [sds], [ns], [labels], tau2_method, knha, level, errors="raise")[0]
    assert isinstance(result, MeanResult)
    return result


def pool_means_many(means_list: Sequence[Values], sds_list: Sequence[Values], ns_list: Sequence[Values],
                    labels_list: Sequence[Sequence[str] | None] | None = None, tau2_method: str = "REML",
                    knha: bool = False, level: float = 0.95, errors: str = "return") -> list[MeanResult | MetaError]:
    """``pool_means`` for many analyses with the same options, fitted in one batch.

    With ``errors="return"`` an analysis that cannot be pooled has its error in its place; "raise" raises the
    first one.
    """
    problems = option_problems(tau2_method, "knha" if knha else "z", level)
    if errors not in ERROR_MODES:
        problems.append(f"errors must be 'raise' or 'return' (got {errors!r})")
    if not (len(means_list) == len(sds_list) == len(ns_list)) or (
            labels_list is not None and len(labels_list) != len(means_list)):
        problems.append("means, sds, ns and labels must have one entry per analysis")
    if problems:
        raise InvalidInput(problems)
    out: list[MeanResult | MetaError | None] = [None] * len(means_list)
    checked = {}
    for i in range(len(means_list)):
        try:
            checked[i] = _check(means_list[i], sds_list[i], ns_list[i], None if labels_list is None else labels_list[i])
        except MetaError as error:
            out[i] = error
    options = MeanSettings(tau2_method, bool(knha), float(level))
    if checked:
        rows = list(checked)
        batch = rma_batch([checked[i][0] for i in rows], [checked[i][1] ** 2 / checked[i][2] for i in rows],
                          method=tau2_method, test="knha" if knha else "z", level=level)
        for row, i in enumerate(rows):
            mean, sd, n, labels = checked[i]
            try:
                out[i] = _result(batch.result(row, labels), mean, sd, n, labels, options)
            except EstimationError as error:
                out[i] = error
    return settle(out, errors)


def _result(fit: RandomEffectsResult, mean: np.ndarray, sd: np.ndarray, n: np.ndarray, labels: tuple[str, ...],
            options: MeanSettings) -> MeanResult:
    from metacalc.meta.distributions import norm_ppf

    z = norm_ppf(1 - (1 - options.level) / 2)
    half = z * np.sqrt(fit.vi)
    studies = StudyTable(StudyMean, labels, {"n": n, "mean": mean, "sd": sd, "estimate": mean,
                                             "ci_lower": mean - half, "ci_upper": mean + half,
                                             "weight": np.asarray(fit.weights, dtype=float)})
    warnings = []
    if fit.k == 1:
        warnings.append("Only one study: the pooled mean is that study's mean and heterogeneity is not estimable.")
    if np.any(n < 2):
        warnings.append("A study with n = 1 was given an SD; an SD from a single patient is not a sample SD.")
    reason = ("Inverse-variance random-effects model on raw means (metafor measure MN, sampling variance sd^2/n), "
              + ("common-effect (tau2 = 0)" if fit.method == "FE" else f"tau2 by {fit.method}")
              + (", Hartung-Knapp interval" if fit.test == "knha" else "") + ".")
    return MeanResult(
        k=fit.k, method="iv", measure="MN", tau2_method=fit.method, test=fit.test, level=options.level,
        estimate=fit.estimate, se=fit.se, ci=fit.ci, pi=fit.pi, tau2=fit.tau2, tau2_ci=fit.tau2_ci, i2=fit.i2,
        h2=fit.h2, q=fit.q, q_df=fit.q_df, q_pvalue=fit.q_pvalue, studies=studies, reason=reason,
        warnings=tuple(warnings), settings=options, model=fit,
    )
