"""Statistical core: per-study intervals, escalc transforms, tau² estimators, inverse-variance models, GLMM,
pooled proportions with the case-report default rule, means, and sensitivity analyses on fitted results.

Pure functions on numpy arrays returning frozen result objects; no I/O, and nothing imported from the rest of
metacalc. Refusals are ``ValueError`` subclasses (``InvalidInput``, ``EstimationError``) that the edges turn
into user messages. Names are imported lazily so that ``metacalc`` sub-commands that never fit a model do not
pay for numpy/scipy at start-up.

Modules, in the order data flows through them: ``options`` (choices and defaults, no numpy); ``counts``,
``intervals``, ``transforms`` (per-study data); ``arrays``, ``distributions``, ``rootfind``, ``heterogeneity``,
``random_effects`` (the inverse-variance engine); ``glmm_likelihood``, ``glmm_heterogeneity``, ``glmm`` (the GLMM
engine); ``population_average``, ``auto_rule`` (the default rule chosen by the coverage study of
benchmarks/coverage); ``proportions``, ``proportions_iv``, ``means``, ``summaries``, ``quantiles``, ``comparison``,
``one_sample`` (what a review reports); ``sensitivity`` (verbs on a fitted result); ``results``, ``study_rows``,
``errors`` (what comes back).
"""

import importlib
from typing import Any

_EXPORTS = {
    "InvalidInput": "metacalc.meta.errors",
    "EstimationError": "metacalc.meta.errors",
    "GlmmNotEstimable": "metacalc.meta.errors",
    "MetaError": "metacalc.meta.errors",
    "ConfidenceInterval": "metacalc.meta.results",
    "RandomEffectsResult": "metacalc.meta.results",
    "BatchResult": "metacalc.meta.results",
    "GlmmResult": "metacalc.meta.results",
    "ProportionResult": "metacalc.meta.results",
    "MeanResult": "metacalc.meta.results",
    "StepTable": "metacalc.meta.results",
    "SubgroupAnalysis": "metacalc.meta.results",
    "proportion_interval": "metacalc.meta.intervals",
    "lower_limit": "metacalc.meta.intervals",
    "population_average": "metacalc.meta.population_average",
    "escalc_proportion": "metacalc.meta.transforms",
    "back_transform": "metacalc.meta.transforms",
    "rma": "metacalc.meta.random_effects",
    "rma_batch": "metacalc.meta.random_effects",
    "rma_glmm": "metacalc.meta.glmm",
    "rma_glmm_batch": "metacalc.meta.glmm",
    "pool_proportions": "metacalc.meta.proportions",
    "pool_proportions_many": "metacalc.meta.proportions",
    "pool_means": "metacalc.meta.means",
    "pool_means_many": "metacalc.meta.means",
    "summarise_values": "metacalc.meta.summaries",
    "study_from_patients": "metacalc.meta.summaries",
    "mean_sd_from_quantiles": "metacalc.meta.quantiles",
    "compare_with_published": "metacalc.meta.comparison",
    "welch_from_summaries": "metacalc.meta.comparison",
    "compare_with_value": "metacalc.meta.one_sample",
    "wilcoxon_signed_rank": "metacalc.meta.one_sample",
    "sign_test": "metacalc.meta.one_sample",
    "t_interval": "metacalc.meta.summaries",
    "leave_one_out": "metacalc.meta.sensitivity",
    "cumulative": "metacalc.meta.sensitivity",
    "subgroups": "metacalc.meta.sensitivity",
    "leave_one_out_by": "metacalc.meta.sensitivity",
    "cumulative_by": "metacalc.meta.sensitivity",
    "cumulative_many": "metacalc.meta.sensitivity",
    "subgroups_by": "metacalc.meta.sensitivity",
    "subgroup_difference": "metacalc.meta.sensitivity",
    "refit_many": "metacalc.meta.sensitivity",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'metacalc.meta' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
