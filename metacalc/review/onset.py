"""Time from the start of the review's clock: each patient's derived time, summaries overall and per subgroup,
comparisons with published figures (each only with the patients its population describes, as the review file
says), and pooling with case series.

Every call into the statistical core for means is in this module (``summarise_values``,
``compare_with_published``, ``study_from_patients``, ``pool_means``, ``mean_sd_from_quantiles``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from metacalc.data.cells import as_text
from metacalc.review.plan import TIME_OUTCOMES, Analysis, Settings
from metacalc.review.results import (
    TEST_FIELDS,
    Comparison,
    PooledEstimate,
    Reference,
    SeriesMean,
    TimeContributor,
    TimeGroup,
    ValuesSummary,
)
from metacalc.review.selection import outside, patient_reasons, study_reason
from metacalc.review.settings import RunSettings
from metacalc.review.tables import ReviewTables, Row
from metacalc.review.words import outcome_label, sentence_case

ALL_PATIENTS = "all patients"
# Diagnosis follows onset, so a time to diagnosis bounds the time to onset from above.
LATER_MEASURE = {"years_to_diagnosis": "years_to_onset"}
Population = tuple[tuple[str, tuple[str, ...]], ...]
TEST_KEYS = ("mean", "median", "difference", "ci_lower", "ci_upper", "pvalue", "method", "note")
BELOW_ZERO = ("the random-effects {what} of the pooled mean extends below 0 ({lower:.1f} to {upper:.1f} years), which a "
              "time on the review's clock cannot: with so few or so different studies no {what} is given")

Used = dict[str, list[str]]
Reasons = dict[str, dict[str, str]]


def subgroup_name(review: ReviewTables, column: str | None, value: str) -> str:
    return f"{review.heading(column or '')}: {value or 'not stated'}"


def population_name(review: ReviewTables, population: Population) -> str:
    """The group of patients a population filter selects, named as a subgroup is ('sex: female')."""
    if not population:
        return ALL_PATIENTS
    return "; ".join(f"{review.heading(column)}: {' or '.join(v or 'not stated' for v in allowed)}"
                     for column, allowed in population)


def measure_caveat(review: ReviewTables, reference_measure: str, patients_measure: str) -> str:
    """Why a published figure and the patients' values are not the same measure ('' when they are)."""
    clock = review.review.clock
    if reference_measure == patients_measure:
        return ""
    if LATER_MEASURE.get(reference_measure) == patients_measure:
        return (f"different measures: the published figure is a time to the {clock.diagnosis}, the patients' values "
                f"are times to the {clock.onset}; {clock.diagnosis_short} follows {clock.onset_short}, so the "
                f"published figure is an upper bound of the time to {clock.onset_short} in its series")
    if LATER_MEASURE.get(patients_measure) == reference_measure:
        return (f"different measures: the published figure is a time to the {clock.onset}, the patients' values are "
                f"times to the {clock.diagnosis}; {clock.diagnosis_short} follows {clock.onset_short}, so the "
                f"patients' values are upper bounds of their times to {clock.onset_short}")
    return f"different measures ({reference_measure} vs {patients_measure})"


def fit_time(review: ReviewTables, analysis: Analysis, settings: Settings, run: RunSettings, detail: bool = True
             ) -> tuple[list[TimeGroup], Used, Reasons, list[Reference]]:
    """The groups of a time analysis (or of one variant), the rows used, the reasons, the published figures.

    ``detail`` False (a sensitivity variant, which keeps numbers only: ``TimeGroup.numbers_only``): the groups do
    not list their patients.
    """
    outcome = settings.outcome
    excluded, kept, eligible = {}, [], []
    reasons = patient_reasons(review, settings)
    for patient in review.patients:
        reason = reasons[patient["patient_id"]]
        if reason is None:
            eligible.append(patient)
        if reason is None and patient.get(outcome) is None:
            reason = f"{outcome_label(outcome, review.review)} not derivable from the report"
        if reason:
            excluded[patient["patient_id"]] = reason
        else:
            kept.append(patient)
    references, populations = published_figures(review, analysis)
    series, series_excluded = _series_means(review, settings)
    filters: dict[str, Population] = {ALL_PATIENTS: ()}

    def members(group_name: str, patients: list[Row]) -> list[Row]:
        population = filters[group_name]
        if not population:  # all patients (asked for once per published figure about them)
            return list(patients)
        return [p for p in patients if outside(population, p, review.study.get(p["study_id"], {}), "group") is None]

    subsets = [(ALL_PATIENTS, kept)]
    if analysis.subgroup_by:
        for value in sorted({as_text(p.get(analysis.subgroup_by)) for p in kept}):
            name = subgroup_name(review, analysis.subgroup_by, value)
            filters[name] = ((analysis.subgroup_by, (value,)),)
            subsets.append((name, members(name, kept)))
    # A published figure about a group of patients that is no subgroup (or has no patient yet) gets its own row.
    for reference in references:
        if reference.group not in filters:
            filters[reference.group] = populations[reference.aggregate_id]
            subsets.append((reference.group, members(reference.group, kept)))

    comparisons: dict[str, list[Comparison]] = {}
    compared_patients: set[str] = set()
    for reference in references:
        # Each published figure against the patients it describes: on the analysis' measure, and also on its
        # own measure when the two differ and some patients' reports give that measure too.
        rows = comparisons.setdefault(reference.group, [])
        rows.append(compare(review, reference, members(reference.group, kept), outcome, run.level))
        if reference.outcome != outcome:
            same = [p for p in members(reference.group, eligible) if p.get(reference.outcome) is not None]
            if same:
                rows.append(compare(review, reference, same, reference.outcome, run.level))
                compared_patients.update(p["patient_id"] for p in same)

    groups = [_time_group(review, name, patients, outcome, comparisons.get(name, []), series, settings, run,
                          analysis.subgroup_by, detail) for name, patients in subsets]
    used = {
        "patients": sorted({p["patient_id"] for p in kept} | compared_patients),
        "studies": sorted({p["study_id"] for p in kept} | {s.study_id for s in series}
                          | {r.study_id for r in references}),
        "aggregates": sorted({s.aggregate_id for s in series} | {r.aggregate_id for r in references}),
    }
    return groups, used, {"patients": excluded, "aggregates": series_excluded}, references


def _time_group(review: ReviewTables, name: str, patients: list[Row], outcome: str, comparisons: list[Comparison],
                series: list[SeriesMean], settings: Settings, run: RunSettings, subgroup_by: str | None,
                detail: bool = True) -> TimeGroup:
    from metacalc.meta import pool_means, study_from_patients, summarise_values

    values = [float(p[outcome]) for p in patients]
    # A time on the clock is not negative unless the sheets flag onset before its start; where none of the
    # patients' values is negative it is summarised as the non-negative quantity it is (the time rule).
    non_negative = bool(values) and min(values) >= 0
    summary = (ValuesSummary(summarise_values(values, level=run.level, non_negative=non_negative).to_dict())
               if values else None)
    pooled, not_pooled, pooled_series = None, None, None
    if name == ALL_PATIENTS:
        if not series:
            not_pooled = ("no case series of this outcome with an SD (or median and spread) to pool with"
                          if settings.include_series else "series are compared with, not pooled, in this analysis")
        elif len(values) < 2:
            not_pooled = "pooling with series needs at least 2 patients (an SD) from the case reports"
        else:
            combined = study_from_patients(values)
            labels = [f"case reports ({combined.n} patients)"] + [s.label for s in series]
            try:
                result = pool_means([combined.mean] + [s.mean for s in series], [combined.sd] + [s.sd for s in series],
                                    [combined.n] + [s.n for s in series], tau2_method=run.tau2_method, knha=run.knha,
                                    level=run.level, labels=labels)
                pooled, not_pooled = _non_negative_pooled(result.to_dict(), non_negative)
                pooled_series = tuple(series) if pooled else None
            except (ValueError, ArithmeticError) as error:
                not_pooled = str(error)
    contributors = tuple(
        TimeContributor(p["patient_id"], p["study_id"], review.label_of(p["study_id"]),
                        float(p[outcome]), as_text(p.get(f"{outcome}_derivation")),
                        as_text(p.get(subgroup_by)) if subgroup_by else "")
        for p in patients) if detail else ()
    return TimeGroup(name, len(values), summary, tuple(comparisons), pooled, not_pooled, contributors, pooled_series)


def _non_negative_pooled(fields: dict[str, Any], non_negative: bool) -> tuple[PooledEstimate | None, str | None]:
    """The pooled mean as shown: no interval of a time may extend below 0. A confidence interval that does leaves
    the group not pooled (the reason says why); a prediction interval that does is left out (``nulls`` says why)."""
    lower, upper = fields.get("ci_lower"), fields.get("ci_upper")
    if non_negative and lower is not None and upper is not None and lower < 0:
        return None, BELOW_ZERO.format(what="confidence interval", lower=lower, upper=upper)
    pi_lower, pi_upper = fields.get("pi_lower"), fields.get("pi_upper")
    if non_negative and pi_lower is not None and pi_upper is not None and pi_lower < 0:
        reason = BELOW_ZERO.format(what="prediction interval", lower=pi_lower, upper=pi_upper)
        fields = {**fields, "pi_lower": None, "pi_upper": None,
                  "nulls": {**fields.get("nulls", {}), "pi_lower": reason, "pi_upper": reason}}
    return PooledEstimate("mean", fields), None


def _series_means(review: ReviewTables, settings: Settings) -> tuple[list[SeriesMean], dict[str, str]]:
    """Series figures of the same time outcome that can be pooled (mean and SD, or median with spread)."""
    from metacalc.meta import mean_sd_from_quantiles

    usable, excluded = [], {}
    for row in review.aggregates:
        if row.get("outcome") not in TIME_OUTCOMES or row["outcome"] != settings.outcome:
            continue
        row_id = row["aggregate_id"]
        reason = None if settings.include_series else "case series not pooled in this analysis (compared only)"
        reason = reason or study_reason(review, settings, row["study_id"])
        if reason is None and row.get("n") is None:
            reason = "no number of patients (n)"
        mean, sd, how = row.get("mean"), row.get("sd"), "published mean and SD"
        if reason is None and (mean is None or sd is None):
            if row.get("median") is not None:
                try:
                    estimate = mean_sd_from_quantiles(row["n"], row["median"], min=row.get("min"), max=row.get("max"),
                                                      q1=row.get("q1"), q3=row.get("q3"))
                    mean, sd = estimate.mean, estimate.sd
                    how = "mean and SD estimated from the median and spread (Wan 2014, Luo 2018)"
                except (ValueError, TypeError) as error:
                    reason = f"mean and SD cannot be estimated ({error})"
            else:
                reason = "no SD, median or quartiles published: the mean can be compared with but not pooled"
        if reason:
            excluded[row_id] = reason
            continue
        usable.append(SeriesMean(row_id, row["study_id"], int(row["n"]), float(mean), float(sd), how,  # type: ignore[arg-type]
                                 review.label_of(row["study_id"])))
    return usable, excluded


def published_figures(review: ReviewTables, analysis: Analysis) -> tuple[list[Reference], dict[str, Population]]:
    """The review file's published figures of the measures the analysis compares with, each with the group of
    patients it describes (validation made sure each names a time figure with a mean); and each one's population."""
    out, populations = [], {}
    rows = {row["aggregate_id"]: row for row in review.aggregates}
    for figure in review.review.published_figures:
        row = rows.get(figure.aggregate)
        if row is None or row.get("outcome") not in analysis.compare_with or row.get("mean") is None:
            continue
        populations[figure.aggregate] = figure.population
        out.append(Reference(
            row["aggregate_id"], row["study_id"], review.label_of(row["study_id"]), as_text(row.get("population")),
            row["outcome"], row.get("n"), float(row["mean"]), population_name(review, figure.population),
            None if row.get("sd") is None else float(row["sd"])))
    return sorted(out, key=lambda r: (r.mean, r.aggregate_id)), populations


def compare(review: ReviewTables, reference: Reference, patients: Sequence[Mapping[str, Any]], measure: str,
            level: float) -> Comparison:
    """One published figure against the patients of its group on one measure: Welch's test where the figure's n
    and SD are published, else a descriptive difference (the core's ``compare_with_published``); nothing on no
    patient, and the difference alone for one patient."""
    from metacalc.meta import compare_with_published

    values = [float(p[measure]) for p in patients]
    caveat = measure_caveat(review, reference.outcome, measure)
    base: dict[str, Any] = {"reference": reference, "group": reference.group, "measure": measure,
            "reference_measure": reference.outcome, "same_measure": not caveat, "caveat": caveat,
            "patient_ids": tuple(p["patient_id"] for p in patients), "n": len(values)}
    what = outcome_label(measure, review.review)
    if not values:
        interpretation = (f"No patient of {reference.group} has a value of {what}: nothing to compare with the "
                          f"published {reference.mean:g} years.")
        return Comparison(**base, interpretation=_with_caveat(caveat, interpretation))
    if len(values) < 2:
        value = values[0]
        interpretation = (f"One patient ({value:g} years, {what}) against the published {reference.mean:g} years: "
                          "a single value, so the difference is descriptive.")
        return Comparison(**base, interpretation=_with_caveat(caveat, interpretation), mean=value, median=value,
                          difference=value - reference.mean, note="one patient: no test is possible")
    result = compare_with_published(values, reference.mean, reference_n=reference.n, reference_sd=reference.sd,
                                    level=level).to_dict()
    tested = result["method"] == "welch"
    return Comparison(**base, interpretation=_with_caveat(caveat, result["interpretation"]),
                      **{key: result[key] for key in TEST_KEYS}, tested=tested,
                      test={key: result[key] for key in TEST_FIELDS} if tested else {})


def _with_caveat(caveat: str, interpretation: str) -> str:
    return f"{sentence_case(caveat)}. {interpretation}" if caveat else interpretation
