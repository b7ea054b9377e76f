"""The words of the report that are the same in every review: names of methods and measures, section titles,
legend labels, and how numbers and p-values are written; and the phrases that put the review's own words (the
review file: its clock, condition, response categories) into sentences.

Nothing here names a condition: a review's words come from its review file (``metacalc.data.review_file``),
which the results carry (``ReviewResults.review``), and from its data (the reports' own labels).
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from metacalc.data.review_file import Review

# ---------------------------------------------------------------------------------------------- outcomes

OUTCOME_SHORT = {"any_response": "any response", "complete_response": "complete response"}


def _event(measure: str, review: Review) -> tuple[str, str] | None:
    """The event a measure of time ends at, in the review's words (long, short); None for another measure."""
    clock = review.clock
    return {"years_to_onset": (clock.onset, clock.onset_short),
            "years_to_diagnosis": (clock.diagnosis, clock.diagnosis_short)}.get(measure)


def outcome_label(outcome: str, review: Review) -> str:
    """An outcome as the results label it: 'any response (complete or partial)', 'years from X to the Y'."""
    response, event = review.response, _event(outcome, review)
    if outcome == "any_response":
        return f"any response ({' or '.join(response.any_response)})"
    if outcome == "complete_response":
        named = " or ".join(response.complete_response)
        return "complete response" if named == "complete" else f"complete response ({named})"
    return f"years from {review.clock.start} to the {event[0]}" if event else outcome.replace("_", " ")


def measure_name(measure: str, review: Review) -> str:
    """A measure of time as a sentence names it ('time from X to the first lesion (onset)')."""
    event = _event(measure, review)
    if event is None:
        return measure.replace("_", " ")
    named = f"{event[0]} ({event[1]})" if measure == "years_to_onset" else event[0]
    return f"time from {review.clock.start} to the {named}"


def measure_short(measure: str, review: Review) -> str:
    """A measure of time in a few words, for labels: 'to onset'."""
    event = _event(measure, review)
    return f"to {event[1]}" if event else measure.replace("_", " ")


def series_figure_name(outcome: str, review: Review) -> str:
    """An aggregates outcome (what a published figure measures) as the report's tables name it."""
    event = _event(outcome, review)
    if event:
        return f"years from {review.clock.start} to {event[1] if outcome == 'years_to_onset' else event[0]}"
    if outcome == "age_at_onset":
        return f"age at {review.clock.onset_short}"
    return review.response.counted(outcome)


def variant_label(settings: Any, main: Any, review: Review, series: list[str]) -> str:
    """A sensitivity variant's heading, said from what it changes in the main analysis (``Settings``) and from
    the data: the case series it adds are named by their reports' own labels ('With the case series (Smith
    2012)')."""
    clock = review.clock
    parts = []
    if settings.outcome != main.outcome:
        if settings.outcome == "complete_response":
            parts.append("complete response only")
        elif settings.outcome == "any_response":
            parts.append("any response")
        else:
            event = {"years_to_onset": clock.onset, "years_to_diagnosis": clock.diagnosis}
            parts.append(f"time to the {event.get(settings.outcome, settings.outcome)} instead of the "
                         f"{event.get(main.outcome, main.outcome)}")
    if settings.method != main.method:
        parts.append(f"pooled by {METHOD_NAMES.get(settings.method, settings.method)}")
    if settings.include_series != main.include_series:
        named = ", ".join(series) if series else "none in the sheets"
        parts.append(f"with the case series ({named})" if settings.include_series else "without the case series")
    if settings.duplicates != main.duplicates:
        parts.append("duplicate report counted as a second patient" if settings.duplicates == "twice"
                     else "duplicate reports counted once")
    if settings.exclude_high_risk != main.exclude_high_risk:
        parts.append("excluding reports at high risk of bias" if settings.exclude_high_risk
                     else "including reports at high risk of bias")
    if settings.population != main.population:
        parts.append("only patients with " + ", ".join(f"{column_label(column, review)} {' or '.join(values)}"
                                                        for column, values in settings.population.items()))
    return sentence_case("; ".join(parts)) if parts else "Same settings as the main analysis"


def column_label(column: str, review: Review) -> str:
    """A column as the report names it: a review field by its label, a timing column by the review's clock."""
    field = review.field_named(column)
    if field is not None:
        return field.heading
    clock = review.clock
    start, onset, diagnosis = clock.start, clock.onset_short, clock.diagnosis_short
    timing = {
        "start_year": f"year of {start}", "start_years_before_presentation": f"years from {start} to presentation",
        "onset_year": f"year of {onset}", "onset_years_after_start": f"years from {start} to {onset}",
        "onset_years_before_presentation": f"years from {onset} to presentation",
        "diagnosis_year": f"year of {diagnosis}", "diagnosis_years_after_start": f"years from {start} to {diagnosis}",
        "presentation_year": "year of presentation", "onset_before_start": f"{onset} before {start}",
        "years_to_onset": f"years from {start} to {onset}", "years_to_diagnosis": f"years from {start} to {diagnosis}",
    }
    return timing.get(column, column.replace("_", " "))


def onset_axis_label(review: Review) -> str:
    return f"Years from {review.clock.start} to {review.condition.short}"


def time_section_title(review: Review) -> str:
    return f"Time from {review.clock.start} to {review.condition.short}"


# ---------------------------------------------------------------------------------------------- methods

METHOD_NAMES = {
    "exact": "exact pooled count",  # Methods says once that its interval is Clopper-Pearson's
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
    ("changes", "Changes since the latest version"),
    ("prisma", "Study selection (PRISMA 2020)"),
    ("studies", "Included studies"),
    ("patients", "Patients"),
    ("risk-of-bias", "Risk of bias"),
    ("results", "Response to therapy"),
    ("onset", "Time to onset"),  # titled from the review's clock by sections()
    ("sensitivity", "Sensitivity analyses"),
    ("methods", "Methods"),
    ("references", "References of the included and excluded reports"),
    ("provenance", "Provenance"),
    ("excluded-rows", "Rows not used"),
    ("checklist", "PRISMA 2020 checklist"),
)


def sections(review: Review) -> tuple[tuple[str, str], ...]:
    """(anchor, title) of the report's sections, in order."""
    return tuple((anchor, time_section_title(review) if anchor == "onset" else title) for anchor, title in SECTIONS)


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
        return "exact pooled count, one-sided lower limit"
    name = METHOD_NAMES.get(method, method)
    if result.estimand == "population average":
        name += ", population-average proportion"
    return name


def sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def slug(text: Any) -> str:
    """A name as a file name or an HTML id, one per name: lower case, runs of other characters as '-', cut to 40
    characters, then a short hash of the exact name, so that names that read alike ("Drug A", "drug-a") never
    share a figure file or an anchor: "drug-a-3f2c1a" (the same name always gives the same slug)."""
    name = str(text)
    readable = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40].strip("-") or "all"
    return f"{readable}-{hashlib.sha1(name.encode('utf-8')).hexdigest()[:6]}"
