"""Per-study proportion intervals: statsmodels' proportion_confint and R's binom.test/prop.test as cross-checks."""

import json
from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from metacalc.meta.intervals import METHODS, proportion_interval

REFERENCE = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "metafor" / "iv_reference.json").read_text())
ROWS = REFERENCE["study_intervals"]
X = np.array([r["x"] for r in ROWS])
N = np.array([r["n"] for r in ROWS])

STATSMODELS = {"clopper-pearson": "beta", "wilson": "wilson", "agresti-coull": "agresti_coull", "jeffreys": "jeffreys"}


@pytest.mark.parametrize("method", sorted(STATSMODELS))
@pytest.mark.parametrize("level", [0.95, 0.9])
def test_matches_statsmodels_inside_the_edges(method, level):
    lower, upper = proportion_interval(X, N, method, level)
    ref_lower, ref_upper = proportion_confint(X, N, alpha=1 - level, method=STATSMODELS[method])
    inside = (X > 0) & (X < N)
    np.testing.assert_allclose(lower[inside], ref_lower[inside], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(upper[inside], ref_upper[inside], rtol=1e-10, atol=1e-12)
    if method != "jeffreys":  # statsmodels gives the raw beta quantile at the edges for Jeffreys
        np.testing.assert_allclose(lower, ref_lower, atol=1e-12)
        np.testing.assert_allclose(upper, ref_upper, atol=1e-12)


@pytest.mark.parametrize("method, key", [("clopper-pearson", "clopper_pearson"), ("wilson", "wilson"),
                                         ("wilson-cc", "wilson_cc")])
def test_matches_r(method, key):
    lower, upper = proportion_interval(X, N, method)
    expected = np.array([r[key] for r in ROWS])
    np.testing.assert_allclose(lower, expected[:, 0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(upper, expected[:, 1], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_edges_are_exactly_zero_and_one(method):
    lower, upper = proportion_interval([0, 5, 0, 1], [5, 5, 1, 1], method)
    assert lower[0] == 0.0 and lower[2] == 0.0
    assert upper[1] == 1.0 and upper[3] == 1.0
    assert np.all(lower <= upper)


def test_known_clopper_pearson_value():
    lower, upper = proportion_interval(14, 20)
    assert float(lower) == pytest.approx(0.457210817723711, rel=1e-9)
    assert float(upper) == pytest.approx(0.881068409594272, rel=1e-9)


@pytest.mark.parametrize("events, totals", [([3], [2]), ([-1], [2]), ([1], [0]), ([1.5], [3])])
def test_impossible_counts_are_rejected(events, totals):
    with pytest.raises(ValueError):
        proportion_interval(events, totals)
