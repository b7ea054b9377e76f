"""Heterogeneity of a binomial-normal fit as metafor's ``rma.glmm`` reports it: QE.Wld, QE.LRT, I² and H².

QE.Wld is the Wald test of the study dummies of the saturated logistic regression (fitted by the same
iteratively reweighted least squares as R's ``glm``, so that studies with 0 or all events, whose logits run off
towards infinity, contribute what they contribute in R), QE.LRT the likelihood-ratio test of the saturated
against the common-proportion model, and I² / H² use the "typical" within-study variance of the logits computed
with 1/2 added to studies with a zero cell. Many datasets at once, as rows of ``glmm_likelihood.Data``.
"""

from __future__ import annotations

import numpy as np

from metacalc.meta.arrays import study_sum
from metacalc.meta.distributions import chi2_sf
from metacalc.meta.glmm_likelihood import Data, xlogy


def escalc_plo(data: Data) -> tuple[np.ndarray, np.ndarray]:
    """metafor escalc(measure="PLO", add=1/2, to="only0"): logits and variances (padding gives vi = 1)."""
    zero_cell = (data.x == 0) | (data.m == 0)
    a = np.where(zero_cell, 0.5, 0.0)
    xa = np.where(data.mask, data.x + a, 1.0)
    ma = np.where(data.mask, data.m + a, 1.0)
    return np.log(xa / ma), 1.0 / xa + 1.0 / ma


def saturated_glm(data: Data) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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

    def linkinv(eta: np.ndarray) -> np.ndarray:
        t = np.where(eta < -30, eps, np.where(eta > 30, 1.0 / eps, np.exp(np.clip(eta, -30, 30))))
        return t / (1.0 + t)

    def mu_eta(eta: np.ndarray) -> np.ndarray:
        e = np.exp(np.clip(eta, -30, 30))
        return np.where((eta > 30) | (eta < -30), eps, e / (1.0 + e) ** 2)

    def deviance(mu: np.ndarray) -> np.ndarray:
        d = 2.0 * n * (xlogy(y, y / np.where(good, mu, 1.0)) + xlogy(1 - y, (1 - y) / np.where(good, 1 - mu, 1.0)))
        return study_sum(np.where(good, d, 0.0))

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
    loglik = study_sum(np.where(good, xlogy(x, mu) + xlogy(n - x, 1.0 - mu), 0.0))
    return eta, np.where(good, weights, 0.0), loglik


def heterogeneity(data: Data, tau2: np.ndarray) -> tuple[np.ndarray, ...]:
    """metafor's QE.Wld, its p-value, QE.LRT, its p-value (on k - 1 df), I², H² and the df, per dataset."""
    eta, w, ll_sat = saturated_glm(data)
    # the Wald test that all study logits are equal: the quadratic form of the study contrasts equals the
    # weighted sum of squares of the logits about their weighted mean
    wsum = study_sum(w)
    with np.errstate(invalid="ignore", divide="ignore"):
        eta_bar = np.where(wsum > 0, study_sum(w * np.where(data.mask, eta, 0.0)) / wsum, 0.0)
    q_wald = study_sum(np.where(data.mask, w * (eta - eta_bar[:, None]) ** 2, 0.0))
    p_common = study_sum(data.x) / study_sum(data.n)
    ll_common = study_sum(xlogy(data.x, p_common[:, None]) + xlogy(data.m, 1.0 - p_common[:, None]))
    q_lrt = np.maximum(2.0 * (ll_sat - ll_common), 0.0)
    q_wald = np.maximum(q_wald, 0.0)
    df = data.k - 1
    with np.errstate(invalid="ignore"):
        p_wald = np.where(df > 0, chi2_sf(q_wald, np.maximum(df, 1)), 1.0)
        p_lrt = np.where(df > 0, chi2_sf(q_lrt, np.maximum(df, 1)), 1.0)
    _, vi = escalc_plo(data)
    wi = np.where(data.mask, 1.0 / vi, 0.0)
    trace_p = study_sum(wi) - study_sum(wi**2) / study_sum(wi)
    with np.errstate(invalid="ignore", divide="ignore"):
        typical_v = np.where(trace_p > 0, df / trace_p, np.inf)
        i2 = np.where(np.isfinite(typical_v), 100.0 * tau2 / (typical_v + tau2), 0.0)
        h2 = np.where(np.isfinite(typical_v), tau2 / typical_v + 1.0, 1.0)
    return q_wald, p_wald, q_lrt, p_lrt, i2, h2, df
