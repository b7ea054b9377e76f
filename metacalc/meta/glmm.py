"""Binomial-normal random-intercept model (GLMM) for pooling proportions, as metafor's
``rma.glmm(measure="PLO")`` fits it.

The model: study i has x_i events out of n_i with logit(p_i) = mu + tau * u_i, u_i ~ N(0, 1). It is fitted by
maximum likelihood, the marginal likelihood being approximated by adaptive Gauss-Hermite quadrature exactly as
lme4's ``glmer(cbind(x, n - x) ~ 1 + (1 | study), family=binomial, nAGQ=7)`` does it (metafor calls glmer with
these settings; see Bates et al. 2015, J Stat Softw 67(1), and Stijnen, Hamza & Ozdemir 2010, Stat Med 29:3046):

* for given (mu, theta) each study's random effect is centred on its conditional mode u0 (minimiser of the
  penalised deviance d_i(u) + u^2) and scaled by the curvature there, s_i = 1 / sqrt(theta^2 W_i + 1) with
  W_i = n_i p_i (1 - p_i);
* with g_i(u) = d_i(u) + u^2 (d_i the binomial deviance of study i at logit mu + theta u), the deviance is
      sum_i [ g_i(u0) + log(theta^2 W_i + 1) - 2 log sum_j w_j exp(-(g_i(u0 + z_j s_i) - g_i(u0)) / 2 + z_j^2 / 2) ]
  with (z_j, w_j) the probabilists' Gauss-Hermite rule of ``nagq`` points (weights summing to 1);
* theta = tau >= 0 (lme4's parameter), the fixed-effect SE comes from the inverse Hessian of that deviance over
  (theta, mu) (lme4's default ``vcov`` for nAGQ > 0 fits), falling back to 1 / sum(W_i) at theta = 0 where
  the cross derivative is zero.

The heterogeneity tests and I^2 / H^2 follow metafor: QE.Wld is the Wald test of the study dummies of the
saturated logistic regression (fitted by the same iteratively reweighted least squares as R's ``glm``, so that
studies with 0 or all events, whose logits run off towards infinity, contribute what they contribute in R),
QE.LRT the likelihood-ratio test of the saturated against the common-proportion model, and I^2 / H^2 use the
"typical" within-study variance of the logits computed with 1/2 added to studies with a zero cell.

The deviance is even in theta, so the optimiser works on (mu, theta) without bounds and reports |theta|; a
maximum at tau^2 = 0 is then an ordinary minimum of the even function and Newton's method finds it.
Everything is vectorised across datasets (padded with n = 0 studies, which contribute nothing), so
``rma_glmm_batch`` fits hundreds of analyses in one pass.

Where the answer is not metafor's (each recorded in tests/test_meta_glmm.py):
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
from dataclasses import dataclass, field

import numpy as np

from metacalc.errors import UserError

__all__ = ["GlmmNotEstimable", "GlmmResult", "rma_glmm", "rma_glmm_batch"]

# A fit whose mean logit or tau runs past these bounds has no finite maximum (the likelihood keeps rising
# towards a boundary at infinity); logit 25 is a proportion of 1 - 1.4e-11.
_RUNAWAY_MU = 25.0
_RUNAWAY_THETA = 25.0
# Below this tau the fit is the common-proportion fit (tau^2 < 1e-12 is indistinguishable from 0 and glmer
# reports exactly 0 there).
_THETA_ZERO = 1e-6


class GlmmNotEstimable(UserError):
    """The GLMM has no finite maximum-likelihood estimate for these data (e.g. every study 0 events)."""


@dataclass(frozen=True)
class GlmmResult:
    """A fitted binomial-normal model. Estimates and intervals are on the logit scale, like metafor's.

    ``q`` / ``q_pvalue`` are metafor's Wald-type heterogeneity test (QE.Wld / QEp.Wld) and ``q_lrt`` /
    ``q_lrt_pvalue`` the likelihood-ratio test (QE.LRT / QEp.LRT), both on ``q_df`` = k - 1 degrees of freedom.
    ``loglik`` is the maximised marginal log-likelihood (quadrature approximation) including the binomial
    coefficients, i.e. sum log C(n_i, x_i) + (saturated log-likelihood) - deviance / 2. (lme4's ``logLik`` is
    -deviance / 2 without those constants; metafor's ``fit.stats`` uses glmer's conditional deviance.)
    """

    k: int
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    pi_lower: float
    pi_upper: float
    tau2: float
    i2: float
    h2: float
    q: float
    q_df: int
    q_pvalue: float
    q_lrt: float
    q_lrt_pvalue: float
    loglik: float
    level: float
    nagq: int
    iterations: int
    labels: tuple | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def tau(self) -> float:
        return math.sqrt(self.tau2)

    def proportion(self) -> tuple[float, float, float]:
        """Estimate and confidence limits back-transformed to proportions."""
        return tuple(float(_expit(v)) for v in (self.estimate, self.ci_lower, self.ci_upper))

    def to_dict(self) -> dict:
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        out["labels"] = list(self.labels) if self.labels is not None else None
        out["warnings"] = list(self.warnings)
        return out


def _expit(x):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))


def _gauss_hermite(nagq: int):
    """Probabilists' Gauss-Hermite rule (lme4's GHrule): nodes z, weights w summing to 1."""
    z, w = np.polynomial.hermite_e.hermegauss(nagq)
    return z, w / w.sum()


def _xlogy(x, y):
    """x * log(y) with 0 * log(0) = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, x * np.log(np.where(x > 0, y, 1.0)), 0.0)


class _Data:
    """Datasets padded to a common number of studies; padding studies have n = 0 and contribute nothing."""

    def __init__(self, events_list, totals_list):
        b = len(events_list)
        kmax = max(len(e) for e in events_list)
        self.x = np.zeros((b, kmax))
        self.n = np.zeros((b, kmax))
        self.mask = np.zeros((b, kmax), dtype=bool)
        for i, (e, t) in enumerate(zip(events_list, totals_list)):
            self.x[i, : len(e)] = e
            self.n[i, : len(t)] = t
            self.mask[i, : len(e)] = True
        self.m = self.n - self.x
        self.k = self.mask.sum(axis=1)
        # the saturated part of the binomial deviance, as in R's binomial()$dev.resids
        self.dev_saturated = 2.0 * (
            _xlogy(self.x, np.where(self.n > 0, self.x / np.maximum(self.n, 1), 1.0))
            + _xlogy(self.m, np.where(self.n > 0, self.m / np.maximum(self.n, 1), 1.0))
        )
        from scipy.special import gammaln

        self.log_choose = np.where(
            self.mask, gammaln(self.n + 1) - gammaln(self.x + 1) - gammaln(self.m + 1), 0.0
        ).sum(axis=1)


def _binomial_loglik_kernel(x, m, eta):
    """x log p + m log(1 - p) at logit eta, with one exp and one log1p (log p = -softplus(-eta))."""
    shared = np.log1p(np.exp(-np.abs(eta)))
    return -(x * (shared + np.maximum(-eta, 0.0)) + m * (shared + np.maximum(eta, 0.0)))


def _conditional_modes(data, mu, theta, u_start=None):
    """Each study's conditional mode u0 of the penalised deviance d_i(mu + theta u) + u^2.

    Solves u = theta (x - n p(u)) by Newton's method safeguarded with bisection: the root lies in
    [theta (x - n), theta x] and the left side minus the right side increases in u. ``u_start`` (modes at a
    nearby (mu, theta)) saves most iterations.
    """
    mu = mu[..., None]
    theta = theta[..., None]
    lo = np.minimum(theta * (data.x - data.n), theta * data.x)
    hi = np.maximum(theta * (data.x - data.n), theta * data.x)
    start = np.zeros_like(lo + mu) if u_start is None else np.broadcast_to(u_start, np.broadcast_shapes(
        u_start.shape, (lo + mu).shape))
    u = np.clip(start, lo, hi)
    last_step = hi - lo
    done = np.zeros(u.shape, dtype=bool)
    for _ in range(200):
        p = _expit(mu + theta * u)
        h = u - theta * (data.x - data.n * p)
        dh = 1.0 + theta * theta * data.n * p * (1.0 - p)
        lo = np.where(h < 0, u, lo)
        hi = np.where(h > 0, u, hi)
        newton = h / dh
        u_new = u - newton
        # bisect when Newton would leave the bracket or is not halving the step (it can cycle on the
        # sigmoid-shaped score of a single-patient study; Press et al., Numerical Recipes, rtsafe)
        bisect = (u_new < lo) | (u_new > hi) | (np.abs(2.0 * h) > np.abs(last_step * dh))
        u_new = np.where(bisect, 0.5 * (lo + hi), u_new)
        last_step = np.where(bisect, 0.5 * (hi - lo), newton)
        # once a study's mode has converged it is frozen, so later iterations (run for other studies or
        # datasets in the batch) cannot disturb it
        step_done = np.abs(u_new - u) <= 1e-13 * (1.0 + np.abs(u))
        u = np.where(done, u, u_new)
        done |= step_done
        if np.all(done):
            break
    return u


def _agq_deviance(data, mu, theta, nodes, u_start=None, return_modes=False):
    """lme4's nAGQ deviance for each dataset at (mu, theta); mu and theta have the batch shape."""
    z, w = nodes
    u0 = _conditional_modes(data, mu, theta, u_start)
    mu_ = mu[..., None]
    th_ = theta[..., None]
    eta0 = mu_ + th_ * u0
    p0 = _expit(eta0)
    curvature = th_ * th_ * data.n * p0 * (1.0 - p0) + 1.0
    sd = 1.0 / np.sqrt(curvature)
    g0 = data.dev_saturated - 2.0 * _binomial_loglik_kernel(data.x, data.m, eta0) + u0 * u0
    uj = u0[..., None] + z * sd[..., None]
    etaj = mu_[..., None] + th_[..., None] * uj
    dev_j = (
        data.dev_saturated[..., None]
        - 2.0 * _binomial_loglik_kernel(data.x[..., None], data.m[..., None], etaj)
        + uj * uj
    )
    log_terms = -0.5 * (dev_j - g0[..., None]) + 0.5 * z * z + np.log(w)
    top = log_terms.max(axis=-1)
    log_mult = top + np.log(np.exp(log_terms - top[..., None]).sum(axis=-1))
    per_study = g0 + np.log(curvature) - 2.0 * log_mult
    deviance = np.where(data.mask, per_study, 0.0).sum(axis=-1)
    return (deviance, u0) if return_modes else deviance


def _derivatives(data, mu, theta, nodes, h=1e-4, h_grad=1e-5):
    """Deviance, gradient, Hessian over (mu, theta) by central differences (shape (B,), (B,2), (B,2,2)), and
    the conditional modes at (mu, theta).

    The gradient uses a smaller step than the Hessian: where the likelihood is flat (many single-patient
    reports) the optimum is only as accurate as the gradient, while the Hessian only steers the steps and
    gives the standard error (lme4 uses the same 1e-4 step for it).
    """
    offsets = np.array(
        [[0, 0], [h, 0], [-h, 0], [0, h], [0, -h], [h, h], [h, -h], [-h, h], [-h, -h],
         [h_grad, 0], [-h_grad, 0], [0, h_grad], [0, -h_grad]], float)
    mus = mu[None, :] + offsets[:, :1]
    ths = theta[None, :] + offsets[:, 1:]
    _, centre_modes = _agq_deviance(data, mu, theta, nodes, return_modes=True)
    f = _agq_deviance(data, mus, ths, nodes, u_start=centre_modes[None])
    f0, fmp, fmm, ftp, ftm, fpp, fpm, fmp_, fmm_, gmp, gmm, gtp, gtm = f
    grad = np.stack([(gmp - gmm) / (2 * h_grad), (gtp - gtm) / (2 * h_grad)], axis=-1)
    h_mm = (fmp - 2 * f0 + fmm) / h**2
    h_tt = (ftp - 2 * f0 + ftm) / h**2
    h_mt = (fpp - fpm - fmp_ + fmm_) / (4 * h * h)
    hess = np.stack([np.stack([h_mm, h_mt], -1), np.stack([h_mt, h_tt], -1)], -2)
    return f0, grad, hess, centre_modes


def _newton_direction(grad, hess):
    """-H^-1 g with H made positive definite (eigenvalues floored at a fraction of the largest)."""
    vals, vecs = np.linalg.eigh(hess)
    floor = np.maximum(1e-6 * np.abs(vals).max(axis=-1, keepdims=True), 1e-8)
    vals = np.maximum(np.abs(vals), floor)
    coef = np.einsum("bij,bi->bj", vecs, grad) / vals
    return -np.einsum("bij,bj->bi", vecs, coef)


def _start_values(data):
    """Common-proportion logit and a DerSimonian-Laird tau on the continuity-corrected logits."""
    x, n, mask = data.x, data.n, data.mask
    mu0 = np.log((x.sum(1) + 0.5) / (n.sum(1) - x.sum(1) + 0.5))
    yi, vi = _escalc_plo(data)
    wi = np.where(mask, 1.0 / vi, 0.0)
    ybar = (wi * yi).sum(1) / wi.sum(1)
    q = (wi * (yi - ybar[:, None]) ** 2).sum(1)
    c = wi.sum(1) - (wi**2).sum(1) / wi.sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau2 = np.where(c > 0, (q - (data.k - 1)) / c, 0.0)
    theta0 = np.clip(np.sqrt(np.maximum(tau2, 0.0)), 0.3, 2.0)
    return mu0, theta0


def _escalc_plo(data):
    """metafor escalc(measure="PLO", add=1/2, to="only0"): logits and variances (padding gives vi = 1)."""
    zero_cell = (data.x == 0) | (data.m == 0)
    a = np.where(zero_cell, 0.5, 0.0)
    xa = np.where(data.mask, data.x + a, 1.0)
    ma = np.where(data.mask, data.m + a, 1.0)
    return np.log(xa / ma), 1.0 / xa + 1.0 / ma


def _optimise(data, nodes, skip, max_iter=100):
    """Damped Newton on the AGQ deviance over (mu, theta) for every dataset at once (except ``skip``)."""
    mu, theta = _start_values(data)
    b = len(mu)
    active = ~skip
    iterations = np.zeros(b, dtype=int)
    runaway = np.zeros(b, dtype=bool)
    for it in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        sub = _subset(data, idx)
        f0, grad, hess, modes = _derivatives(sub, mu[idx], theta[idx], nodes)
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
            pending = ~accepted
            if not pending.any():
                break
            cand_mu = mu[idx] + t * step[:, 0]
            cand_theta = theta[idx] + t * step[:, 1]
            f1 = _agq_deviance(sub, cand_mu, cand_theta, nodes, u_start=modes)
            ok = pending & (f1 <= f0 + 1e-4 * t * slope + 1e-12 * np.abs(f0))
            new_mu = np.where(ok, cand_mu, new_mu)
            new_theta = np.where(ok, cand_theta, new_theta)
            accepted |= ok
            t = np.where(accepted, t, 0.5 * t)
        moved = np.maximum(np.abs(new_mu - mu[idx]), np.abs(new_theta - theta[idx]))
        mu[idx], theta[idx] = new_mu, np.abs(new_theta)
        iterations[idx] += 1
        # converged: the Newton decrement is negligible or no step improves the deviance any more
        decrement = -slope / np.maximum(scale, 1e-300)
        done = ~saddle & ((decrement < 1e-15) | (moved < 1e-10) | ~accepted)
        gone = (np.abs(mu[idx]) > _RUNAWAY_MU) | (theta[idx] > _RUNAWAY_THETA)
        runaway[idx[gone]] = True
        active[idx[done | gone]] = False
    not_converged = active.copy()
    return mu, theta, iterations, runaway, not_converged


def _subset(data, idx):
    sub = object.__new__(_Data)
    for name in ("x", "n", "m", "mask", "dev_saturated"):
        setattr(sub, name, getattr(data, name)[idx])
    sub.k = data.k[idx]
    sub.log_choose = data.log_choose[idx]
    return sub


def _saturated_glm(data):
    """R's glm.fit (IRLS, epsilon 1e-8, maxit 25) for the saturated logistic model ~ -1 + 1 + study.

    In the saturated model the least-squares step reproduces each study's working response, so each study's
    logit follows its own Newton iteration; only the stopping rule (relative change of the total deviance) is
    shared. R's logistic link clamps at |eta| > 30 and the covariance uses the weights of the last iteration.
    Returns the final logits, the working weights used for the covariance, and the log-likelihood.
    """
    eps = np.finfo(float).eps
    x, n, mask = data.x, data.n, data.mask
    good = mask & (n > 0)
    y = np.where(good, x / np.where(good, n, 1.0), 0.0)

    def linkinv(eta):
        t = np.where(eta < -30, eps, np.where(eta > 30, 1.0 / eps, np.exp(np.clip(eta, -30, 30))))
        return t / (1.0 + t)

    def mu_eta(eta):
        e = np.exp(np.clip(eta, -30, 30))
        return np.where((eta > 30) | (eta < -30), eps, e / (1.0 + e) ** 2)

    def deviance(mu):
        d = 2.0 * n * (_xlogy(y, y / np.where(good, mu, 1.0)) + _xlogy(1 - y, (1 - y) / np.where(good, 1 - mu, 1.0)))
        return np.where(good, d, 0.0).sum(1)

    mu = np.where(good, (n * y + 0.5) / (n + 1.0), 0.5)
    eta = np.log(mu / (1.0 - mu))
    mu = linkinv(eta)
    devold = deviance(mu)
    active = np.ones(len(x), dtype=bool)
    weights = np.zeros_like(x)
    for _ in range(25):
        a = active[:, None]
        me = mu_eta(eta)
        z = eta + (y - mu) / me
        w2 = n * me**2 / (mu * (1.0 - mu))
        weights = np.where(a, w2, weights)
        eta = np.where(a & good, z, eta)
        mu = linkinv(eta)
        dev = deviance(mu)
        conv = np.abs(dev - devold) / (np.abs(dev) + 0.1) < 1e-8
        devold = np.where(active, dev, devold)
        active &= ~conv
        if not active.any():
            break
    loglik = np.where(good, _xlogy(x, mu) + _xlogy(n - x, 1.0 - mu), 0.0).sum(1)
    return eta, np.where(good, weights, 0.0), loglik


def _heterogeneity(data, tau2):
    """metafor's QE.Wld, QE.LRT (with p-values on k - 1 df), I^2 and H^2."""
    from scipy.stats import chi2

    eta, w, ll_sat = _saturated_glm(data)
    # the Wald test that all study logits are equal: the quadratic form of the study contrasts equals the
    # weighted sum of squares of the logits about their weighted mean
    wsum = w.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        eta_bar = np.where(wsum > 0, (w * np.where(data.mask, eta, 0.0)).sum(1) / wsum, 0.0)
    q_wald = np.where(data.mask, w * (eta - eta_bar[:, None]) ** 2, 0.0).sum(1)
    p_common = data.x.sum(1) / data.n.sum(1)
    ll_common = (_xlogy(data.x, p_common[:, None]) + _xlogy(data.m, 1.0 - p_common[:, None])).sum(1)
    q_lrt = np.maximum(2.0 * (ll_sat - ll_common), 0.0)
    q_wald = np.maximum(q_wald, 0.0)
    df = data.k - 1
    with np.errstate(invalid="ignore"):
        p_wald = np.where(df > 0, chi2.sf(q_wald, np.maximum(df, 1)), 1.0)
        p_lrt = np.where(df > 0, chi2.sf(q_lrt, np.maximum(df, 1)), 1.0)
    _, vi = _escalc_plo(data)
    wi = np.where(data.mask, 1.0 / vi, 0.0)
    trace_p = wi.sum(1) - (wi**2).sum(1) / wi.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        typical_v = np.where(trace_p > 0, df / trace_p, np.inf)
        i2 = np.where(np.isfinite(typical_v), 100.0 * tau2 / (typical_v + tau2), 0.0)
        h2 = np.where(np.isfinite(typical_v), tau2 / typical_v + 1.0, 1.0)
    return q_wald, p_wald, q_lrt, p_lrt, i2, h2, df


def _check_input(events, totals):
    from metacalc.meta.proportions import check_counts

    x, n, _ = check_counts(events, totals)
    return x.astype(float), n.astype(float)


def _not_estimable_reason(x, n):
    if np.all(x == 0):
        return ("GLMM not estimable: every study has 0 events, so the maximum-likelihood pooled logit is "
                "-infinity; report the pooled count 0/N with an exact (Clopper-Pearson) interval instead")
    if np.all(x == n):
        return ("GLMM not estimable: every study has all events, so the maximum-likelihood pooled logit is "
                "+infinity; report the pooled count N/N with an exact (Clopper-Pearson) interval instead")
    return None


def rma_glmm(events, totals, level=0.95, nagq=7, labels=None) -> GlmmResult:
    """Fit the binomial-normal random-intercept model by ML with adaptive Gauss-Hermite quadrature.

    Matches ``metafor::rma.glmm(measure="PLO", xi=events, ni=totals)`` (which uses lme4::glmer with
    nAGQ=7); other ``nagq`` values match glmer's nAGQ (checked for 3 and 15) except nagq=1, which here is
    adaptive quadrature with one node, the textbook Laplace approximation, while glmer's nAGQ=1 deviance
    differs from it by about 5e-4. Where the between-study variance cannot be identified (k = 1, or every study a single
    patient) the model is fitted with tau^2 = 0 (the common-proportion logistic model) and a warning is
    recorded in the result and issued. Raises :class:`GlmmNotEstimable` when the likelihood has no finite
    maximum (every study 0 events, every study all events, or a fit that runs off to infinity).
    """
    result = rma_glmm_batch([events], [totals], level=level, nagq=nagq, labels=[labels], errors="raise")[0]
    for message in result.warnings:
        warnings.warn(message, stacklevel=2)
    return result


def rma_glmm_batch(events_list, totals_list, level=0.95, nagq=7, labels=None, errors="raise"):
    """Fit many datasets at once (the quadrature and the Newton iterations are vectorised across them).

    ``events_list`` / ``totals_list``: sequences of 1-d arrays (one per analysis, lengths may differ).
    ``errors``: "raise" raises the first :class:`GlmmNotEstimable` / UserError; "return" puts the exception
    object in that dataset's place in the returned list. Warnings are recorded in each result, not issued.
    """
    from scipy.stats import norm

    if errors not in ("raise", "return"):
        raise ValueError("errors must be 'raise' or 'return'")
    if not (0 < level < 1):
        raise UserError([f"level must be between 0 and 1 (got {level})"])
    if int(nagq) != nagq or nagq < 1:
        raise UserError([f"nagq must be a positive whole number (got {nagq})"])
    nagq = int(nagq)
    if len(events_list) != len(totals_list):
        raise UserError(["events_list and totals_list differ in length"])
    if labels is None:
        labels = [None] * len(events_list)
    out = [None] * len(events_list)
    fit_x, fit_n, fit_pos, notes = [], [], [], []
    for i, (e, t) in enumerate(zip(events_list, totals_list)):
        try:
            x, n = _check_input(e, t)
            if labels[i] is not None and len(labels[i]) != x.size:
                raise UserError([f"{len(labels[i])} labels for {x.size} studies"])
            reason = _not_estimable_reason(x, n)
            if reason:
                raise GlmmNotEstimable([reason])
        except UserError as exc:
            if errors == "raise":
                raise
            out[i] = exc
            continue
        note = []
        common_only = False
        if x.size == 1:
            note.append("GLMM with a single study: tau^2 is not identifiable and was set to 0 "
                        "(the result is that study's own logit)")
            common_only = True
        elif np.all(n == 1):
            note.append("GLMM over single-patient reports only (every n = 1): tau^2 is not identifiable and was "
                        "set to 0 (the common-proportion logistic model)")
            common_only = True
        fit_x.append(x)
        fit_n.append(n)
        fit_pos.append((i, common_only))
        notes.append(note)
    if not fit_x:
        return out

    data = _Data(fit_x, fit_n)
    nodes = _gauss_hermite(nagq)
    common = np.array([c for _, c in fit_pos])
    mu, theta, iterations, runaway, not_converged = _optimise(data, nodes, skip=common)
    # the common-proportion model (tau = 0) is the exact logistic MLE
    p_common = data.x.sum(1) / data.n.sum(1)
    mu_common = np.log(p_common / (1.0 - p_common))
    at_zero = common | (theta < _THETA_ZERO)
    if at_zero.any():
        dev_zero = _agq_deviance(data, mu_common, np.zeros_like(mu), nodes)
        dev_fit = _agq_deviance(data, mu, theta, nodes)
        at_zero &= common | (dev_zero <= dev_fit + 1e-9)
    mu = np.where(at_zero, mu_common, mu)
    theta = np.where(at_zero, 0.0, theta)

    deviance, _, hess, _ = _derivatives(data, mu, theta, nodes)
    with np.errstate(invalid="ignore", divide="ignore"):
        det = hess[:, 0, 0] * hess[:, 1, 1] - hess[:, 0, 1] ** 2
        var_full = 2.0 * hess[:, 1, 1] / det
        # at tau = 0 the information is that of the logistic model: sum of n p (1 - p)
        var_common = 1.0 / (data.n * (p_common * (1.0 - p_common))[:, None]).sum(1)
    variance = np.where(at_zero, var_common, var_full)
    bad_hessian = ~at_zero & ~((det > 0) & (hess[:, 1, 1] > 0) & np.isfinite(variance) & (variance > 0))
    tau2 = theta**2
    q_wald, p_wald, q_lrt, p_lrt, i2, h2, df = _heterogeneity(data, tau2)
    # lme4's deviance is measured from the saturated model; metafor adds the saturated log-likelihood back
    loglik = data.log_choose + data.dev_saturated.sum(1) / 2.0 - deviance / 2.0
    crit = float(norm.ppf(0.5 + level / 2.0))

    for j, (i, _) in enumerate(fit_pos):
        problem = None
        if runaway[j]:
            problem = ("GLMM not estimable: the likelihood has no finite maximum for these data (the pooled logit "
                       "or tau runs off to infinity, typically when nearly every study is a single patient or "
                       "has 0 or all events); use the pooled count with an exact interval instead")
        elif not_converged[j]:
            problem = "GLMM fit did not converge in 100 Newton iterations"
        elif bad_hessian[j]:
            problem = ("GLMM not estimable: the information matrix at the maximum is not positive definite, "
                       "so no standard error can be given")
        if problem:
            exc = GlmmNotEstimable([problem])
            if errors == "raise":
                raise exc
            out[i] = exc
            continue
        se = math.sqrt(variance[j])
        est = float(mu[j])
        pi_half = crit * math.sqrt(variance[j] + tau2[j])
        out[i] = GlmmResult(
            k=int(data.k[j]),
            estimate=est,
            se=se,
            ci_lower=est - crit * se,
            ci_upper=est + crit * se,
            pi_lower=est - pi_half,
            pi_upper=est + pi_half,
            tau2=float(tau2[j]),
            i2=float(i2[j]),
            h2=float(h2[j]),
            q=float(q_wald[j]),
            q_df=int(df[j]),
            q_pvalue=float(p_wald[j]),
            q_lrt=float(q_lrt[j]),
            q_lrt_pvalue=float(p_lrt[j]),
            loglik=float(loglik[j]),
            level=float(level),
            nagq=nagq,
            iterations=int(iterations[j]),
            labels=tuple(str(v) for v in labels[i]) if labels[i] is not None else None,
            warnings=tuple(notes[j]),
        )
    return out
