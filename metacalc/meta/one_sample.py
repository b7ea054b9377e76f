"""Patients' values against a value that is a known constant (a threshold, a hypothesised value): the one-sample
t test, the Wilcoxon signed-rank test and the sign test, each as R's ``t.test``, ``wilcox.test`` and
``binom.test`` compute it.

These tests treat the value as known exactly. A published mean is not such a value: it is an estimate with its
own uncertainty, so ``comparison.compare_with_published`` never uses these tests for one (it gives a Welch
two-sample test where the figure's n and SD are known, and a descriptive difference where they are not).

Wilcoxon signed-rank test (``wilcoxon_signed_rank``), as R's default ``wilcox.test(x, mu = value)``: values equal
to ``value`` are dropped (R's "zeroes"); V is the sum of the ranks (average ranks for ties) of the positive
differences; the p-value is exact (the null distribution of V counted over all 2^n sign patterns) when fewer than
50 differences remain and there are no ties and no zeroes, and otherwise the normal approximation with R's
continuity correction (0.5 towards the centre) and tie correction of the variance (sum(t^3 - t) / 48). The
result's ``method`` is R's own name for what was done ("Wilcoxon signed rank exact test" or "Wilcoxon signed rank
test with continuity correction"), and ``note`` gives R's warning when it could not be exact.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from metacalc.meta.errors import InvalidInput
from metacalc.meta.study_rows import json_number
from metacalc.meta.summaries import as_values, check_level, t_interval

EXACT_LIMIT = 50  # R: exact by default when fewer than 50 non-zero differences
EXACT = "Wilcoxon signed rank exact test"
NORMAL_CORRECTED = "Wilcoxon signed rank test with continuity correction"
NORMAL = "Wilcoxon signed rank test"


@dataclass(frozen=True)
class SignedRankTest:
    """R's ``wilcox.test(x, mu = value)``: V, the two-sided p-value, R's method name and warning."""

    statistic: float
    pvalue: float
    method: str
    n: int  # differences left after dropping the zeroes
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"statistic": json_number(self.statistic), "pvalue": json_number(self.pvalue), "method": self.method,
                "n": self.n, "note": self.note}


def _signed_rank_counts(n: int) -> np.ndarray:
    """Number of sign patterns of ranks 1..n with each rank sum 0..n(n+1)/2 (the exact null of V, times 2^n)."""
    counts = np.zeros(n * (n + 1) // 2 + 1)
    counts[0] = 1.0
    for rank in range(1, n + 1):
        counts[rank:] = counts[rank:] + counts[:-rank].copy()
    return counts


def wilcoxon_signed_rank(values: Sequence[float] | np.ndarray, value: float = 0.0, exact: bool | None = None,
                         correct: bool = True) -> SignedRankTest | None:
    """The two-sided signed-rank test of the values' location against ``value``, as R computes it (module
    docstring); ``exact=None`` is R's default. None when every value equals ``value`` (R stops there)."""
    from scipy import stats

    d = as_values(values, "values") - float(value)
    zeroes = bool(np.any(d == 0))
    d = d[d != 0]
    n = len(d)
    if n == 0:
        return None
    ranks = stats.rankdata(np.abs(d))
    statistic = float(ranks[d > 0].sum())
    ties = len(np.unique(ranks)) != n
    if exact is None:
        exact = n < EXACT_LIMIT
    if exact and not ties and not zeroes:
        counts = _signed_rank_counts(n)
        total = 2.0**n
        v = int(round(statistic))
        if statistic > n * (n + 1) / 4:
            tail = counts[v:].sum() / total
        else:
            tail = counts[: v + 1].sum() / total
        return SignedRankTest(statistic, min(1.0, 2 * tail), EXACT, n)
    _, tie_sizes = np.unique(ranks, return_counts=True)
    z = statistic - n * (n + 1) / 4
    sigma = math.sqrt(n * (n + 1) * (2 * n + 1) / 24 - float(np.sum(tie_sizes**3 - tie_sizes)) / 48)
    correction = math.copysign(0.5, z) if correct and z != 0 else 0.0
    score = (z - correction) / sigma if sigma > 0 else 0.0
    pvalue = float(2 * min(stats.norm.cdf(score), stats.norm.sf(score)))
    # R's warnings when it was asked (or defaulted) to be exact and could not be
    note = "; ".join(f"cannot compute exact p-value with {what}" for what, present in (("ties", ties),
                                                                                      ("zeroes", zeroes))
                     if exact and present)
    return SignedRankTest(statistic, pvalue, NORMAL_CORRECTED if correct else NORMAL, n, note)


@dataclass(frozen=True)
class SignTest:
    """The exact sign test: values above and below the value (equal ones dropped), R's
    ``binom.test(above, above + below, p = 0.5)`` two-sided p-value (None when nothing is above or below)."""

    above: int
    below: int
    pvalue: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"above": self.above, "below": self.below, "pvalue": json_number(self.pvalue)}


def sign_test(values: Sequence[float] | np.ndarray, value: float = 0.0) -> SignTest:
    from scipy import stats

    d = as_values(values, "values") - float(value)
    above, below = int(np.sum(d > 0)), int(np.sum(d < 0))
    pvalue = float(stats.binomtest(above, above + below, 0.5).pvalue) if above + below else None
    return SignTest(above, below, pvalue)


@dataclass(frozen=True)
class OneSampleTests:
    """The values against a known constant: the difference of the mean with its t interval and t test (None
    for fewer than 2 values or no spread), the Wilcoxon signed-rank test and the sign test."""

    n: int
    value: float
    level: float
    mean: float
    median: float
    difference: float
    ci_lower: float | None
    ci_upper: float | None
    t_statistic: float | None
    df: int | None
    pvalue: float | None
    wilcoxon: SignedRankTest | None
    sign: SignTest

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "value": self.value, "level": self.level, "mean": json_number(self.mean),
                "median": json_number(self.median), "difference": json_number(self.difference),
                "ci_lower": json_number(self.ci_lower), "ci_upper": json_number(self.ci_upper),
                "t_statistic": json_number(self.t_statistic), "df": self.df, "pvalue": json_number(self.pvalue),
                "wilcoxon": None if self.wilcoxon is None else self.wilcoxon.to_dict(), "sign": self.sign.to_dict()}


def compare_with_value(values: Sequence[float] | np.ndarray, value: float, level: float = 0.95) -> OneSampleTests:
    """The one-sample tests of the values against ``value``, a known constant (never a published estimate)."""
    from scipy import stats

    check_level(level)
    x = as_values(values, "values")
    if len(x) == 0:
        raise InvalidInput("no values to compare")
    value = float(value)
    if not math.isfinite(value):
        raise InvalidInput("the value to compare with must be a finite number")
    mean = float(x.mean())
    ci_lower = ci_upper = t_stat = pvalue = None
    df = None
    if len(x) >= 2 and x.std(ddof=1) > 0:
        df = len(x) - 1
        t_stat = (mean - value) / (float(x.std(ddof=1)) / math.sqrt(len(x)))
        pvalue = float(2 * stats.t.sf(abs(t_stat), df))
        interval = t_interval(x, level)
        ci_lower, ci_upper = interval.lower - value, interval.upper - value
    return OneSampleTests(n=len(x), value=value, level=level, mean=mean, median=float(np.median(x)),
                          difference=mean - value, ci_lower=ci_lower, ci_upper=ci_upper, t_statistic=t_stat, df=df,
                          pvalue=pvalue, wilcoxon=wilcoxon_signed_rank(x, value), sign=sign_test(x, value))
