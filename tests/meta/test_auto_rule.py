"""The auto rule of pool_proportions (auto_rule), the population-average proportion, lower bounds, and the GLMM's
two heterogeneity tests, against R where R has the number (small_sample_reference.json, glmm_reference.json)."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from metacalc.meta import auto_rule, pool_proportions, pool_proportions_many, rma_glmm
from metacalc.meta.errors import InvalidInput
from metacalc.meta.intervals import lower_limit, proportion_interval
from metacalc.meta.population_average import (mean_logit_for_average, population_average,
                                              population_average_interval)
from metacalc.meta.sensitivity import leave_one_out

SMALL = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "metafor" /
                    "small_sample_reference.json").read_text())
BINOMIAL = {(case["x"], case["n"]): case for case in SMALL["binomial"]}
REPORTS_AND_SERIES = ([1] * 20 + [0] * 19 + [8], [1] * 39 + [20])  # 39 reports + a series of 20 (34% of patients)
THREE_SERIES = ([1, 3, 5, 9], [1, 10, 12, 20])


def clopper_pearson(x, n):
    return tuple(float(v) for v in proportion_interval(x, n, "clopper-pearson"))


@pytest.mark.parametrize("x, n", [(1, 2), (3, 10), (9, 17), (22, 28)])
def test_a_single_study_gets_its_own_exact_interval(x, n):
    # issue 10: 1/2 went to the GLMM's Wald logit interval, 5.9% to 94.1%, instead of 1.3% to 98.7%
    result = pool_proportions([x], [n])
    assert (result.method, result.branch, result.estimand) == ("exact", "single study", "pooled count")
    assert (result.ci_lower, result.ci_upper) == pytest.approx(BINOMIAL[(x, n)]["clopper_pearson"], rel=1e-6)
    assert result.reason == auto_rule.REASONS["single study"]


def test_single_patient_reports_and_all_or_none_are_pooled_counts():
    reports = pool_proportions([1] * 14 + [0] * 6, [1] * 20)
    assert (reports.branch, reports.ci_lower) == ("single-patient reports", pytest.approx(0.457210817723711, rel=1e-9))
    assert pool_proportions([0, 0, 0], [1, 4, 9]).branch == "all or none"
    assert pool_proportions([1, 4, 9], [1, 4, 9]).branch == "all or none"


def test_a_dominant_series_gives_the_pooled_count_with_a_warning():
    # issue 10's sparse example: the GLMM gave 0.014 [0.000, 0.998] with tau² = 25.8
    glmm = SMALL["glmm_sparse"]["issue10_sparse"]
    assert glmm["tau2"] > 25
    result = pool_proportions(glmm["events"], glmm["totals"])
    assert (result.method, result.branch) == ("exact", "dominant series")
    assert (result.ci_lower, result.ci_upper) == pytest.approx(clopper_pearson(1, 13), rel=1e-12)
    warning = next(w for w in result.warnings if "no method keeps 95% coverage" in w)
    assert "table P7" in warning and "51 to 98%" in warning and "59 to 90%" in warning
    assert "assumes one proportion for all settings" in result.reason
    # the diltiazem-like data: seven reports and a series of 17 (71% of the patients)
    assert pool_proportions([1, 0, 1, 1, 0, 0, 1, 9], [1] * 7 + [17]).branch == "dominant series"


def test_reports_with_a_small_series_use_the_glmm_population_average_with_z():
    events, totals = REPORTS_AND_SERIES
    result = pool_proportions(events, totals)
    fit = rma_glmm(events, totals)
    assert (result.method, result.branch, result.estimand) == ("glmm", "glmm-reports", "population average")
    assert result.estimate == pytest.approx(float(population_average(fit.estimate, fit.tau)), rel=1e-12)
    assert (result.ci_lower, result.ci_upper) == pytest.approx(
        [float(v) for v in population_average_interval(fit.estimate, fit.se, fit.tau2)], rel=1e-12)
    assert result.ci.method == "z" and result.ci.df is None
    # the model's own scale keeps metafor's numbers, unclipped
    assert result.transformed["estimate"] == fit.estimate and result.transformed["ci_lower"] == fit.ci.lower


def test_three_series_use_t_on_series_minus_one_df():
    events, totals = THREE_SERIES
    result = pool_proportions(events, totals)
    fit = rma_glmm(events, totals)
    assert (result.branch, result.ci.method, result.ci.df) == ("glmm-series", "t", 2.0)
    expected = population_average_interval(fit.estimate, fit.se, fit.tau2, df=2)
    assert (result.ci_lower, result.ci_upper) == pytest.approx([float(v) for v in expected], rel=1e-12)
    from scipy import stats

    crit = stats.t.ppf(0.975, 2)
    assert result.transformed["ci_upper"] == pytest.approx(fit.estimate + crit * fit.se, rel=1e-12)
    out = result.to_dict()
    assert (out["ci_method"], out["ci_df"], out["estimand"], out["branch"]) == ("t", 2.0, "population average",
                                                                                 "glmm-series")


@pytest.mark.parametrize("events, totals, branch, phrase", [
    ([0, 20, 1, 19], [10, 20, 10, 20], "tau2 runaway", "tau² = 26"),
    ([0, 1, 0, 3], [2, 2, 2, 3], "uninformative", "its interval was 0.016 to 0.947"),
    ([0, 5, 0, 4], [6, 5, 7, 4], "not estimable", "no finite maximum"),
])
def test_a_glmm_that_runs_off_or_says_nothing_is_replaced_by_the_pooled_count(events, totals, branch, phrase):
    result = pool_proportions(events, totals)
    assert (result.method, result.branch) == ("exact", branch)
    assert result.reason.startswith(auto_rule.REASONS[branch]) and phrase in result.reason
    assert (result.ci_lower, result.ci_upper) == pytest.approx(clopper_pearson(sum(events), sum(totals)))


def test_requested_glmm_stays_metafors_rma_glmm():
    for name in ("reports_plus_two_series", "heterogeneous_series", "sparse_series"):
        case = SMALL["glmm_sparse"][name]
        result = pool_proportions(case["events"], case["totals"], method="glmm")
        assert (result.estimand, result.branch) == ("median setting", None)
        expit = 1 / (1 + math.exp(-case["estimate"]))
        assert result.estimate == pytest.approx(expit, rel=1e-4)
        assert result.transformed["ci_lower"] == pytest.approx(case["ci_lb"], rel=1e-4, abs=1e-6)
        # both heterogeneity tests, as metafor's QE.Wld and QE.LRT
        assert result.q == pytest.approx(case["QE_Wld"], rel=1e-4, abs=1e-6)
        assert result.q_pvalue == pytest.approx(case["QEp_Wld"], rel=1e-4, abs=1e-6)
        assert result.q_lrt == pytest.approx(case["QE_LRT"], rel=1e-4, abs=1e-6)
        assert result.q_lrt_pvalue == pytest.approx(case["QEp_LRT"], rel=1e-4, abs=1e-6)
        out = result.to_dict()
        assert out["q_lrt"] == result.q_lrt and out["q_df"] == case["QE_df"]


def test_the_rule_is_one_rule_for_the_study_and_for_pool_proportions():
    rng = np.random.default_rng(11)
    for totals in ([1] * 9 + [5], [1] * 5 + [10, 20, 40], [2, 30], [1] * 20 + [10, 40], [12, 15, 20, 30]):
        n = np.array(totals)
        x = rng.binomial(n, rng.uniform(0.05, 0.9, size=(15, n.size)))
        fits = [rma_glmm_or_nan(row, n) for row in x]
        choice = auto_rule.choose_auto(x, n, *np.array(fits).T)
        for i, row in enumerate(x):
            result = pool_proportions(row, n)
            assert result.branch == choice.branch[i] and result.method == choice.method[i]
            assert (result.ci_lower, result.ci_upper) == pytest.approx((choice.lower[i], choice.upper[i]), rel=1e-12)


def rma_glmm_or_nan(x, n):
    from metacalc.meta.glmm import rma_glmm_batch

    fit = rma_glmm_batch([x], [n], errors="return")[0]
    return (math.nan,) * 3 if isinstance(fit, ValueError) else (fit.estimate, fit.se, fit.tau2)


def test_the_rule_table_names_every_branch_once():
    keys = [branch.key for branch in auto_rule.RULE]
    assert sorted(keys) == sorted(k for k in auto_rule.REASONS if k != "too few series")
    assert all(branch.evidence and branch.condition and branch.result for branch in auto_rule.RULE)


# ------------------------------------------------------------------------------------------------ lower bounds


def test_a_lower_bound_is_a_pooled_count_with_a_one_sided_limit():
    # the bundled review's diltiazem with the Mayo series: 1/4 reports + 9/17 partial responses (complete unknown)
    events, totals, flags = [0, 0, 1, 0, 9], [1, 1, 1, 1, 17], [False] * 4 + [True]
    for method in ("auto", "exact"):
        result = pool_proportions(events, totals, method=method, lower_bounds=flags, labels=list("abcde"))
        assert result.lower_bound and result.estimate == pytest.approx(10 / 21)
        assert result.ci_lower == pytest.approx(BINOMIAL[(10, 21)]["lower_one_sided"], rel=1e-6)
        assert math.isnan(result.ci_upper) and result.ci.method == "clopper-pearson one-sided lower"
        assert result.branch == ("lower bound" if method == "auto" else None)
        out = result.to_dict()
        assert out["ci_upper"] is None and "lower bound" in out["nulls"]["ci_upper"]
        assert out["lower_bound_studies"] == ["e"] and "e" in result.reason
        series = out["studies"][-1]
        assert series["ci_upper"] is None
        assert series["ci_lower"] == pytest.approx(BINOMIAL[(9, 17)]["lower_one_sided"], rel=1e-6)
        assert out["studies"][0]["ci_upper"] == pytest.approx(0.975)  # a full count keeps its two-sided interval


@pytest.mark.parametrize("method", ["glmm", "iv"])
def test_a_model_refuses_a_lower_bound(method):
    with pytest.raises(InvalidInput, match="only a lower bound"):
        pool_proportions([0, 1, 9], [1, 1, 17], method=method, lower_bounds=[False, False, True])
    out = pool_proportions_many([[0, 1, 9], [0, 1, 9]], [[1, 1, 17], [1, 1, 17]], method=method,
                                lower_bounds_list=[[False, False, True], None])
    assert isinstance(out[0], InvalidInput) and not isinstance(out[1], ValueError)


def test_refits_keep_the_lower_bound_flags():
    result = pool_proportions([0, 1, 1, 9], [1, 1, 1, 17], lower_bounds=[False, False, False, True])
    steps = leave_one_out(result)
    assert [fit.lower_bound for fit in steps.fits] == [True, True, True, False]
    assert math.isnan(steps.ci_upper[0]) and not math.isnan(steps.ci_upper[3])
    with pytest.raises(InvalidInput, match="2 lower-bound flags for 3 studies"):
        pool_proportions([0, 1, 9], [1, 1, 17], lower_bounds=[False, True])


def test_one_sided_limit_is_the_binomial_lower_limit():
    for case in SMALL["binomial"]:
        assert float(lower_limit(case["x"], case["n"])) == pytest.approx(case["lower_one_sided"], rel=1e-6, abs=1e-12)


# ------------------------------------------------------------------------------------------- population average


def test_population_average_matches_numerical_integration():
    from scipy import integrate, special, stats

    for mu, tau in ((-2.9, 1.5), (0.3, 0.5), (1.8, 1.0), (-1.0, 0.0), (2.0, 5.0), (-6.0, 3.0), (4.0, 12.0)):
        direct = integrate.quad(lambda z: special.expit(mu + tau * z) * stats.norm.pdf(z), -40, 40,
                                epsabs=1e-14, epsrel=1e-13, limit=200)[0]
        assert float(population_average(mu, tau)) == pytest.approx(direct, abs=1e-12)
    for p, tau in ((0.05, 1.5), (0.5, 1.0), (0.9, 0.5)):
        assert float(population_average(mean_logit_for_average(p, tau), tau)) == pytest.approx(p)
    with pytest.raises(InvalidInput):
        mean_logit_for_average(1.0, 1.0)
