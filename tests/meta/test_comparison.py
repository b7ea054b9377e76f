"""compare_with_published against R's t.test, wilcox.test and binom.test (tests/fixtures/metafor/means_reference.json)."""

import json
from pathlib import Path

import numpy as np
import pytest

from metacalc.meta.comparison import compare_with_published

REFERENCE = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "metafor" / "means_reference.json").read_text())
RTOL = 1e-6


def close(actual, expected, rtol=RTOL, atol=1e-12):
    assert actual == pytest.approx(expected, rel=rtol, abs=atol)


@pytest.mark.parametrize("key", sorted(REFERENCE["one_sample"]))
def test_compare_with_published_matches_r_tests(key):
    ref = REFERENCE["one_sample"][key]
    result = compare_with_published(ref["values"], ref["reference"])
    close(result.difference, ref["t_difference"])
    close(result.t_statistic, ref["t_statistic"])
    assert result.df == ref["t_df"]
    close(result.pvalue, ref["t_pvalue"])
    close(result.ci_lower, ref["t_ci"][0])
    close(result.ci_upper, ref["t_ci"][1])
    close(result.wilcoxon_statistic, ref["wilcoxon_statistic"])
    close(result.wilcoxon_pvalue, ref["wilcoxon_pvalue"])
    assert result.wilcoxon_method == "exact"
    assert result.sign_above == ref["sign_above"]
    close(result.sign_pvalue, ref["sign_pvalue"])
    json.dumps(result.to_dict(), allow_nan=False)


def test_interpretation_states_direction_size_and_verdict():
    values = REFERENCE["one_sample"]["wider_21.5"]["values"]
    text = compare_with_published(values, 21.5).interpretation
    assert "12 patients' mean, 12.6 years, is 8.9 years shorter than the published 21.5 years" in text
    assert "unlikely if the published figure held" in text
    text = compare_with_published(values, 9.8).interpretation
    assert "longer than the published 9.8 years" in text and "compatible" in text


def test_compare_with_one_patient_or_identical_values_is_finite():
    one = compare_with_published([11.0], 9.8)
    assert one.pvalue is None and "single value" in one.interpretation
    json.dumps(one.to_dict(), allow_nan=False)
    same = compare_with_published([5.0, 5.0, 5.0], 9.8)
    assert same.pvalue is None and same.sign_above == 0 and same.sign_below == 3
    close(same.sign_pvalue, 0.25)
    json.dumps(same.to_dict(), allow_nan=False)


def test_wilcoxon_falls_back_to_normal_approximation_with_ties():
    result = compare_with_published([1, 3, 3, 5, 7, 12, 14], 9.8 - 1.8)  # |differences| 7, 5, 5, ...
    assert result.wilcoxon_method == "approx"
    assert 0 < result.wilcoxon_pvalue <= 1
    assert np.isfinite(result.wilcoxon_statistic)


