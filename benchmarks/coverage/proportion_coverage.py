"""Coverage of 95% intervals for a pooled proportion on data shaped like a case-report review.

A scenario is a design (how many single-patient reports, which case series), a population-average proportion
and a between-study SD tau on the logit scale. Each replicate draws one logit per study, mu + tau * Z, and the
study's events from Binomial(n_i, expit(logit_i)), then every method is applied to the same replicates.

Truth. The primary estimand is the population-average proportion E[expit(mu + tau Z)]: the chance that a patient
drawn from any of the settings responds, which is what "how often does diltiazem help?" asks, and the only
quantity single-patient reports identify (each report is a Bernoulli draw with exactly that probability). The
secondary estimand is expit(mu), the proportion in the median setting, which the GLMM and the logit models
estimate. With tau = 0 they coincide; README.md reports coverage against both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from metacalc.meta.auto_rule import choose_auto
from metacalc.meta.population_average import mean_logit_for_average, population_average_interval

LEVEL = 0.95
# A width this large on the proportion scale says next to nothing (e.g. 3% to 93%); counted per method.
WIDE = 0.9
TAU2_BINS = (0.0, 1e-8, 0.5, 2.0, 5.0, 10.0, 25.0, math.inf)

IV_METHODS = tuple(
    (f"{measure.lower()}-{tau2.lower()}{'-hk' if knha else ''}", measure, tau2, knha)
    for measure in ("PLO", "PFT") for tau2 in ("REML", "DL") for knha in (False, True)
)
# the methods of the main tables (P1, P2) and of the inverse-variance table (P3)
# auto-before: the auto rule before issue 10 (a copy, for comparison); auto-proposed: the rule this study proposed,
# now the core's pool_proportions(method="auto") (metacalc.meta.auto_rule.choose_auto); auto-no-replace and
# auto-3-series: that rule without its two replacements, and without its branch for 1-2 series
MAIN_METHODS = ("count-cp", "count-wilson", "glmm", "glmm-t", "glmm-pa", "glmm-pa-ts", "auto-before",
                "auto-proposed", "auto-no-replace", "auto-3-series")
METHODS = MAIN_METHODS + tuple(m[0] for m in IV_METHODS)


@dataclass(frozen=True)
class Design:
    """``reports`` single-patient reports plus case series of the given sizes."""

    reports: int
    series: tuple[int, ...] = ()

    @property
    def totals(self) -> np.ndarray:
        return np.array([1] * self.reports + list(self.series), dtype=int)

    @property
    def k(self) -> int:
        return self.reports + len(self.series)

    @property
    def shape(self) -> str:
        if not self.series:
            return "reports only"
        if self.reports == 0 and len(self.series) == 1:
            return "one series alone"
        if len(self.series) <= 2:
            return f"reports + {len(self.series)} series"
        return "reports + several series" if self.reports else "series only"

    @property
    def label(self) -> str:
        parts = [f"{self.reports} x n=1"] if self.reports else []
        if self.series:
            parts.append("series " + "/".join(str(s) for s in self.series))
        return " + ".join(parts)


@dataclass(frozen=True)
class Scenario:
    design: Design
    average: float  # population-average proportion (primary truth)
    tau: float

    @property
    def key(self) -> str:
        return f"prop|{self.design.label}|p={self.average:g}|tau={self.tau:g}"


def designs(quick: bool = False) -> list[Design]:
    if quick:
        return [Design(1), Design(10), Design(0, (10,)), Design(5, (20,)), Design(20, (10,)),
                Design(5, (10, 20, 30, 40, 50))]
    out = [Design(k) for k in (1, 3, 10, 20, 40)]
    out += [Design(0, (n,)) for n in (2, 5, 10, 30, 60)]
    out += [Design(r, (n,)) for r in (2, 9, 39) for n in (5, 20, 60)]
    out += [Design(r, (10, 40)) for r in (2, 10, 38)]
    out += [Design(5, (10, 20, 40)), Design(10, (10, 20, 30, 40)), Design(5, (10, 15, 20, 30, 40)),
            Design(10, (5, 10, 15, 20, 25, 30, 40, 50, 60, 60)), Design(0, (10, 15, 20, 30, 40))]
    return out


def scenarios(quick: bool = False) -> list[Scenario]:
    averages = (0.2, 0.5) if quick else (0.05, 0.2, 0.5, 0.9)
    taus = (0.0, 1.0) if quick else (0.0, 0.5, 1.0, 1.5)
    return [Scenario(d, p, t) for d in designs(quick) for p in averages for t in taus]


def _iv_intervals(x, n_row, measure, tau2_method, knha):
    from metacalc.meta.random_effects import rma_batch
    from metacalc.meta.transforms import back_transform, escalc_proportion

    yi, vi = escalc_proportion(x, np.broadcast_to(n_row, x.shape), measure, "only0", None)
    fit = rma_batch(yi, vi, method=tau2_method, test="knha" if knha else "z", level=LEVEL, tau2_ci=False)
    lower = back_transform(fit.ci_lower, measure, totals=n_row)
    upper = back_transform(fit.ci_upper, measure, totals=n_row)
    return lower, upper


def _glmm(x, n_row):
    from metacalc.meta.glmm import rma_glmm_batch

    fits = rma_glmm_batch(list(x), [n_row] * len(x), level=LEVEL, errors="return")
    est = np.full((len(x), 3), np.nan)  # estimate and se (logit), tau2; NaN where not estimable
    for i, fit in enumerate(fits):
        if not isinstance(fit, Exception):
            est[i] = (fit.estimate, fit.se, fit.tau2)
    return est


def auto_before(x, n_row, exact, glmm_prop):
    """``metacalc.meta.pool_proportions(method="auto")`` as it was before issue 10 (commit 794125c), vectorised:
    exact when every n = 1 or every study has 0 / all events, else the GLMM (median proportion), exact where the
    GLMM is not estimable. Kept as the baseline the proposed rule is compared with."""
    events = x.sum(axis=1)
    exact_rows = np.all(n_row == 1) | (events == 0) | (events == n_row.sum()) | ~np.isfinite(glmm_prop[0])
    return np.where(exact_rows, exact[0], glmm_prop[0]), np.where(exact_rows, exact[1], glmm_prop[1])


def simulate(scenario: Scenario, reps: int, seed: int) -> dict:
    """All methods on ``reps`` replicates: per-method summary rows, GLMM diagnostics by tau^2, rule branches."""
    from scipy.special import expit
    from scipy.stats import norm, t as student_t

    from metacalc.meta.intervals import proportion_interval

    rng = np.random.default_rng(seed)
    n_row = scenario.design.totals
    mu = mean_logit_for_average(scenario.average, scenario.tau)
    median_truth = 1 / (1 + math.exp(-mu))
    logits = mu + scenario.tau * rng.standard_normal((reps, n_row.size))
    x = rng.binomial(n_row, 1 / (1 + np.exp(-logits)))

    events, total = x.sum(axis=1), int(n_row.sum())
    intervals = {
        "count-cp": proportion_interval(events, total, "clopper-pearson", LEVEL),
        "count-wilson": proportion_interval(events, total, "wilson", LEVEL),
    }
    glmm = _glmm(x, n_row)
    estimate, se, tau2 = glmm.T
    z = norm.ppf(0.5 + LEVEL / 2)
    glmm_prop = (expit(estimate - z * se), expit(estimate + z * se))
    intervals["glmm"] = glmm_prop
    # metafor's rma.glmm(test="t"): t quantiles on k - 1 df (k = 1 falls back to z, as metafor)
    crit = student_t.ppf(0.5 + LEVEL / 2, n_row.size - 1) if n_row.size > 1 else z
    intervals["glmm-t"] = (expit(estimate - crit * se), expit(estimate + crit * se))
    intervals["glmm-pa"] = population_average_interval(estimate, se, tau2, LEVEL)
    series = int((n_row > 1).sum())
    intervals["glmm-pa-ts"] = population_average_interval(estimate, se, tau2, LEVEL, df=series - 1)
    for name, measure, tau2_method, knha in IV_METHODS:
        intervals[name] = _iv_intervals(x, n_row, measure, tau2_method, knha)
    intervals["auto-before"] = auto_before(x, n_row, intervals["count-cp"], glmm_prop)
    rule_inputs = (x, np.broadcast_to(n_row, x.shape), estimate, se, tau2, LEVEL)
    choice = choose_auto(*rule_inputs)
    intervals["auto-proposed"] = (choice.lower, choice.upper)
    # the same rule without its two replacements (runaway tau^2, uninformative interval), and without the GLMM
    # for one or two series: what each part of the rule does
    keep = choose_auto(*rule_inputs, runaway_tau2=math.inf, uninformative_width=math.inf)
    intervals["auto-no-replace"] = (keep.lower, keep.upper)
    series_only = choose_auto(*rule_inputs, borrow_from_reports=False)
    intervals["auto-3-series"] = (series_only.lower, series_only.upper)

    rows = []
    for method in METHODS:
        lower, upper = (np.asarray(v, dtype=float) for v in intervals[method])
        ok = np.isfinite(lower) & np.isfinite(upper)
        width = upper[ok] - lower[ok]
        returned = int(ok.sum())
        rows.append({
            "method": method,
            "returned": returned,
            "covered": int(_covers(intervals[method], scenario.average, ok).sum()),
            "covered_median": int(_covers(intervals[method], median_truth, ok).sum()),
            "below": int((upper[ok] < scenario.average).sum()),
            "median_width": float(np.median(width)) if returned else math.nan,
            "wide": int((width > WIDE).sum()),
        })

    # the GLMM's coverage by its estimated tau^2, to set the rule's thresholds
    ok = np.isfinite(tau2)
    bins = np.digitize(tau2[ok], TAU2_BINS[1:-1])
    exact_width = np.asarray(intervals["count-cp"][1] - intervals["count-cp"][0])[ok]
    checks = {
        "covered_median": _covers(glmm_prop, median_truth, ok),
        "covered_pa": _covers(intervals["glmm-pa"], scenario.average, ok),
        "covered_pa_ts": _covers(intervals["glmm-pa-ts"], scenario.average, ok),
        "wider_than_exact": (glmm_prop[1] - glmm_prop[0])[ok] > exact_width,
    }
    with_ts = np.isfinite(intervals["glmm-pa-ts"][0])[ok]  # needs 2 or more series
    diagnostics = [{"tau2_bin": b, "fits": int((bins == b).sum()), "fits_ts": int((with_ts & (bins == b)).sum())}
                   | {name: int(hit[bins == b].sum()) for name, hit in checks.items()}
                   for b in range(len(TAU2_BINS) - 1)]
    branches = {key: int((choice.branch == key).sum()) for key in np.unique(choice.branch)}
    return {"key": scenario.key, "reps": reps, "median_truth": median_truth, "mu": mu, "rows": rows,
            "glmm_not_estimable": int((~ok).sum()), "diagnostics": diagnostics, "branches": branches}


def _covers(interval, truth, ok):
    lower, upper = (np.asarray(v, dtype=float)[ok] for v in interval)
    return (lower <= truth) & (truth <= upper)
