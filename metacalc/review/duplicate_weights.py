"""The weights of the duplicate screen: each the log10 of a likelihood ratio, P(evidence | one patient
reported twice) / P(evidence | two different patients), and the most each can weigh (what the screen's bound
uses). Pure functions on numbers and arrays; the table of components and why each rate is what it is are in
``metacalc.review.patient_duplicates``."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Mapping

import numpy as np


# Probability that two reports of one patient disagree on the component for reasons other than the patient.
DISAGREE = {"sex": 1e-6, "country": 0.05, "age": 0.05, "years to onset": 0.30, "dose": 0.15, "response": 0.15}
# P(|difference| = k years) between two consistent reports of one patient.
AGE_GAP_KNOWN = (0.55, 0.35, 0.07, 0.03)
AGE_GAP_UNKNOWN = (0.40, 0.30, 0.15, 0.08, 0.04, 0.03)
ONSET = (0.50, 0.30, 0.12, 0.08)
MIN_SD = {"age": 10.0, "years to onset": 5.0}  # small reviews understate how far apart patients lie
MAX_GAP = 20            # years between reports beyond which the spread of ages that fit one patient stops growing
MENTIONED = 0.7         # a report names a given therapy of the patient
SHARED_AUTHOR = 0.6     # duplicate publications that share an author
NO_SHARED = 0.9         # pairs of different patients that share neither an author nor a passage
WORDING = ((0.4, 0.9), (0.3, 0.08), (0.15, 0.015), (0.15, 0.005))  # (P | same, P | different) for 0..3+


def smoothed_share(count: float, total: float, distinct: int) -> float:
    return (count + 1.0) / (total + distinct + 1.0)


def categorical_weight(a: str, b: str, counts: Mapping[str, int], rho: float) -> float:
    """log10 LR of two values of one field; ``counts`` over all patients (the pair's own are left out here)."""
    total, distinct = sum(counts.values()) - 2, len(counts)
    if a == b:
        return math.log10((1 - rho) / smoothed_share(counts.get(a, 0) - 2, total, distinct))
    p_a = smoothed_share(counts.get(a, 0) - 1, total, distinct)
    p_b = smoothed_share(counts.get(b, 0) - 1, total, distinct)
    return math.log10(rho * 0.5 * (1 / (1 - p_a) + 1 / (1 - p_b)))


def _normal_cdf(x):
    from scipy.special import ndtr  # imported here: the module is imported by analyses that never score pairs

    return ndtr(x)


@lru_cache(maxsize=None)
def _below(table: tuple) -> np.ndarray:
    size = len(table) - 1
    signed = [table[k] / 2 for k in range(size, 0, -1)] + [table[0]] + [table[k] / 2 for k in range(1, size + 1)]
    return np.concatenate(([0.0], np.cumsum(signed)))  # [m] = P(error <= m - size - 1)


def _cumulative(table, t):
    """P(error <= t) for a signed whole-year error whose |error| has the probabilities ``table`` (0, 1, 2...)."""
    size = len(table) - 1
    return _below(tuple(table))[np.clip(t, -size - 1, size).astype(int) + size + 1]


def interval_weight(x, gap, known, sd, rho, table_known, table_unknown):
    """log10 LR of two numeric values (arrays broadcast).

    ``x`` is the second value minus the first; ``gap`` the years between the two reports where ``known``.
    One patient reported twice may be described at the same moment twice or at two moments up to ``gap``
    apart, so the consistent part of "same patient" spreads evenly over the differences 0..gap, each blurred
    by ``table_known``; with the gap unknown the wider ``table_unknown`` stands for it. "Different patients"
    is the difference of two values of the review's spread ``sd``; a share ``rho`` of reports of one patient
    is inconsistent and looks like that too.
    """
    x, known = np.asarray(x, float), np.asarray(known, bool)
    gap = np.where(known, np.nan_to_num(np.asarray(gap, float)), 0.0)
    span = np.minimum(np.rint(np.abs(gap)), MAX_GAP)
    # Errors are symmetric, so a negative gap is the mirror image of a positive one.
    t = np.rint(np.nan_to_num(np.where(gap < 0, -x, x)))
    # sum over u = 0..span of P(error = t - u), as a difference of cumulative probabilities
    inside = np.where(known, _cumulative(table_known, t) - _cumulative(table_known, t - span - 1),
                      _cumulative(table_unknown, t) - _cumulative(table_unknown, t - span - 1))
    consistent = inside / (span + 1)
    s = math.sqrt(2.0) * sd
    different = _normal_cdf((x + 0.5) / s) - _normal_cdf((x - 0.5) / s)
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.log10(((1 - rho) * consistent + rho * different) / different)
    return np.where(np.isnan(x), 0.0, weight)


def interval_cap(sd, rho, table_known, table_unknown, max_span=MAX_GAP) -> float:
    """The most ``interval_weight`` can give for any difference and any gap of at most ``max_span`` years, or 0
    (a blank value gives 0): the bound's stand-in for the age and onset weights of a pair before it computes them.

    Why it is an upper bound: "same patient" depends on the difference x only through t = rint(x) (and on the
    gap through the span, 0 to ``max_span``; a negative gap mirrors a positive one), and "different patients",
    Phi((x + 0.5)/s) - Phi((x - 0.5)/s), falls as |x| grows, so over the x with rint(x) = t it is smallest at
    |x| = |t| + 0.5. The weight, log10((1 - rho) same / different + rho), is therefore at most its value with
    that smallest "different", for every t where "same" is not 0 (beyond, the weight is log10(rho) < 0).
    """
    reach = max(len(table_known), len(table_unknown)) + max_span + 1
    t = np.arange(-reach, reach + 1, dtype=float)
    s = math.sqrt(2.0) * sd
    far = np.abs(t) + 0.5
    different = _normal_cdf((far + 0.5) / s) - _normal_cdf((far - 0.5) / s)
    best = 0.0
    cases = [(table_known, span) for span in range(max_span + 1)] + [(table_unknown, 0)]
    for table, span in cases:
        same = (_cumulative(table, t) - _cumulative(table, t - span - 1)) / (span + 1)
        with np.errstate(divide="ignore"):
            best = max(best, float(np.max(np.log10((1 - rho) * same / different + rho))))
    return best


@lru_cache(maxsize=65536)
def pair_interval_weight(x, gap, known, sd, rho, table_known, table_unknown) -> float:
    # One pair at a time: numpy's overhead on scalars dominates, and the same few differences recur.
    return float(interval_weight(x, gap, known, sd, rho, table_known, table_unknown))
