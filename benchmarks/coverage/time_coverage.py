"""Coverage of 95% intervals for the mean (and median) time to onset from a few right-skewed positive values.

A scenario is a distribution (log-normal or gamma), its coefficient of variation, its mean and the number of
patients n. Every interval here is scale-equivariant (multiplying the data by c multiplies the interval by c),
so coverage does not depend on the mean; the grid varies the mean (5, 10, 20 years) only to show that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from candidates import bootstrap_intervals, cox_interval, exponential_interval, gamma_interval, log_t_interval

from metacalc.meta.summaries import reports_mean_interval

LEVEL = 0.95
MEAN_METHODS = (
    "t", "bootstrap-percentile", "bootstrap-bca", "log-t", "cox", "exponential", "gamma", "time-rule")
MEDIAN_METHOD = "median-order-statistics"


@dataclass(frozen=True)
class TimeScenario:
    family: str  # "lognormal" or "gamma"
    cv: float
    mean: float
    n: int

    @property
    def key(self) -> str:
        return f"time|{self.family}|cv={self.cv:g}|mean={self.mean:g}|n={self.n}"

    def parameters(self):
        """(median, draw(rng, size)) of the distribution with this mean and coefficient of variation."""
        if self.family == "lognormal":
            sigma2 = math.log(1 + self.cv**2)
            mu = math.log(self.mean) - sigma2 / 2
            return math.exp(mu), lambda rng, size: rng.lognormal(mu, math.sqrt(sigma2), size)
        from scipy.stats import gamma

        shape = 1 / self.cv**2
        scale = self.mean / shape
        return float(gamma.median(shape, scale=scale)), lambda rng, size: rng.gamma(shape, scale, size)


def scenarios(quick: bool = False) -> list[TimeScenario]:
    if quick:
        return [TimeScenario(f, 1.0, 10.0, n) for f in ("lognormal", "gamma") for n in (2, 6, 15)]
    ns = (2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30, 40)
    out = [TimeScenario(f, cv, 10.0, n) for f in ("lognormal", "gamma") for cv in (0.5, 1.0, 1.5) for n in ns]
    out += [TimeScenario(f, 1.0, mean, n) for f in ("lognormal", "gamma") for mean in (5.0, 20.0) for n in (3, 10)]
    return out


def _median_indices(n):
    """Order-statistic positions (0-based) of the core's exact median interval, and its coverage."""
    from metacalc.meta.means import median_interval

    low, high, coverage = median_interval(np.arange(n, dtype=float), LEVEL)
    return int(low), int(high), coverage


def simulate(scenario: TimeScenario, reps: int, seed: int, n_boot: int) -> dict:
    from scipy.stats import t

    rng = np.random.default_rng(seed)
    median, draw = scenario.parameters()
    x = draw(rng, (reps, scenario.n))
    mean = x.mean(axis=1)
    half = t.ppf(0.5 + LEVEL / 2, scenario.n - 1) * x.std(axis=1, ddof=1) / math.sqrt(scenario.n)
    percentile, bca = bootstrap_intervals(x, n_boot, rng, LEVEL)
    intervals = {
        "t": (mean - half, mean + half),
        "bootstrap-percentile": percentile,
        "bootstrap-bca": bca,
        "log-t": log_t_interval(x, LEVEL),
        "cox": cox_interval(x, LEVEL),
        "exponential": exponential_interval(x, LEVEL),
        "gamma": gamma_interval(x, LEVEL),
    }
    # the time rule (the core's summarise_values) reports the t interval only from MIN_N_MEAN_INTERVAL values on
    # and when it stays >= 0; its coverage is over the samples where it reports one (``returned`` says how often)
    shown = reports_mean_interval(scenario.n, intervals["t"][0])
    intervals["time-rule"] = tuple(np.where(shown, limit, np.nan) for limit in intervals["t"])
    rows = []
    for method in MEAN_METHODS:
        lower, upper = intervals[method]
        rows.append(_summary(method, "mean", scenario.mean, lower, upper, scenario.mean))
    low, high, nominal = _median_indices(scenario.n)
    ordered = np.sort(x, axis=1)
    row = _summary(MEDIAN_METHOD, "median", median, ordered[:, low], ordered[:, high], scenario.mean)
    row["nominal"] = nominal
    rows.append(row)
    rows[0]["negative"] = int((intervals["t"][0] < 0).sum())
    return {"key": scenario.key, "reps": reps, "median_truth": median, "rows": rows}


def _summary(method, target, truth, lower, upper, mean):
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    ok = np.isfinite(lower) & np.isfinite(upper)
    return {
        "method": method,
        "target": target,
        "returned": int(ok.sum()),
        "covered": int(((lower <= truth) & (truth <= upper))[ok].sum()),
        "below": int((upper < truth)[ok].sum()),
        "median_width": float(np.median((upper - lower)[ok]) / mean) if ok.any() else math.nan,
        "negative": 0,
    }
