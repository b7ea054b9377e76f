"""summarise_values, median_interval and study_from_patients against R (tests/fixtures/metafor/means_reference.json)."""

import json
from pathlib import Path

import numpy as np
import pytest

from metacalc.meta.means import pool_means
from metacalc.meta.summaries import median_interval, study_from_patients, summarise_values

REFERENCE = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "metafor" / "means_reference.json").read_text())
RTOL = 1e-6


def close(actual, expected, rtol=RTOL, atol=1e-12):
    assert actual == pytest.approx(expected, rel=rtol, abs=atol)


@pytest.mark.parametrize("name", sorted(REFERENCE["summary"]))
def test_summarise_values_matches_r(name):
    ref = REFERENCE["summary"][name]
    summary = summarise_values(ref["values"])
    for field in ("n", "mean", "sd", "median", "q1", "q3", "min", "max"):
        close(getattr(summary, field), ref[field])
    close(summary.mean_ci[0], ref["mean_ci"][0])
    close(summary.mean_ci[1], ref["mean_ci"][1])
    json.dumps(summary.to_dict(), allow_nan=False)


def test_bootstrap_interval_is_deterministic_and_sensible():
    values = REFERENCE["summary"]["wider"]["values"]
    first = summarise_values(values, n_boot=2000, seed=7)
    again = summarise_values(values, n_boot=2000, seed=7)
    other = summarise_values(values, n_boot=2000, seed=8)
    assert first.mean_ci_bootstrap == again.mean_ci_bootstrap
    assert first.mean_ci_bootstrap != other.mean_ci_bootstrap
    low, high = first.mean_ci_bootstrap
    assert min(values) < low < first.mean < high < max(values)
    # the percentile interval of the mean is narrower than the t interval for n = 12 (no t inflation)
    assert high - low < first.mean_ci[1] - first.mean_ci[0]


def test_median_interval_uses_binomial_order_statistics():
    values = [9, 1, 12, 3, 7, 11, 2, 8, 5, 10, 4, 6]  # sorted: 1..12
    low, high, coverage = median_interval(values, 0.95)
    # n = 12: P(Bin(12, 1/2) <= 2) = 79/4096 <= 0.025 < P(<= 3), so r = 3: (x_(3), x_(10))
    assert (low, high) == (3, 10)
    close(coverage, 1 - 2 * 79 / 4096)


def test_median_interval_falls_back_to_range_with_its_coverage_for_small_n():
    low, high, coverage = median_interval([4, 8, 1, 20, 15], 0.95)
    assert (low, high) == (1, 20)
    close(coverage, 1 - 2 / 32)


def test_single_value_summary_has_no_spread_and_is_json_safe():
    summary = summarise_values([7.5])
    assert summary.sd is None and summary.mean_ci is None and summary.mean_ci_bootstrap is None
    assert json.loads(json.dumps(summary.to_dict(), allow_nan=False))["median"] == 7.5


def test_study_from_patients_combines_individual_values():
    ref = REFERENCE["summary"]["small"]
    study = study_from_patients(ref["values"])
    assert study.n == 5
    close(study.mean, ref["mean"])
    close(study.sd, ref["sd"])
    with pytest.raises(ValueError, match="at least 2"):
        study_from_patients([3.0])


def test_patients_as_one_study_pool_with_series():
    patients = study_from_patients([11, 3.5, 20, 8, 15.2])
    result = pool_means([21.5, patients.mean], [10.0, patients.sd], [40, patients.n], tau2_method="DL")
    assert result.k == 2
    assert min(21.5, patients.mean) < result.estimate < max(21.5, patients.mean)


def test_bootstrap_interval_does_not_depend_on_the_resampling_chunk(monkeypatch):
    import metacalc.meta.summaries as summaries_module

    values = np.random.default_rng(3).gamma(2.0, 5.0, size=700)
    chunked = summaries_module.summarise_values(values, n_boot=2000)
    monkeypatch.setattr(summaries_module, "_BOOTSTRAP_CHUNK_CELLS", 10**12)
    whole = summaries_module.summarise_values(values, n_boot=2000)
    assert chunked.mean_ci_bootstrap == whole.mean_ci_bootstrap
    assert chunked.mean_ci_bootstrap[0] < chunked.mean < chunked.mean_ci_bootstrap[1]
