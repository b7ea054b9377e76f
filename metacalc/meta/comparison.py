"""Patients' values compared with a published figure (e.g. a mean of 9.8 or 21.5 years from diagnosis to onset).

A published mean is an estimate, not a known constant. So:

- where the figure's n and SD are known, the comparison is Welch's two-sample t test from the summary
  statistics (:func:`welch_from_summaries`; R's ``t.test(a, b, var.equal = FALSE)`` on data with those means and
  SDs), with the interval of the difference;
- where only its mean is known (or its n but not its SD), the difference is descriptive: there is no test that
  can allow for the figure's own uncertainty, and a one-sample test would treat the figure as exact, giving
  p-values that are too small. Tests against a value that really is a known constant are in ``one_sample``.
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

WELCH = "welch"
DESCRIPTIVE = "descriptive"


@dataclass(frozen=True)
class WelchTest:
    """Welch's two-sample t test of mean1 - mean2 from summary statistics."""

    difference: float
    se: float
    t_statistic: float
    df: float
    pvalue: float
    ci_lower: float
    ci_upper: float
    level: float


def welch_from_summaries(mean1: float, sd1: float, n1: float, mean2: float, sd2: float, n2: float,
                         level: float = 0.95) -> WelchTest:
    """Welch's test of mean1 - mean2: se = sqrt(sd1²/n1 + sd2²/n2), Welch-Satterthwaite df, two-sided p and the
    t interval of the difference (R's ``t.test(var.equal = FALSE)``). Needs n >= 2 and SD > 0 on both sides."""
    from metacalc.meta.distributions import t_ppf, t_sf

    check_level(level)
    problems = [f"{name} must be at least 2 (got {value:g})" for name, value in (("n1", n1), ("n2", n2)) if value < 2]
    problems += [f"{name} must be above 0 (got {value:g})" for name, value in (("sd1", sd1), ("sd2", sd2))
                 if not value > 0]
    if problems:
        raise InvalidInput(problems)
    v1, v2 = sd1**2 / n1, sd2**2 / n2
    se = math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
    difference = mean1 - mean2
    t_stat = difference / se
    half = float(t_ppf(1 - (1 - level) / 2, df)) * se
    return WelchTest(difference, se, t_stat, df, float(2 * t_sf(abs(t_stat), df)), difference - half,
                     difference + half, level)


@dataclass(frozen=True)
class PublishedComparison:
    """Patients' values against one published figure (e.g. a mean of 9.8 or 21.5 years).

    ``method`` is "welch" (the figure's n and SD known: ``difference`` = patients' mean - published mean with its
    Welch interval, t, df and p) or "descriptive" (the difference alone; ``note`` says why there is no test).
    """

    n: int
    reference: float
    reference_n: float | None
    reference_sd: float | None
    level: float
    mean: float
    median: float
    sd: float | None
    difference: float
    method: str
    note: str
    se: float | None
    t_statistic: float | None
    df: float | None
    pvalue: float | None
    ci_lower: float | None
    ci_upper: float | None
    interpretation: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": int(self.n), "reference": json_number(self.reference), "reference_n": json_number(self.reference_n),
            "reference_sd": json_number(self.reference_sd), "level": float(self.level),
            "mean": json_number(self.mean), "median": json_number(self.median), "sd": json_number(self.sd),
            "difference": json_number(self.difference), "method": self.method, "note": self.note,
            "se": json_number(self.se), "t_statistic": json_number(self.t_statistic), "df": json_number(self.df),
            "pvalue": json_number(self.pvalue), "ci_lower": json_number(self.ci_lower),
            "ci_upper": json_number(self.ci_upper), "interpretation": self.interpretation,
        }


def _format_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _known(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def why_descriptive(n: int, sd: float | None, reference: float, reference_n: float | None,
                    reference_sd: float | None, unit: str = "years") -> str:
    """Why a comparison with a published figure is descriptive ('' when Welch's test applies)."""
    if n < 2 or not sd:
        return "one patient, or no spread among the patients: no test is possible"
    if _known(reference_sd) and _known(reference_n) and reference_n >= 2:  # type: ignore[operator]
        return ""
    if _known(reference_n):
        what = (f"the published {reference:g} {unit} is the mean of {reference_n:g} patient"
                f"{'' if reference_n == 1 else 's'} and its SD is not published")
    else:
        what = f"the number of patients and the SD behind the published {reference:g} {unit} are not known"
    return (f"{what}, so no test can allow for its own uncertainty; the difference is descriptive (a one-sample "
            f"test would treat {reference:g} {unit} as a known constant)")


def compare_with_published(values: Sequence[float] | np.ndarray, reference: float,
                           reference_n: float | None = None, reference_sd: float | None = None,
                           level: float = 0.95, unit: str = "years") -> PublishedComparison:
    """Compare patients' values with a published mean (and its n and SD where known); see the module docstring."""
    check_level(level)
    x = as_values(values, "values")
    reference = float(reference)
    if not math.isfinite(reference):
        raise InvalidInput("the reference must be a finite number")
    n = len(x)
    if n == 0:
        raise InvalidInput("no values to compare")
    mean, median = float(x.mean()), float(np.median(x))
    sd = float(x.std(ddof=1)) if n >= 2 else None
    difference = mean - reference
    note = why_descriptive(n, sd, reference, reference_n, reference_sd, unit)
    direction = "longer" if difference > 0 else "shorter" if difference < 0 else "no different"
    size = f"{abs(difference):.1f} {unit} {direction} than" if difference else "equal to"
    who = f"The {n} patients' mean, {mean:.1f} {unit} (median {median:.1f})," if n > 1 else \
        f"One patient's value, {mean:g} {unit},"
    published = f"the published {reference:g} {unit}"
    if note:
        interpretation = f"{who} is {size} {published}: {note}."
        if 1 < n < 10:
            interpretation += f" With {n} patients even a descriptive difference is imprecise."
        return PublishedComparison(n, reference, reference_n, reference_sd, level, mean, median, sd, difference,
                                   DESCRIPTIVE, note, None, None, None, None, None, None, interpretation)
    assert sd is not None and reference_sd is not None and reference_n is not None
    test = welch_from_summaries(mean, sd, n, reference, reference_sd, reference_n, level)
    interpretation = (
        f"{who} is {size} {published} (n = {reference_n:g}, SD {reference_sd:g}); Welch two-sample t test: "
        f"difference {difference:.1f} ({100 * level:g}% CI {test.ci_lower:.1f} to {test.ci_upper:.1f}), "
        f"{_format_p(test.pvalue)}.")
    if n < 10:
        interpretation += f" With only {n} patients the test has little power."
    return PublishedComparison(n, reference, reference_n, reference_sd, level, mean, median, sd, difference, WELCH,
                               "", test.se, test.t_statistic, test.df, test.pvalue, test.ci_lower, test.ci_upper,
                               interpretation)
