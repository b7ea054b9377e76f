"""distributions: the same numbers as scipy.stats, to the last bit (the review's outputs depend on it)."""

import numpy as np
import pytest
from scipy import stats

from metacalc.meta import distributions

RNG = np.random.default_rng(4)
X = np.concatenate([np.abs(RNG.standard_normal(500)) * 8, [0.0, 1e-300, 40.0, np.inf]])
DF = RNG.integers(1, 300, size=X.size).astype(float)
Q = np.concatenate([RNG.uniform(size=X.size - 4), [0.025, 0.975, 0.5, 1e-12]])

CASES = [
    ("norm_sf", lambda: (stats.norm.sf(X), distributions.norm_sf(X))),
    ("norm_isf", lambda: (stats.norm.isf(Q), distributions.norm_isf(Q))),
    ("norm_ppf", lambda: (stats.norm.ppf(Q), distributions.norm_ppf(Q))),
    ("t_sf", lambda: (stats.t.sf(X, DF), distributions.t_sf(X, DF))),
    ("t_isf", lambda: (stats.t.isf(Q, DF), distributions.t_isf(Q, DF))),
    ("chi2_sf", lambda: (stats.chi2.sf(X, DF), distributions.chi2_sf(X, DF))),
    ("chi2_isf", lambda: (stats.chi2.isf(Q, DF), distributions.chi2_isf(Q, DF))),
    ("chi2_ppf", lambda: (stats.chi2.ppf(Q, DF), distributions.chi2_ppf(Q, DF))),
]


@pytest.mark.parametrize("name, values", CASES, ids=[c[0] for c in CASES])
def test_same_bits_as_scipy_stats(name, values):
    expected, actual = values()
    assert np.array_equal(expected, actual, equal_nan=True)
