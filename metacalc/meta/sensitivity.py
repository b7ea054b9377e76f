"""Analyses around one model: subgroups, leave-one-out and cumulative meta-analysis (metafor's verbs).

Each verb has two forms:

- on effect sizes ``yi`` and sampling variances ``vi``, fitted with :func:`metacalc.meta.random_effects.rma`
  (``subgroups``, ``leave_one_out``, ``cumulative``) -- these match metafor's separate subgroup fits,
  ``leave1out()`` and ``cumul()``;
- on any fitting callable ``fit(indices) -> result`` (``*_by``), e.g.
  ``lambda idx: pool_proportions(events[idx], totals[idx], method="glmm")``, so that the same verbs run on
  events/totals with whatever pooling method the review uses.

Test for subgroup differences: every subgroup is fitted on its own (its own tau^2, as R meta's
``subgroup=`` does with ``tau.common=FALSE``); the subgroup estimates are then combined by a fixed-effect
(inverse-variance) model with weights ``1 / se_g**2``, and its Q statistic is the "Q between" on G - 1 df --
in metafor: ``rma(estimates, sei=ses, method="FE")``, QE and QEp. With Hartung-Knapp the subgroup SEs are the
adjusted ones. For results that carry a ``transformed`` dict (proportions), the estimate and SE on the model
scale (logit, arcsine, ...) are the ones combined.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from metacalc.meta.results import json_number

# Per-step quantities in leave-one-out / cumulative tables, as metafor lists them.
STEP_FIELDS = ("estimate", "se", "statistic", "pvalue", "ci_lower", "ci_upper", "q", "q_pvalue", "tau2", "i2", "h2")


def _attribute(result, name):
    value = getattr(result, name, None)
    if value is None and name == "se":
        # pooled proportions keep their SE on the model scale only
        value = (getattr(result, "transformed", None) or {}).get("se")
    return np.nan if value is None else float(value)


def _model_scale(result):
    """Estimate and SE on the scale the model was fitted on."""
    transformed = getattr(result, "transformed", None)
    if isinstance(transformed, dict) and "estimate" in transformed and "se" in transformed:
        estimate, se = transformed["estimate"], transformed["se"]
    else:
        estimate, se = result.estimate, result.se
    return (np.nan if estimate is None else float(estimate)), (np.nan if se is None else float(se))


def _rma_fitter(yi, vi, method, test, level):
    from metacalc.meta.random_effects import rma

    yi = np.asarray(yi, dtype=float)
    vi = np.asarray(vi, dtype=float)
    if yi.shape != vi.shape or yi.ndim != 1:
        raise ValueError(f"yi and vi must be 1-d arrays of one length (got {yi.shape} and {vi.shape})")
    if len(yi) == 0:
        raise ValueError("no studies")

    def fit(indices):
        return rma(yi[indices], vi[indices], method=method, test=test, level=level)

    return fit, len(yi)


def _labels(labels, k):
    if labels is None:
        return tuple(f"study {i + 1}" for i in range(k))
    labels = tuple(str(label) for label in labels)
    if len(labels) != k:
        raise ValueError(f"labels has {len(labels)} entries for {k} studies")
    return labels


@dataclass(frozen=True)
class StepTable:
    """One fit per step: leave-one-out (step i = all studies but study i) or cumulative (step i = first i).

    ``labels[i]`` names the study left out / added at step i; ``indices[i]`` are the studies in fit i (positions
    in the original data); every array in :data:`STEP_FIELDS` has one entry per step (NaN where the fit has no
    such quantity); ``fits`` keeps the full results.
    """

    kind: str
    labels: tuple[str, ...]
    indices: tuple[tuple[int, ...], ...]
    estimate: np.ndarray
    se: np.ndarray
    statistic: np.ndarray
    pvalue: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    q: np.ndarray
    q_pvalue: np.ndarray
    tau2: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    fits: tuple = field(repr=False, compare=False, default=())

    def __len__(self):
        return len(self.labels)

    def to_dict(self):
        """JSON-safe: one object per step, non-finite numbers as null."""
        label_key = "omitted" if self.kind == "leave_one_out" else "added"
        rows = []
        for i, label in enumerate(self.labels):
            row = {label_key: label, "k": len(self.indices[i])}
            row.update({name: json_number(getattr(self, name)[i]) for name in STEP_FIELDS})
            rows.append(row)
        return {"kind": self.kind, "steps": rows}


def _step_table(kind, labels, index_sets, fit):
    fits = tuple(fit(np.asarray(indices, dtype=int)) for indices in index_sets)
    columns = {name: np.array([_attribute(f, name) for f in fits]) for name in STEP_FIELDS}
    return StepTable(kind=kind, labels=tuple(labels), indices=tuple(tuple(map(int, s)) for s in index_sets),
                     fits=fits, **columns)


def leave_one_out_by(fit, k, labels=None):
    """Refit without each study in turn (metafor's ``leave1out``); ``fit(indices)`` fits the given studies."""
    if k < 2:
        raise ValueError(f"leave-one-out needs at least 2 studies (got {k})")
    labels = _labels(labels, k)
    everything = np.arange(k)
    index_sets = [everything[everything != i] for i in range(k)]
    return _step_table("leave_one_out", labels, index_sets, fit)


def leave_one_out(yi, vi, method="REML", test="z", level=0.95, labels=None):
    """metafor's ``leave1out(rma(yi, vi, method=method, test=test, level=level))``."""
    fit, k = _rma_fitter(yi, vi, method, test, level)
    return leave_one_out_by(fit, k, labels)


def cumulative_by(fit, k, order=None, labels=None):
    """Add one study at a time (metafor's ``cumul``), in data order or sorted by ``order`` (e.g. publication
    year; a stable sort, so ties keep data order as R's ``order()`` does)."""
    if k < 1:
        raise ValueError("no studies")
    labels = _labels(labels, k)
    if order is None:
        sequence = np.arange(k)
    else:
        order = np.asarray(order)
        if order.shape != (k,):
            raise ValueError(f"order has {order.size} entries for {k} studies")
        sequence = np.argsort(order, kind="stable")
    index_sets = [sequence[: i + 1] for i in range(k)]
    return _step_table("cumulative", [labels[i] for i in sequence], index_sets, fit)


def cumulative(yi, vi, order=None, method="REML", test="z", level=0.95, labels=None):
    """metafor's ``cumul(rma(yi, vi, method=method, test=test, level=level), order=order)``."""
    fit, k = _rma_fitter(yi, vi, method, test, level)
    return cumulative_by(fit, k, order, labels)


@dataclass(frozen=True)
class SubgroupAnalysis:
    """Separate fits per subgroup and the test for subgroup differences (see the module docstring).

    ``groups`` lists the subgroup values in order of first appearance; ``fits[g]`` is that subgroup's result.
    ``q_between`` is None with fewer than two subgroups that have a finite estimate and a positive SE;
    ``excluded`` names subgroups left out of the test and why.
    """

    groups: tuple
    fits: dict = field(compare=False)
    estimates: np.ndarray
    ses: np.ndarray
    q_between: float | None
    q_between_df: int | None
    q_between_pvalue: float | None
    excluded: dict = field(default_factory=dict)

    def to_dict(self, fit_to_dict=None):
        """JSON-safe summary; ``fit_to_dict(result)`` serialises a subgroup fit (default: estimate, SE, CI, k)."""

        def default(result):
            return {name: json_number(_attribute(result, name))
                    for name in ("estimate", "se", "ci_lower", "ci_upper", "tau2", "i2", "q")} | {
                "k": int(result.k)}

        serialise = fit_to_dict or default
        return {
            "subgroups": [{"by": group, **serialise(self.fits[group])} for group in self.groups],
            "test_for_subgroup_differences": {
                "q_between": json_number(self.q_between),
                "df": self.q_between_df,
                "pvalue": json_number(self.q_between_pvalue),
                "method": "fixed-effect Q across subgroup estimates (separate tau2 per subgroup)",
                "excluded": dict(self.excluded),
            },
        }


def subgroup_difference(estimates, ses):
    """Q between subgroups: the fixed-effect heterogeneity statistic of the subgroup estimates.

    Returns ``(q, df, pvalue)``; metafor: ``rma(estimates, sei=ses, method="FE")`` -> QE, k - 1, QEp.
    """
    from scipy import stats

    estimates = np.asarray(estimates, dtype=float)
    ses = np.asarray(ses, dtype=float)
    if len(estimates) < 2:
        raise ValueError("a test for subgroup differences needs at least 2 subgroups")
    w = 1 / ses**2
    pooled = np.sum(w * estimates) / np.sum(w)
    q = float(np.sum(w * (estimates - pooled) ** 2))
    df = len(estimates) - 1
    return q, df, float(stats.chi2.sf(q, df))


def subgroups_by(fit, groups):
    """Fit each subgroup with ``fit(indices)`` and test for subgroup differences."""
    groups = np.asarray(groups, dtype=object)
    if groups.ndim != 1 or len(groups) == 0:
        raise ValueError("groups must be a non-empty 1-d sequence, one value per study")
    levels = tuple(dict.fromkeys(groups.tolist()))
    fits = {}
    estimates, ses, excluded = [], [], {}
    tested = []
    for level_value in levels:
        result = fit(np.flatnonzero(groups == level_value))
        fits[level_value] = result
        estimate, se = _model_scale(result)
        estimates.append(estimate)
        ses.append(se)
        if not (np.isfinite(estimate) and np.isfinite(se) and se > 0):
            excluded[str(level_value)] = "no finite estimate with a positive standard error"
        else:
            tested.append(len(estimates) - 1)
    estimates, ses = np.array(estimates), np.array(ses)
    q = df = p = None
    if len(tested) >= 2:
        q, df, p = subgroup_difference(estimates[tested], ses[tested])
    return SubgroupAnalysis(groups=levels, fits=fits, estimates=estimates, ses=ses, q_between=q,
                            q_between_df=df, q_between_pvalue=p, excluded=excluded)


def subgroups(yi, vi, groups, method="REML", test="z", level=0.95):
    """Separate random-effects fits per subgroup plus the fixed-effect test for subgroup differences."""
    fit, k = _rma_fitter(yi, vi, method, test, level)
    if len(groups) != k:
        raise ValueError(f"groups has {len(groups)} entries for {k} studies")
    return subgroups_by(fit, groups)
