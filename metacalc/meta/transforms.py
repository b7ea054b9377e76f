"""Effect sizes for single proportions and their back-transformations: metafor 3.8's ``escalc`` measures PR, PLO,
PAS, PFT and its ``transf.*`` functions.

Continuity correction, as metafor (checked against R, see tests/fixtures/metafor/iv_reference.R):

- ``to``: "only0" adds ``add`` to the events and non-events of studies with 0 events or 0 non-events;
  "all" to every study; "if0all" to every study when any has 0 events or 0 non-events; "none" never.
- The corrected counts are used for BOTH yi and vi, and for every measure, including PR (metafor's defaults
  addyi = addvi = TRUE). So the default (add = 1/2, to = "only0") turns each single-patient report into 0.25 or
  0.75 under PR: 14 responders out of 20 case reports pool to 0.60, not 0.70.
- ``add`` defaults to 1/2 for PR and PLO but to 0 for PAS and PFT (metafor sets add = 0 for those when the caller
  does not give it); ``add=None`` here means "metafor's default for the measure".

Variances (metafor's vtype "LS"): PR p(1-p)/n; PLO 1/x + 1/(n-x); PAS 1/(4n); PFT 1/(4n + 2).
Transforms: PLO log(p/(1-p)); PAS asin(sqrt(p)); PFT (asin(sqrt(x/(n+1))) + asin(sqrt((x+1)/(n+1)))) / 2
(Freeman & Tukey 1950, halved as metafor does).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from metacalc.meta.errors import InvalidInput
from metacalc.meta.options import CORRECTIONS, MEASURES

Array = Sequence[float] | np.ndarray


def default_add(measure: str) -> float:
    """metafor's default ``add`` when the caller gives none: 1/2 for PR and PLO, 0 for PAS and PFT."""
    return 0.0 if measure in ("PAS", "PFT") else 0.5


def corrected_counts(events: Array, totals: Array, measure: str = "PLO", to: str = "only0",
                     add: float | None = None,
                     starts: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Events and totals after metafor's continuity correction (floats), and which studies were corrected.

    ``starts``: the studies of many analyses one after another, each analysis starting at these positions (for
    "if0all", which looks at the whole analysis); by default all studies are one analysis.
    """
    if to not in CORRECTIONS:
        raise InvalidInput(f"unknown continuity correction {to!r}; expected one of {', '.join(CORRECTIONS)}")
    if add is None:
        add = default_add(measure)
    x = np.asarray(events, dtype=float)
    n = np.asarray(totals, dtype=float)
    m = n - x
    zero_cell = (x == 0) | (m == 0)
    if to == "all":
        corrected = np.ones_like(x, dtype=bool)
    elif to == "only0":
        corrected = zero_cell
    elif to == "if0all":
        if starts is None:
            corrected = np.full(x.shape, bool(np.any(zero_cell)))
        else:
            any_zero = np.logical_or.reduceat(zero_cell, starts)
            corrected = np.repeat(any_zero, np.diff(np.append(starts, x.size)))
    else:
        corrected = np.zeros(x.shape, dtype=bool)
    if add == 0:
        corrected = np.zeros(x.shape, dtype=bool)
    x = np.where(corrected, x + add, x)
    m = np.where(corrected, m + add, m)
    return x, x + m, corrected


def escalc_proportion(events: Array, totals: Array, measure: str = "PLO", to: str = "only0",
                      add: float | None = None, starts: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """metafor's ``escalc(measure, xi=events, ni=totals, add=, to=)``: returns (yi, vi) as float arrays
    (``starts``: many analyses one after another, as for ``corrected_counts``).

    Without a correction, PLO gives infinite yi/vi for 0 or n events and PR gives vi = 0 there; callers must
    handle those studies (metafor drops non-finite ones with a warning; ``pool_proportions`` refuses them).
    """
    if measure not in MEASURES:
        raise InvalidInput(f"unknown measure {measure!r}; expected one of {', '.join(MEASURES)}")
    x, n, _ = corrected_counts(events, totals, measure, to, add, starts)
    p = x / n
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "PR":
            yi = p
            vi = p * (1 - p) / n
        elif measure == "PLO":
            yi = np.log(p / (1 - p))
            vi = 1 / x + 1 / (n - x)
        elif measure == "PAS":
            yi = np.arcsin(np.sqrt(p))
            vi = 1 / (4 * n)
        else:
            yi = 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))
            vi = 1 / (4 * n + 2)
    return np.asarray(yi, dtype=float), np.broadcast_to(np.asarray(vi, dtype=float), np.shape(yi)).copy()


def freeman_tukey(p: Array | float, n: float | np.ndarray) -> np.ndarray:
    """metafor's ``transf.pft``: the Freeman-Tukey value of proportion p for sample size n."""
    x = np.asarray(p, dtype=float) * n
    return 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))


def inverse_freeman_tukey(values: Array | float, n: float | np.ndarray) -> np.ndarray:
    """Miller's (1978) inverse of the Freeman-Tukey transform for sample size n (metafor's ``transf.ipft``).

    Values below the transform of p = 0 give 0, above that of p = 1 give 1, as metafor. Where Miller's formula
    has no real solution between those limits (possible when n is small), the result is nan (metafor's NA).
    """
    t = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.sin(2 * t)
        root = 1 - (s + (s - 1 / s) / n) ** 2
        p = 0.5 * (1 - np.sign(np.cos(2 * t)) * np.sqrt(root))
    p = np.where(t > freeman_tukey(1.0, n), 1.0, p)
    p = np.where(t < freeman_tukey(0.0, n), 0.0, p)
    return p


def harmonic_mean(totals: Array) -> float:
    values = np.asarray(totals, dtype=float)
    return float(1 / np.mean(1 / values))


def back_transform(values: Array | float, measure: str, totals: Array | None = None) -> np.ndarray:
    """Estimates on the ``measure`` scale back to proportions, as metafor's transf functions:

    PLO: expit (``transf.ilogit``); PAS: sin² with values below 0 giving 0 and above pi/2 giving 1
    (``transf.iarcsin``); PFT: Miller's inverse with the harmonic mean of ``totals`` (``transf.ipft.hm``);
    PR: identity, not clipped (metafor does not clip either; ``pool_proportions`` clips and says so).
    """
    values = np.asarray(values, dtype=float)
    if measure == "PR":
        return values.copy()
    if measure == "PLO":
        from scipy.special import expit

        return expit(values)
    if measure == "PAS":
        p = np.sin(values) ** 2
        p = np.where(values < 0, 0.0, p)
        return np.where(values > np.arcsin(1.0), 1.0, p)
    if measure == "PFT":
        if totals is None:
            raise InvalidInput("the Freeman-Tukey back-transformation needs the studies' totals")
        return inverse_freeman_tukey(values, harmonic_mean(totals))
    raise InvalidInput(f"unknown measure {measure!r}; expected one of {', '.join(MEASURES)}")
