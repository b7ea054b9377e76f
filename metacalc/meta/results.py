"""Small frozen result objects returned by the statistical core (like scipy.stats results / metafor's rma object).

Everything in :class:`RandomEffectsResult` and :class:`BatchResult` is on the scale the model was fitted on
(logit, arcsine, Freeman-Tukey or raw proportion); :class:`ProportionResult` carries the back-transformed values.
Values that metafor reports as ``NA`` are ``nan`` here (or ``None`` for a whole interval that does not exist);
only :meth:`ProportionResult.to_dict` promises JSON without NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class RandomEffectsResult:
    """An inverse-variance fit of one analysis, with metafor's ``rma.uni`` semantics (intercept-only model).

    ``tau2_ci`` is the Q-profile interval of ``confint(rma)``; it is ``None`` where metafor refuses to give one
    (k = 1, or a common-effect model). ``df`` is ``None`` for z tests and k - 1 for Hartung-Knapp.
    ``weights`` are percentages summing to 100.
    """

    k: int
    method: str
    test: str
    level: float
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    pi_lower: float
    pi_upper: float
    statistic: float
    pvalue: float
    df: int | None
    tau2: float
    tau2_ci: tuple[float, float] | None
    i2: float
    h2: float
    q: float
    q_df: int
    q_pvalue: float
    weights: np.ndarray = field(repr=False)
    yi: np.ndarray = field(repr=False)
    vi: np.ndarray = field(repr=False)
    labels: tuple[str, ...] | None = field(default=None, repr=False)

    @property
    def tau(self) -> float:
        return math.sqrt(self.tau2)


@dataclass(frozen=True)
class BatchResult:
    """Many intercept-only fits at once: every field is an array with one entry per analysis (row).

    Rows with fewer studies were padded with NaN on input; ``k`` gives each row's real number of studies.
    ``converged`` is False where metafor would have stopped with an error (the row's other values are nan).
    """

    k: np.ndarray
    method: str
    test: str
    level: float
    estimate: np.ndarray
    se: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    pi_lower: np.ndarray
    pi_upper: np.ndarray
    statistic: np.ndarray
    pvalue: np.ndarray
    tau2: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    q: np.ndarray
    q_pvalue: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray

    def __len__(self):
        return len(self.estimate)


def json_number(value):
    """A float for JSON, or None when it is not finite (JSON has no NaN or infinity)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class StudyProportion:
    label: str
    events: int
    total: int
    estimate: float
    ci_lower: float
    ci_upper: float
    weight: float

    def to_dict(self):
        return {
            "label": self.label,
            "events": int(self.events),
            "total": int(self.total),
            "estimate": json_number(self.estimate),
            "ci_lower": json_number(self.ci_lower),
            "ci_upper": json_number(self.ci_upper),
            "weight": json_number(self.weight),
        }


@dataclass(frozen=True)
class ProportionResult:
    """A pooled proportion on the proportion scale, with the model behind it.

    ``method`` is "exact" (pooled count), "iv" (two-step inverse-variance on ``measure``) or "glmm";
    ``reason`` says why that method was used and ``warnings`` lists what a reader must know (each a sentence).
    ``transformed`` holds estimate/se/ci on the model scale (for "exact": the proportion itself, se = the
    binomial standard error of the pooled count). Fields that do not exist for a method are ``None``
    (``tau2`` etc. for "exact"); ``nulls`` maps such a field to why it is null.
    """

    k: int
    method: str
    measure: str | None
    tau2_method: str | None
    level: float
    estimate: float
    ci_lower: float
    ci_upper: float
    pi_lower: float | None
    pi_upper: float | None
    transformed: dict
    tau2: float | None
    tau2_ci: tuple | None
    i2: float | None
    h2: float | None
    q: float | None
    q_df: int | None
    q_pvalue: float | None
    studies: tuple[StudyProportion, ...]
    reason: str
    warnings: tuple[str, ...] = ()
    nulls: dict = field(default_factory=dict)
    model: object = field(default=None, repr=False, compare=False)

    def to_dict(self):
        """The JSON form of issue 5 (never NaN: a missing number is null and ``nulls`` says why)."""
        return pooled_result_dict(self, self.nulls)


def pooled_result_dict(result, nulls):
    """The JSON layout shared by pooled proportions and pooled means (issue 5).

    Never NaN: a number that is missing or not finite is null, and ``nulls`` (a copy of the given reasons,
    completed here) says why.
    """
    nulls = dict(nulls)

    def number(name, value):
        out = json_number(value)
        if out is None and value is not None and name not in nulls:
            nulls[name] = "not a finite number for these data"
        return out

    tau2_ci = None
    if result.tau2_ci is not None:
        tau2_ci = [number("tau2_ci", result.tau2_ci[0]), number("tau2_ci", result.tau2_ci[1])]
    out = {
        "k": int(result.k),
        "method": result.method,
        "measure": result.measure,
        "tau2_method": result.tau2_method,
    }
    if hasattr(result, "test"):
        out["test"] = result.test
    out.update({
        "level": float(result.level),
        "estimate": number("estimate", result.estimate),
        "ci_lower": number("ci_lower", result.ci_lower),
        "ci_upper": number("ci_upper", result.ci_upper),
        "pi_lower": number("pi_lower", result.pi_lower),
        "pi_upper": number("pi_upper", result.pi_upper),
        "transformed": {key: number("transformed." + key, value) for key, value in result.transformed.items()},
        "tau2": number("tau2", result.tau2),
        "tau2_ci": tau2_ci,
        "i2": number("i2", result.i2),
        "h2": number("h2", result.h2),
        "q": number("q", result.q),
        "q_df": None if result.q_df is None else int(result.q_df),
        "q_pvalue": number("q_pvalue", result.q_pvalue),
        "studies": [study.to_dict() for study in result.studies],
        "reason": result.reason,
        "warnings": list(result.warnings),
    })
    out["nulls"] = {key: nulls[key] for key in sorted(nulls)}
    return out
