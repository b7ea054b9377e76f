"""The binomial-normal model's marginal deviance by adaptive Gauss-Hermite quadrature, as lme4's ``glmer``
computes it with ``nAGQ > 1`` (Bates et al. 2015, J Stat Softw 67(1)), for many datasets at once.

Study i has x_i events out of n_i with logit(p_i) = mu + theta * u_i, u_i ~ N(0, 1), theta = tau:

* for given (mu, theta) each study's random effect is centred on its conditional mode u0 (minimiser of the
  penalised deviance d_i(u) + u^2) and scaled by the curvature there, s_i = 1 / sqrt(theta^2 W_i + 1) with
  W_i = n_i p_i (1 - p_i);
* with g_i(u) = d_i(u) + u^2 (d_i the binomial deviance of study i at logit mu + theta u), the deviance is
      sum_i [ g_i(u0) + log(theta^2 W_i + 1) - 2 log sum_j w_j exp(-(g_i(u0 + z_j s_i) - g_i(u0)) / 2 + z_j^2 / 2) ]
  with (z_j, w_j) the probabilists' Gauss-Hermite rule of ``nagq`` points (weights summing to 1).

Datasets are rows padded with n = 0 studies, which contribute exactly 0 to every sum over studies
(``arrays.study_sum``), so a dataset's deviance does not depend on the others in its batch.

Studies of one dataset with the same events and total have the same conditional mode and the same terms at every
(mu, theta), and a review of case reports has thousands of studies but a handful of distinct (x, n) (mostly 0/1
and 1/1). So the quadrature is computed once per distinct (x, n) of a dataset (``Data.cells``) and its terms are
spread back over the studies before they are summed: the same numbers, summed in the same order, at a fraction of
the work.
"""

from __future__ import annotations

import numpy as np

from metacalc.meta.arrays import padded, study_sum

Nodes = tuple[np.ndarray, np.ndarray]


def expit(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))


def gauss_hermite(nagq: int) -> Nodes:
    """Probabilists' Gauss-Hermite rule (lme4's GHrule): nodes z, weights w summing to 1."""
    z, w = np.polynomial.hermite_e.hermegauss(nagq)
    return z, w / w.sum()


def xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x * log(y) with 0 * log(0) = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, x * np.log(np.where(x > 0, y, 1.0)), 0.0)


class Data:
    """Datasets padded to a common number of studies; padding studies have n = 0 and contribute nothing.

    ``cells`` holds each dataset's distinct (x, n) pairs (padded likewise; its ``x``, ``n``, ``m`` and
    ``dev_saturated`` only), and ``cell_of`` the column in ``cells`` of each study.
    """

    x: np.ndarray
    n: np.ndarray
    m: np.ndarray
    mask: np.ndarray
    k: np.ndarray
    dev_saturated: np.ndarray
    log_choose: np.ndarray
    cells: Data
    cell_of: np.ndarray

    @classmethod
    def from_rows(cls, events: list[np.ndarray], totals: list[np.ndarray]) -> Data:
        from scipy.special import gammaln

        data = cls()
        data.x, data.mask = padded(events)
        data.n, _ = padded(totals)
        data.m = data.n - data.x
        data.k = data.mask.sum(axis=1)
        # the saturated part of the binomial deviance, as in R's binomial()$dev.resids
        data.dev_saturated = 2.0 * (
            xlogy(data.x, np.where(data.n > 0, data.x / np.maximum(data.n, 1), 1.0))
            + xlogy(data.m, np.where(data.n > 0, data.m / np.maximum(data.n, 1), 1.0))
        )
        data.log_choose = study_sum(
            np.where(data.mask, gammaln(data.n + 1) - gammaln(data.x + 1) - gammaln(data.m + 1), 0.0))
        data._find_cells()
        return data

    def _find_cells(self) -> None:
        """Each dataset's distinct (x, n), padding (0, 0) included, and the column of each study among them."""
        rows, width = self.x.shape
        firsts, self.cell_of = [], np.zeros((rows, width), dtype=np.intp)
        for row in range(rows):
            _, first, inverse = np.unique(np.stack([self.x[row], self.n[row]]), axis=1, return_index=True,
                                          return_inverse=True)
            firsts.append(first)
            self.cell_of[row] = inverse.ravel()
        count = max((len(first) for first in firsts), default=0)
        # a dataset's cells are the values of its first study with each (x, n); the rest of the row repeats its
        # first study (every cell is then a real pair, and padding cells are never read back)
        pick = np.zeros((rows, count), dtype=np.intp)
        for row, first in enumerate(firsts):
            pick[row, :len(first)] = first
        cells = Data()
        for name in ("x", "n", "m", "dev_saturated"):
            setattr(cells, name, np.take_along_axis(getattr(self, name), pick, axis=1))
        self.cells = cells

    def take(self, rows: np.ndarray, width: int | None = None) -> Data:
        """The datasets ``rows``, keeping the first ``width`` study columns (all by default)."""
        sub = Data()
        for name in ("x", "n", "m", "mask", "dev_saturated", "cell_of"):
            setattr(sub, name, getattr(self, name)[rows, :width])
        sub.k, sub.log_choose = self.k[rows], self.log_choose[rows]
        cells = Data()
        # with fewer study columns, only the cells they use (so modes of ``self.cells`` fit a take of all columns)
        used = None if width is None else int(sub.cell_of.max(initial=0)) + 1
        for name in ("x", "n", "m", "dev_saturated"):
            setattr(cells, name, getattr(self.cells, name)[rows, :used])
        sub.cells = cells
        return sub


def binomial_loglik_kernel(x: np.ndarray, m: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """x log p + m log(1 - p) at logit eta, with one exp and one log1p (log p = -softplus(-eta))."""
    shared = np.log1p(np.exp(-np.abs(eta)))
    return -(x * (shared + np.maximum(-eta, 0.0)) + m * (shared + np.maximum(eta, 0.0)))


def conditional_modes(data: Data, mu: np.ndarray, theta: np.ndarray, u_start: np.ndarray | None = None) -> np.ndarray:
    """Each study's conditional mode u0 of the penalised deviance d_i(mu + theta u) + u^2.

    Solves u = theta (x - n p(u)) by Newton's method safeguarded with bisection: the root lies in
    [theta (x - n), theta x] and the left side minus the right side increases in u. ``u_start`` (modes at a
    nearby (mu, theta)) saves most iterations.
    """
    mu = mu[..., None]
    theta = theta[..., None]
    lo = np.minimum(theta * (data.x - data.n), theta * data.x)
    hi = np.maximum(theta * (data.x - data.n), theta * data.x)
    shape = (lo + mu).shape
    start = np.zeros(shape) if u_start is None else np.broadcast_to(u_start, np.broadcast_shapes(u_start.shape, shape))
    u = np.clip(start, lo, hi)
    last_step = hi - lo
    done = np.zeros(u.shape, dtype=bool)
    for _ in range(200):
        p = expit(mu + theta * u)
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


def agq_deviance(data: Data, mu: np.ndarray, theta: np.ndarray, nodes: Nodes,
                 u_start: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """lme4's nAGQ deviance for each dataset at (mu, theta) (which have the batch shape), and the modes (of each
    distinct (x, n) of a dataset: ``data.cells``, as ``u_start`` takes them)."""
    per_cell, u0 = _agq_terms(data.cells, mu, theta, nodes, u_start)
    cell_of = np.broadcast_to(data.cell_of, per_cell.shape[:-1] + data.cell_of.shape[-1:])
    per_study = np.take_along_axis(per_cell, cell_of, axis=-1)
    return study_sum(np.where(data.mask, per_study, 0.0)), u0


def _agq_terms(data: Data, mu: np.ndarray, theta: np.ndarray, nodes: Nodes,
               u_start: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Each study's term of the deviance at (mu, theta), and its conditional mode."""
    z, w = nodes
    u0 = conditional_modes(data, mu, theta, u_start)
    mu_ = mu[..., None]
    th_ = theta[..., None]
    eta0 = mu_ + th_ * u0
    p0 = expit(eta0)
    curvature = th_ * th_ * data.n * p0 * (1.0 - p0) + 1.0
    sd = 1.0 / np.sqrt(curvature)
    g0 = data.dev_saturated - 2.0 * binomial_loglik_kernel(data.x, data.m, eta0) + u0 * u0
    uj = u0[..., None] + z * sd[..., None]
    etaj = mu_[..., None] + th_[..., None] * uj
    dev_j = (
        data.dev_saturated[..., None]
        - 2.0 * binomial_loglik_kernel(data.x[..., None], data.m[..., None], etaj)
        + uj * uj
    )
    log_terms = -0.5 * (dev_j - g0[..., None]) + 0.5 * z * z + np.log(w)
    top = log_terms.max(axis=-1)
    log_mult = top + np.log(np.exp(log_terms - top[..., None]).sum(axis=-1))
    return g0 + np.log(curvature) - 2.0 * log_mult, u0


def derivatives(data: Data, mu: np.ndarray, theta: np.ndarray, nodes: Nodes, h: float = 1e-4,
                h_grad: float = 1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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
    _, centre_modes = agq_deviance(data, mu, theta, nodes)
    f, _ = agq_deviance(data, mus, ths, nodes, u_start=centre_modes[None])
    f0, fmp, fmm, ftp, ftm, fpp, fpm, fmp_, fmm_, gmp, gmm, gtp, gtm = f
    grad = np.stack([(gmp - gmm) / (2 * h_grad), (gtp - gtm) / (2 * h_grad)], axis=-1)
    h_mm = (fmp - 2 * f0 + fmm) / h**2
    h_tt = (ftp - 2 * f0 + ftm) / h**2
    h_mt = (fpp - fpm - fmp_ + fmm_) / (4 * h * h)
    hess = np.stack([np.stack([h_mm, h_mt], -1), np.stack([h_mt, h_tt], -1)], -2)
    return f0, grad, hess, centre_modes
