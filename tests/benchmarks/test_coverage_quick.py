"""The coverage study (benchmarks/coverage/) runs and writes well-formed tables; it evaluates the core's own rules
(the auto rule and the time rule, no second copy); its candidate methods agree with their formulas; the numbers the
core quotes from the committed tables are the tables' numbers. Nothing here measures time."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
STUDY = ROOT / "benchmarks" / "coverage"
FIXTURE = ROOT / "tests" / "fixtures" / "metafor" / "small_sample_reference.json"
sys.path.insert(0, str(STUDY))

import candidates  # noqa: E402
import proportion_coverage  # noqa: E402
import time_coverage  # noqa: E402

from metacalc.meta import auto_rule  # noqa: E402
from metacalc.meta.summaries import MIN_N_MEAN_INTERVAL, MIN_N_MEDIAN_INTERVAL  # noqa: E402

RESULTS = STUDY / "results"


def _run_quick(out: Path, workers: int) -> None:
    subprocess.run([sys.executable, str(STUDY / "study.py"), "--quick", "--out", str(out), "--workers", str(workers)],
                   check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    one, two = tmp_path_factory.mktemp("one_worker"), tmp_path_factory.mktemp("two_workers")
    _run_quick(one, 1)
    _run_quick(two, 2)
    return one, two


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_quick_study_writes_every_table(quick_run):
    out, _ = quick_run
    assert sorted(p.name for p in out.iterdir()) == [
        "auto_branches.csv", "glmm_tau2.csv", "proportions.csv", "results.md", "times.csv"]
    text = (out / "results.md").read_text()
    for heading in ("## P1.", "## P2.", "## P3.", "## P4.", "## P5.", "## P6.", "## P7.", "## B1.", "## G1.",
                    "## T1.", "## T2."):
        assert heading in text
    assert "--quick" in text


def test_proportion_table_has_every_method_for_every_scenario(quick_run):
    rows = _rows(quick_run[0] / "proportions.csv")
    scenarios = {(r["design"], r["average"], r["tau"]) for r in rows}
    assert len(scenarios) == len(proportion_coverage.scenarios(quick=True))
    for scenario in scenarios:
        methods = [r["method"] for r in rows if (r["design"], r["average"], r["tau"]) == scenario]
        assert methods == list(proportion_coverage.METHODS)
    for row in rows:
        returned = float(row["returned"])
        assert 0 <= returned <= 1
        if row["coverage"]:
            c = float(row["coverage"])
            assert 0 <= c <= 1
            # the Monte-Carlo standard error is that of a binomial share of the replicates with an interval
            n = round(returned * int(row["reps"]))
            assert float(row["mcse"]) == pytest.approx(math.sqrt(c * (1 - c) / n), abs=1e-4)
            assert 0 <= float(row["below"]) <= 1 - c + 1e-4
    # the exact pooled count never fails to give an interval, and neither does either rule
    for row in rows:
        if row["method"] in ("count-cp", "auto-before", "auto-proposed"):
            assert row["returned"] == "1.0000"


def test_time_table_is_well_formed(quick_run):
    rows = _rows(quick_run[0] / "times.csv")
    methods = time_coverage.MEAN_METHODS + (time_coverage.MEDIAN_METHOD,)
    assert len(rows) == len(time_coverage.scenarios(quick=True)) * len(methods)
    for row in rows:
        if row["method"] == "time-rule" and int(row["n"]) < MIN_N_MEAN_INTERVAL:
            assert row["returned"] == "0.0000" and row["coverage"] == ""
        else:
            covered, below, above = float(row["coverage"]), float(row["below"]), float(row["above"])
            assert covered + below + above == pytest.approx(1, abs=2e-4)
    median_rows = [r for r in rows if r["method"] == time_coverage.MEDIAN_METHOD]
    # the order-statistic interval's own coverage: the range's 1 - 2^(1-n) below 6 values, >= 95% from 6 on
    for row in median_rows:
        n, nominal = int(row["n"]), float(row["nominal"])
        if n < MIN_N_MEDIAN_INTERVAL:
            assert nominal == pytest.approx(1 - 2.0 ** (1 - n), abs=1e-4)
        assert (nominal >= 0.95) == (n >= MIN_N_MEDIAN_INTERVAL)


def test_tables_do_not_depend_on_the_number_of_workers(quick_run):
    one, two = quick_run
    for name in ("proportions.csv", "times.csv", "glmm_tau2.csv", "auto_branches.csv"):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name


def test_the_study_evaluates_the_cores_auto_rule():
    # the study's "auto-proposed" is auto_rule.choose_auto on the study's own GLMM fits: the same branches and
    # intervals as pool_proportions(method="auto") gives review by review
    from metacalc.meta import pool_proportions

    rng = np.random.default_rng(3)
    for design in proportion_coverage.designs(quick=True):
        n_row = design.totals
        x = rng.binomial(n_row, rng.uniform(0.05, 0.9, size=(12, n_row.size)))
        glmm = proportion_coverage._glmm(x, n_row)
        choice = auto_rule.choose_auto(x, np.broadcast_to(n_row, x.shape), *glmm.T)
        for i in range(len(x)):
            result = pool_proportions(x[i], n_row)
            assert result.branch == choice.branch[i]
            assert (choice.lower[i], choice.upper[i]) == pytest.approx((result.ci_lower, result.ci_upper), rel=1e-9,
                                                                       abs=1e-12)


def test_rule_variants_of_the_study():
    def choose(events, totals, estimate=-0.5, se=0.3, tau2=0.5, **options):
        choice = auto_rule.choose_auto(np.array([events]), np.array([totals]), np.array([estimate]),
                                       np.array([se]), np.array([tau2]), **options)
        return choice.branch[0]

    reports_and_series = ([1] * 20 + [0] * 19 + [8], [1] * 39 + [20])
    assert choose(*reports_and_series) == "glmm-reports"
    assert choose(*reports_and_series, borrow_from_reports=False) == "too few series"
    three_series = ([1, 3, 5, 9], [1, 10, 12, 20])
    assert choose(*three_series, se=3.0) == "uninformative"
    assert choose(*three_series, se=3.0, uninformative_width=np.inf) == "glmm-series"
    assert choose(*three_series, tau2=30.0) == "tau2 runaway"
    assert choose(*three_series, tau2=30.0, runaway_tau2=np.inf) == "glmm-series"


def _dominant(label):
    reports, series = 0, []
    for part in label.split(" + "):
        if part.endswith("x n=1"):
            reports = int(part.split(" ")[0])
        else:
            series = [int(v) for v in part.split(" ")[1].split("/")]
    return reports > 0 and 1 <= len(series) <= 2 and max(series) > auto_rule.DOMINANT_SHARE * (reports + sum(series))


def test_the_dominant_series_warning_quotes_the_committed_table():
    rows = [r for r in _rows(RESULTS / "proportions.csv") if _dominant(r["design"])]
    assert len({r["design"] for r in rows}) == 8

    def quoted(method, taus):
        cells = [r for r in rows if r["method"] == method and r["tau"] in taus]
        by_design = {}
        for r in cells:
            by_design.setdefault((r["design"], r["tau"]), []).append(float(r["coverage"]))
        means = [100 * sum(v) / len(v) for v in by_design.values()]
        return (round(min(means), 1), round(max(means), 1), round(100 * min(float(r["coverage"]) for r in cells), 1))

    assert quoted("count-cp", ("1.00", "1.50")) == auto_rule.DOMINANT_COVERAGE["count_heterogeneous"]
    assert quoted("glmm", ("1.00", "1.50")) == auto_rule.DOMINANT_COVERAGE["glmm_heterogeneous"]
    assert quoted("count-cp", ("0.00",)) == auto_rule.DOMINANT_COVERAGE["count_homogeneous"]


def test_the_rule_table_quotes_the_committed_results():
    branches = _rows(RESULTS / "auto_branches.csv")
    assert set(branches[0]) >= {branch.key for branch in auto_rule.RULE}
    several = [r for r in _rows(RESULTS / "proportions.csv")
               if r["method"] == "glmm-pa-ts" and r["shape"] in ("reports + several series", "series only")]
    worst = f"{100 * min(float(r['coverage']) for r in several):.1f}%"
    assert worst in next(b.evidence for b in auto_rule.RULE if b.key == "glmm-series")
    # the GLMM branch for one or two series: the rule's coverage where it applies, and the pooled count's
    designs = ("39 x n=1 + series 5", "39 x n=1 + series 20", "38 x n=1 + series 10/40", "9 x n=1 + series 5")
    rows = [r for r in _rows(RESULTS / "proportions.csv") if r["design"] in designs]
    cells = {}
    for r in (r for r in rows if r["method"] == "auto-proposed"):
        cells.setdefault((r["design"], r["tau"]), []).append(float(r["coverage"]))
    means = [100 * sum(v) / len(v) for v in cells.values()]
    worst_rule = 100 * min(float(r["coverage"]) for r in rows if r["method"] == "auto-proposed")
    count = [r for r in rows if r["method"] == "count-cp" and r["tau"] == "1.50"]
    by_design = {}
    for r in count:
        by_design.setdefault(r["design"], []).append(float(r["coverage"]))
    lowest_count = min(100 * sum(v) / len(v) for v in by_design.values())
    evidence = next(b.evidence for b in auto_rule.RULE if b.key == "glmm-reports")
    assert (f"{min(means):.1f} to {max(means):.1f}% (worst scenario {worst_rule:.1f}%)" in evidence
            and f"falls to {lowest_count:.1f}%" in evidence)


def test_positive_mean_intervals_against_their_formulas():
    from scipy import stats

    x = np.array([11.0, 3.5, 20.0, 8.0, 15.2])
    n, logs = len(x), np.log(x)
    t = stats.t.ppf(0.975, n - 1)
    lo, hi = candidates.log_t_interval(x)
    assert (lo[0], hi[0]) == pytest.approx(np.exp(logs.mean() + np.array([-1, 1]) * t * logs.std(ddof=1) / np.sqrt(n)))
    s2 = logs.var(ddof=1)
    lo, hi = candidates.cox_interval(x)
    centre, half = logs.mean() + s2 / 2, t * np.sqrt(s2 / n + s2**2 / (2 * (n - 1)))
    assert (lo[0], hi[0]) == pytest.approx((np.exp(centre - half), np.exp(centre + half)))
    lo, hi = candidates.exponential_interval(x)
    assert (lo[0], hi[0]) == pytest.approx((2 * x.sum() / stats.chi2.ppf(0.975, 2 * n),
                                            2 * x.sum() / stats.chi2.ppf(0.025, 2 * n)))
    # the gamma shape is scipy's maximum-likelihood estimate
    shape = stats.gamma.fit(x, floc=0)[0]
    assert candidates.gamma_shape_mle(x)[0] == pytest.approx(shape, rel=1e-4)


def test_bootstrap_intervals_are_reproducible_and_do_not_depend_on_chunks():
    x = np.random.default_rng(1).lognormal(2, 0.8, size=(7, 9))
    first = candidates.bootstrap_intervals(x, 499, np.random.default_rng(5))
    second = candidates.bootstrap_intervals(x, 499, np.random.default_rng(5), chunk_cells=499 * 9 * 2)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    (p_lo, p_hi), (b_lo, b_hi) = first
    assert np.all(p_lo < x.mean(axis=1)) and np.all(x.mean(axis=1) < p_hi)
    assert np.all(b_lo < b_hi)


def test_the_study_evaluates_the_cores_time_rule():
    from metacalc.meta import summaries

    assert time_coverage.reports_mean_interval is summaries.reports_mean_interval
    ten = summaries.summarise_values([11, 3.5, 20, 8, 15.2, 27, 1.5, 6.3, 12.1, 33.4])
    assert ten.mean_ci is not None and bool(time_coverage.reports_mean_interval(10, ten.mean_ci.lower))
    assert not time_coverage.reports_mean_interval(9, 1.0)


def test_median_interval_used_by_the_study_agrees_with_r():
    from metacalc.meta.means import median_interval

    reference = json.loads(FIXTURE.read_text())
    assert reference["metafor_version"] and reference["R_version"].startswith("R version")
    for case in reference["median_ci"]:
        low, high, coverage = median_interval(case["values"], 0.95)
        assert case["exists"] == (case["n"] >= MIN_N_MEDIAN_INTERVAL)
        if case["exists"]:
            assert (low, high) == (case["lower"], case["upper"])
            assert coverage == pytest.approx(case["coverage"], abs=1e-12)
        else:
            assert (low, high) == (min(case["values"]), max(case["values"]))


def test_clopper_pearson_used_by_the_study_agrees_with_r():
    from metacalc.meta.intervals import proportion_interval

    for case in json.loads(FIXTURE.read_text())["binomial"]:
        lo, hi = proportion_interval(case["x"], case["n"], "clopper-pearson")
        assert (float(lo), float(hi)) == pytest.approx(case["clopper_pearson"], abs=1e-12)
