"""summarise_values (the time rule), t_interval, median_interval and study_from_patients against R
(tests/fixtures/metafor/means_reference.json and small_sample_reference.json)."""

import json
from pathlib import Path

import numpy as np
import pytest

from metacalc.meta.means import pool_means
from metacalc.meta.summaries import (MIN_N_MEAN_INTERVAL, MIN_N_MEDIAN_INTERVAL, median_interval, study_from_patients,
                                     summarise_values, t_interval)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "metafor"
REFERENCE = json.loads((FIXTURES / "means_reference.json").read_text())
SMALL = json.loads((FIXTURES / "small_sample_reference.json").read_text())
RTOL = 1e-6


def close(actual, expected, rtol=RTOL, atol=1e-12):
    assert actual == pytest.approx(expected, rel=rtol, abs=atol)


@pytest.mark.parametrize("name", sorted(REFERENCE["summary"]))
def test_summarise_values_matches_r(name):
    ref = REFERENCE["summary"][name]
    summary = summarise_values(ref["values"])
    for field in ("n", "mean", "sd", "median", "q1", "q3", "min", "max"):
        close(getattr(summary, field), ref[field])
    interval = t_interval(ref["values"])
    close(interval[0], ref["mean_ci"][0])
    close(interval[1], ref["mean_ci"][1])
    # the summary reports it only where the time rule allows: 10 values or more, not below 0
    shown = summary.n >= MIN_N_MEAN_INTERVAL and interval.lower >= 0
    assert (summary.mean_ci == interval) if shown else (summary.mean_ci is None)
    json.dumps(summary.to_dict(), allow_nan=False)


@pytest.mark.parametrize("case", SMALL["median_ci"], ids=lambda c: f"n={c['n']}")
def test_time_rule_reports_the_median_interval_only_where_it_exists(case):
    summary = summarise_values(case["values"])
    assert summary.range_coverage == pytest.approx(case["range_coverage"], abs=1e-12)
    if case["exists"]:
        assert summary.n >= MIN_N_MEDIAN_INTERVAL
        assert tuple(summary.median_ci) == (case["lower"], case["upper"])
        assert summary.median_ci_coverage == pytest.approx(case["coverage"], abs=1e-12)
    else:
        assert summary.n < MIN_N_MEDIAN_INTERVAL and summary.median_ci is None
        assert summary.median_ci_coverage is None
    out = summary.to_dict()
    assert "mean_ci_bootstrap" not in out  # the study found the bootstrap to undercover at every n <= 40
    if summary.n < MIN_N_MEAN_INTERVAL:
        assert out["mean_ci"] is None and "fewer than 10 values" in out["mean_ci_note"]
    else:
        assert out["mean_ci_method"] == "t (approximate)" and out["mean_ci"][0] >= 0


def test_a_t_interval_below_zero_is_not_reported_for_a_non_negative_quantity():
    skewed = [0.1] * 9 + [60.0]
    assert t_interval(skewed).lower < 0
    summary = summarise_values(skewed)
    assert summary.mean_ci is None and "extends below 0" in summary.mean_ci_note
    signed = summarise_values(skewed, non_negative=False)  # a quantity that may be negative keeps it
    assert signed.mean_ci is not None and signed.mean_ci.lower < 0
    with pytest.raises(ValueError, match="negative value"):
        summarise_values([3.0, -1.0, 5.0])
    assert summarise_values([3.0, -1.0, 5.0], non_negative=False).min == -1.0


def test_the_issue_10_example_gives_no_interval_of_the_mean():
    # "7.7 years (95% CI -1.1 to 16.4)" for three patients: now the median and the range with its coverage
    summary = summarise_values([4.0, 8.0, 11.0])
    assert summary.mean_ci is None and summary.median_ci is None
    assert (summary.median, summary.min, summary.max, summary.range_coverage) == (8.0, 4.0, 11.0, 0.75)
    assert t_interval([4.0, 8.0, 11.0]).lower == pytest.approx(-1.0573382680, rel=1e-9)


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
    assert summary.sd is None and summary.mean_ci is None and summary.range_coverage is None
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
