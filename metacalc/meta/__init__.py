"""Statistical core: per-study intervals, escalc transforms, tau² estimators, inverse-variance models, GLMM,
pooled proportions with the case-report default rule, means, sensitivity analyses and batch fits.

Pure functions on numpy arrays returning frozen result objects; no I/O. Names are imported lazily so that
``metacalc`` sub-commands that never fit a model do not pay for numpy/scipy at start-up.
"""

import importlib

_EXPORTS = {
    "rma": "metacalc.meta.random_effects",
    "RandomEffectsResult": "metacalc.meta.results",
    "ProportionResult": "metacalc.meta.results",
    "BatchResult": "metacalc.meta.results",
    "proportion_interval": "metacalc.meta.intervals",
    "escalc_proportion": "metacalc.meta.transforms",
    "back_transform": "metacalc.meta.transforms",
    "pool_proportions": "metacalc.meta.proportions",
    "rma_batch": "metacalc.meta.batch",
    "pool_means": "metacalc.meta.means",
    "MeanResult": "metacalc.meta.means",
    "summarise_values": "metacalc.meta.means",
    "study_from_patients": "metacalc.meta.means",
    "mean_sd_from_quantiles": "metacalc.meta.means",
    "compare_with_published": "metacalc.meta.means",
    "subgroups": "metacalc.meta.sensitivity",
    "subgroups_by": "metacalc.meta.sensitivity",
    "leave_one_out": "metacalc.meta.sensitivity",
    "leave_one_out_by": "metacalc.meta.sensitivity",
    "cumulative": "metacalc.meta.sensitivity",
    "cumulative_by": "metacalc.meta.sensitivity",
    "subgroup_difference": "metacalc.meta.sensitivity",
    "rma_glmm": "metacalc.meta.glmm",
    "rma_glmm_batch": "metacalc.meta.glmm",
    "GlmmResult": "metacalc.meta.glmm",
    "GlmmNotEstimable": "metacalc.meta.glmm",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'metacalc.meta' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
