"""rootfind.zeroin: R's uniroot step for step, many roots at once."""

import numpy as np
import pytest

from metacalc.meta.rootfind import zeroin

# R 4.2.2: sprintf("%.17g", uniroot(f, interval)$root) with uniroot's default tol (and tol = 1e-12 for the last)
R_ROOTS = [
    (lambda x: x**3 - 2, 0.0, 2.0, None, 1.2599338350608136),
    (lambda x: np.cos(x) - x, 0.0, 1.0, None, 0.73909105828536981),
    (lambda x: np.exp(x) - 10, -5.0, 5.0, None, 2.3025847601619365),
    (lambda x: x**3 - 2, 0.0, 2.0, 1e-12, 1.2599210498949451),
]


def solve(f, lower, upper, tol=None):
    lower, upper = np.atleast_1d(lower).astype(float), np.atleast_1d(upper).astype(float)
    kwargs = {} if tol is None else {"tol": tol}
    return zeroin(lambda values, rows: f(values), lower, upper, f(lower), f(upper), **kwargs)


@pytest.mark.parametrize("f, lower, upper, tol, expected", R_ROOTS)
def test_roots_are_rs_to_the_last_digit(f, lower, upper, tol, expected):
    roots, bracketed = solve(f, lower, upper, tol)
    assert bracketed[0] and roots[0] == expected


def test_rows_are_solved_independently():
    # the roots of x^3 = c for several c, together and one by one: the same bits
    targets = np.array([0.5, 2.0, 7.0, 30.0])

    def f(values, rows):
        return values**3 - targets[rows]

    lower, upper = np.zeros(4), np.full(4, 5.0)
    together, _ = zeroin(f, lower, upper, f(lower, np.arange(4)), f(upper, np.arange(4)))
    for i in range(4):
        alone, _ = zeroin(lambda v, r: v**3 - targets[i], lower[:1], upper[:1], -targets[i:i + 1],
                          upper[:1] ** 3 - targets[i])
        assert alone[0] == together[i]
    np.testing.assert_allclose(together, np.cbrt(targets), rtol=1e-4)


def test_an_unbracketed_row_is_nan_and_an_end_point_root_is_returned():
    roots, bracketed = solve(lambda x: x**2 + 1, -1.0, 1.0)
    assert not bracketed[0] and np.isnan(roots[0])
    roots, bracketed = solve(lambda x: x - 1, 1.0, 3.0)
    assert bracketed[0] and roots[0] == 1.0
