"""Patients' values compared with a published figure (e.g. a mean of 9.8 or 21.5 years from diagnosis to onset):
one-sample t test, with the exact Wilcoxon signed-rank and sign tests for the small samples case reports give.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from metacalc.meta.errors import InvalidInput
from metacalc.meta.study_rows import json_number
from metacalc.meta.summaries import as_values, check_level


@dataclass(frozen=True)
class PublishedComparison:
    """Patients' values against one published figure (e.g. a mean of 9.8 or 21.5 years).

    ``difference`` = sample mean - reference with its t interval and the one-sample t test (two-sided).
    Because a handful of case reports cannot show normality, the exact Wilcoxon signed-rank test (``wilcoxon_*``;
    the statistic is the sum of the ranks of positive differences, R's V) and the exact sign test on the
    number of values above the reference are given too; both test the median rather than the mean.
    Values equal to the reference are dropped from those two tests, as R does.
    """

    n: int
    reference: float
    level: float
    mean: float
    median: float
    difference: float
    ci_lower: float | None
    ci_upper: float | None
    t_statistic: float | None
    df: int | None
    pvalue: float | None
    wilcoxon_statistic: float | None
    wilcoxon_pvalue: float | None
    wilcoxon_method: str | None
    sign_above: int
    sign_below: int
    sign_pvalue: float | None
    interpretation: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": int(self.n),
            "reference": json_number(self.reference),
            "level": float(self.level),
            "mean": json_number(self.mean),
            "median": json_number(self.median),
            "difference": json_number(self.difference),
            "ci_lower": json_number(self.ci_lower),
            "ci_upper": json_number(self.ci_upper),
            "t_statistic": json_number(self.t_statistic),
            "df": None if self.df is None else int(self.df),
            "pvalue": json_number(self.pvalue),
            "wilcoxon_statistic": json_number(self.wilcoxon_statistic),
            "wilcoxon_pvalue": json_number(self.wilcoxon_pvalue),
            "wilcoxon_method": self.wilcoxon_method,
            "sign_above": int(self.sign_above),
            "sign_below": int(self.sign_below),
            "sign_pvalue": json_number(self.sign_pvalue),
            "interpretation": self.interpretation,
        }


def _format_p(p: float | None) -> str:
    if p is None:
        return "not computable"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def compare_with_published(values: Sequence[float] | np.ndarray, reference: float, level: float = 0.95,
                           unit: str = "years") -> PublishedComparison:
    """Compare patients' values with a published figure; see :class:`PublishedComparison`."""
    from scipy import stats

    check_level(level)
    x = as_values(values, "values")
    reference = float(reference)
    if not math.isfinite(reference):
        raise InvalidInput("the reference must be a finite number")
    n = len(x)
    if n == 0:
        raise InvalidInput("no values to compare")
    mean = float(x.mean())
    median = float(np.median(x))
    difference = mean - reference
    ci_lower = ci_upper = t_stat = df = pvalue = None
    if n >= 2 and x.std(ddof=1) > 0:
        sd = float(x.std(ddof=1))
        se = sd / math.sqrt(n)
        df = n - 1
        t_stat = difference / se
        pvalue = float(2 * stats.t.sf(abs(t_stat), df))
        half = stats.t.ppf(1 - (1 - level) / 2, df) * se
        ci_lower, ci_upper = difference - half, difference + half

    d = x - reference
    nonzero = d[d != 0]
    above, below = int(np.sum(d > 0)), int(np.sum(d < 0))
    sign_p = float(stats.binomtest(above, above + below, 0.5).pvalue) if above + below else None
    w_stat = w_p = w_method = None
    if len(nonzero):
        ranks = stats.rankdata(np.abs(nonzero))
        w_stat = float(ranks[nonzero > 0].sum())
        # The exact null distribution assumes no tied |differences|; with ties use the normal approximation.
        w_method = "exact" if len(np.unique(np.abs(nonzero))) == len(nonzero) else "approx"
        w_p = float(stats.wilcoxon(nonzero, method=w_method).pvalue)

    level_pct = f"{100 * level:g}%"
    if n == 1:
        interpretation = (
            f"One patient ({mean:g} {unit}) against the published {reference:g} {unit}: "
            "no test is possible with a single value."
        )
    else:
        direction = "longer" if difference > 0 else "shorter" if difference < 0 else "no different"
        size = f"{abs(difference):.1f} {unit} {direction} than" if difference else "equal to"
        ci_text = (
            f" ({level_pct} CI of the difference {ci_lower:.1f} to {ci_upper:.1f})" if ci_lower is not None else ""
        )
        if pvalue is None:
            verdict = "all values are equal, so the t test is not defined"
        elif pvalue < 1 - level:
            verdict = f"a difference this large would be unlikely if the published figure held (t test {_format_p(pvalue)})"
        else:
            verdict = f"the data are compatible with the published figure (t test {_format_p(pvalue)})"
        interpretation = (
            f"The {n} patients' mean, {mean:.1f} {unit}, is {size} the published {reference:g} {unit}{ci_text}; "
            f"{verdict}. {above} of {above + below} patients lie above it "
            f"(exact sign test {_format_p(sign_p)}; Wilcoxon signed-rank {_format_p(w_p)})."
        )
        if n < 10:
            interpretation += f" With only {n} patients these tests have little power."
    return PublishedComparison(
        n=n,
        reference=reference,
        level=level,
        mean=mean,
        median=median,
        difference=difference,
        ci_lower=ci_lower,
        ci_upper=ci_upper,
        t_statistic=t_stat,
        df=df,
        pvalue=pvalue,
        wilcoxon_statistic=w_stat,
        wilcoxon_pvalue=w_p,
        wilcoxon_method=w_method,
        sign_above=above,
        sign_below=below,
        sign_pvalue=sign_p,
        interpretation=interpretation,
    )
