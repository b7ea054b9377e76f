"""Mean and SD estimated from a median with range and/or quartiles, for case series that publish only those.

References
    Wan X, Wang W, Liu J, Tong T. Estimating the sample mean and standard deviation from the sample size,
    median, range and/or interquartile range. BMC Med Res Methodol 2014;14:135.
    Luo D, Wan X, Liu J, Tong T. Optimally estimating the sample mean from the sample size, median, mid-range,
    and/or mid-quartile range. Stat Methods Med Res 2018;27(6):1785-1805.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from metacalc.meta.errors import InvalidInput
from metacalc.meta.study_rows import json_number


@dataclass(frozen=True)
class EstimatedMeanSD:
    """Mean and SD estimated from a median with range (S1), with range and quartiles (S2) or with quartiles (S3).

    Scenario names follow Wan et al. 2014: S1 = {min, median, max, n}, S2 = {min, q1, median, q3, max, n},
    S3 = {q1, median, q3, n}. Both assume roughly normal data; skewed data bias them (time to onset often is).
    """

    n: float
    scenario: str
    mean: float
    sd: float
    mean_method: str
    sd_method: str

    @property
    def source(self) -> str:
        return f"estimated from {self.scenario} ({self.mean_method} mean, {self.sd_method} SD)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": json_number(self.n),
            "scenario": self.scenario,
            "mean": json_number(self.mean),
            "sd": json_number(self.sd),
            "mean_method": self.mean_method,
            "sd_method": self.sd_method,
        }


def _xi(n: float) -> float:
    # Expected range of n standard normal values (Blom's approximation), Wan et al. 2014 eq. 7-9.
    from metacalc.meta.distributions import norm_ppf

    return float(2 * norm_ppf((n - 0.375) / (n + 0.25)))


def _eta(n: float) -> float:
    # Expected interquartile range of n standard normal values, Wan et al. 2014 eq. 15-16.
    from metacalc.meta.distributions import norm_ppf

    return float(2 * norm_ppf((0.75 * n - 0.125) / (n + 0.25)))


def _given(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def mean_sd_from_quantiles(n: Any, median: Any, min: Any = None, max: Any = None, q1: Any = None, q3: Any = None,
                           mean_method: str = "luo2018", sd_method: str = "wan2014") -> EstimatedMeanSD:
    """Estimate a sample's mean and SD from its median and range and/or quartiles.

    Mean: ``"luo2018"`` (optimal weights, Luo et al. 2018 eq. 7 / 15 / 11 for S1 / S2 / S3) or ``"wan2014"``
    ((a + 2m + b) / 4; (a + 2q1 + 2m + 2q3 + b) / 8; (q1 + m + q3) / 3).
    SD: ``"wan2014"`` only: (b - a) / xi(n) in S1, the average of the range and IQR estimates in S2,
    (q3 - q1) / eta(n) in S3, with xi(n) = 2 Phi^-1((n - 0.375) / (n + 0.25)) and
    eta(n) = 2 Phi^-1((0.75 n - 0.125) / (n + 0.25)).
    Needs n >= 2 (with one value neither range nor quartiles carry spread). Raises ``InvalidInput``.
    """
    if mean_method not in ("luo2018", "wan2014"):
        raise InvalidInput(f"unknown mean_method {mean_method!r} (expected 'luo2018' or 'wan2014')")
    if sd_method != "wan2014":
        raise InvalidInput(f"unknown sd_method {sd_method!r} (expected 'wan2014')")
    if not _given(median):
        raise InvalidInput("the median is needed")
    if not _given(n) or n < 2:
        raise InvalidInput(f"n must be at least 2 to estimate an SD (got {n})")
    has_range = _given(min) and _given(max)
    has_quartiles = _given(q1) and _given(q3)
    present = [v for v in (min, q1, median, q3, max) if _given(v)]
    if any(later < earlier for earlier, later in zip(present, present[1:])):
        raise InvalidInput(f"expected min <= q1 <= median <= q3 <= max (got {present})")
    n = float(n)
    m = float(median)
    if has_range and has_quartiles:
        scenario = "S2"
        a, b, lo, hi = float(min), float(max), float(q1), float(q3)
        if mean_method == "luo2018":
            w_range = 2.2 / (2.2 + n**0.75)
            w_quartiles = 0.7 - 0.72 / n**0.55
            mean = w_range * (a + b) / 2 + w_quartiles * (lo + hi) / 2 + (1 - w_range - w_quartiles) * m
        else:
            mean = (a + 2 * lo + 2 * m + 2 * hi + b) / 8
        sd = (b - a) / (2 * _xi(n)) + (hi - lo) / (2 * _eta(n))
    elif has_range:
        scenario = "S1"
        a, b = float(min), float(max)
        if mean_method == "luo2018":
            w = 4 / (4 + n**0.75)
            mean = w * (a + b) / 2 + (1 - w) * m
        else:
            mean = (a + 2 * m + b) / 4
        sd = (b - a) / _xi(n)
    elif has_quartiles:
        scenario = "S3"
        lo, hi = float(q1), float(q3)
        if mean_method == "luo2018":
            w = 0.7 + 0.39 / n
            mean = w * (lo + hi) / 2 + (1 - w) * m
        else:
            mean = (lo + m + hi) / 3
        sd = (hi - lo) / _eta(n)
    else:
        raise InvalidInput("need the range (min and max) and/or the quartiles (q1 and q3) with the median")
    return EstimatedMeanSD(n=n, scenario=scenario, mean=float(mean), sd=float(sd), mean_method=mean_method,
                           sd_method=sd_method)
