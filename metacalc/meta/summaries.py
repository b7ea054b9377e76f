"""Per-patient values (e.g. years from diagnosis to onset): descriptive summaries with their intervals, and the
patients of case reports combined as one "study" to pool with case series.

- :func:`summarise_values` -- n, mean, SD, median, quartiles, range, with a t interval and a percentile
  bootstrap interval of the mean and an exact (order-statistic) interval of the median.
- :func:`study_from_patients` -- the patients of case reports combined as one "study" (n, mean, SD).
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

# The seed of the bootstrap: fixed so that a rerun of the review gives byte-identical numbers.
DEFAULT_BOOTSTRAP_SEED = 20121
DEFAULT_BOOTSTRAP_SAMPLES = 10_000


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
    """Descriptive statistics of per-patient values with three intervals.

    ``mean_ci`` is the t interval (method "t"); ``mean_ci_bootstrap`` the percentile bootstrap interval
    ("percentile bootstrap": ``n_boot`` resamples, generator ``numpy.random.default_rng(seed)``); ``median_ci``
    the distribution-free interval between two order statistics ("order statistics", binomial), whose actual coverage (at least ``level`` when attainable) is
    ``median_ci_coverage``. With 5 values or fewer no pair of order statistics reaches 95%: the interval is
    then the range, and its coverage says so. Quartiles use linear interpolation (R's type 7).
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
    mean_ci_bootstrap: ConfidenceInterval | None
    median_ci: ConfidenceInterval
    median_ci_coverage: float
    n_boot: int
    seed: int

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
            "mean_ci_bootstrap": pair(self.mean_ci_bootstrap),
            "median_ci": pair(self.median_ci),
            "median_ci_coverage": json_number(self.median_ci_coverage),
            "n_boot": int(self.n_boot),
            "seed": int(self.seed),
        }


def median_interval(values: Sequence[float] | np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Distribution-free interval of the median from order statistics: ``(x_(r), x_(n-r+1))`` with the largest
    r such that ``P(Binomial(n, 1/2) <= r - 1) <= (1 - level) / 2``. Returns ``(lower, upper, coverage)``.

    When even the range covers less than ``level`` (n <= 5 at 95%), the range is returned with its coverage.
    """
    from scipy import stats

    x = np.sort(as_values(values, "values"))
    n = len(x)
    if n == 0:
        raise InvalidInput("no values")
    alpha = 1 - level
    # cdf(r - 1) for r = 1..n//2 (r beyond the middle would cross over)
    r_candidates = np.arange(1, n // 2 + 1)
    tail = stats.binom.cdf(r_candidates - 1, n, 0.5)
    allowed = r_candidates[tail <= alpha / 2]
    r = int(allowed.max()) if len(allowed) else 1
    coverage = 1 - 2 * stats.binom.cdf(r - 1, n, 0.5)
    if n == 1:
        coverage = 0.0
    return float(x[r - 1]), float(x[n - r]), float(coverage)


_BOOTSTRAP_CHUNK_CELLS = 1_000_000


def summarise_values(values: Sequence[float] | np.ndarray, level: float = 0.95, n_boot: int = DEFAULT_BOOTSTRAP_SAMPLES,
                     seed: int = DEFAULT_BOOTSTRAP_SEED) -> ValueSummary:
    """Summarise per-patient values (e.g. years from the diagnosis of a disease to the onset of a complication); see :class:`ValueSummary`."""
    from scipy import stats

    check_level(level)
    x = as_values(values, "values")
    n = len(x)
    if n == 0:
        raise InvalidInput("no values to summarise")
    if n_boot < 1:
        raise InvalidInput("n_boot must be at least 1")
    mean = float(x.mean())
    q1, median, q3 = (float(v) for v in np.quantile(x, [0.25, 0.5, 0.75]))
    sd = None
    mean_ci = boot_ci = None
    if n >= 2:
        sd = float(x.std(ddof=1))
        t = stats.t.ppf(1 - (1 - level) / 2, n - 1)
        half = t * sd / math.sqrt(n)
        mean_ci = ConfidenceInterval(mean - half, mean + half, level, "t")
        rng = np.random.default_rng(seed)
        # Resample in chunks: one (n_boot x n) index matrix is 800 MB for 10,000 patients. Successive draws
        # continue the same random stream, so the result does not depend on the chunk size.
        rows = max(1, _BOOTSTRAP_CHUNK_CELLS // n)
        resampled = np.concatenate([
            x[rng.integers(0, n, size=(min(rows, n_boot - start), n))].mean(axis=1)
            for start in range(0, n_boot, rows)
        ])
        low, high = np.quantile(resampled, [(1 - level) / 2, 1 - (1 - level) / 2])
        boot_ci = ConfidenceInterval(float(low), float(high), level, "percentile bootstrap")
    median_low, median_high, coverage = median_interval(x, level)
    return ValueSummary(
        n=n,
        mean=mean,
        sd=sd,
        median=median,
        q1=q1,
        q3=q3,
        min=float(x.min()),
        max=float(x.max()),
        level=level,
        mean_ci=mean_ci,
        mean_ci_bootstrap=boot_ci,
        median_ci=ConfidenceInterval(median_low, median_high, level, "order statistics"),
        median_ci_coverage=coverage,
        n_boot=int(n_boot),
        seed=int(seed),
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
