"""The review pools its groups, and refits their cumulative steps, through the core's batch engine: every number
equals the single fit of the same data (to 1e-10; in practice the same bits)."""

import math

import numpy as np
import pytest

from metacalc.data import load_dataset
from metacalc.meta import pool_proportions
from metacalc.review.plan import load_plan
from metacalc.review.response import pool_many
from metacalc.review.results import Contributor
from metacalc.review.run import analyse_review
from metacalc.review.settings import RunSettings
from metacalc.review.synthetic import write_synthetic_review
from metacalc.workflow import skeleton_folder

# The dataset of issue 13 on which the batch once said "not estimable" while a single fit gave a result.
ISSUE_EVENTS, ISSUE_TOTALS = [1, 2, 0, 1, 0, 1, 0], [1, 2, 1, 3, 1, 1, 1]


def assert_same(batch, single, where="result"):
    """Equal JSON forms: numbers to 1e-10 (relative, or absolute near 0), everything else exactly."""
    if isinstance(single, dict):
        assert isinstance(batch, dict) and batch.keys() == single.keys(), where
        for key in single:
            assert_same(batch[key], single[key], f"{where}.{key}")
    elif isinstance(single, list):
        assert isinstance(batch, list) and len(batch) == len(single), where
        for i, (b, s) in enumerate(zip(batch, single)):
            assert_same(b, s, f"{where}[{i}]")
    elif isinstance(single, float) and not isinstance(single, bool):
        assert isinstance(batch, float), where
        assert batch == pytest.approx(single, rel=1e-10, abs=1e-10) or (math.isnan(batch) and math.isnan(single)), where
    else:
        assert batch == single, where


def single_fit(contributors, method, run, indices=None):
    chosen = [contributors[i] for i in (indices if indices is not None else range(len(contributors)))]
    return pool_proportions([c.events for c in chosen], [c.total for c in chosen], method=method,
                            measure=run.measure, tau2_method=run.tau2_method, knha=run.knha, level=run.level,
                            labels=[c.label for c in chosen], lower_bounds=[bool(c.lower_bound) for c in chosen])


def contributors_of(events, totals, lower=()):
    return [Contributor("series" if n > 1 else "patients", f"s{i}", f"Study {i}", x, n,
                        lower_bound="partial only" if i in lower else "")
            for i, (x, n) in enumerate(zip(events, totals))]


@pytest.mark.parametrize("method", ["auto", "glmm", "iv", "exact"])
def test_groups_pooled_together_equal_single_fits_including_the_issues_dataset(method):
    rng = np.random.default_rng(13)
    groups = [contributors_of(ISSUE_EVENTS, ISSUE_TOTALS)]
    for k in (1, 2, 3, 5, 8, 13, 21, 34):  # different k: the engine's buckets and padding
        totals = rng.integers(1, 30, size=k)
        groups.append(contributors_of(rng.binomial(totals, 0.4).tolist(), totals.tolist()))
    if method in ("auto", "exact"):
        groups.append(contributors_of([3, 1, 7], [10, 1, 12], lower={2}))  # a lower-bound series
    groups.append(contributors_of([0, 0, 0], [1, 1, 1]))  # every study without events
    run = RunSettings()
    batch = pool_many(groups, method, run)
    assert len(batch) == len(groups)
    for i, (contributors, fitted) in enumerate(zip(groups, batch)):
        try:
            single = single_fit(contributors, method, run)
        except ValueError as error:
            assert isinstance(fitted, ValueError) and str(fitted) == str(error), i
            continue
        assert not isinstance(fitted, Exception), (i, fitted)
        assert_same(fitted.to_dict(), single.to_dict(), f"group {i}")
    issue = batch[0]
    if method in ("auto", "glmm"):
        assert not isinstance(issue, Exception) and issue.tau2 == 0.0  # estimable, tau² at its boundary as metafor


def test_a_batch_that_fails_as_a_whole_falls_back_to_single_fits(monkeypatch):
    import metacalc.meta

    calls = []
    real = metacalc.meta.pool_proportions_many

    def failing_on_many(events_list, *args, **kwargs):
        calls.append(len(events_list))
        if len(events_list) > 1:
            raise ArithmeticError("something unexpected")
        return real(events_list, *args, **kwargs)

    monkeypatch.setattr(metacalc.meta, "pool_proportions_many", failing_on_many)
    groups = [contributors_of([1, 2], [3, 4]), contributors_of([5], [6])]
    fitted = pool_many(groups, "auto", RunSettings())
    assert calls == [2, 1, 1]
    assert_same(fitted[1].to_dict(), single_fit(groups[1], "auto", RunSettings()).to_dict())


@pytest.mark.slow
def test_a_synthetic_reviews_groups_and_cumulative_steps_equal_single_fits(tmp_path):
    """A synthetic review (reports, series with patients, aggregate-only series, undated reports last): every
    pooled group and every cumulative step, as the review produced them in batches, against single fits."""
    write_synthetic_review(str(tmp_path), patients=300, therapies=12, seed=7)
    dataset = load_dataset(str(tmp_path))
    run = RunSettings()
    results = analyse_review(dataset, load_plan(f"{skeleton_folder()}/analyses", dataset.review), run)
    years = {s["study_id"]: s.get("year") for s in results.studies}
    compared = steps = 0
    for analysis in results.analyses:
        if analysis.kind != "proportion":
            continue
        for group in analysis.groups:
            contributors = list(group.contributors)
            if group.result is None:
                continue
            single = single_fit(contributors, group.method_requested, run)
            assert_same(group.result.to_dict(), single.to_dict(), f"{analysis.id}/{group.group}")
            compared += 1
            if group.cumulative is None or group.cumulative.not_computed:
                continue
            order = np.argsort([math.inf if years[c.study_id] is None else years[c.study_id] for c in contributors],
                               kind="stable")
            for i, step in enumerate(group.cumulative.steps):
                fit = single_fit(contributors, group.method_requested, run, order[:i + 1]).to_dict()
                assert (step.estimate, step.ci_lower, step.ci_upper) == pytest.approx(
                    (fit["estimate"], fit["ci_lower"], fit["ci_upper"]), rel=1e-10, abs=1e-10, nan_ok=True)
                assert step.method == fit["method"] and step.k == i + 1
                steps += 1
    assert compared >= 10 and steps >= 200  # the test has something to compare (14 groups, 265 steps)
