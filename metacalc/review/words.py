"""The words of the review, in one place: names of outcomes, measures and methods, section titles, figure
labels, and how numbers and p-values are written.

The analyses write some of these words into the results (an outcome's label, the reason a row is left out);
the figures and the report write the rest. Gathered here so that a review of another condition changes its
words in one file (the review-specific ones, naming SLE, are marked).
"""

from __future__ import annotations

import math
import re
from typing import Any

# ---------------------------------------------------------------------------------------------- outcomes

# Review-specific (SLE): the outcomes as the results label them.
OUTCOME_LABELS = {
    "any_response": "any response (complete or partial)",
    "complete_response": "complete response",
    "years_sle_to_onset": "years from SLE diagnosis to the first calcinosis lesion",
    "years_sle_to_calcinosis_diagnosis": "years from SLE diagnosis to the diagnosis of calcinosis",
}
OUTCOME_SHORT = {"any_response": "any response", "complete_response": "complete response"}
# Review-specific (SLE): the outcomes of published figures (aggregates.outcome), as the report's tables name them.
SERIES_FIGURE_NAMES = {
    "years_sle_to_onset": "years from SLE diagnosis to first lesion",
    "years_sle_to_calcinosis_diagnosis": "years from SLE diagnosis to diagnosis of calcinosis",
    "age_at_onset": "age at onset",
}
# The response figures of a case series, as a sentence counts them.
SERIES_OUTCOME_NAMES = {
    "response_complete": "complete responses",
    "response_partial": "partial responses",
    "response_none": "no responses",
}
# Review-specific (SLE): the measures of time, as a sentence names them and in a few words for labels.
MEASURE_NAMES = {
    "years_sle_to_onset": "time from SLE diagnosis to the first lesion (onset)",
    "years_sle_to_calcinosis_diagnosis": "time from SLE diagnosis to diagnosis of calcinosis",
}
MEASURE_SHORT = {"years_sle_to_onset": "to onset", "years_sle_to_calcinosis_diagnosis": "to calcinosis diagnosis"}
ONSET_AXIS_LABEL = "Years from SLE diagnosis to calcinosis"  # review-specific (SLE)

# ---------------------------------------------------------------------------------------------- methods

METHOD_NAMES = {
    "exact": "pooled count with exact (Clopper-Pearson) interval",
    "glmm": "binomial-normal GLMM (random-intercept logistic)",
    "iv": "inverse-variance random effects",
}
# Which proportion a pooled estimate is (the core's ``estimand`` names).
ESTIMAND_NAMES = {
    "pooled count": "the proportion of all pooled patients",
    "population average": "the population-average proportion E[expit(μ + τZ)], all settings together",
    "median setting": "the proportion in the median setting, expit(μ)",
    "mean proportion": "the inverse-variance mean of the studies' proportions",
    "back-transformed mean": "the back-transformed mean of the transformed proportions",
}
# The time rule's words for a summary of per-patient times (the core's summarise_values).
MEAN_INTERVAL_NAMES = {"t (approximate)": "approximate t interval"}
# The scale of an inverse-variance model (metafor's measure), in words.
SCALE_NAMES = {
    "PLO": "logit",
    "PR": "raw proportion",
    "PAS": "arcsine square-root",
    "PFT": "Freeman-Tukey double arcsine",
    "MN": "raw mean",
}
TAU2_NAMES = {
    "DL": "DerSimonian-Laird",
    "REML": "restricted maximum likelihood",
    "ML": "maximum likelihood",
    "PM": "Paule-Mandel",
    "HE": "Hedges",
    "SJ": "Sidik-Jonkman",
}

# ---------------------------------------------------------------------------------------------- the report

SECTIONS = (
    ("summary", "Summary of findings"),
    ("changes", "What changed since the last run"),
    ("prisma", "Study selection (PRISMA 2020)"),
    ("studies", "Included studies"),
    ("patients", "Patients"),
    ("risk-of-bias", "Risk of bias"),
    ("results", "Response to therapy"),
    ("onset", "Time from SLE diagnosis to calcinosis"),  # review-specific (SLE)
    ("sensitivity", "Sensitivity analyses"),
    ("methods", "Methods"),
    ("provenance", "Provenance"),
    ("excluded-rows", "Rows not used"),
    ("checklist", "PRISMA 2020 checklist"),
)
ARM_TITLES = {
    "databases_registers": "Identification of studies via databases and registers",
    "other_methods": "Identification of studies via other methods",
}
ARM_PREFIXES = {"databases_registers": "Databases and registers: ", "other_methods": "Other methods: "}

# Risk of bias: the levels of robvis, and how answers and judgements are named in the legends.
LEVEL_LABELS = {"low": "Yes / low", "moderate": "Moderate (overall)", "high": "No / high", "unclear": "Unclear",
                "not applicable": "Not applicable"}

# ---------------------------------------------------------------------------------------------- numbers


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def pct(value: float | None, digits: int = 1) -> str:
    """A proportion as a percentage: 0.25 -> '25.0%'; 'n/a' when missing."""
    if _missing(value):
        return "n/a"
    return f"{100 * value:.{digits}f}%"  # type: ignore[operator]


def num(value: float | int | None, digits: int = 1) -> str:
    """A number with fixed decimals (whole numbers stay whole); 'n/a' when missing."""
    if _missing(value):
        return "n/a"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def general(value: float | int | None) -> str:
    """A number in its shortest form: 36.0 -> '36', 2.5 -> '2.5', None -> ''."""
    if _missing(value):
        return ""
    return f"{value:g}"


def fixed(value: float | None, digits: int) -> str:
    """A number of a figure with fixed decimals: '–' when missing, never '-0.00'."""
    if value is None:
        return "–"
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def count(value: float | int | None) -> str:
    """A count: integers as integers; an n estimated for a series may not be whole and is shown as it is."""
    if value is None:
        return "–"
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def significant(value: float) -> str:
    """A variance such as τ² with the digits that matter: 0.0042 -> '0.0042', 0.1234 -> '0.123'."""
    if value == 0:
        return "0"
    return f"{value:.2g}" if abs(value) < 0.01 else f"{value:.3f}".rstrip("0").rstrip(".")


def p_value(value: float | None, with_p: bool = True) -> str:
    """'p = 0.042' or 'p < 0.001' (without 'p' for a table cell: '0.042', '< 0.001'); 'n/a' when missing."""
    if value is None:
        return "n/a"
    text = "< 0.001" if value < 0.001 else f"{value:.3f}"
    if not with_p:
        return text
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def change_value(value: Any) -> str:
    """A number of the change log: floats to 4 significant digits, missing ones in words."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def level_label(level: float) -> str:
    """0.95 -> '95% CI'."""
    return f"{100 * level:g}% CI"


def span(lower: float | None, upper: float | None, form: Any = None) -> str:
    """An interval or range in words, 'to' between the ends so that a negative end is never ambiguous
    ('-1.1 to 16.4', never '-1.1–16.4'); ``form`` writes each end (default: ``num``)."""
    write = form or num
    return f"{write(lower)} to {write(upper)}"


def lower_limit_label(level: float) -> str:
    """0.95 -> 'one-sided 95% lower limit' (the interval of a count that is only a lower bound)."""
    return f"one-sided {100 * level:g}% lower limit"


def method_name(result: Any) -> str:
    """A pooled proportion's method in words, with the estimand where the GLMM gives the population average."""
    method = result.method or ""
    if method == "exact" and result.lower_bound:
        return "pooled count with exact (Clopper-Pearson) one-sided lower limit"
    name = METHOD_NAMES.get(method, method)
    if result.estimand == "population average":
        name += ", population-average proportion"
    return name


def sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def slug(text: Any) -> str:
    """A name as a file name or an anchor: lower case, runs of other characters as '-'."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "all"
