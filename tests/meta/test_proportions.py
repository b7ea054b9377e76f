"""pool_proportions: the case-report default rule, the inverse-variance route against metafor, JSON without NaN.
The auto rule's branches, the population average and lower bounds: test_auto_rule.py."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from metacalc.meta.errors import InvalidInput
from metacalc.meta.proportions import PFT_HARMONIC_MEAN_WARNING, pool_proportions

REFERENCE = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "metafor" / "iv_reference.json").read_text())
KNIFE_EDGE = {("generated_18_mixed_k2", "PR", "ML")}  # see test_random_effects.py
KEYS = {"k", "method", "measure", "tau2_method", "level", "estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper",
        "transformed", "ci_method", "ci_df", "tau2", "tau2_ci", "tau2_ci_censored", "i2", "h2", "q", "q_df",
        "q_pvalue", "q_lrt", "q_lrt_pvalue", "estimand", "branch", "lower_bound", "lower_bound_studies", "studies",
        "reason", "warnings", "nulls"}


def strict_json(result):
    text = json.dumps(result.to_dict(), allow_nan=False)  # raises on NaN or infinity
    out = json.loads(text)
    assert set(out) == KEYS
    return out


def expected_bt(value, measure):
    if value is None:
        return None
    return min(1.0, max(0.0, value)) if measure == "PR" else value


@pytest.mark.parametrize("dataset", REFERENCE["datasets"], ids=lambda d: d["name"])
def test_inverse_variance_matches_metafor(dataset):
    for measure, block in dataset["measures"].items():
        for fit in block["fits"]:
            if "error" in fit:
                continue
            tol = 1e-3 if (dataset["name"], measure, fit["method"]) in KNIFE_EDGE else 1e-6
            result = pool_proportions(dataset["xi"], dataset["ni"], method="iv", measure=measure,
                                      tau2_method=fit["method"], knha=fit["test"] == "knha")
            out = strict_json(result)
            where = (dataset["name"], measure, fit["method"], fit["test"])
            for ours, theirs in (("estimate", "estimate"), ("ci_lower", "ci_lb"), ("ci_upper", "ci_ub"),
                                 ("pi_lower", "pi_lb"), ("pi_upper", "pi_ub")):
                expected = expected_bt(fit["bt"][theirs], measure)
                if expected is None:
                    assert out[ours] is None and ours in out["nulls"], where
                else:
                    assert out[ours] == pytest.approx(expected, rel=tol, abs=1e-9), (where, ours)
            assert out["transformed"]["se"] == pytest.approx(fit["se"], rel=tol), where
            # the model-scale values, unclipped (for PR beyond [0, 1] where metafor's are), beside the clipped ones
            for ours, theirs in (("ci_lower", "ci_lb"), ("ci_upper", "ci_ub"), ("pi_lower", "pi_lb"),
                                 ("pi_upper", "pi_ub")):
                if fit[theirs] is None:
                    assert out["transformed"][ours] is None and f"transformed.{ours}" in out["nulls"], where
                else:
                    assert out["transformed"][ours] == pytest.approx(fit[theirs], rel=tol, abs=1e-9), (where, ours)
            assert out["tau2"] == pytest.approx(fit["tau2"], rel=tol, abs=1e-9 if tol == 1e-6 else 1e-5), where
            assert out["q"] == pytest.approx(fit["QE"], rel=1e-6, abs=1e-9), where
            assert sum(s["weight"] for s in out["studies"]) == pytest.approx(100.0)


def test_raw_proportion_intervals_beyond_0_and_1_keep_metafors_unclipped_values():
    dataset = next(d for d in REFERENCE["datasets"] if d["name"] == "pritz1997")
    fit = next(f for f in dataset["measures"]["PR"]["fits"] if f["method"] == "REML" and f["test"] == "z")
    assert fit["pi_ub"] > 1  # metafor's prediction interval of these high proportions passes 1
    result = pool_proportions(dataset["xi"], dataset["ni"], method="iv", measure="PR", tau2_method="REML")
    assert result.pi_upper == 1.0 and result.transformed["pi_upper"] == pytest.approx(fit["pi_ub"], rel=1e-6)
    assert any("clipped" in w and "unclipped" in w for w in result.warnings)


def test_case_reports_default_to_the_pooled_count():
    result = pool_proportions([1] * 14 + [0] * 6, [1] * 20)
    assert result.method == "exact" and "single-patient" in result.reason
    assert result.estimate == 0.7
    assert result.ci_lower == pytest.approx(0.457210817723711, rel=1e-9)
    assert result.ci_upper == pytest.approx(0.881068409594272, rel=1e-9)
    out = strict_json(result)
    assert out["tau2"] is None and "tau2" in out["nulls"]
    assert [s["weight"] for s in out["studies"]] == [5.0] * 20
    # what metafor's defaults would have said (the docstring's numbers)
    pr = pool_proportions([1] * 14 + [0] * 6, [1] * 20, method="iv", measure="PR")
    assert pr.estimate == pytest.approx(0.60) and pr.ci_lower == pytest.approx(0.465810439221213, rel=1e-9)
    plo = pool_proportions([1] * 14 + [0] * 6, [1] * 20, method="iv", measure="PLO")
    assert plo.estimate == pytest.approx(0.608126757268593, rel=1e-9)
    assert any("0.25 or 0.75" in w for w in pr.warnings)


def test_series_default_to_the_glmm():
    result = pool_proportions([3, 6, 10, 1], [11, 17, 21, 6])
    assert result.method == "glmm" and "case series" in result.reason and result.branch == "glmm-series"
    assert 0 < result.ci_lower < result.estimate < result.ci_upper < 1
    strict_json(result)


@pytest.mark.parametrize("events, totals, phrase", [([0, 0, 0], [5, 1, 3], "0 events"),
                                                    ([5, 1, 3], [5, 1, 3], "all events"),
                                                    ([0, 0, 0, 0], [5, 1, 3, 9], "0 events")])
def test_all_zero_or_all_events_default_to_the_pooled_count(events, totals, phrase):
    result = pool_proportions(events, totals)
    assert result.method == "exact" and phrase in result.reason and result.branch == "all or none"
    assert result.estimate in (0.0, 1.0)
    assert (result.ci_lower == 0.0) if result.estimate == 0 else (result.ci_upper == 1.0)
    strict_json(result)


@pytest.mark.parametrize("measure", ["PR", "PLO", "PAS", "PFT"])
@pytest.mark.parametrize("tau2_method", ["FE", "DL", "REML", "ML", "PM", "HE", "SJ"])
@pytest.mark.parametrize("events, totals", [
    ([2], [5]),                      # k = 1
    ([0, 0, 0], [4, 9, 2]),          # every study 0 events
    ([4, 9, 2], [4, 9, 2]),          # every study all events
    ([3, 3, 3, 3], [10, 10, 10, 10]),  # identical studies: tau² = 0, Q = 0
    ([1, 0], [1, 1]),                # two single-patient reports
])
def test_edge_cases_are_finite_or_explained(measure, tau2_method, events, totals):
    for knha in (False, True):
        result = pool_proportions(events, totals, method="iv", measure=measure, tau2_method=tau2_method, knha=knha)
        out = strict_json(result)
        for name in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "tau2", "i2", "h2", "q"):
            assert out[name] is not None or name in out["nulls"], (name, out)
        assert out["estimate"] is None or 0 <= out["estimate"] <= 1


def test_identical_studies_have_no_heterogeneity():
    result = pool_proportions([3] * 4, [10] * 4, method="iv", tau2_method="DL")
    assert result.tau2 == 0 and result.q == 0 and result.i2 == 0 and result.h2 == 1
    assert result.estimate == pytest.approx(0.3)
    assert tuple(result.tau2_ci) == (0.0, 0.0)


def test_freeman_tukey_warns_when_studies_are_small():
    small = pool_proportions([1, 0, 1, 2], [1, 1, 2, 3], method="iv", measure="PFT")
    assert any("harmonic mean" in w for w in small.warnings)
    large = pool_proportions([3, 6, 10, 1], [11, 17, 21, 6], method="iv", measure="PFT")
    assert 1 / np.mean(1 / np.array([11, 17, 21, 6])) >= PFT_HARMONIC_MEAN_WARNING
    assert not any("harmonic mean" in w for w in large.warnings)


def test_miller_example_pooled_like_metafor():
    dataset = next(d for d in REFERENCE["datasets"] if d["name"] == "miller1978")
    fe = next(f for f in dataset["measures"]["PFT"]["fits"] if f["method"] == "FE" and f["test"] == "z")
    result = pool_proportions([3, 6, 10, 1], [11, 17, 21, 6], method="iv", measure="PFT", tau2_method="FE")
    assert result.estimate == pytest.approx(fe["bt"]["estimate"], rel=1e-9)
    assert result.pi_lower is not None and math.isnan(result.pi_lower)
    assert strict_json(result)["pi_lower"] is None


def test_study_rows_carry_intervals_and_labels():
    result = pool_proportions([0, 4], [5, 8], method="iv", labels=["a2001", "b2003"], ci_method="wilson")
    first, second = strict_json(result)["studies"]
    assert first["label"] == "a2001" and first["estimate"] == 0 and first["ci_lower"] == 0
    assert second["estimate"] == 0.5 and second["ci_upper"] == pytest.approx(0.7847839378, rel=1e-9)  # R prop.test(4, 8, correct=FALSE)


@pytest.mark.parametrize("events, totals, message", [
    ([3], [2], "between 0 and the total"),
    ([1], [0], "at least 1"),
    ([1.5], [3], "whole numbers"),
    ([1, 2], [3], "differ in length"),
    ([], [], "no studies"),
])
def test_impossible_input_is_a_user_error(events, totals, message):
    with pytest.raises(InvalidInput) as error:
        pool_proportions(events, totals)
    assert any(message in problem for problem in error.value.problems)


def test_bad_options_are_user_errors():
    with pytest.raises(InvalidInput) as error:
        pool_proportions([1], [2], method="bayes", measure="OR", tau2_method="EB", cc="some", level=95)
    assert len(error.value.problems) == 5


def test_no_correction_with_zero_events_is_refused():
    with pytest.raises(InvalidInput) as error:
        pool_proportions([0, 2], [5, 5], method="iv", measure="PLO", cc="none")
    assert "Study 1" in error.value.problems[0]


# ------------------------------------------------------------------------------------------- many analyses at once

MIXED = [  # (events, totals): series, reports, all zero, all events, the issue-13 dataset, a single study
    ([3, 6, 10, 1], [11, 17, 21, 6]), ([1] * 14 + [0] * 6, [1] * 20), ([0, 0, 0], [5, 1, 3]), ([5, 1, 3], [5, 1, 3]),
    ([1, 2, 0, 1, 0, 1, 0], [1, 2, 1, 3, 1, 1, 1]), ([2], [5]), ([0, 1], [1, 1]),
    ([4, 16, 10, 43, 10, 25, 13, 12, 22, 4, 5, 18, 58, 6], [17, 18, 12, 58, 10, 42, 14, 12, 41, 5, 6, 23, 68, 10]),
]


@pytest.mark.parametrize("method, measure", [("auto", "PLO"), ("glmm", "PLO"), ("exact", "PLO"), ("iv", "PLO"),
                                             ("iv", "PFT"), ("iv", "PR")])
def test_many_analyses_give_what_each_gives_alone(method, measure):
    from metacalc.meta.proportions import pool_proportions_many

    events = [e for e, _ in MIXED]
    totals = [t for _, t in MIXED]
    together = pool_proportions_many(events, totals, method=method, measure=measure)
    assert len(together) == len(MIXED)
    for (e, t), batch in zip(MIXED, together):
        try:
            alone = pool_proportions(e, t, method=method, measure=measure)
        except ValueError as error:
            assert isinstance(batch, ValueError) and str(batch) == str(error)
            continue
        assert batch.to_dict() == alone.to_dict()


def test_many_returns_or_raises_the_refusals_in_place():
    from metacalc.meta.proportions import pool_proportions_many

    out = pool_proportions_many([[3, 1], [0, 0], [5]], [[2, 4], [5, 7], [9]], method="glmm")
    assert isinstance(out[0], InvalidInput) and "between 0 and the total" in str(out[0])
    assert "not estimable" in str(out[1]) and out[2].k == 1
    with pytest.raises(InvalidInput):
        pool_proportions_many([[3, 1], [0, 0]], [[2, 4], [5, 7]], method="glmm", errors="raise")
