"""Analyses around one fitted model: leave-one-out, cumulative meta-analysis and subgroups (metafor's verbs).

As metafor's ``leave1out(res)`` and ``cumul(res)``, the verbs take a fitted result, which knows its data and
settings: a :class:`RandomEffectsResult` (``rma``), :class:`ProportionResult` (``pool_proportions``),
:class:`MeanResult` (``pool_means``) or :class:`GlmmResult` (``rma_glmm``). Every subset is refitted with the
same settings, all of them in one batch of the engine that made the result (:func:`refit_many`).

Behind them are generic forms on any fitting callable ``fit(indices) -> result`` (``*_by``), e.g.
``lambda idx: pool_proportions(events[idx], totals[idx], method="glmm")``.

Test for subgroup differences: every subgroup is fitted on its own (its own tau^2, as R meta's
``subgroup=`` does with ``tau.common=FALSE``); the subgroup estimates are then combined by a fixed-effect
(inverse-variance) model with weights ``1 / se_g**2``, and its Q statistic is the "Q between" on G - 1 df --
in metafor: ``rma(estimates, sei=ses, method="FE")``, QE and QEp. With Hartung-Knapp the subgroup SEs are the
adjusted ones. For results that carry a ``transformed`` dict (proportions), the estimate and SE on the model
scale (logit, arcsine, ...) are the ones combined, and only when every subgroup has the same scale: under the
``auto`` rule one subgroup may be a pooled count (proportion scale) and another a GLMM (logit scale), and then
no test is made and ``not_tested`` says why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import singledispatch
from typing import Any

import numpy as np

from metacalc.meta.errors import InvalidInput, MetaError, settle
from metacalc.meta.glmm import rma_glmm_batch
from metacalc.meta.means import pool_means_many
from metacalc.meta.proportions import pool_with
from metacalc.meta.random_effects import rma_batch
from metacalc.meta.results import (
    STEP_FIELDS,
    GlmmResult,
    MeanResult,
    ProportionResult,
    RandomEffectsResult,
    StepTable,
    SubgroupAnalysis,
    model_value,
)

Fit = Callable[[np.ndarray], Any]
Result = RandomEffectsResult | ProportionResult | MeanResult | GlmmResult


# --------------------------------------------------------------------------------------------------------------
# Refitting a result on subsets of its studies
# --------------------------------------------------------------------------------------------------------------


@singledispatch
def refit_many(result: Any, index_sets: Sequence[np.ndarray]) -> list[Any]:
    """The result refitted on each subset of its studies (positions), with its own settings, in one batch;
    a subset that cannot be fitted has its error (``InvalidInput`` / ``EstimationError``) in its place."""
    raise InvalidInput(f"cannot refit a {type(result).__name__}: expected a result of rma, pool_proportions, "
                       "pool_means or rma_glmm")


@refit_many.register
def _(result: RandomEffectsResult, index_sets: Sequence[np.ndarray]) -> list[Any]:
    labels = result.labels
    batch = rma_batch([result.yi[s] for s in index_sets], [result.vi[s] for s in index_sets], method=result.method,
                      test=result.test, level=result.level)
    out: list[Any] = []
    for row, subset in enumerate(index_sets):
        try:
            out.append(batch.result(row, None if labels is None else [labels[i] for i in subset]))
        except MetaError as error:
            out.append(error)
    return out


@refit_many.register
def _(result: ProportionResult, index_sets: Sequence[np.ndarray]) -> list[Any]:
    return list(pool_with(*_proportion_subsets(result, index_sets), result.settings, errors="return",
                          lower_bounds_list=_lower_bound_subsets(result, index_sets)))


def _proportion_subsets(result: ProportionResult, index_sets: Sequence[np.ndarray]
                        ) -> tuple[list[np.ndarray], list[np.ndarray], list[list[str]]]:
    """Events, totals and labels of each subset of a pooled proportion's studies."""
    events = result.studies.columns["events"]
    totals = result.studies.columns["total"]
    labels = result.studies.labels
    assert events is not None and totals is not None
    return ([events[s] for s in index_sets], [totals[s] for s in index_sets],
            [[labels[i] for i in s] for s in index_sets])


def _lower_bound_subsets(result: ProportionResult, index_sets: Sequence[np.ndarray]) -> list[Any]:
    flags = np.array(result.lower_bounds or (False,) * result.k, dtype=bool)
    return [flags[s] for s in index_sets]


def _refit_together(results: Sequence[Any], index_sets_list: Sequence[Sequence[np.ndarray]]) -> list[list[Any]]:
    """``refit_many`` of each result on its own subsets, the pooled proportions that share their settings in one
    batch of the engine (a review's groups are pooled with the same options): a few batch calls instead of one
    per result. Each subset gives what it gives in any batch (see ``arrays``)."""
    out: list[list[Any] | None] = [None] * len(results)
    shared: dict[Any, list[int]] = {}
    for i, result in enumerate(results):
        if isinstance(result, ProportionResult):
            shared.setdefault(result.settings, []).append(i)
        else:
            out[i] = refit_many(result, index_sets_list[i])
    for options, members in shared.items():
        events: list[np.ndarray] = []
        totals: list[np.ndarray] = []
        labels: list[list[str]] = []
        flags: list[Any] = []
        for i in members:
            x, n, names = _proportion_subsets(results[i], index_sets_list[i])
            events += x
            totals += n
            labels += names
            flags += _lower_bound_subsets(results[i], index_sets_list[i])
        fitted = pool_with(events, totals, labels, options, errors="return", lower_bounds_list=flags)
        start = 0
        for i in members:
            count = len(index_sets_list[i])
            out[i] = list(fitted[start:start + count])
            start += count
    return [fits if fits is not None else [] for fits in out]


@refit_many.register
def _(result: MeanResult, index_sets: Sequence[np.ndarray]) -> list[Any]:
    columns = result.studies.columns
    labels = result.studies.labels
    mean, sd, n = columns["mean"], columns["sd"], columns["n"]
    assert mean is not None and sd is not None and n is not None
    options = result.settings
    return list(pool_means_many([mean[s] for s in index_sets], [sd[s] for s in index_sets], [n[s] for s in index_sets],
                                [[labels[i] for i in s] for s in index_sets], options.tau2_method, options.knha,
                                options.level, errors="return"))


@refit_many.register
def _(result: GlmmResult, index_sets: Sequence[np.ndarray]) -> list[Any]:
    labels = result.labels
    return list(rma_glmm_batch([result.events[s] for s in index_sets], [result.totals[s] for s in index_sets],
                               level=result.level, nagq=result.nagq,
                               labels=[None if labels is None else [labels[i] for i in s] for s in index_sets],
                               errors="return"))


def _study_labels(result: Any) -> tuple[str, ...]:
    if isinstance(result, (ProportionResult, MeanResult)):
        return result.studies.labels
    labels = getattr(result, "labels", None)
    return tuple(labels) if labels is not None else tuple(f"study {i + 1}" for i in range(result.k))


def _refits(result: Any, index_sets: Sequence[np.ndarray]) -> list[Any]:
    """``refit_many``, raising the first subset's error (in step order) as a single fit would."""
    return settle(refit_many(result, index_sets), "raise")


# --------------------------------------------------------------------------------------------------------------
# The verbs
# --------------------------------------------------------------------------------------------------------------


def _labels(labels: Sequence[str] | None, k: int) -> tuple[str, ...]:
    if labels is None:
        return tuple(f"study {i + 1}" for i in range(k))
    names = tuple(str(label) for label in labels)
    if len(names) != k:
        raise InvalidInput(f"labels has {len(names)} entries for {k} studies")
    return names


def _leave_one_out_sets(k: int) -> list[np.ndarray]:
    if k < 2:
        raise InvalidInput(f"leave-one-out needs at least 2 studies (got {k})")
    everything = np.arange(k)
    return [everything[everything != i] for i in range(k)]


def _cumulative_sets(k: int, order: Sequence[float] | np.ndarray | None) -> tuple[np.ndarray, list[np.ndarray]]:
    """The order studies are added in, and the studies of each step."""
    if k < 1:
        raise InvalidInput("no studies")
    if order is None:
        sequence = np.arange(k)
    else:
        keys = np.asarray(order)
        if keys.shape != (k,):
            raise InvalidInput(f"order has {keys.size} entries for {k} studies")
        sequence = np.argsort(keys, kind="stable")
    return sequence, [sequence[: i + 1] for i in range(k)]


def _subgroup_sets(groups: Sequence[Any]) -> tuple[tuple[Any, ...], list[np.ndarray]]:
    """Subgroup values in order of first appearance, and the studies of each."""
    values = np.asarray(groups, dtype=object)
    if values.ndim != 1 or len(values) == 0:
        raise InvalidInput("groups must be a non-empty 1-d sequence, one value per study")
    levels = tuple(dict.fromkeys(values.tolist()))
    return levels, [np.flatnonzero(values == level_value) for level_value in levels]


def _step_table(kind: str, labels: Sequence[str], index_sets: Sequence[np.ndarray], fits: Sequence[Any]) -> StepTable:
    columns = {name: np.array([model_value(f, name) for f in fits]) for name in STEP_FIELDS}
    return StepTable(kind=kind, labels=tuple(labels), indices=tuple(tuple(map(int, s)) for s in index_sets),
                     fits=tuple(fits), **columns)


def leave_one_out(result: Result) -> StepTable:
    """metafor's ``leave1out(res)``: ``result`` refitted without each study in turn."""
    index_sets = _leave_one_out_sets(result.k)
    return _step_table("leave_one_out", _study_labels(result), index_sets, _refits(result, index_sets))


def leave_one_out_by(fit: Fit, k: int, labels: Sequence[str] | None = None) -> StepTable:
    """Refit without each study in turn (metafor's ``leave1out``); ``fit(indices)`` fits the given studies."""
    index_sets = _leave_one_out_sets(k)
    return _step_table("leave_one_out", _labels(labels, k), index_sets, [fit(s) for s in index_sets])


def cumulative(result: Result, order: Sequence[float] | np.ndarray | None = None) -> StepTable:
    """metafor's ``cumul(res, order=order)``: ``result`` refitted adding one study at a time, in data order or
    sorted by ``order`` (e.g. publication year; a stable sort, ties keep data order as R's ``order()``)."""
    sequence, index_sets = _cumulative_sets(result.k, order)
    names = _study_labels(result)
    return _step_table("cumulative", [names[i] for i in sequence], index_sets, _refits(result, index_sets))


def cumulative_many(results: Sequence[Result], orders: Sequence[Sequence[float] | np.ndarray | None]
                    ) -> list[StepTable | MetaError]:
    """``cumulative(result, order)`` of many results at once, every step of every result refitted together
    (:func:`_refit_together`): the same tables as one call each. A result whose steps cannot all be fitted has
    its first failing step's error (in step order) in its place, the error ``cumulative`` would raise."""
    if len(orders) != len(results):
        raise InvalidInput(f"{len(orders)} orders for {len(results)} results")
    plans = [_cumulative_sets(result.k, order) for result, order in zip(results, orders)]
    fits = _refit_together(results, [index_sets for _, index_sets in plans])
    out: list[StepTable | MetaError] = []
    for result, (sequence, index_sets), steps in zip(results, plans, fits):
        failed = next((step for step in steps if isinstance(step, MetaError)), None)
        if failed is not None:
            out.append(failed)
            continue
        names = _study_labels(result)
        out.append(_step_table("cumulative", [names[i] for i in sequence], index_sets, steps))
    return out


def cumulative_by(fit: Fit, k: int, order: Sequence[float] | np.ndarray | None = None,
                  labels: Sequence[str] | None = None) -> StepTable:
    """Add one study at a time (metafor's ``cumul``), in data order or sorted by ``order`` (e.g. publication
    year; a stable sort, so ties keep data order as R's ``order()`` does); ``fit(indices)`` fits the studies."""
    sequence, index_sets = _cumulative_sets(k, order)
    names = _labels(labels, k)
    return _step_table("cumulative", [names[i] for i in sequence], index_sets, [fit(s) for s in index_sets])


def subgroups(result: Result, groups: Sequence[Any]) -> SubgroupAnalysis:
    """Separate fits of ``result``'s model per subgroup, plus the fixed-effect test for subgroup differences."""
    if len(groups) != result.k:
        raise InvalidInput(f"groups has {len(groups)} entries for {result.k} studies")
    levels, index_sets = _subgroup_sets(groups)
    return _subgroup_analysis(levels, _refits(result, index_sets))


def subgroups_by(fit: Fit, groups: Sequence[Any]) -> SubgroupAnalysis:
    """Fit each subgroup with ``fit(indices)`` and test for subgroup differences."""
    levels, index_sets = _subgroup_sets(groups)
    return _subgroup_analysis(levels, [fit(s) for s in index_sets])


def subgroup_difference(estimates: Sequence[float] | np.ndarray,
                        ses: Sequence[float] | np.ndarray) -> tuple[float, int, float]:
    """Q between subgroups: the fixed-effect heterogeneity statistic of the subgroup estimates.

    Returns ``(q, df, pvalue)``; metafor: ``rma(estimates, sei=ses, method="FE")`` -> QE, k - 1, QEp.
    """
    from metacalc.meta.distributions import chi2_sf

    values = np.asarray(estimates, dtype=float)
    errors = np.asarray(ses, dtype=float)
    if len(values) < 2:
        raise InvalidInput("a test for subgroup differences needs at least 2 subgroups")
    w = 1 / errors**2
    pooled = np.sum(w * values) / np.sum(w)
    q = float(np.sum(w * (values - pooled) ** 2))
    df = len(values) - 1
    return q, df, float(chi2_sf(q, df))


def _model_scale(result: Any) -> tuple[float, float]:
    """Estimate and SE on the scale the model was fitted on."""
    transformed = getattr(result, "transformed", None)
    if isinstance(transformed, dict) and "estimate" in transformed and "se" in transformed:
        estimate, se = transformed["estimate"], transformed["se"]
    else:
        estimate, se = result.estimate, result.se
    return (np.nan if estimate is None else float(estimate)), (np.nan if se is None else float(se))


def _scale_of(result: Any) -> str | None:
    """The scale a fit's model-scale estimate lives on (None: the caller's own, e.g. an ``rma`` on given yi)."""
    if isinstance(result, GlmmResult):
        return "logit"
    if isinstance(result, MeanResult):
        return "mean"
    return getattr(result, "scale", None)


def _subgroup_analysis(levels: tuple[Any, ...], results: Sequence[Any]) -> SubgroupAnalysis:
    fits = dict(zip(levels, results))
    estimates, ses, excluded = [], [], {}
    tested = []
    for level_value, result in fits.items():
        estimate, se = _model_scale(result)
        estimates.append(estimate)
        ses.append(se)
        if not (np.isfinite(estimate) and np.isfinite(se) and se > 0):
            excluded[str(level_value)] = "no finite estimate with a positive standard error"
        else:
            tested.append(len(estimates) - 1)
    estimate_array, se_array = np.array(estimates), np.array(ses)
    q = p = None
    df = None
    # Q between compares estimates on one scale: under "auto" one subgroup can be a pooled count (proportion
    # scale) and another a GLMM (logit scale), and such estimates and SEs cannot enter one test.
    scales = {levels[i]: _scale_of(fits[levels[i]]) for i in tested}
    distinct = sorted({scale for scale in scales.values() if scale is not None})
    not_tested = None
    if len(distinct) > 1:
        listed = "; ".join(f"{group}: {scale}" for group, scale in scales.items())
        not_tested = (f"the subgroups were pooled on different scales ({listed}), so their estimates cannot be "
                      "compared in one test; pool every subgroup with one method (e.g. method 'glmm' or 'exact') to "
                      "test them")
    elif len(tested) >= 2:
        q, df, p = subgroup_difference(estimate_array[tested], se_array[tested])
    return SubgroupAnalysis(groups=levels, fits=fits, estimates=estimate_array, ses=se_array, q_between=q,
                            q_between_df=df, q_between_pvalue=p, excluded=excluded,
                            scale=distinct[0] if len(distinct) == 1 else None, not_tested=not_tested)
