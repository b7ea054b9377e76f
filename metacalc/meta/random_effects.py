"""Inverse-variance common-effect and random-effects models: metafor's ``rma.uni`` for an intercept-only model.

One engine fits many analyses at once (:func:`rma_batch`); a single fit (:func:`rma`) is that engine on one row,
so a fit gives the same numbers alone or in any batch. Each reproduces ``metafor::rma(yi, vi, method=...,
test=...)`` together with ``predict()`` (the prediction interval) and ``confint()`` (the Q-profile interval for
tau²):

- pooled estimate with weights 1/(v_i + tau²) and its standard error (Hedges & Vevea 1998);
- test="knha": Hartung-Knapp (Hartung & Knapp 2001; Sidik & Jonkman 2002): the variance is multiplied by
  s² = sum w_i (y_i - mu)² / (k - 1) (no truncation of s² at 1, as metafor's "knha"; s² is set to 0 when the
  weighted residual sum of squares is below machine epsilon, as metafor does) and t(k - 1) quantiles are used;
- prediction interval estimate ± crit * sqrt(se² + tau²) with the same critical value as the CI (metafor's
  default ``pi.type``; Riley et al. 2011 discuss the t(k - 2) variant, which metafor does not use by default);
- Q, I², H² as metafor (see ``heterogeneity``).

k = 1: tau² = 0, Q = 0 (p = 1), I² = 0, H² = 1, no tau² interval (``tau2_ci`` None) and test="knha" falls
back to "z" (the result's ``test`` says "z"), all as metafor.
method="FE": tau² = 0, ``tau2_ci`` None (metafor's confint refuses: no random effect) and the prediction
interval is nan (metafor's predict gives none for a common-effect model).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from metacalc.meta import heterogeneity
from metacalc.meta.arrays import padded, size_buckets, study_sum
from metacalc.meta.distributions import chi2_sf, norm_isf, norm_sf, t_isf, t_sf
from metacalc.meta.errors import InvalidInput
from metacalc.meta.heterogeneity import Rows
from metacalc.meta.options import TESTS
from metacalc.meta.results import BatchResult, RandomEffectsResult

# Results per analysis that the engine returns, in BatchResult's order
_ROW_FIELDS = ("estimate", "se", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "statistic", "pvalue", "knha",
               "tau2", "tau2_ci_lower", "tau2_ci_upper", "tau2_ci_lower_censored", "tau2_ci_upper_censored",
               "has_tau2_ci", "i2", "h2", "q", "q_pvalue", "converged", "iterations")


def option_problems(method: str, test: str, level: float) -> list[str]:
    problems = []
    if method not in heterogeneity.TAU2_METHODS:
        problems.append(f"unknown method {method!r}; expected one of {', '.join(heterogeneity.TAU2_METHODS)}")
    if test not in TESTS:
        problems.append(f"unknown test {test!r}; expected 'z' or 'knha'")
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        problems.append(f"level must be between 0 and 1 (got {level})")
    return problems


def _compact(yi: np.ndarray, vi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A NaN-padded matrix with each row's studies moved to the left (order kept): values, variances, k, and
    the original column of each compacted cell."""
    mask = np.isfinite(yi)
    if np.any(mask != np.isfinite(vi)):
        raise InvalidInput("yi and vi must be missing (NaN) at the same places")
    order = np.argsort(~mask, axis=1, kind="stable")
    return (np.take_along_axis(yi, order, axis=1), np.take_along_axis(vi, order, axis=1), mask.sum(axis=1),
            order)


def _as_rows(yi: object, vi: object) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Either 2-D NaN-padded arrays (or one 1-D analysis) or sequences of 1-D arrays, as compacted matrices."""
    try:
        y: np.ndarray | None = np.asarray(yi, dtype=float)
        v: np.ndarray | None = np.asarray(vi, dtype=float)
    except ValueError:  # rows of different lengths
        y = v = None
    if y is not None and v is not None and y.ndim in (1, 2):
        if y.ndim == 1 and v.ndim == 1:
            y, v = y[None, :], v[None, :]
        if y.shape != v.shape:
            raise InvalidInput(f"yi and vi differ in shape ({y.shape} and {v.shape})")
        y, v, k, order = _compact(y, v)
        return y, v, k, order
    y_rows = [np.asarray(row, dtype=float).ravel() for row in yi]  # type: ignore[attr-defined]
    v_rows = [np.asarray(row, dtype=float).ravel() for row in vi]  # type: ignore[attr-defined]
    if len(y_rows) != len(v_rows) or any(len(a) != len(b) for a, b in zip(y_rows, v_rows)):
        raise InvalidInput("yi and vi differ in shape")
    y_padded, _ = padded(y_rows, np.nan)
    v_padded, _ = padded(v_rows, np.nan)
    y_compact, v_compact, k, _ = _compact(y_padded, v_padded)
    return y_compact, v_compact, k, None


def rma_batch(yi: object, vi: object, method: str = "REML", test: str = "z", level: float = 0.95,
              tau2_ci: bool = True) -> BatchResult:
    """Fit ``rma(yi[r], vi[r], method, test, level)`` for every analysis r at once.

    ``yi`` / ``vi``: 2-D arrays (rows = analyses, NaN marks padding, at the same places in both) or sequences
    of 1-D arrays of any lengths; a 1-D array is one analysis. Every analysis needs at least one study.
    ``tau2_ci=False`` skips the Q-profile interval. Rows where metafor would stop with an error (Fisher scoring
    not converging, PM beyond tau2.max) come back with ``converged`` False and nan values instead of stopping
    the batch. Analyses are fitted in buckets of similar k, and each gives the numbers it gives alone.
    """
    problems = option_problems(method, test, level)
    if problems:
        raise InvalidInput(problems)
    y, v, k, order = _as_rows(yi, vi)
    if np.any(k == 0):
        raise InvalidInput(f"row(s) {np.flatnonzero(k == 0).tolist()} have no studies")
    cells = np.arange(y.shape[1])[None, :] < k[:, None]
    if np.any(cells & ~(v > 0)):
        raise InvalidInput("sampling variances vi must be positive")
    count = len(k)
    out: dict[str, np.ndarray] = {name: np.full(count, np.nan) for name in _ROW_FIELDS}
    for name in ("knha", "has_tau2_ci", "converged"):
        out[name] = np.zeros(count, dtype=bool)
    for name in ("tau2_ci_lower_censored", "tau2_ci_upper_censored"):
        out[name] = np.zeros(count, dtype=np.int8)
    out["iterations"] = np.zeros(count, dtype=int)
    errors = np.full(count, None, dtype=object)
    weights = np.full(y.shape, np.nan)
    for bucket in size_buckets(k):
        width = int(k[bucket].max())
        mask = cells[bucket, :width]
        rows = Rows(np.where(mask, y[bucket, :width], 0.0), np.where(mask, v[bucket, :width], 1.0), mask, k[bucket])
        fitted, bucket_weights, bucket_errors = _fit(rows, method, test, level, tau2_ci)
        for name, values in fitted.items():
            out[name][bucket] = values
        weights[bucket, :width] = np.where(mask, bucket_weights, np.nan)
        errors[bucket] = bucket_errors
    if order is not None:
        # back to the caller's columns
        weights = _uncompact(weights, order)
        y, v = _uncompact(y, order), _uncompact(v, order)
    for shared in (weights, y, v):
        shared.flags.writeable = False  # results hold views of these rows
    return BatchResult(k=k, method=method, test=test, level=level, errors=tuple(errors), weights=weights, yi=y, vi=v,
                       **out)


def _uncompact(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    restored = np.empty_like(values)
    np.put_along_axis(restored, order, values, axis=1)
    return restored


def _critical_values(rows: Rows, knha: np.ndarray, alpha: float) -> np.ndarray:
    """Normal quantile, or t(k - 1) where Hartung-Knapp is used (one quantile per distinct k)."""
    crit = np.full(len(rows.k), float(norm_isf(alpha / 2)))
    if knha.any():
        distinct, position = np.unique(rows.k[knha] - 1, return_inverse=True)
        crit[knha] = np.asarray(t_isf(alpha / 2, distinct), dtype=float)[position]
    return crit


def _fit(rows: Rows, method: str, test: str, level: float,
         want_tau2_ci: bool) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """One bucket: the fields of BatchResult per row, the weights (percent) and metafor's error messages."""
    k = rows.k
    tau2, errors, iterations = heterogeneity.estimate_tau2(rows, method)
    failed = np.array([e is not None for e in errors], dtype=bool)
    tau2 = np.where(failed, 0.0, tau2)  # the failed rows are computed through and set to nan at the end
    w = rows.weights(tau2)
    sw = study_sum(w)
    estimate = study_sum(w * rows.y) / sw
    variance = 1.0 / sw
    knha = (test == "knha") & (k > 1)  # metafor uses z for k = 1
    with np.errstate(divide="ignore", invalid="ignore"):
        rss = study_sum(w * (rows.y - estimate[:, None]) ** 2)
        s2w = np.where(rss <= np.finfo(float).eps, 0.0, rss / np.maximum(k - 1, 1))
        variance = np.where(knha, variance * s2w, variance)
        se = np.sqrt(variance)
        crit = _critical_values(rows, knha, 1 - level)
        statistic = estimate / se
        pvalue = np.where(knha, 2 * t_sf(np.abs(statistic), np.maximum(k - 1, 1)), 2 * norm_sf(np.abs(statistic)))
        several = k > 1
        q = np.where(several, np.maximum(0.0, heterogeneity.q_statistic(rows, np.zeros(len(k)))), 0.0)
        q_pvalue = np.where(several, chi2_sf(q, np.maximum(k - 1, 1)), 1.0)
        i2, h2 = heterogeneity.i2_h2(rows, q, tau2, common_effect=(method == "FE"))
        # metafor's predict() gives no prediction interval for a common-effect model: no tau² to predict with
        prediction_sd = np.full(len(k), np.nan) if method == "FE" else np.sqrt(variance + tau2)
    ci_low = np.full(len(k), np.nan)
    ci_high = np.full(len(k), np.nan)
    low_censored = np.zeros(len(k), dtype=np.int8)
    high_censored = np.zeros(len(k), dtype=np.int8)
    has_ci = several & ~failed & (method != "FE") & want_tau2_ci
    if has_ci.any():
        which = np.flatnonzero(has_ci)
        ci_low[which], ci_high[which], low_censored[which], high_censored[which] = \
            heterogeneity.tau2_profile_interval(rows.take(which), tau2[which], level)
    fitted = {
        "estimate": estimate, "se": se, "ci_lower": estimate - crit * se, "ci_upper": estimate + crit * se,
        "pi_lower": estimate - crit * prediction_sd, "pi_upper": estimate + crit * prediction_sd,
        "statistic": statistic, "pvalue": pvalue, "tau2": tau2, "tau2_ci_lower": ci_low, "tau2_ci_upper": ci_high,
        "i2": i2, "h2": h2, "q": q, "q_pvalue": q_pvalue,
    }
    fitted = {name: np.where(failed, np.nan, values) for name, values in fitted.items()}
    fitted.update(knha=knha, has_tau2_ci=has_ci, converged=~failed, iterations=iterations,
                  tau2_ci_lower_censored=low_censored, tau2_ci_upper_censored=high_censored)
    return fitted, 100 * w / sw[:, None], errors


def rma(yi: Sequence[float] | np.ndarray, vi: Sequence[float] | np.ndarray, method: str = "REML", test: str = "z",
        level: float = 0.95, labels: Sequence[str] | None = None) -> RandomEffectsResult:
    """Fit the intercept-only model to effect sizes ``yi`` with sampling variances ``vi``.

    ``method``: "FE" (common effect) or a tau² estimator "DL", "REML", "ML", "PM", "HE", "SJ".
    ``test``: "z" (normal quantiles) or "knha" (Hartung-Knapp, t with k - 1 df). ``level`` as a fraction.
    Raises ``InvalidInput`` for unusable data or options and ``EstimationError`` where metafor stops with an
    error (e.g. Fisher scoring not converging).
    """
    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    problems = option_problems(method, test, level)
    if y.shape != v.shape:
        problems.append(f"yi and vi differ in length ({len(y)} and {len(v)})")
    elif len(y) == 0:
        problems.append("no studies to pool")
    elif not (np.all(np.isfinite(y)) and np.all(np.isfinite(v))):
        problems.append("yi and vi must be finite numbers (drop missing studies first)")
    elif np.any(v <= 0):
        problems.append("sampling variances vi must be positive")
    if labels is not None and len(labels) != len(y):
        problems.append(f"{len(labels)} labels for {len(y)} studies")
    if problems:
        raise InvalidInput(problems)
    return rma_batch(y[None, :], v[None, :], method=method, test=test, level=level).result(0, labels)
