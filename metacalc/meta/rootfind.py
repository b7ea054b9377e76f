"""R's ``uniroot`` (Brent's zeroin, R_zeroin2 in R's stats/src/zeroin.c) for many roots at once.

metafor finds the Paule-Mandel tau² and the Q-profile interval for tau² with ``uniroot``; porting it step for
step (rather than calling another root finder with a similar tolerance) makes the roots agree with R to the last
digits instead of to the solver's tolerance. Every row follows its own iteration sequence exactly as the scalar
algorithm would; a row that has converged is set aside while the others go on, so a root does not depend on
which other rows were searched with it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

DBL_EPSILON = float(np.finfo(float).eps)
UNIROOT_TOL = DBL_EPSILON**0.25  # R's default tol for uniroot, about 1.2e-4

# f(values, rows) -> f at values[i] for row rows[i]; ``rows`` is always in increasing order
RowFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]


def zeroin(f: RowFunction, lower: np.ndarray, upper: np.ndarray, f_lower: np.ndarray, f_upper: np.ndarray,
           tol: float = UNIROOT_TOL, maxiter: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Roots of f on [lower, upper] row by row; returns ``(roots, bracketed)``.

    ``f_lower`` / ``f_upper`` are f at the ends. Where they have the same sign R stops with "f() values at end
    points not of opposite sign": that row's root is nan and ``bracketed`` False. After ``maxiter`` iterations
    without convergence R only warns and returns its current estimate, and so does this function.
    """
    a = np.array(lower, dtype=float)
    b = np.array(upper, dtype=float)
    fa = np.array(f_lower, dtype=float)
    fb = np.array(f_upper, dtype=float)
    roots = np.full(a.shape, np.nan)
    bracketed = ~(fa * fb > 0)
    roots = np.where(bracketed & (fb == 0.0), b, roots)
    roots = np.where(bracketed & (fa == 0.0), a, roots)
    rows = np.flatnonzero(bracketed & (fa != 0.0) & (fb != 0.0))
    a, b, fa, fb = a[rows], b[rows], fa[rows], fb[rows]
    c, fc = a.copy(), fa.copy()
    # (the branches below are skipped when no row takes them: with few rows, numpy's per-call cost is the
    # search's whole cost)
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(maxiter + 1):
            if rows.size == 0:
                break
            prev_step = b - a
            # keep b the best estimate: swap b and c when c is closer to the root
            swap = np.abs(fc) < np.abs(fb)
            if swap.any():
                a, b, c = np.where(swap, b, a), np.where(swap, c, b), np.where(swap, b, c)
                fa, fb, fc = np.where(swap, fb, fa), np.where(swap, fc, fb), np.where(swap, fb, fc)
            tol_act = 2 * DBL_EPSILON * np.abs(b) + tol / 2
            new_step = (c - b) / 2
            finished = (np.abs(new_step) <= tol_act) | (fb == 0.0)
            if finished.any():
                roots[rows[finished]] = b[finished]
                keep = ~finished
                rows, a, b, c, fa, fb, fc = rows[keep], a[keep], b[keep], c[keep], fa[keep], fb[keep], fc[keep]
                prev_step, tol_act, new_step = prev_step[keep], tol_act[keep], new_step[keep]
                if rows.size == 0:
                    break
            # interpolation (secant when a == c, else inverse quadratic) where the last step was large enough
            # and is improving; the other branch's values are computed and discarded
            interpolate = (np.abs(prev_step) >= tol_act) & (np.abs(fa) > np.abs(fb))
            if interpolate.any():
                cb = c - b
                secant = a == c
                t1_secant = fb / fa
                q0 = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = np.where(secant, cb * t1_secant, t2 * (cb * q0 * (q0 - t1) - (b - a) * (t1 - 1.0)))
                q = np.where(secant, 1.0 - t1_secant, (q0 - 1.0) * (t1 - 1.0) * (t2 - 1.0))
                positive = p > 0
                q = np.where(positive, -q, q)
                p = np.where(positive, p, -p)
                accept = interpolate & (p < (0.75 * cb * q - np.abs(tol_act * q) / 2)) & (p < np.abs(prev_step * q / 2))
                new_step = np.where(accept, p / q, new_step)
            too_small = np.abs(new_step) < tol_act
            if too_small.any():
                new_step = np.where(too_small, np.where(new_step > 0, tol_act, -tol_act), new_step)
            a, fa = b, fb
            b = b + new_step
            fb = np.asarray(f(b, rows), dtype=float)
            # keep the root bracketed between b and c
            same_side = ((fb > 0) & (fc > 0)) | ((fb < 0) & (fc < 0))
            if same_side.any():
                c = np.where(same_side, a, c)
                fc = np.where(same_side, fa, fc)
    roots[rows] = b
    return roots, bracketed
