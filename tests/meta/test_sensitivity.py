"""Subgroups, leave-one-out and cumulative analysis against metafor 3.8 (tests/fixtures/metafor/means_reference.json)."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from metacalc.meta.sensitivity import (
    STEP_FIELDS,
    cumulative,
    cumulative_by,
    leave_one_out,
    leave_one_out_by,
    refit_many,
    subgroup_difference,
    subgroups,
    subgroups_by,
)
from metacalc.meta.random_effects import rma

REFERENCE = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "metafor" / "means_reference.json").read_text())
RTOL = 1e-6


def assert_steps_match(table, ref):
    for name in STEP_FIELDS:
        expected = np.array([np.nan if v is None else v for v in ref[name]], dtype=float)
        actual = getattr(table, name)
        np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=1e-12, equal_nan=True, err_msg=name)


@pytest.mark.parametrize("key", sorted(REFERENCE["leave1out"]))
def test_leave_one_out_matches_metafor(key):
    ref = REFERENCE["leave1out"][key]
    data = REFERENCE["datasets"][ref["data"]]
    table = leave_one_out(rma(data["yi"], data["vi"], method=ref["method"], test=ref["test"], labels=data["labels"]))
    assert table.labels == tuple(data["labels"])
    assert all(len(indices) == len(data["yi"]) - 1 for indices in table.indices)
    assert_steps_match(table, ref)


@pytest.mark.parametrize("key", sorted(REFERENCE["cumul"]))
def test_cumulative_matches_metafor(key):
    ref = REFERENCE["cumul"][key]
    data = REFERENCE["datasets"][ref["data"]]
    order = data["order_by"] if ref["order"] else None
    table = cumulative(rma(data["yi"], data["vi"], method=ref["method"], test=ref["test"], labels=data["labels"]),
                       order=order)
    assert_steps_match(table, ref)
    if order is not None:
        # studies are added smallest first; ties keep data order, as R's order() does
        added_sizes = [order[data["labels"].index(label)] for label in table.labels]
        assert added_sizes == sorted(order)


@pytest.mark.parametrize("key", sorted(REFERENCE["subgroups"]))
def test_subgroups_match_separate_metafor_fits_and_fixed_effect_test(key):
    ref = REFERENCE["subgroups"][key]
    data = REFERENCE["datasets"][ref["data"]]
    analysis = subgroups(rma(data["yi"], data["vi"], method=ref["method"], test=ref["test"]), ref["groups"])
    assert list(analysis.groups) == ref["group_order"]
    for group in ref["group_order"]:
        fit, expected = analysis.fits[group], ref["per_group"][group]
        for name in ("estimate", "se", "ci_lower", "ci_upper", "tau2", "q", "i2"):
            assert getattr(fit, name) == pytest.approx(expected[name], rel=RTOL, abs=1e-12), (group, name)
    assert analysis.q_between == pytest.approx(ref["q_between"], rel=RTOL)
    assert analysis.q_between_df == ref["q_between_df"]
    assert analysis.q_between_pvalue == pytest.approx(ref["q_between_pvalue"], rel=RTOL)
    out = json.loads(json.dumps(analysis.to_dict(), allow_nan=False))
    assert [row["by"] for row in out["subgroups"]] == ref["group_order"]


def test_subgroup_difference_from_estimates_alone():
    ref = REFERENCE["subgroups"]["normand1999_group1_REML_z"]
    estimates = [ref["per_group"][g]["estimate"] for g in ref["group_order"]]
    ses = [ref["per_group"][g]["se"] for g in ref["group_order"]]
    q, df, p = subgroup_difference(estimates, ses)
    assert q == pytest.approx(ref["q_between"], rel=1e-9) and df == 2
    assert p == pytest.approx(ref["q_between_pvalue"], rel=1e-9)


class _Pooled:
    """A result shaped like ProportionResult: proportion-scale estimate, model-scale values in ``transformed``."""

    def __init__(self, logit, se, k):
        self.estimate = 1 / (1 + np.exp(-logit))
        self.transformed = {"estimate": logit, "se": se}
        self.k = k


def test_subgroups_by_uses_the_model_scale_of_a_fitting_callable():
    # two "subgroups" with logits 0 and 1, SEs 0.5: Q = (0.5^2 + 0.5^2) / 0.25 = 2
    results = {0: _Pooled(0.0, 0.5, 3), 1: _Pooled(1.0, 0.5, 4)}
    groups = ["a", "a", "a", "b", "b", "b", "b"]
    analysis = subgroups_by(lambda idx: results[0 if idx[0] == 0 else 1], groups)
    assert analysis.q_between == pytest.approx(2.0)
    # P(chi2 on 1 df > 2) = P(|Z| > sqrt 2) = erfc(1)
    assert analysis.q_between_pvalue == pytest.approx(math.erfc(1.0), rel=1e-12)
    assert analysis.groups == ("a", "b")


def test_subgroups_by_excludes_subgroups_without_standard_error():
    results = [_Pooled(0.0, 0.5, 2), _Pooled(1.0, float("nan"), 1)]
    analysis = subgroups_by(lambda idx: results[0 if idx[0] == 0 else 1], ["x", "x", "y"])
    assert analysis.q_between is None and "y" in analysis.excluded
    json.dumps(analysis.to_dict(), allow_nan=False)


def test_subgroups_are_tested_only_on_a_common_scale():
    from metacalc.meta import pool_proportions, subgroups

    # under auto the reports subgroup is a pooled count (proportion scale), the series subgroup a GLMM (logit)
    events, totals = [1, 0, 1, 1, 0, 3, 5, 9, 4], [1, 1, 1, 1, 1, 10, 12, 20, 9]
    groups = ["reports"] * 5 + ["series"] * 4
    mixed = subgroups(pool_proportions(events, totals), groups)
    assert [mixed.fits[g].method for g in ("reports", "series")] == ["exact", "glmm"]
    assert mixed.q_between is None and mixed.scale is None
    assert "different scales (reports: proportion; series: logit)" in mixed.not_tested
    document = mixed.to_dict()["test_for_subgroup_differences"]
    assert document["q_between"] is None and document["not_tested"] == mixed.not_tested
    # one method for every subgroup: one scale, and the test is made
    common = subgroups(pool_proportions(events, totals, method="glmm"), groups)
    assert common.scale == "logit" and common.not_tested is None and common.q_between is not None


def test_callable_forms_equal_the_forms_on_a_result():
    data = REFERENCE["datasets"]["pritz1997_plo"]
    yi, vi = np.array(data["yi"]), np.array(data["vi"])

    def fit(idx):
        return rma(yi[idx], vi[idx], method="DL")

    direct = leave_one_out(rma(yi, vi, method="DL"))
    via = leave_one_out_by(fit, len(yi))
    np.testing.assert_array_equal(direct.estimate, via.estimate)
    direct = cumulative(rma(yi, vi, method="DL"), order=data["order_by"])
    via = cumulative_by(fit, len(yi), order=data["order_by"])
    np.testing.assert_array_equal(direct.tau2, via.tau2)


def test_step_tables_are_json_safe():
    data = REFERENCE["datasets"]["normand1999_group1"]
    table = cumulative(rma(data["yi"], data["vi"], labels=data["labels"]))
    out = json.loads(json.dumps(table.to_dict(), allow_nan=False))
    assert out["kind"] == "cumulative" and out["steps"][0]["added"] == "Edinburgh"
    assert [step["k"] for step in out["steps"]] == list(range(1, 10))
    loo = json.loads(json.dumps(leave_one_out(rma(data["yi"], data["vi"])).to_dict(), allow_nan=False))
    assert loo["steps"][2]["omitted"] == "study 3" and loo["steps"][2]["k"] == 8


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="at least 2"):
        leave_one_out(rma([1.0], [0.1]))
    with pytest.raises(ValueError, match="order"):
        cumulative(rma([1.0, 2.0], [0.1, 0.1]), order=[1])
    with pytest.raises(ValueError, match="groups"):
        subgroups(rma([1.0, 2.0], [0.1, 0.1]), ["a"])


def test_leave_one_out_on_events_and_totals_through_pool_proportions():
    from metacalc.meta.proportions import pool_proportions

    data = REFERENCE["datasets"]["pritz1997_plo"]
    ref = REFERENCE["leave1out"]["pritz1997_plo_REML_z"]
    events, totals = np.array(data["events"]), np.array(data["totals"])

    def fit(idx):
        return pool_proportions(events[idx], totals[idx], method="iv", measure="PLO", tau2_method="REML")

    table = leave_one_out_by(fit, len(events), labels=data["labels"])
    logits = [f.transformed["estimate"] for f in table.fits]
    np.testing.assert_allclose(logits, ref["estimate"], rtol=RTOL)
    np.testing.assert_allclose(table.se, ref["se"], rtol=RTOL)  # model-scale SE taken from ``transformed``
    np.testing.assert_allclose(table.estimate, 1 / (1 + np.exp(-np.array(ref["estimate"]))), rtol=RTOL)
    np.testing.assert_allclose(table.tau2, ref["tau2"], rtol=RTOL, atol=1e-12)
    json.dumps(table.to_dict(), allow_nan=False)


# --------------------------------------------------------------------------------- the verbs on any fitted result


def assert_same_steps(a, b):
    assert a.labels == b.labels and a.indices == b.indices
    for name in STEP_FIELDS:
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-10, atol=1e-300, equal_nan=True)


@pytest.mark.parametrize("method", ["auto", "glmm", "iv", "exact"])
def test_verbs_on_a_pooled_proportion_refit_with_its_settings(method):
    from metacalc.meta.proportions import pool_proportions

    data = REFERENCE["datasets"]["pritz1997_plo"]
    events, totals = np.array(data["events"]), np.array(data["totals"])
    result = pool_proportions(events, totals, method=method, tau2_method="DL", labels=data["labels"])

    def fit(idx):
        return pool_proportions(events[idx], totals[idx], method=method, tau2_method="DL")

    assert_same_steps(leave_one_out(result), leave_one_out_by(fit, len(events), labels=data["labels"]))
    order = data["order_by"]
    steps = cumulative(result, order=order)
    assert_same_steps(steps, cumulative_by(fit, len(events), order=order, labels=data["labels"]))
    if method == "auto":
        # each step chooses its own method by the case-report rule, as a fit of those studies alone would
        assert {f.method for f in steps.fits} <= {"exact", "glmm"}
    groups = ["a" if i % 3 else "b" for i in range(len(events))]
    by_result, by_fit = subgroups(result, groups), subgroups_by(fit, groups)
    assert by_result.q_between == pytest.approx(by_fit.q_between, rel=1e-10)


def test_verbs_on_a_pooled_mean_and_a_glmm():
    from metacalc.meta.glmm import rma_glmm
    from metacalc.meta.means import pool_means

    data = REFERENCE["normand1999_mn"]["group1"]
    means, sds, ns = data["mean"], data["sd"], data["n"]
    result = pool_means(means, sds, ns, tau2_method="REML", knha=True)

    def fit(idx):
        return pool_means(np.array(means)[idx], np.array(sds)[idx], np.array(ns)[idx], tau2_method="REML", knha=True)

    assert_same_steps(leave_one_out(result), leave_one_out_by(fit, len(means)))

    events, totals = [16, 10, 4, 43, 10, 25, 13], [17, 12, 8, 58, 10, 42, 14]
    glmm = rma_glmm(events, totals)
    steps = cumulative(glmm)
    with pytest.warns(UserWarning, match="single study"):
        alone = cumulative_by(lambda idx: rma_glmm(np.array(events)[idx], np.array(totals)[idx]), 7)
    assert_same_steps(steps, alone)
    assert steps.fits[0].k == 1 and steps.fits[-1] == glmm


def test_a_step_that_cannot_be_fitted_stops_the_verb_with_its_reason():
    from metacalc.meta.proportions import pool_proportions

    # the first two reports have 0 events: the GLMM of the first steps has no finite maximum
    result = pool_proportions([0, 0, 3, 5], [4, 6, 10, 9], method="glmm")
    with pytest.raises(ValueError, match="not estimable"):
        cumulative(result)
    with pytest.raises(ValueError, match="cannot refit"):
        refit_many(object(), [np.arange(2)])


def test_cumulative_many_gives_each_results_table_with_one_batch_per_setting():
    from metacalc.meta import GlmmNotEstimable, pool_means, pool_proportions
    from metacalc.meta.sensitivity import cumulative_many

    results = [pool_proportions([1, 2, 0, 1, 0, 1, 0], [1, 2, 1, 3, 1, 1, 1]),
               pool_proportions([4, 9, 3], [10, 12, 8], method="glmm"),
               pool_proportions([3, 1, 7, 2], [10, 1, 12, 5], lower_bounds=[False, False, True, False]),
               pool_proportions([0, 0, 5], [1, 1, 9], method="glmm"),  # its first step has no finite maximum
               pool_means([10.0, 12.5, 9.0], [3.0, 4.0, 2.5], [12, 20, 8])]
    orders = [[2001, 1999, 2005, 2003, 2002, 2010, 2000], None, [3, 2, 1, 0], None, [2, 1, 3]]
    tables = cumulative_many(results, orders)
    for i, (result, order, table) in enumerate(zip(results, orders, tables)):
        try:
            expected = cumulative(result, order=order)
        except GlmmNotEstimable as error:
            assert isinstance(table, GlmmNotEstimable) and str(table) == str(error), i
            continue
        assert table.to_dict() == expected.to_dict(), i
    assert isinstance(tables[3], GlmmNotEstimable)
