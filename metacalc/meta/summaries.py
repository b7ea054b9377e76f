"""Per-patient values (e.g. years from diagnosis to onset): descriptive summaries with the intervals the coverage
study supports, and the patients of case reports combined as one "study" to pool with case series.

- :func:`summarise_values` -- n, mean, SD, median, quartiles, range; the exact (order-statistic) interval of the
  median where one exists; the t interval of the mean only where the time rule allows it.
- :func:`t_interval` -- the t interval of a mean (always computed; the rule decides whether it is reported).
- :func:`median_interval` -- the distribution-free interval of the median from two order statistics.
- :func:`study_from_patients` -- the patients of case reports combined as one "study" (n, mean, SD).

The time rule (coverage study, benchmarks/coverage/README.md, table T1): for a non-negative, right-skewed
quantity such as a time from diagnosis, a t interval of the mean from a few values extends below 0 in most
samples and covers far less than 95%, and the percentile bootstrap covers even less (41-50% at n = 2, 78-88% at
n = 10); so
  - n = 2-5: median and range; no 95% interval of the median exists (even the range covers the median only with
    probability 1 - 2^(1 - n): 50%, 75%, 87.5%, 93.75%, given as ``range_coverage``); no interval of the mean;
  - from n = 6 (``MIN_N_MEDIAN_INTERVAL``): the median with its exact order-statistic interval, which covers at
    least 95% at every n >= 6 and for every distribution studied (T1, last column);
  - from n = 10 (``MIN_N_MEAN_INTERVAL``): also the t interval of the mean, labelled approximate (87-95% for
    CV <= 1), unless its lower limit is below 0: on positive data that signals the skew under which it covers
    only 82-85% (T1, CV 1.5), and the mean is then given without an interval, with that reason.
No bootstrap interval is reported: the study found it to undercover at every n <= 40.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from metacalc.meta.errors import InvalidInput
from metacalc.meta.results import ConfidenceInterval
from metacalc.meta.study_rows import json_number

MIN_N_MEDIAN_INTERVAL = 6    # the smallest n at which two order statistics cover the median with >= 95%
MIN_N_MEAN_INTERVAL = 10     # below this the t interval of the mean is not reported (T1: t fails below it)
T_APPROXIMATE = "t (approximate)"
ORDER_STATISTICS = "order statistics"

NO_MEAN_INTERVAL_FEW = (f"fewer than {MIN_N_MEAN_INTERVAL} values: a t interval of the mean covers too little (and "
                        "often extends below 0) on skewed data, so none is given; see the median")
NO_MEAN_INTERVAL_BELOW_ZERO = ("the t interval of the mean extends below 0, which this quantity cannot: the values are "
                               "too skewed for it (it then covers far less than 95%), so none is given; see the "
                               "median")
MEAN_INTERVAL_SHOWN = (f"t interval of the mean, approximate: at {MIN_N_MEAN_INTERVAL} values or more it covers "
                       "87 to 95% on skewed data in the coverage study")


def as_values(values: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    """Finite numbers as a 1-d float array, or InvalidInput naming ``name``."""
    array = np.asarray(values, dtype=float).ravel()
    if not np.all(np.isfinite(array)):
        raise InvalidInput(f"{name} must be finite numbers (found a missing or infinite value)")
    return array


def check_level(level: float) -> None:
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise InvalidInput(f"level must be between 0 and 1 (got {level})")


@dataclass(frozen=True)
class ValueSummary:
    """Descriptive statistics of per-patient values, with the intervals the time rule allows (module docstring).

    ``median_ci`` is the distribution-free interval between two order statistics (method "order statistics")
    with its actual coverage ``median_ci_coverage`` (at least ``level``), or None where no such interval reaches
    ``level`` (n <= 5 at 95%); ``range_coverage`` is the chance that the range [min, max] contains the median,
    1 - 2^(1 - n). ``mean_ci`` is the t interval (method "t (approximate)") where the rule reports it, else None;
    ``mean_ci_note`` says why in either case. ``non_negative``: the quantity cannot be below 0 (then no interval
    reported here extends below 0). Quartiles use linear interpolation (R's type 7).
    """

    n: int
    mean: float
    sd: float | None
    median: float
    q1: float
    q3: float
    min: float
    max: float
    level: float
    mean_ci: ConfidenceInterval | None
    mean_ci_note: str
    median_ci: ConfidenceInterval | None
    median_ci_coverage: float | None
    range_coverage: float | None
    non_negative: bool

    def to_dict(self) -> dict[str, Any]:
        def pair(values: ConfidenceInterval | None) -> list[float | None] | None:
            return None if values is None else [json_number(values[0]), json_number(values[1])]

        return {
            "n": int(self.n),
            "mean": json_number(self.mean),
            "sd": json_number(self.sd),
            "median": json_number(self.median),
            "q1": json_number(self.q1),
            "q3": json_number(self.q3),
            "min": json_number(self.min),
            "max": json_number(self.max),
            "level": float(self.level),
            "mean_ci": pair(self.mean_ci),
            "mean_ci_method": None if self.mean_ci is None else self.mean_ci.method,
            "mean_ci_note": self.mean_ci_note,
            "median_ci": pair(self.median_ci),
            "median_ci_coverage": json_number(self.median_ci_coverage),
            "range_coverage": json_number(self.range_coverage),
            "non_negative": bool(self.non_negative),
        }


def median_interval(values: Sequence[float] | np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Distribution-free interval of the median from order statistics: ``(x_(r), x_(n-r+1))`` with the largest
    r such that ``P(Binomial(n, 1/2) <= r - 1) <= (1 - level) / 2``. Returns ``(lower, upper, coverage)``.

    When even the range covers less than ``level`` (n <= 5 at 95%), the range is returned with its coverage.
    """
    from metacalc.meta.distributions import binom_cdf

    x = np.sort(as_values(values, "values"))
    n = len(x)
    if n == 0:
        raise InvalidInput("no values")
    alpha = 1 - level
    # cdf(r - 1) for r = 1..n//2 (r beyond the middle would cross over)
    r_candidates = np.arange(1, n // 2 + 1)
    tail = binom_cdf(r_candidates - 1, n, 0.5)
    allowed = r_candidates[tail <= alpha / 2]
    r = int(allowed.max()) if len(allowed) else 1
    coverage = float(1 - 2 * binom_cdf(r - 1, n, 0.5))
    if n == 1:
        coverage = 0.0
    return float(x[r - 1]), float(x[n - r]), float(coverage)


def t_interval(values: Sequence[float] | np.ndarray, level: float = 0.95) -> ConfidenceInterval:
    """mean -/+ t(n - 1) * SD / sqrt(n) (R's ``t.test(x)$conf.int``); needs n >= 2."""
    from metacalc.meta.distributions import t_ppf

    check_level(level)
    x = as_values(values, "values")
    if len(x) < 2:
        raise InvalidInput(f"a t interval needs at least 2 values (got {len(x)})")
    half = float(t_ppf(1 - (1 - level) / 2, len(x) - 1)) * float(x.std(ddof=1)) / math.sqrt(len(x))
    return ConfidenceInterval(float(x.mean()) - half, float(x.mean()) + half, level, T_APPROXIMATE,
                              df=float(len(x) - 1))


def reports_mean_interval(n: int, t_lower: Any, non_negative: bool = True) -> np.ndarray:
    """Whether the time rule reports the t interval of the mean: n >= MIN_N_MEAN_INTERVAL and, for a quantity
    that cannot be negative, a lower limit not below 0 (vectorised over ``t_lower``)."""
    lower = np.asarray(t_lower, dtype=float)
    return (n >= MIN_N_MEAN_INTERVAL) & ((lower >= 0) | (not non_negative))


def summarise_values(values: Sequence[float] | np.ndarray, level: float = 0.95,
                     non_negative: bool = True) -> ValueSummary:
    """Summarise per-patient values by the time rule (module docstring); see :class:`ValueSummary`.

    ``non_negative`` (the default, a time from diagnosis): the quantity cannot be below 0, so a negative value
    is refused, and a t interval reaching below 0 is not reported. A time that may be negative (onset before the
    diagnosis, flagged in the sheets) is summarised with ``non_negative=False``.
    """
    check_level(level)
    x = as_values(values, "values")
    n = len(x)
    if n == 0:
        raise InvalidInput("no values to summarise")
    if non_negative and np.any(x < 0):
        raise InvalidInput(f"a non-negative quantity has a negative value ({float(x.min()):g}); summarise it "
                           "with non_negative=False if values below 0 are possible")
    q1, median, q3 = (float(v) for v in np.quantile(x, [0.25, 0.5, 0.75]))
    sd = float(x.std(ddof=1)) if n >= 2 else None
    mean_ci, note = None, NO_MEAN_INTERVAL_FEW
    if n >= MIN_N_MEAN_INTERVAL:
        candidate = t_interval(x, level)
        if reports_mean_interval(n, candidate.lower, non_negative):
            mean_ci, note = candidate, MEAN_INTERVAL_SHOWN
        else:
            note = NO_MEAN_INTERVAL_BELOW_ZERO
    low, high, coverage = median_interval(x, level)
    median_ci = ConfidenceInterval(low, high, level, ORDER_STATISTICS) if coverage >= level else None
    return ValueSummary(
        n=n, mean=float(x.mean()), sd=sd, median=median, q1=q1, q3=q3, min=float(x.min()), max=float(x.max()),
        level=level, mean_ci=mean_ci, mean_ci_note=note, median_ci=median_ci,
        median_ci_coverage=coverage if median_ci is not None else None,
        range_coverage=1 - 2.0 ** (1 - n) if n >= 2 else None, non_negative=bool(non_negative),
    )


@dataclass(frozen=True)
class StudySummary:
    """A study reduced to what pooling needs: n, mean, SD (and how the mean and SD were obtained)."""

    n: int
    mean: float
    sd: float
    source: str = "individual values"


def study_from_patients(values: Sequence[float] | np.ndarray) -> StudySummary:
    """The patients of case reports combined into one "study" (n, mean, sample SD) to pool with series.

    Needs at least two patients: one patient has no SD and so no sampling variance.
    """
    x = as_values(values, "values")
    if len(x) < 2:
        raise InvalidInput(f"combining patients into one study needs at least 2 values (got {len(x)})")
    return StudySummary(n=len(x), mean=float(x.mean()), sd=float(x.std(ddof=1)),
                        source=f"{len(x)} individual patients")
