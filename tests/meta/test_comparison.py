"""Comparisons with published figures (Welch or descriptive) and the one-sample tests against a known constant,
against R's t.test, wilcox.test and binom.test (means_reference.json, small_sample_reference.json)."""

import json
from pathlib import Path

import pytest

from metacalc.meta.comparison import compare_with_published, welch_from_summaries
from metacalc.meta.one_sample import compare_with_value, sign_test, wilcoxon_signed_rank

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "metafor"
REFERENCE = json.loads((FIXTURES / "means_reference.json").read_text())
SMALL = json.loads((FIXTURES / "small_sample_reference.json").read_text())
RTOL = 1e-6


def close(actual, expected, rtol=RTOL, atol=1e-12):
    assert actual == pytest.approx(expected, rel=rtol, abs=atol)


# ------------------------------------------------------------------------------------- against a known constant


@pytest.mark.parametrize("key", sorted(REFERENCE["one_sample"]))
def test_one_sample_tests_match_r(key):
    ref = REFERENCE["one_sample"][key]
    result = compare_with_value(ref["values"], ref["reference"])
    close(result.difference, ref["t_difference"])
    close(result.t_statistic, ref["t_statistic"])
    assert result.df == ref["t_df"]
    close(result.pvalue, ref["t_pvalue"])
    close(result.ci_lower, ref["t_ci"][0])
    close(result.ci_upper, ref["t_ci"][1])
    close(result.wilcoxon.statistic, ref["wilcoxon_statistic"])
    close(result.wilcoxon.pvalue, ref["wilcoxon_pvalue"])
    assert result.wilcoxon.method == "Wilcoxon signed rank exact test"
    assert result.sign.above == ref["sign_above"]
    close(result.sign.pvalue, ref["sign_pvalue"])
    json.dumps(result.to_dict(), allow_nan=False)


@pytest.mark.parametrize("name", sorted(SMALL["wilcoxon"]))
@pytest.mark.parametrize("run, exact, correct", [("default", None, True), ("approx_correct", False, True),
                                                 ("approx_uncorrected", False, False)])
def test_wilcoxon_handles_ties_and_zeroes_as_r(name, run, exact, correct):
    case = SMALL["wilcoxon"][name]
    expected = case[run]
    result = wilcoxon_signed_rank(case["values"], case["reference"], exact=exact, correct=correct)
    close(result.statistic, expected["statistic"])
    close(result.pvalue, expected["pvalue"])
    assert result.method == expected["method"]  # R's own name: exact, or normal with continuity correction
    assert result.n == case["n_nonzero"]
    assert [result.note] == (expected["warnings"] or [""])


def test_the_issue_10_ties_example():
    # 11, 8, 4, 9 against 10: |differences| 1, 2, 6, 1 tie, so R uses the corrected normal approximation
    result = wilcoxon_signed_rank([11, 8, 4, 9], 10)
    assert result.pvalue == pytest.approx(0.269294136719737, rel=1e-9) and "continuity correction" in result.method
    assert result.note == "cannot compute exact p-value with ties"


@pytest.mark.parametrize("name", sorted(SMALL["sign_test"]))
def test_sign_test_matches_binom_test(name):
    case = SMALL["sign_test"][name]
    result = sign_test(case["values"], case["reference"])
    assert (result.above, result.below) == (case["above"], case["below"])
    close(result.pvalue, case["pvalue"])


# ------------------------------------------------------------------------------------- against a published figure


@pytest.mark.parametrize("name", sorted(SMALL["welch"]))
def test_welch_from_summaries_matches_t_test(name):
    case = SMALL["welch"][name]
    test = welch_from_summaries(case["m1"], case["s1"], case["n1"], case["m2"], case["s2"], case["n2"])
    for ours, theirs in (("difference", "difference"), ("se", "se"), ("t_statistic", "t"), ("df", "df"),
                         ("pvalue", "pvalue")):
        close(getattr(test, ours), case[theirs])
    close(test.ci_lower, case["t_test"]["ci"][0])
    close(test.ci_upper, case["t_test"]["ci"][1])


def test_a_published_figure_with_n_and_sd_gets_a_welch_comparison():
    values = REFERENCE["one_sample"]["wider_21.5"]["values"]
    result = compare_with_published(values, 21.5, reference_n=30, reference_sd=12.0)
    assert result.method == "welch" and result.note == ""
    import numpy as np

    expected = welch_from_summaries(float(np.mean(values)), float(np.std(values, ddof=1)), len(values), 21.5, 12.0, 30)
    assert (result.pvalue, result.ci_lower, result.df) == (expected.pvalue, expected.ci_lower, expected.df)
    assert "Welch two-sample t test" in result.interpretation and "(n = 30, SD 12)" in result.interpretation
    json.dumps(result.to_dict(), allow_nan=False)


@pytest.mark.parametrize("reference_n, phrase", [(None, "number of patients and the SD behind the published 9.8 years"),
                                                 (2, "the published 9.8 years is the mean of 2 patients")])
def test_a_published_mean_alone_gives_a_descriptive_difference(reference_n, phrase):
    result = compare_with_published([4.0, 8.0, 9.0, 11.0], 9.8, reference_n=reference_n)
    assert result.method == "descriptive" and result.difference == pytest.approx(-1.8)
    assert result.pvalue is None and result.ci_lower is None and result.t_statistic is None
    assert phrase in result.note and "known constant" in result.note
    assert result.interpretation.startswith("The 4 patients' mean, 8.0 years (median 8.5), is 1.8 years shorter")
    assert "p =" not in result.interpretation and "p <" not in result.interpretation
    assert result.to_dict()["pvalue"] is None


def test_compare_with_one_patient_or_identical_values_is_finite():
    one = compare_with_published([11.0], 9.8, reference_n=40, reference_sd=5.0)
    assert one.pvalue is None and one.method == "descriptive" and "one patient" in one.note
    json.dumps(one.to_dict(), allow_nan=False)
    same = compare_with_value([5.0, 5.0, 5.0], 9.8)
    assert same.pvalue is None and (same.sign.above, same.sign.below) == (0, 3)
    close(same.sign.pvalue, 0.25)
    assert wilcoxon_signed_rank([9.8, 9.8], 9.8) is None
    json.dumps(same.to_dict(), allow_nan=False)


def test_welch_refuses_what_it_cannot_use():
    with pytest.raises(ValueError, match="n2 must be at least 2"):
        welch_from_summaries(8.0, 3.0, 4, 21.5, 9.0, 1)
