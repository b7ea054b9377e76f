"""The results of the statistical core: small frozen objects, like scipy.stats results or metafor's rma object.

- :class:`ConfidenceInterval` (lower, upper, level, method) is the one interval type of every result. It unpacks
  and indexes as the pair (lower, upper).
- :class:`RandomEffectsResult` (one inverse-variance fit) and :class:`BatchResult` (many, as arrays) are on the
  scale the model was fitted on (logit, arcsine, Freeman-Tukey, raw proportion or mean).
- :class:`GlmmResult` is a binomial-normal fit on the logit scale.
- :class:`ProportionResult` and :class:`MeanResult` are what a review reports: a pooled value with its study
  rows (``study_rows.StudyTable``), the reason for the method and the warnings a reader must know. They remember the
  settings they were fitted with, so that ``leave_one_out(result)`` and ``cumulative(result)`` can refit.
- :class:`StepTable` and :class:`SubgroupAnalysis` are the results of the verbs in ``sensitivity``.

Values that metafor reports as ``NA`` are ``nan`` here (or ``None`` for a whole interval that does not exist);
only the ``to_dict`` methods promise JSON without NaN.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from metacalc.meta.errors import EstimationError
from metacalc.meta.options import MeanSettings, ProportionSettings
from metacalc.meta.study_rows import StudyTable, json_number

# ConfidenceInterval.method values
Z = "z"  # estimate +/- normal quantile x SE (Wald-type)
T = "t"  # estimate +/- Student's t quantile x SE, on the interval's df
KNHA = "knha"  # Hartung-Knapp: adjusted SE and t(k - 1) quantiles
Q_PROFILE = "q-profile"  # Viechtbauer 2007
CLOPPER_PEARSON = "clopper-pearson"
CLOPPER_PEARSON_LOWER = "clopper-pearson one-sided lower"  # a lower limit only (the upper is nan)

# ProportionResult.estimand values: which proportion the estimate is
POOLED_COUNT = "pooled count"  # sum(x) / sum(n): the share of all pooled patients
POPULATION_AVERAGE = "population average"  # E[expit(mu + tau Z)] of the GLMM: all settings together
MEDIAN_SETTING = "median setting"  # expit(mu): the GLMM's (metafor's) and the logit model's back-transformed mean
MEAN_PROPORTION = "mean proportion"  # the inverse-variance mean of the raw proportions (PR)
BACK_TRANSFORMED_MEAN = "back-transformed mean"  # the mean on the arcsine or Freeman-Tukey scale, back-transformed


# ConfidenceInterval.lower_censored / upper_censored values: metafor's lb.sign / ub.sign of confint(rma)
NOT_CENSORED, BELOW, ABOVE = "", "<", ">"
_CENSOR_CODES = {-1: BELOW, 0: NOT_CENSORED, 1: ABOVE}


@dataclass(frozen=True)
class ConfidenceInterval:
    """An interval at ``level`` (a fraction) computed by ``method``; ``lower, upper = interval`` works.

    ``lower_censored`` / ``upper_censored`` are "" for a bound that was found, or metafor's sign for one that lies
    beyond the end of the search (">": the true bound is above the number given, which is the search limit;
    "<": below it). Only Q-profile intervals for tau² are ever censored.
    """

    lower: float
    upper: float
    level: float
    method: str
    lower_censored: str = NOT_CENSORED
    upper_censored: str = NOT_CENSORED
    df: float | None = None  # degrees of freedom of a t-based interval (method "t")

    @property
    def censored(self) -> bool:
        return bool(self.lower_censored or self.upper_censored)

    def __iter__(self) -> Iterator[float]:
        return iter((self.lower, self.upper))

    def __len__(self) -> int:
        return 2

    def __getitem__(self, index: int) -> float:
        return (self.lower, self.upper)[index]


class _Bounds:
    """``ci_lower`` ... ``pi_upper`` read from the ``ci`` and ``pi`` intervals (None where there is no interval)."""

    ci: ConfidenceInterval
    pi: ConfidenceInterval | None

    @property
    def ci_lower(self) -> float:
        return self.ci.lower

    @property
    def ci_upper(self) -> float:
        return self.ci.upper

    @property
    def pi_lower(self) -> float | None:
        return None if self.pi is None else self.pi.lower

    @property
    def pi_upper(self) -> float | None:
        return None if self.pi is None else self.pi.upper


@dataclass(frozen=True)
class RandomEffectsResult(_Bounds):
    """An inverse-variance fit of one analysis, with metafor's ``rma.uni`` semantics (intercept-only model).

    ``tau2_ci`` is the Q-profile interval of ``confint(rma)``; it is ``None`` where metafor refuses to give one
    (k = 1, or a common-effect model) or where it was not asked for. ``df`` is ``None`` for z tests and k - 1 for
    Hartung-Knapp. ``weights`` are percentages summing to 100.
    """

    k: int
    method: str
    test: str
    level: float
    estimate: float
    se: float
    ci: ConfidenceInterval
    pi: ConfidenceInterval
    statistic: float
    pvalue: float
    df: int | None
    tau2: float
    tau2_ci: ConfidenceInterval | None
    i2: float
    h2: float
    q: float
    q_df: int
    q_pvalue: float
    weights: np.ndarray = field(repr=False, compare=False)
    yi: np.ndarray = field(repr=False, compare=False)
    vi: np.ndarray = field(repr=False, compare=False)
    labels: tuple[str, ...] | None = field(default=None, repr=False)

    @property
    def tau(self) -> float:
        return math.sqrt(self.tau2)


@dataclass(frozen=True, eq=False)
class BatchResult:
    """Many intercept-only fits at once: every field is an array with one entry per analysis (row).

    ``k`` gives each row's number of studies; ``yi``, ``vi`` and ``weights`` are rows x studies, NaN-padded.
    ``converged`` is False where metafor would have stopped with an error: ``errors`` holds its message and the
    row's other values are nan. ``knha`` says where Hartung-Knapp was used (never for k = 1, as metafor).
    ``tau2_ci_lower`` / ``tau2_ci_upper`` are nan where there is no Q-profile interval (k = 1, "FE", not asked);
    ``tau2_ci_lower_censored`` / ``tau2_ci_upper_censored`` are -1 / 0 / +1 for metafor's "<" / "" / ">".
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
    knha: np.ndarray
    tau2: np.ndarray
    tau2_ci_lower: np.ndarray
    tau2_ci_upper: np.ndarray
    tau2_ci_lower_censored: np.ndarray
    tau2_ci_upper_censored: np.ndarray
    has_tau2_ci: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    q: np.ndarray
    q_pvalue: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    errors: tuple[str | None, ...] = field(repr=False)
    weights: np.ndarray = field(repr=False)
    yi: np.ndarray = field(repr=False)
    vi: np.ndarray = field(repr=False)

    def __len__(self) -> int:
        return len(self.estimate)

    def result(self, row: int, labels: Sequence[str] | None = None) -> RandomEffectsResult:
        """Row ``row`` as a :class:`RandomEffectsResult`; raises ``EstimationError`` where the fit failed."""
        result = self.results([row], None if labels is None else [labels])[0]
        if isinstance(result, EstimationError):
            raise result
        return result

    def results(self, rows: Sequence[int] | None = None,
                labels: Sequence[Sequence[str] | None] | None = None) -> list[RandomEffectsResult | EstimationError]:
        """The rows (all by default) as results, with their study labels; a failed fit is its EstimationError."""
        positions = list(range(len(self))) if rows is None else list(rows)
        # Python numbers once per column: reading numpy scalars one by one costs more than the fit itself
        columns = {name: getattr(self, name)[positions].tolist() for name in (
            "k", "estimate", "se", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "statistic", "pvalue", "knha",
            "tau2", "tau2_ci_lower", "tau2_ci_upper", "tau2_ci_lower_censored", "tau2_ci_upper_censored",
            "has_tau2_ci", "i2", "h2", "q", "q_pvalue", "converged")}
        out: list[RandomEffectsResult | EstimationError] = []
        for j, row in enumerate(positions):
            if not columns["converged"][j]:
                out.append(EstimationError(self.errors[row] or "the fit failed"))
                continue
            k = columns["k"][j]
            test = KNHA if columns["knha"][j] else Z
            given = None if labels is None else labels[j]
            names = None if given is None else tuple(str(label) for label in given)
            out.append(RandomEffectsResult(
                k=k, method=self.method, test=test, level=self.level, estimate=columns["estimate"][j],
                se=columns["se"][j],
                ci=ConfidenceInterval(columns["ci_lower"][j], columns["ci_upper"][j], self.level, test),
                pi=ConfidenceInterval(columns["pi_lower"][j], columns["pi_upper"][j], self.level, test),
                statistic=columns["statistic"][j], pvalue=columns["pvalue"][j], df=k - 1 if test == KNHA else None,
                tau2=columns["tau2"][j],
                tau2_ci=ConfidenceInterval(columns["tau2_ci_lower"][j], columns["tau2_ci_upper"][j], self.level,
                                           Q_PROFILE, _CENSOR_CODES[columns["tau2_ci_lower_censored"][j]],
                                           _CENSOR_CODES[columns["tau2_ci_upper_censored"][j]])
                if columns["has_tau2_ci"][j] else None,
                i2=columns["i2"][j], h2=columns["h2"][j], q=columns["q"][j], q_df=k - 1,
                q_pvalue=columns["q_pvalue"][j], weights=self.weights[row, :k], yi=self.yi[row, :k],
                vi=self.vi[row, :k], labels=names,
            ))
        return out


@dataclass(frozen=True)
class GlmmResult(_Bounds):
    """A fitted binomial-normal model. Estimates and intervals are on the logit scale, like metafor's.

    ``q`` / ``q_pvalue`` are metafor's Wald-type heterogeneity test (QE.Wld / QEp.Wld) and ``q_lrt`` /
    ``q_lrt_pvalue`` the likelihood-ratio test (QE.LRT / QEp.LRT), both on ``q_df`` = k - 1 degrees of freedom.
    ``loglik`` is the maximised marginal log-likelihood (quadrature approximation) including the binomial
    coefficients, i.e. sum log C(n_i, x_i) + (saturated log-likelihood) - deviance / 2. (lme4's ``logLik`` is
    -deviance / 2 without those constants; metafor's ``fit.stats`` uses glmer's conditional deviance.)
    """

    k: int
    estimate: float
    se: float
    ci: ConfidenceInterval
    pi: ConfidenceInterval
    tau2: float
    i2: float
    h2: float
    q: float
    q_df: int
    q_pvalue: float
    q_lrt: float
    q_lrt_pvalue: float
    loglik: float
    level: float
    nagq: int
    iterations: int
    events: np.ndarray = field(repr=False, compare=False)
    totals: np.ndarray = field(repr=False, compare=False)
    labels: tuple[str, ...] | None = None
    warnings: tuple[str, ...] = ()

    @property
    def tau(self) -> float:
        return math.sqrt(self.tau2)

    def proportion(self) -> tuple[float, float, float]:
        """Estimate and confidence limits back-transformed to proportions."""
        def expit(value: float) -> float:
            return 0.5 * (1.0 + math.tanh(0.5 * value))

        return expit(self.estimate), expit(self.ci.lower), expit(self.ci.upper)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"k": self.k, "estimate": self.estimate, "se": self.se, "ci_lower": self.ci.lower,
                               "ci_upper": self.ci.upper, "pi_lower": self.pi.lower, "pi_upper": self.pi.upper}
        for name in ("tau2", "i2", "h2", "q", "q_df", "q_pvalue", "q_lrt", "q_lrt_pvalue", "loglik", "level", "nagq",
                     "iterations"):
            out[name] = getattr(self, name)
        out["labels"] = list(self.labels) if self.labels is not None else None
        out["warnings"] = list(self.warnings)
        return out


# ----------------------------------------------------------------------------------------------------------------
# Pooled proportions and means
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProportionResult(_Bounds):
    """A pooled proportion on the proportion scale, with the model behind it.

    ``method`` is "exact" (pooled count), "iv" (two-step inverse-variance on ``measure``) or "glmm";
    ``reason`` says why that method was used and ``warnings`` lists what a reader must know (each a sentence).
    ``estimand`` names the proportion estimated (``POOLED_COUNT``, ``POPULATION_AVERAGE``, ``MEDIAN_SETTING``,
    ``MEAN_PROPORTION``, ``BACK_TRANSFORMED_MEAN``); ``branch`` is the auto rule's branch (``auto_rule.REASONS``
    keys, or "lower bound"), None when a method was requested. ``transformed`` holds estimate/se/ci (and the
    prediction interval where there is one) on the model's own scale, unclipped (for "exact": the proportion
    itself, se = the binomial standard error of the pooled count; for the GLMM the mean logit mu, whatever the
    estimand). ``q`` / ``q_pvalue`` are Cochran's Q (inverse variance) or the GLMM's Wald test (QE.Wld), and
    ``q_lrt`` / ``q_lrt_pvalue`` the GLMM's likelihood-ratio test (QE.LRT). ``lower_bound`` is True when some
    study's events (``lower_bounds``, one flag per study) are only a lower bound: the estimate is then a lower
    bound and ``ci`` a one-sided lower limit (upper nan). Fields that do not exist for a method are ``None``
    (``tau2``, ``pi`` etc. for "exact"); ``nulls`` maps such a field to why it is null.
    """

    k: int
    method: str
    measure: str | None
    tau2_method: str | None
    level: float
    estimate: float
    ci: ConfidenceInterval
    pi: ConfidenceInterval | None
    transformed: dict[str, float]
    tau2: float | None
    tau2_ci: ConfidenceInterval | None
    i2: float | None
    h2: float | None
    q: float | None
    q_df: int | None
    q_pvalue: float | None
    studies: StudyTable = field(compare=False)
    reason: str
    warnings: tuple[str, ...] = ()
    nulls: dict[str, str] = field(default_factory=dict)
    settings: ProportionSettings = field(default_factory=ProportionSettings, repr=False, compare=False)
    model: RandomEffectsResult | GlmmResult | None = field(default=None, repr=False, compare=False)
    q_lrt: float | None = None
    q_lrt_pvalue: float | None = None
    estimand: str = POOLED_COUNT
    branch: str | None = None
    lower_bound: bool = False
    lower_bounds: tuple[bool, ...] = ()

    @property
    def scale(self) -> str:
        """The scale the model was fitted on, where ``transformed`` lives: "proportion" for the pooled count,
        "logit" for the GLMM, the measure's scale for inverse variance (subgroups are compared on it)."""
        if self.method == "exact":
            return "proportion"
        return "logit" if self.method == "glmm" else SCALES.get(self.measure or "", str(self.measure))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of issue 5 (never NaN: a missing number is null and ``nulls`` says why)."""
        return pooled_result_dict(self, self.nulls)


SCALES = {"PLO": "logit", "PR": "proportion", "PAS": "arcsine", "PFT": "Freeman-Tukey"}


@dataclass(frozen=True)
class MeanResult(_Bounds):
    """A pooled mean (inverse-variance random effects on raw means), in the shape of ``ProportionResult``.

    ``transformed`` is the identity here (means are pooled on their own scale); it is kept so that proportions
    and means share one JSON layout. ``model`` is the underlying ``RandomEffectsResult``.
    """

    k: int
    method: str
    measure: str
    tau2_method: str
    test: str
    level: float
    estimate: float
    se: float
    ci: ConfidenceInterval
    pi: ConfidenceInterval
    tau2: float
    tau2_ci: ConfidenceInterval | None
    i2: float
    h2: float
    q: float
    q_df: int
    q_pvalue: float
    studies: StudyTable = field(compare=False)
    reason: str = ""
    warnings: tuple[str, ...] = ()
    settings: MeanSettings = field(default_factory=MeanSettings, repr=False, compare=False)
    model: RandomEffectsResult | None = field(default=None, repr=False, compare=False)

    @property
    def transformed(self) -> dict[str, float]:
        return {"estimate": self.estimate, "se": self.se, "ci_lower": self.ci.lower, "ci_upper": self.ci.upper}

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of issue 5 for means (never NaN: a number that is not finite is null, ``nulls`` says why)."""
        nulls = {}
        if self.method == "iv" and self.tau2_method == "FE":
            nulls["pi_lower"] = nulls["pi_upper"] = "no prediction interval for a common-effect model"
        if self.tau2_ci is None:
            nulls["tau2_ci"] = (
                "no Q-profile interval for a single study" if self.k == 1 else "no interval for this tau2 method"
            )
        return pooled_result_dict(self, nulls)


def pooled_result_dict(result: ProportionResult | MeanResult, nulls: Mapping[str, str]) -> dict[str, Any]:
    """The JSON layout shared by pooled proportions and pooled means (issue 5).

    Never NaN: a number that is missing or not finite is null, and ``nulls`` (a copy of the given reasons,
    completed here) says why.
    """
    reasons = dict(nulls)

    def number(name: str, value: Any) -> float | None:
        out = json_number(value)
        if out is None and value is not None and name not in reasons:
            reasons[name] = "not a finite number for these data"
        return out

    tau2_ci = censored = None
    if result.tau2_ci is not None:
        tau2_ci = [number("tau2_ci", result.tau2_ci[0]), number("tau2_ci", result.tau2_ci[1])]
        censored = [result.tau2_ci.lower_censored, result.tau2_ci.upper_censored]
    out: dict[str, Any] = {
        "k": int(result.k),
        "method": result.method,
        "measure": result.measure,
        "tau2_method": result.tau2_method,
    }
    if isinstance(result, MeanResult):
        out["test"] = result.test
    out.update({
        "level": float(result.level),
        "estimate": number("estimate", result.estimate),
        "ci_lower": number("ci_lower", result.ci_lower),
        "ci_upper": number("ci_upper", result.ci_upper),
        "pi_lower": number("pi_lower", result.pi_lower),
        "pi_upper": number("pi_upper", result.pi_upper),
        "transformed": {key: number("transformed." + key, value) for key, value in result.transformed.items()},
        "ci_method": result.ci.method,
        "ci_df": number("ci_df", result.ci.df),
        "tau2": number("tau2", result.tau2),
        "tau2_ci": tau2_ci,
        # metafor's signs: ">" where the bound lies above the number given (the end of the search), "" where found
        "tau2_ci_censored": censored,
        "i2": number("i2", result.i2),
        "h2": number("h2", result.h2),
        "q": number("q", result.q),
        "q_df": None if result.q_df is None else int(result.q_df),
        "q_pvalue": number("q_pvalue", result.q_pvalue),
    })
    if isinstance(result, ProportionResult):
        out.update({
            "q_lrt": number("q_lrt", result.q_lrt),
            "q_lrt_pvalue": number("q_lrt_pvalue", result.q_lrt_pvalue),
            "estimand": result.estimand,
            "branch": result.branch,
            "lower_bound": result.lower_bound,
            "lower_bound_studies": [label for label, flag in zip(result.studies.labels, result.lower_bounds) if flag],
        })
    out.update({
        "studies": result.studies.to_dicts(),
        "reason": result.reason,
        "warnings": list(result.warnings),
    })
    out["nulls"] = {key: reasons[key] for key in sorted(reasons)}
    return out


# ----------------------------------------------------------------------------------------------------------------
# Sensitivity analyses
# ----------------------------------------------------------------------------------------------------------------

# Per-step quantities in leave-one-out / cumulative tables, as metafor lists them.
STEP_FIELDS = ("estimate", "se", "statistic", "pvalue", "ci_lower", "ci_upper", "q", "q_pvalue", "tau2", "i2", "h2")


def model_value(result: Any, name: str) -> float:
    """A number of a fitted result as a float (nan where the result has none); pooled proportions keep their
    SE on the model scale only, in ``transformed``."""
    value = getattr(result, name, None)
    if value is None and name == "se":
        value = (getattr(result, "transformed", None) or {}).get("se")
    return math.nan if value is None else float(value)


@dataclass(frozen=True)
class StepTable:
    """One fit per step: leave-one-out (step i = all studies but study i) or cumulative (step i = first i).

    ``labels[i]`` names the study left out / added at step i; ``indices[i]`` are the studies in fit i (positions
    in the original data); every array in :data:`STEP_FIELDS` has one entry per step (NaN where the fit has no
    such quantity); ``fits`` keeps the full results.
    """

    kind: str
    labels: tuple[str, ...]
    indices: tuple[tuple[int, ...], ...]
    estimate: np.ndarray
    se: np.ndarray
    statistic: np.ndarray
    pvalue: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    q: np.ndarray
    q_pvalue: np.ndarray
    tau2: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    fits: tuple[Any, ...] = field(repr=False, compare=False, default=())

    def __len__(self) -> int:
        return len(self.labels)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: one object per step, non-finite numbers as null."""
        label_key = "omitted" if self.kind == "leave_one_out" else "added"
        rows = []
        for i, label in enumerate(self.labels):
            row: dict[str, Any] = {label_key: label, "k": len(self.indices[i])}
            row.update({name: json_number(getattr(self, name)[i]) for name in STEP_FIELDS})
            rows.append(row)
        return {"kind": self.kind, "steps": rows}


@dataclass(frozen=True)
class SubgroupAnalysis:
    """Separate fits per subgroup and the test for subgroup differences (see ``sensitivity``).

    ``groups`` lists the subgroup values in order of first appearance; ``fits[g]`` is that subgroup's result.
    ``q_between`` is None with fewer than two subgroups that have a finite estimate and a positive SE, or when
    the subgroups were fitted on different scales (``not_tested`` says so); ``excluded`` names subgroups left out
    of the test and why; ``scale`` is the common scale of the test (None where the fits do not say).
    """

    groups: tuple[Any, ...]
    fits: dict[Any, Any] = field(compare=False)
    estimates: np.ndarray
    ses: np.ndarray
    q_between: float | None
    q_between_df: int | None
    q_between_pvalue: float | None
    excluded: dict[str, str] = field(default_factory=dict)
    scale: str | None = None
    not_tested: str | None = None

    def to_dict(self, fit_to_dict: Any = None) -> dict[str, Any]:
        """JSON-safe summary; ``fit_to_dict(result)`` serialises a subgroup fit (default: estimate, SE, CI, k)."""

        def default(result: Any) -> dict[str, Any]:
            return {name: json_number(model_value(result, name))
                    for name in ("estimate", "se", "ci_lower", "ci_upper", "tau2", "i2", "q")} | {"k": int(result.k)}

        serialise = fit_to_dict or default
        return {
            "subgroups": [{"by": group, **serialise(self.fits[group])} for group in self.groups],
            "test_for_subgroup_differences": {
                "q_between": json_number(self.q_between),
                "df": self.q_between_df,
                "pvalue": json_number(self.q_between_pvalue),
                "method": "fixed-effect Q across subgroup estimates (separate tau2 per subgroup)",
                "scale": self.scale,
                "not_tested": self.not_tested,
                "excluded": dict(self.excluded),
            },
        }
