"""Per-study proportion intervals: statsmodels' proportion_confint and R's binom.test/prop.test as cross-checks
(tests/fixtures/metafor/iv_reference.json and small_sample_reference.json)."""

import json
from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from metacalc.meta.intervals import METHODS, lower_limit, proportion_interval

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "metafor"
REFERENCE = json.loads((FIXTURES / "iv_reference.json").read_text())
SMALL = json.loads((FIXTURES / "small_sample_reference.json").read_text())
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


@pytest.mark.parametrize("method, key", [("clopper-pearson", "clopper_pearson"), ("wilson", "wilson")])
def test_matches_r(method, key):
    lower, upper = proportion_interval(X, N, method)
    expected = np.array([r[key] for r in ROWS])
    np.testing.assert_allclose(lower, expected[:, 0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(upper, expected[:, 1], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("correct, key", [(True, "correct_true"), (False, "correct_false")])
def test_wilson_intervals_equal_prop_test_for_every_count(correct, key):
    # every x = 0..n of 15 sample sizes, x = n/2 included: there R's Yates correction min(1/2, |x - n/2|) is 0
    rows = SMALL["prop_test"]
    x, n = np.array([r["x"] for r in rows]), np.array([r["n"] for r in rows])
    lower, upper = proportion_interval(x, n, "wilson-cc" if correct else "wilson")
    expected = np.array([r[key] for r in rows])
    np.testing.assert_allclose(lower, expected[:, 0], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(upper, expected[:, 1], rtol=1e-6, atol=1e-12)
    half = (2 * x == n)
    assert half.sum() > 5 and all(r["yates"] == 0 for r, h in zip(rows, half) if h)
    if correct:  # at x = n/2 R's corrected interval is the uncorrected one
        wilson = proportion_interval(x[half], n[half], "wilson")
        np.testing.assert_allclose(lower[half], wilson[0], rtol=1e-12)


def test_wilson_cc_agrees_with_the_full_correction_away_from_half():
    # iv_reference.R forced the full 1/2 correction (p = 0.999 or 0.001): the same interval wherever x != n/2
    keep = 2 * X != N
    lower, upper = proportion_interval(X[keep], N[keep], "wilson-cc")
    expected = np.array([r["wilson_cc"] for r, k in zip(ROWS, keep) if k])
    np.testing.assert_allclose(lower, expected[:, 0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(upper, expected[:, 1], rtol=1e-9, atol=1e-12)


def test_one_sided_lower_limit_matches_binom_test_greater():
    for case in SMALL["binomial"]:
        assert float(lower_limit(case["x"], case["n"])) == pytest.approx(case["lower_one_sided"], rel=1e-6, abs=1e-12)
        assert case["one_sided_upper"] == 1
    # the one-sided limit lies above the two-sided one (5% in one tail, not 2.5%)
    assert float(lower_limit(10, 21)) > float(proportion_interval(10, 21)[0])
    with pytest.raises(ValueError):
        lower_limit(3, 2)


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
