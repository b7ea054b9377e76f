"""Binomial-normal random-intercept model (GLMM) for pooling proportions, as metafor's
``rma.glmm(measure="PLO")`` fits it.

The model: study i has x_i events out of n_i with logit(p_i) = mu + tau * u_i, u_i ~ N(0, 1). It is fitted by
maximum likelihood, the marginal likelihood being approximated by adaptive Gauss-Hermite quadrature exactly as
lme4's ``glmer(cbind(x, n - x) ~ 1 + (1 | study), family=binomial, nAGQ=7)`` does it (metafor calls glmer with
these settings; Stijnen, Hamza & Ozdemir 2010, Stat Med 29:3046); the deviance is in ``glmm_likelihood`` and
the heterogeneity statistics in ``glmm_heterogeneity``.

* theta = tau >= 0 (lme4's parameter); the fixed-effect SE comes from the inverse Hessian of the deviance over
  (theta, mu) (lme4's default ``vcov`` for nAGQ > 0 fits), falling back to 1 / sum(W_i) at theta = 0 where
  the cross derivative is zero.
* The deviance is even in theta, so the optimiser works on (mu, theta) without bounds and reports |theta|; a
  maximum at tau^2 = 0 is then an ordinary minimum of the even function and Newton's method finds it.
* Where the deviance at tau = 0 is within 1e-9 of the optimum found, the fit is the boundary tau^2 = 0 (the
  common-proportion model), as glmer reports it. This matters where the curvature in tau vanishes at 0 (the
  score test for heterogeneity is exactly 0, e.g. events [1,2,0,1,0,1,0] of [1,2,1,3,1,1,1]): the deviance is
  then flat to fourth order, Newton creeps towards 0 and stops at some tau ~ 1e-3 whose deviance differs from
  that at 0 by 1e-13, where the Hessian is too flat for a reliable SE. metafor gives tau^2 = 0 there.

One engine fits every dataset: :func:`rma_glmm` is :func:`rma_glmm_batch` on one dataset. Datasets are fitted in
buckets of similar k, and each gives the numbers it gives alone.

Where the answer is not metafor's (each recorded in the tests of this module):
* k = 1 (metafor refuses) and every study a single patient (glmer drifts to tau^2 ~ 1e-12): tau^2 cannot be
  identified, so the common-proportion logistic model (tau^2 = 0) is fitted and a warning is attached;
* identical studies (glmer fails): tau^2 = 0, the common proportion;
* every study 0 events or all events (glmer fails), or a likelihood rising towards infinity (one event among
  single-patient zeros: glmer stops at logits of -40 or +50 with tau^2 ~ 1000): :class:`GlmmNotEstimable`,
  whose message points to the pooled count with an exact interval;
* k = 1 gives Q = 0 on 0 df with p = 1 (metafor: NA).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np

from metacalc.meta.arrays import size_buckets, study_sum
from metacalc.meta.counts import check_counts
from metacalc.meta.distributions import norm_ppf
from metacalc.meta.errors import ERROR_MODES, GlmmNotEstimable, InvalidInput, MetaError, settle
from metacalc.meta.glmm_heterogeneity import escalc_plo, heterogeneity
from metacalc.meta.glmm_likelihood import Data, Nodes, agq_deviance, derivatives, gauss_hermite
from metacalc.meta.results import Z, ConfidenceInterval, GlmmResult

__all__ = ["GlmmNotEstimable", "GlmmResult", "rma_glmm", "rma_glmm_batch"]

# A fit whose mean logit or tau runs past these bounds has no finite maximum (the likelihood keeps rising
# towards a boundary at infinity); logit 25 is a proportion of 1 - 1.4e-11.
_RUNAWAY_MU = 25.0
_RUNAWAY_THETA = 25.0
# A fit is the boundary tau = 0 when the deviance there is at most this much above the optimum found.
_BOUNDARY_DEVIANCE = 1e-9
_DECREMENT = 1e-13  # Newton decrement, relative to the deviance, below which a fit has converged
# Rows x studies per bucket: the quadrature arrays are 13 x rows x studies x nodes.
_BUCKET_CELLS = 4096

RUNAWAY = ("GLMM not estimable: the likelihood has no finite maximum for these data (the pooled logit or tau runs "
           "off to infinity, typically when nearly every study is a single patient or has 0 or all events); use "
           "the pooled count with an exact interval instead")
NOT_CONVERGED = "GLMM fit did not converge in 100 Newton iterations"
BAD_HESSIAN = ("GLMM not estimable: the information matrix at the maximum is not positive definite, so no "
               "standard error can be given")


def _newton_direction(grad: np.ndarray, hess: np.ndarray) -> np.ndarray:
    """-H^-1 g with H made positive definite (eigenvalues floored at a fraction of the largest)."""
    vals, vecs = np.linalg.eigh(hess)
    floor = np.maximum(1e-6 * np.abs(vals).max(axis=-1, keepdims=True), 1e-8)
    vals = np.maximum(np.abs(vals), floor)
    coef = np.einsum("bij,bi->bj", vecs, grad) / vals
    return -np.einsum("bij,bj->bi", vecs, coef)


def _start_values(data: Data) -> tuple[np.ndarray, np.ndarray]:
    """Common-proportion logit and a DerSimonian-Laird tau on the continuity-corrected logits."""
    events, total = study_sum(data.x), study_sum(data.n)
    mu0 = np.log((events + 0.5) / (total - events + 0.5))
    yi, vi = escalc_plo(data)
    wi = np.where(data.mask, 1.0 / vi, 0.0)
    sw = study_sum(wi)
    ybar = study_sum(wi * yi) / sw
    q = study_sum(wi * (yi - ybar[:, None]) ** 2)
    c = sw - study_sum(wi**2) / sw
    with np.errstate(divide="ignore", invalid="ignore"):
        tau2 = np.where(c > 0, (q - (data.k - 1)) / c, 0.0)
    theta0 = np.clip(np.sqrt(np.maximum(tau2, 0.0)), 0.3, 2.0)
    return mu0, theta0


def _optimise(data: Data, nodes: Nodes, skip: np.ndarray,
              max_iter: int = 100) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Damped Newton on the AGQ deviance over (mu, theta) for every dataset at once (except ``skip``).

    Returns mu, theta, iterations, and which datasets ran off to infinity or did not converge.
    """
    mu, theta = _start_values(data)
    active = ~skip
    iterations = np.zeros(len(mu), dtype=int)
    runaway = np.zeros(len(mu), dtype=bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        sub = data.take(idx)
        f0, grad, hess, modes = derivatives(sub, mu[idx], theta[idx], nodes)
        step = _newton_direction(grad, hess)
        # at a saddle point (a stationary point with negative curvature, which these likelihoods have when
        # the maximum lies at infinity) the Newton step vanishes: leave along the negative-curvature direction
        vals, vecs = np.linalg.eigh(hess)
        saddle = (vals[:, 0] < 0) & (np.abs(step).max(axis=1) < 1e-3)
        if saddle.any():
            v = vecs[:, :, 0]
            sign = np.where((grad * v).sum(1) > 0, -1.0, 1.0)
            step = np.where(saddle[:, None], 0.5 * sign[:, None] * v, step)
        # limit a step to 2 logit units so a poor start cannot throw the search far away
        scale = np.minimum(1.0, 2.0 / np.maximum(np.abs(step).max(axis=1), 1e-300))
        step *= scale[:, None]
        slope = (grad * step).sum(1)
        t = np.ones(idx.size)
        accepted = np.zeros(idx.size, dtype=bool)
        new_mu, new_theta = mu[idx].copy(), theta[idx].copy()
        for _ in range(40):
            # backtracking line search, each dataset on its own until it accepts a step
            pending = np.flatnonzero(~accepted)
            if pending.size == 0:
                break
            cand_mu = mu[idx[pending]] + t[pending] * step[pending, 0]
            cand_theta = theta[idx[pending]] + t[pending] * step[pending, 1]
            f1, _ = agq_deviance(sub.take(pending), cand_mu, cand_theta, nodes, u_start=modes[pending])
            ok = f1 <= f0[pending] + 1e-4 * t[pending] * slope[pending] + 1e-12 * np.abs(f0[pending])
            new_mu[pending[ok]] = cand_mu[ok]
            new_theta[pending[ok]] = cand_theta[ok]
            accepted[pending[ok]] = True
            t[pending[~ok]] *= 0.5
        moved = np.maximum(np.abs(new_mu - mu[idx]), np.abs(new_theta - theta[idx]))
        mu[idx], theta[idx] = new_mu, np.abs(new_theta)
        iterations[idx] += 1
        # converged: the Newton decrement is negligible or no step improves the deviance any more. Negligible is
        # relative to the deviance: a sum over k studies carries rounding noise of about 1e-16 of its size per
        # term, so with thousands of studies an absolute 1e-15 is never reached and the search wandered in
        # the noise to max_iter, then reported "did not converge" (a review of 30,000 patients: a drug in 2,955
        # reports; 100 iterations, where 6 reach the optimum). The step just taken is kept, so the parameters are
        # still converged quadratically.
        decrement = -slope / np.maximum(scale, 1e-300)
        done = ~saddle & ((decrement < _DECREMENT * np.maximum(1.0, np.abs(f0))) | (moved < 1e-10) | ~accepted)
        gone = (np.abs(mu[idx]) > _RUNAWAY_MU) | (theta[idx] > _RUNAWAY_THETA)
        runaway[idx[gone]] = True
        active[idx[done | gone]] = False
    return mu, theta, iterations, runaway, active.copy()


def _fit(data: Data, nodes: Nodes, common: np.ndarray) -> dict[str, np.ndarray]:
    """Fit one bucket of datasets; ``common`` marks those fitted with tau = 0 (tau not identifiable)."""
    mu, theta, iterations, runaway, not_converged = _optimise(data, nodes, skip=common)
    # the common-proportion model (tau = 0) is the exact logistic MLE
    p_common = study_sum(data.x) / study_sum(data.n)
    mu_common = np.log(p_common / (1.0 - p_common))
    dev_zero, _ = agq_deviance(data, mu_common, np.zeros_like(mu), nodes)
    dev_fit, _ = agq_deviance(data, mu, theta, nodes)
    at_zero = common | (dev_zero <= dev_fit + _BOUNDARY_DEVIANCE)
    mu = np.where(at_zero, mu_common, mu)
    theta = np.where(at_zero, 0.0, theta)

    deviance, _, hess, _ = derivatives(data, mu, theta, nodes)
    with np.errstate(invalid="ignore", divide="ignore"):
        det = hess[:, 0, 0] * hess[:, 1, 1] - hess[:, 0, 1] ** 2
        var_full = 2.0 * hess[:, 1, 1] / det
        # at tau = 0 the information is that of the logistic model: sum of n p (1 - p)
        var_common = 1.0 / study_sum(data.n * (p_common * (1.0 - p_common))[:, None])
    variance = np.where(at_zero, var_common, var_full)
    bad_hessian = ~at_zero & ~((det > 0) & (hess[:, 1, 1] > 0) & np.isfinite(variance) & (variance > 0))
    tau2 = theta**2
    q_wald, p_wald, q_lrt, p_lrt, i2, h2, df = heterogeneity(data, tau2)
    # lme4's deviance is measured from the saturated model; metafor adds the saturated log-likelihood back
    loglik = data.log_choose + study_sum(data.dev_saturated) / 2.0 - deviance / 2.0
    return {"mu": mu, "tau2": tau2, "variance": variance, "iterations": iterations, "runaway": runaway,
            "not_converged": not_converged, "bad_hessian": bad_hessian, "q": q_wald, "q_pvalue": p_wald,
            "q_lrt": q_lrt, "q_lrt_pvalue": p_lrt, "i2": i2, "h2": h2, "df": df, "loglik": loglik}


def _not_estimable_reason(x: np.ndarray, n: np.ndarray) -> str | None:
    if np.all(x == 0):
        return ("GLMM not estimable: every study has 0 events, so the maximum-likelihood pooled logit is "
                "-infinity; report the pooled count 0/N with an exact (Clopper-Pearson) interval instead")
    if np.all(x == n):
        return ("GLMM not estimable: every study has all events, so the maximum-likelihood pooled logit is "
                "+infinity; report the pooled count N/N with an exact (Clopper-Pearson) interval instead")
    return None


def _identifiability_note(x: np.ndarray, n: np.ndarray) -> str | None:
    if x.size == 1:
        return ("GLMM with a single study: tau^2 is not identifiable and was set to 0 (the result is that study's "
                "own logit)")
    if np.all(n == 1):
        return ("GLMM over single-patient reports only (every n = 1): tau^2 is not identifiable and was set to 0 "
                "(the common-proportion logistic model)")
    return None


def rma_glmm(events: Sequence[float] | np.ndarray, totals: Sequence[float] | np.ndarray, level: float = 0.95,
             nagq: int = 7, labels: Sequence[str] | None = None) -> GlmmResult:
    """Fit the binomial-normal random-intercept model by ML with adaptive Gauss-Hermite quadrature.

    Matches ``metafor::rma.glmm(measure="PLO", xi=events, ni=totals)`` (which uses lme4::glmer with
    nAGQ=7); other ``nagq`` values match glmer's nAGQ (checked for 3 and 15) except nagq=1, which here is
    adaptive quadrature with one node, the textbook Laplace approximation, while glmer's nAGQ=1 deviance
    differs from it by about 5e-4. Where the between-study variance cannot be identified (k = 1, or every study
    a single patient) the model is fitted with tau^2 = 0 (the common-proportion logistic model) and a warning
    is recorded in the result and issued. Raises :class:`InvalidInput` for impossible counts and
    :class:`GlmmNotEstimable` when the likelihood has no finite maximum (every study 0 events, every study all
    events, or a fit that runs off to infinity).
    """
    result = rma_glmm_batch([events], [totals], level=level, nagq=nagq, labels=[labels], errors="raise")[0]
    assert isinstance(result, GlmmResult)
    for message in result.warnings:
        warnings.warn(message, stacklevel=2)
    return result


def rma_glmm_batch(events_list: Sequence[Sequence[float] | np.ndarray],
                   totals_list: Sequence[Sequence[float] | np.ndarray], level: float = 0.95, nagq: int = 7,
                   labels: Sequence[Sequence[str] | None] | None = None,
                   errors: str = "raise") -> list[GlmmResult | MetaError]:
    """Fit many datasets at once (the quadrature and the Newton iterations are vectorised across them).

    ``events_list`` / ``totals_list``: sequences of 1-d arrays (one per analysis, lengths may differ).
    ``errors``: "raise" raises the first :class:`InvalidInput` / :class:`GlmmNotEstimable` in dataset order;
    "return" puts the exception in that dataset's place in the returned list. Warnings are recorded in each
    result, not issued.
    """
    problems = []
    if errors not in ERROR_MODES:
        problems.append(f"errors must be 'raise' or 'return' (got {errors!r})")
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        problems.append(f"level must be between 0 and 1 (got {level})")
    if not (isinstance(nagq, (int, float)) and int(nagq) == nagq and nagq >= 1):
        problems.append(f"nagq must be a positive whole number (got {nagq})")
    if len(events_list) != len(totals_list):
        problems.append("events_list and totals_list differ in length")
    if labels is not None and len(labels) != len(events_list):
        problems.append(f"{len(labels)} label lists for {len(events_list)} datasets")
    if problems:
        raise InvalidInput(problems)
    label_lists: list[Sequence[str] | None] = list(labels) if labels is not None else [None] * len(events_list)
    out: list[GlmmResult | MetaError | None] = [None] * len(events_list)
    fit_x, fit_n, positions, notes = [], [], [], []
    for i, (e, t) in enumerate(zip(events_list, totals_list)):
        try:
            x, n, _ = check_counts(e, t, label_lists[i])
            reason = _not_estimable_reason(x, n)
            if reason:
                raise GlmmNotEstimable(reason)
        except MetaError as exc:
            if errors == "raise":
                raise
            out[i] = exc
            continue
        fit_x.append(x.astype(float))
        fit_n.append(n.astype(float))
        positions.append(i)
        notes.append(_identifiability_note(x, n))
    if fit_x:
        data = Data.from_rows(fit_x, fit_n)
        common = np.array([note is not None for note in notes])
        nodes = gauss_hermite(int(nagq))
        fitted: dict[str, np.ndarray] = {}
        for bucket in size_buckets(data.k, max_cells=_BUCKET_CELLS):
            part = _fit(data.take(bucket, int(data.k[bucket].max())), nodes, common[bucket])
            for name, values in part.items():
                fitted.setdefault(name, np.zeros(len(data.k), dtype=values.dtype))[bucket] = values
        for i, result in zip(positions, _results(fitted, data, positions, label_lists, notes, float(level),
                                                 int(nagq))):
            out[i] = result
    return settle(out, errors)


def _results(fitted: dict[str, np.ndarray], data: Data, positions: list[int],
             label_lists: list[Sequence[str] | None], notes: list[str | None], level: float,
             nagq: int) -> list[GlmmResult | MetaError]:
    crit = float(norm_ppf(0.5 + level / 2.0))
    results: list[GlmmResult | MetaError] = []
    for j, i in enumerate(positions):
        if fitted["runaway"][j]:
            results.append(GlmmNotEstimable(RUNAWAY))
            continue
        if fitted["not_converged"][j]:
            results.append(GlmmNotEstimable(NOT_CONVERGED))
            continue
        if fitted["bad_hessian"][j]:
            results.append(GlmmNotEstimable(BAD_HESSIAN))
            continue
        variance, tau2 = float(fitted["variance"][j]), float(fitted["tau2"][j])
        se = math.sqrt(variance)
        est = float(fitted["mu"][j])
        pi_half = crit * math.sqrt(variance + tau2)
        k = int(data.k[j])
        labels = label_lists[i]
        note = notes[j]
        results.append(GlmmResult(
            k=k, estimate=est, se=se,
            ci=ConfidenceInterval(est - crit * se, est + crit * se, level, Z),
            pi=ConfidenceInterval(est - pi_half, est + pi_half, level, Z),
            tau2=tau2, i2=float(fitted["i2"][j]), h2=float(fitted["h2"][j]), q=float(fitted["q"][j]),
            q_df=int(fitted["df"][j]), q_pvalue=float(fitted["q_pvalue"][j]), q_lrt=float(fitted["q_lrt"][j]),
            q_lrt_pvalue=float(fitted["q_lrt_pvalue"][j]), loglik=float(fitted["loglik"][j]), level=level,
            nagq=nagq, iterations=int(fitted["iterations"][j]),
            events=data.x[j, :k].astype(int), totals=data.n[j, :k].astype(int),
            labels=tuple(str(v) for v in labels) if labels is not None else None,
            warnings=() if note is None else (note,),
        ))
    return results
