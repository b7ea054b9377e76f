"""The ``auto`` rule of ``pool_proportions``: which pooled proportion a case-report review reports, chosen by the
coverage study of benchmarks/coverage (README.md there; tables in benchmarks/coverage/results/results.md).

In words: the exact pooled count unless the data can support a model of differences between settings. The
binomial-normal GLMM is used with three or more case series (t interval on series - 1 df), or with one or two
series none of which holds more than half of the patients (the single-patient reports then carry the other
settings; normal interval). It then reports the population-average proportion (``population_average``), and is
replaced by the exact pooled count when tau² runs away or its interval says nothing. The first branch that holds
decides; every result names its branch (``branch``) and says why in words (``REASONS``). ``RULE`` lists the
branches with the coverage-study rows each rests on: the report's methods and the README print it.

The rule is two steps, so that the GLMM is fitted only where a branch needs it:

- :func:`branch_from_counts` decides from the counts alone (one study, single-patient reports, all or none, a
  dominant series), or leaves the analysis to the GLMM ("");
- :func:`branch_from_fit` decides from the GLMM's fit (not estimable, one of the two GLMM branches, or a
  replacement) and gives the population-average estimate and interval.

:func:`choose_auto` is both on many simulated reviews of one design at once (the coverage study calls it), and
``proportions.pool_with`` is both on the analyses of a review: one rule, whichever calls it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike


# Thresholds (README.md of the coverage study gives the table rows each rests on).
MIN_SERIES_FOR_T = 3         # case series (n > 1) from which the GLMM interval uses t on (series - 1) df
DOMINANT_SHARE = 0.5         # with 1-2 series: a study holding more than this share of the patients dominates
RUNAWAY_TAU2 = 25.0          # tau² above this (logit scale, tau = 5) is a fit running off, not a heterogeneity
UNINFORMATIVE_WIDTH = 0.9    # a GLMM interval wider than this (proportion scale) says next to nothing

# Branches, in the order they are tried.
SINGLE_STUDY = "single study"
SINGLE_PATIENT_REPORTS = "single-patient reports"
ALL_OR_NONE = "all or none"
DOMINANT_SERIES = "dominant series"
TOO_FEW_SERIES = "too few series"  # only in the study's variant without the GLMM for 1-2 series
NOT_ESTIMABLE = "not estimable"
GLMM_SERIES = "glmm-series"
GLMM_REPORTS = "glmm-reports"
TAU2_RUNAWAY = "tau2 runaway"
UNINFORMATIVE = "uninformative"
NEEDS_FIT = ""  # branch_from_counts: the GLMM decides

_EXACT = "so the pooled count with its exact (Clopper-Pearson) interval is used"
_ONE_PROPORTION = ", which assumes one proportion for all settings and covers less than 95% if they differ"
REASONS = {
    SINGLE_STUDY: "a single study: its own exact (Clopper-Pearson) interval; one study cannot show how settings "
                  "differ",
    SINGLE_PATIENT_REPORTS: (
        "every study is a single-patient report (n = 1): the pooled count is then Binomial(k, population-average "
        "proportion) whatever the differences between settings, so its exact Clopper-Pearson interval holds; "
        "a random-effects model cannot identify those differences from single patients, and the inverse-variance "
        "route's continuity correction moves each report to 0.25 or 0.75 (14 responders in 20 reports would pool "
        "to 0.60 instead of 0.70)"),
    ALL_OR_NONE: f"every study has 0 events, or every study all events: no model has a finite pooled logit, {_EXACT}",
    DOMINANT_SERIES: (
        f"one or two case series, one of them holding more than {DOMINANT_SHARE:.0%} of the patients: no model can "
        f"tell its setting from the others, {_EXACT}{_ONE_PROPORTION}"),
    TOO_FEW_SERIES: f"fewer than {MIN_SERIES_FOR_T} case series, {_EXACT}{_ONE_PROPORTION}",
    NOT_ESTIMABLE: f"the GLMM has no finite maximum or no standard error for these data, {_EXACT}{_ONE_PROPORTION}",
    GLMM_SERIES: (
        f"{MIN_SERIES_FOR_T} or more case series: binomial-normal GLMM, reporting the population-average "
        "proportion E[expit(mu + tau Z)] with a t interval on (number of case series - 1) degrees of freedom"),
    GLMM_REPORTS: (
        "one or two case series, none holding more than half of the patients: binomial-normal GLMM, reporting the "
        "population-average proportion E[expit(mu + tau Z)] with a normal (Wald) interval; the single-patient "
        "reports carry the information on the other settings"),
    TAU2_RUNAWAY: (
        f"the GLMM's tau² exceeds {RUNAWAY_TAU2:g} on the logit scale (a fit running off towards a boundary, not a "
        f"plausible heterogeneity), {_EXACT}{_ONE_PROPORTION}"),
    UNINFORMATIVE: (
        f"the GLMM's interval is wider than {UNINFORMATIVE_WIDTH:g} on the proportion scale (it says next to "
        f"nothing), {_EXACT}{_ONE_PROPORTION}"),
}
GLMM_BRANCHES = (GLMM_SERIES, GLMM_REPORTS)

# What the coverage study showed where one series dominates (table P7, the 8 designs of 2, 9, 10 or 39 reports
# with a series holding more than half of the patients; percent, mean over true proportions per design and
# tau, and the worst single scenario). tests/benchmarks/test_coverage_quick.py recomputes them from the
# committed proportions.csv.
DOMINANT_COVERAGE = {
    "count_heterogeneous": (51.2, 97.7, 27.2),   # pooled count, tau = 1 and 1.5: design means from-to, worst
    "glmm_heterogeneous": (59.1, 90.3, 35.7),    # GLMM (z), tau = 1 and 1.5
    "count_homogeneous": (97.0, 99.4, 95.9),     # pooled count, tau = 0
}
DOMINANT_WARNING = (
    "one series holds most of the patients, and no method keeps 95% coverage here if the settings differ: in the "
    "coverage study (table P7 of benchmarks/coverage/results/results.md, the designs where one series holds more "
    "than half of the patients), with between-setting SD tau = 1 to 1.5 on the logit scale the pooled count "
    "covered {0[0]:.0f} to {0[1]:.0f}% of the time (worst scenario {0[2]:.0f}%) and the GLMM {1[0]:.0f} to "
    "{1[1]:.0f}% (worst {1[2]:.0f}%); only when the settings agree (tau = 0) does the exact interval hold "
    "({2[0]:.1f} to {2[1]:.1f}%). The pooled count is then mostly that series' own proportion"
).format(DOMINANT_COVERAGE["count_heterogeneous"], DOMINANT_COVERAGE["glmm_heterogeneous"],
         DOMINANT_COVERAGE["count_homogeneous"])


@dataclass(frozen=True)
class Branch:
    """One row of the rule: when it applies, what is reported, and the coverage-study rows it rests on."""

    key: str
    condition: str
    result: str
    evidence: str


RULE = (
    Branch(SINGLE_STUDY, "one study, whatever its n", "that study's exact (Clopper-Pearson) interval",
           "P1 'one series alone', tau = 0: pooled count 98.5% (worst 96.2%); the GLMM's Wald logit interval covers "
           "75.0% for a series of 2 (P7)"),
    Branch(SINGLE_PATIENT_REPORTS, "every study has n = 1", "pooled count, exact interval",
           "P1 'reports only': 98.6 to 98.7% at every tau (worst 95.1%); GLMM worst 75.6%, Wilson 78.4%, "
           "inverse-variance PLO 0.0% (P3)"),
    Branch(ALL_OR_NONE, "every study 0 events, or every study all events", "pooled count, exact interval",
           "the GLMM has no finite pooled logit"),
    Branch(DOMINANT_SERIES, f"one or two case series, one holding more than {DOMINANT_SHARE:.0%} of all patients",
           "pooled count, exact interval, with a warning",
           "P7: no method nominal when the settings differ (pooled count 51 to 98%, GLMM 59 to 90% at tau = 1 to "
           "1.5); the pooled count is exact at tau = 0 (97.0 to 99.4%)"),
    Branch(NOT_ESTIMABLE, "the GLMM has no finite maximum or no standard error", "pooled count, exact interval",
           "the model has no estimate"),
    Branch(GLMM_SERIES, f"{MIN_SERIES_FOR_T} or more case series (n > 1)",
           "GLMM, population-average proportion, t interval on (series - 1) df",
           "P1 'reports + several series' 97.0 to 99.5% and 'series only' 96.5 to 99.8% (no scenario below 93.1%); "
           "the z-based GLMM 88.9 to 97.1% (worst 79.8%)"),
    Branch(GLMM_REPORTS, f"one or two case series, none holding more than {DOMINANT_SHARE:.0%} of all patients",
           "GLMM, population-average proportion, normal interval",
           "P7 '39 x n=1 + series 5', '39 x n=1 + series 20', '38 x n=1 + series 10/40', '9 x n=1 + series 5': the "
           "rule covers 90.9 to 98.0% (worst scenario 87.9%) where the pooled count falls to 69.1% at tau = 1.5"),
    Branch(TAU2_RUNAWAY, f"after a GLMM branch: tau² > {RUNAWAY_TAU2:g} on the logit scale",
           "pooled count, exact interval", "B1: 0.1% of reviews with 3 or more series; G1: 51 of 63,323 fits"),
    Branch(UNINFORMATIVE, f"after a GLMM branch: interval wider than {UNINFORMATIVE_WIDTH:g}",
           "pooled count, exact interval", "B1: 2.1% of reviews with several series (e.g. 0.000 to 0.998)"),
)


def count_summary(events: ArrayLike, totals: ArrayLike) -> tuple[np.ndarray, ...]:
    """What the rule needs from rows of counts (rows = analyses of k studies each): k, the number of case
    series (n > 1), the largest study's n, the total events and the total patients, each per row."""
    x = np.atleast_2d(np.asarray(events, dtype=float))
    n = np.atleast_2d(np.asarray(totals, dtype=float))
    x, n = np.broadcast_arrays(x, n)
    return (np.full(len(x), x.shape[1]), (n > 1).sum(axis=1), n.max(axis=1), x.sum(axis=1), n.sum(axis=1))


def branch_from_counts(k: ArrayLike, series: ArrayLike, largest: ArrayLike, events: ArrayLike, total: ArrayLike,
                       borrow_from_reports: bool = True) -> np.ndarray:
    """The branch each analysis takes before any model is fitted, or ``NEEDS_FIT`` ("") where the GLMM decides.

    ``borrow_from_reports=False`` is the coverage study's variant without the GLMM for one or two series (they
    always get the pooled count, ``TOO_FEW_SERIES``); the rule itself borrows.
    """
    k_, series_, largest_, events_, total_ = (np.asarray(v, dtype=float) for v in (k, series, largest, events, total))
    few = series_ < MIN_SERIES_FOR_T
    dominant = largest_ > DOMINANT_SHARE * total_
    checks = (
        (SINGLE_STUDY, k_ == 1),
        (SINGLE_PATIENT_REPORTS, series_ == 0),
        (ALL_OR_NONE, (events_ == 0) | (events_ == total_)),
        (DOMINANT_SERIES if borrow_from_reports else TOO_FEW_SERIES,
         few & (dominant if borrow_from_reports else True)),
    )
    branch = np.full(k_.shape, NEEDS_FIT, dtype=object)
    decided = np.zeros(k_.shape, dtype=bool)
    for key, applies in checks:
        branch[~decided & applies] = key
        decided |= applies
    return branch


@dataclass(frozen=True)
class FitChoice:
    """What :func:`branch_from_fit` decided for each analysis: the branch, and for the two GLMM branches the
    population-average estimate, its interval, the critical value's df (NaN for z) and the critical value."""

    branch: np.ndarray
    estimate: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    df: np.ndarray
    crit: np.ndarray


def branch_from_fit(series: ArrayLike, estimate: ArrayLike, se: ArrayLike, tau2: ArrayLike, level: float = 0.95,
                    runaway_tau2: float = RUNAWAY_TAU2,
                    uninformative_width: float = UNINFORMATIVE_WIDTH) -> FitChoice:
    """The branch of analyses the counts left to the GLMM, from its fit on the logit scale (``GlmmResult``
    ``estimate``, ``se``, ``tau2``; NaN where it is not estimable), with the population-average estimate and
    interval (t on series - 1 df from ``MIN_SERIES_FOR_T`` series, else z).

    The coverage study sets ``runaway_tau2`` / ``uninformative_width`` to infinity to measure the rule without its
    two replacements.
    """
    # imported here: the report reads RULE without the special functions (scipy) behind these
    from metacalc.meta.population_average import critical_value, population_average, population_average_interval

    series_ = np.asarray(series, dtype=float)
    mu, error, variance = (np.asarray(v, dtype=float) for v in (estimate, se, tau2))
    many = series_ >= MIN_SERIES_FOR_T
    df = np.where(many, series_ - 1, np.nan)
    z_lower, z_upper = population_average_interval(mu, error, variance, level)
    t_lower, t_upper = population_average_interval(mu, error, variance, level, df=np.where(many, df, 1.0))
    lower, upper = np.where(many, t_lower, z_lower), np.where(many, t_upper, z_upper)
    crit = np.where(many, critical_value(level, np.where(many, df, 1.0)), critical_value(level))
    with np.errstate(invalid="ignore"):
        checks = (
            (NOT_ESTIMABLE, ~np.isfinite(upper - lower)),
            (TAU2_RUNAWAY, variance > runaway_tau2),
            (UNINFORMATIVE, upper - lower > uninformative_width),
        )
    branch = np.where(many, GLMM_SERIES, GLMM_REPORTS).astype(object)
    decided = np.zeros(branch.shape, dtype=bool)
    for key, applies in checks:
        branch[~decided & applies] = key
        decided |= applies
    return FitChoice(branch=branch, estimate=population_average(mu, np.sqrt(variance)), lower=lower, upper=upper,
                     df=df, crit=crit)


@dataclass(frozen=True)
class AutoChoice:
    """What :func:`choose_auto` chose for each row: ``method`` ("exact" or "glmm"), the ``branch`` (a key of
    ``REASONS``) and the interval on the proportion scale."""

    method: np.ndarray
    branch: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def choose_auto(events: ArrayLike, totals: ArrayLike, glmm_estimate: ArrayLike, glmm_se: ArrayLike,
                glmm_tau2: ArrayLike, level: float = 0.95, runaway_tau2: float = RUNAWAY_TAU2,
                uninformative_width: float = UNINFORMATIVE_WIDTH, borrow_from_reports: bool = True) -> AutoChoice:
    """The whole rule on rows of one design (rows = simulated reviews, columns = studies; whole-number counts),
    given each row's GLMM fit on the logit scale (NaN where not estimable): the coverage study's entry point."""
    from metacalc.meta.intervals import proportion_interval

    k, series, largest, x_total, n_total = count_summary(events, totals)
    branch = branch_from_counts(k, series, largest, x_total, n_total, borrow_from_reports)
    fit = branch_from_fit(series, glmm_estimate, glmm_se, glmm_tau2, level, runaway_tau2, uninformative_width)
    branch = np.where(branch == NEEDS_FIT, fit.branch, branch)
    use_glmm = np.isin(branch, GLMM_BRANCHES)
    exact_lower, exact_upper = proportion_interval(x_total, n_total, "clopper-pearson", level)
    return AutoChoice(method=np.where(use_glmm, "glmm", "exact"), branch=branch,
                      lower=np.where(use_glmm, fit.lower, exact_lower),
                      upper=np.where(use_glmm, fit.upper, exact_upper))
