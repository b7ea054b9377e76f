"""distributions: the same numbers as scipy.stats, to the last bit (the review's outputs depend on it)."""

import numpy as np
import pytest
from scipy import stats

from metacalc.meta import distributions

RNG = np.random.default_rng(4)
X = np.concatenate([np.abs(RNG.standard_normal(500)) * 8, [0.0, 1e-300, 40.0, np.inf]])
DF = RNG.integers(1, 300, size=X.size).astype(float)
Q = np.concatenate([RNG.uniform(size=X.size - 4), [0.025, 0.975, 0.5, 1e-12]])
TOTALS = RNG.integers(1, 80, size=X.size).astype(float)
EVENTS = np.floor(RNG.uniform(size=X.size) * (TOTALS + 1))

CASES = [
    ("norm_sf", lambda: (stats.norm.sf(X), distributions.norm_sf(X))),
    ("norm_isf", lambda: (stats.norm.isf(Q), distributions.norm_isf(Q))),
    ("norm_ppf", lambda: (stats.norm.ppf(Q), distributions.norm_ppf(Q))),
    ("t_sf", lambda: (stats.t.sf(X, DF), distributions.t_sf(X, DF))),
    ("t_isf", lambda: (stats.t.isf(Q, DF), distributions.t_isf(Q, DF))),
    ("chi2_sf", lambda: (stats.chi2.sf(X, DF), distributions.chi2_sf(X, DF))),
    ("chi2_isf", lambda: (stats.chi2.isf(Q, DF), distributions.chi2_isf(Q, DF))),
    ("chi2_ppf", lambda: (stats.chi2.ppf(Q, DF), distributions.chi2_ppf(Q, DF))),
    ("norm_cdf", lambda: (stats.norm.cdf(X - 4), distributions.norm_cdf(X - 4))),
    ("t_ppf", lambda: (stats.t.ppf(Q, DF), distributions.t_ppf(Q, DF))),
    # Clopper-Pearson and Jeffreys limits: events 0..n (a = 0 or b = 0 at the ends, where scipy.stats says nan)
    ("beta_ppf", lambda: (stats.beta.ppf(Q, EVENTS, TOTALS - EVENTS + 1),
                          distributions.beta_ppf(Q, EVENTS, TOTALS - EVENTS + 1))),
    ("beta_isf", lambda: (stats.beta.isf(Q, EVENTS + 1, TOTALS - EVENTS),
                          distributions.beta_isf(Q, EVENTS + 1, TOTALS - EVENTS))),
    ("beta_ppf_half", lambda: (stats.beta.ppf(Q, EVENTS + 0.5, TOTALS - EVENTS + 0.5),
                               distributions.beta_ppf(Q, EVENTS + 0.5, TOTALS - EVENTS + 0.5))),
    # the sign test's binomial tail, below, inside and beyond the support 0..n
    ("binom_cdf", lambda: (stats.binom.cdf(EVENTS - 2, TOTALS, 0.5), distributions.binom_cdf(EVENTS - 2, TOTALS, 0.5))),
    ("binom_cdf_p", lambda: (stats.binom.cdf(EVENTS + 1, TOTALS, Q), distributions.binom_cdf(EVENTS + 1, TOTALS, Q))),
]


@pytest.mark.parametrize("name, values", CASES, ids=[c[0] for c in CASES])
def test_same_bits_as_scipy_stats(name, values):
    with np.errstate(invalid="ignore", divide="ignore"):
        expected, actual = values()
    assert np.array_equal(expected, actual, equal_nan=True)


def test_fitting_never_imports_scipy_stats():
    # scipy.stats costs 0.8 s of CPU to import, in every job that fits: the core's fits and intervals do without it
    import subprocess
    import sys

    code = ("import sys; from metacalc.meta import pool_proportions, pool_means, rma_glmm_batch;"
            "from metacalc.meta.summaries import median_interval, t_interval;"
            "from metacalc.meta.comparison import welch_from_summaries;"
            "pool_proportions([3, 0, 5], [10, 4, 5]); pool_proportions([3, 0, 5], [10, 4, 5], method='glmm');"
            "pool_proportions([3, 1, 5], [10, 4, 9], method='iv');"
            "pool_means([1.0, 2.0], [1.0, 1.5], [10, 12]); median_interval([1, 2, 3, 4, 5, 6, 7]);"
            "t_interval([1, 2, 4]); welch_from_summaries(1, 1, 10, 2, 1, 12);"
            "print('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
