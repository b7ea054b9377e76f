"""Response to therapy: the patients (once per therapy) and series figures behind each pooled proportion.

Every call into the statistical core for proportions is in this module (``pool_proportions_many``,
``cumulative_many``), so that a change of the core's API is adapted here. The groups of an analysis are pooled
in one call of the core's batch engine, and the cumulative analyses of all of them in another: a review has
hundreds of small fits (mostly cumulative steps), and one batch costs about what a handful of single fits do,
with the same numbers (the engine fits each analysis as it fits it alone). A fit the core refuses (a
``ValueError``: too few studies, a model it cannot estimate) leaves its group "not pooled" with the core's
reason; it never stops the review.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from metacalc.data.cells import as_number, as_text
from metacalc.review.plan import Analysis, Settings
from metacalc.review.results import (
    Contributor,
    Cumulative,
    CumulativeStep,
    LeaveOneOut,
    LeaveOneOutStep,
    PatientResponse,
    PooledEstimate,
    ProportionGroup,
)
from metacalc.review.selection import group_key, patient_reasons, population_reason, study_reason
from metacalc.review.settings import RunSettings
from metacalc.review.tables import Course, ReviewTables
from metacalc.review.words import OUTCOME_SHORT, outcome_label

if TYPE_CHECKING:
    from metacalc.data.review_file import Responses

# Cumulative analysis of more reports is k refits of up to k reports each (a GLMM when a series contributes):
# minutes on a large review, and a table of hundreds of steps nobody reads. The forest plots stop there too.
MAX_CUMULATIVE_REPORTS = 60


@dataclass
class _SeriesUnit:
    """The rows of one series figure (study, group, population, n) being added up."""

    events: int = 0
    has_outcome: bool = False
    rows: list[str] = field(default_factory=list)
    other_rows: list[str] = field(default_factory=list)
    outcomes: set[str] = field(default_factory=set)
    accounted: int = 0


@dataclass(frozen=True)
class SeriesFigure:
    """One case series' figure for a response outcome: events out of n, in one group."""

    study_id: str
    group: str
    drug: str
    population: str
    events: int
    total: int
    aggregate_ids: tuple[str, ...]
    lower_bound: str


@dataclass(slots=True)  # thousands per fit: without a __dict__ each
class PatientUnit:
    """A patient in one group with the courses of it that count, and whether any helped."""

    group: str
    patient_id: str
    study_id: str
    courses: list[Course] = field(default_factory=list)
    responded: int = 0


Used = dict[str, list[str]]
Reasons = dict[str, dict[str, str]]


def fit_response(review: ReviewTables, analysis: Analysis, settings: Settings, run: RunSettings,
                 with_cumulative: bool = False, detail: bool = True) -> tuple[list[ProportionGroup], Used, Reasons]:
    """The groups of a response analysis (or of one variant), the rows it used, and why others were left out.

    ``detail`` False (a sensitivity variant, which keeps numbers only: ``ProportionGroup.numbers_only``): the
    reports' contributors do not list their patients, and the rows used and left out are not returned.
    """
    units, excluded = _patient_units(review, analysis, settings)
    series, series_excluded = _series_figures(review, settings, analysis.group_by)
    method = run.method if settings.method == "default" else settings.method
    by_group: dict[str, tuple[dict[str, list[PatientUnit]], list[SeriesFigure]]] = {}
    for unit in units:
        by_group.setdefault(unit.group, ({}, []))[0].setdefault(unit.study_id, []).append(unit)
    for figure in series:
        by_group.setdefault(figure.group, ({}, []))[1].append(figure)

    members = []
    for name in sorted(by_group):
        studies, figures = by_group[name]
        contributors = [_report(review, study_id, studies[study_id], detail) for study_id in sorted(studies)]
        contributors += [_series_contributor(review, figure, analysis.group_by) for figure in figures]
        members.append((name, contributors))
    groups, fitted = _pooled_groups(members, method, analysis.min_patients, run)
    if with_cumulative:
        groups = _with_cumulative(review, groups, fitted)
    if not detail:
        return groups, {}, {}
    used = {
        "treatments": sorted({c.treatment_id for u in units for c in u.courses}),
        "patients": sorted({u.patient_id for u in units}),
        "studies": sorted({u.study_id for u in units} | {s.study_id for s in series}),
        "aggregates": sorted({a for s in series for a in s.aggregate_ids}),
    }
    return groups, used, {"treatments": excluded, "aggregates": series_excluded}


def _report(review: ReviewTables, study_id: str, patients: list[PatientUnit], detail: bool = True) -> Contributor:
    listed = tuple(PatientResponse(p.patient_id, p.responded, tuple(c.treatment_id for c in p.courses))
                   for p in patients) if detail else ()
    return Contributor("patients", study_id, review.label_of(study_id),
                       events=sum(p.responded for p in patients), total=len(patients), patients=listed)


def _series_contributor(review: ReviewTables, figure: SeriesFigure, group_by: str) -> Contributor:
    label = review.label_of(figure.study_id)
    if group_by != "drug":
        label = f"{label} ({figure.drug})"
    return Contributor("series", figure.study_id, label, figure.events, figure.total, population=figure.population,
                       aggregate_ids=figure.aggregate_ids, lower_bound=figure.lower_bound)


def _pooled_groups(members: list[tuple[str, list[Contributor]]], method: str, min_patients: int, run: RunSettings
                   ) -> tuple[list[ProportionGroup], list[Any]]:
    """Each group (name, contributors) pooled, all in one call of the core; and the core's fitted result of each
    (None where the group is not pooled), which the cumulative analysis refits."""
    wanted = [i for i, (_, contributors) in enumerate(members) if sum(c.total for c in contributors) >= min_patients]
    pooled = pool_many([members[i][1] for i in wanted], method, run)
    fitted: list[Any] = [None] * len(members)
    groups = []
    for i, (name, contributors) in enumerate(members):
        result: PooledEstimate | None = None
        not_pooled: str | None = f"fewer than {min_patients} patients"
        if i in wanted:
            fit = pooled[wanted.index(i)]
            if isinstance(fit, (ValueError, ArithmeticError)):
                not_pooled = str(fit)
            else:
                fitted[i], result, not_pooled = fit, PooledEstimate("proportion", fit.to_dict()), None
        groups.append(ProportionGroup(
            group=name, k=len(contributors), patients=sum(c.total for c in contributors if not c.is_series),
            events=sum(c.events for c in contributors), total=sum(c.total for c in contributors),
            method_requested=method, result=result, not_pooled=not_pooled,
            # Series whose events undercount the outcome: the estimate is then a lower bound too.
            lower_bounds=tuple(f"{c.label}: {c.lower_bound}" for c in contributors if c.lower_bound),
            contributors=tuple(contributors)))
    return groups, fitted


def pool_many(groups: Sequence[Sequence[Contributor]], method: str, run: RunSettings) -> list[Any]:
    """The core's pooled proportion of each group of contributors, or the error with which it refuses the fit.

    A series whose events only bound the outcome from below (a series without a figure for one of the outcome's
    categories) is flagged: the core then gives the pooled count with a one-sided lower limit, or refuses a
    model, and the group says which. Should the batch fail as a whole on something other than a refusal, each
    group is fitted alone, so that one group's failure leaves only that group not pooled.
    """
    from metacalc.meta import pool_proportions_many

    options = {"method": method, "measure": run.measure, "tau2_method": run.tau2_method, "knha": run.knha,
               "level": run.level}
    columns = ([[c.events for c in g] for g in groups], [[c.total for c in g] for g in groups],
               [[c.label for c in g] for g in groups], [[bool(c.lower_bound) for c in g] for g in groups])
    try:
        return list(pool_proportions_many(columns[0], columns[1], columns[2], lower_bounds_list=columns[3],
                                          **options))
    except (ValueError, ArithmeticError):
        out: list[Any] = []
        for events, totals, labels, flags in zip(*columns):
            try:
                out += pool_proportions_many([events], [totals], [labels], lower_bounds_list=[flags], errors="raise",
                                             **options)
            except (ValueError, ArithmeticError) as error:
                out.append(error)
        return out


def _patient_units(review: ReviewTables, analysis: Analysis, settings: Settings
                   ) -> tuple[list[PatientUnit], dict[str, str]]:
    """Patients x group with the response they had, and the reasons for every course left out."""
    outcome = settings.outcome
    excluded: dict[str, str] = {}
    per_patient: dict[tuple[str, str], PatientUnit] = {}
    # A patient's report and why the patient is left out are the same for each of the patient's courses; a
    # course of a patient the patients table does not have is left out for what an unknown report would be.
    reasons = patient_reasons(review, settings)
    unknown = population_reason(settings, {}, review.study.get("", {})) or study_reason(review, settings, "")
    # Every analysis and variant walks every course (millions of steps on a large review), so the group is read
    # by a C-level getter and the response once per course.
    group_of = {"drug": attrgetter("drug"), "drug_class": attrgetter("drug_class")}.get(analysis.group_by)
    every_group = group_key(analysis.group_by, "", "")
    for course in review.courses:
        reason = reasons.get(course.patient_id, unknown)
        value: Any = None  # the course's response, read only for a course that counts
        if reason is None:
            if not course.drug:
                reason = "therapy not in the vocabulary"
            elif (value := course.row.get(outcome)) is None:
                reason = f"response {course.response or 'blank'}"  # a category meaning "unknown"
        if reason:
            excluded[course.treatment_id] = reason
            continue
        group = every_group if group_of is None else group_of(course)
        responded = int(value)
        unit = per_patient.get((group, course.patient_id))
        if unit is None:
            per_patient[group, course.patient_id] = PatientUnit(group, course.patient_id, course.study_id, [course],
                                                                responded)
        else:
            unit.courses.append(course)
            # One patient counts once per therapy: a responder if any course of it helped.
            unit.responded = max(unit.responded, responded)
    return [per_patient[key] for key in sorted(per_patient)], excluded


def _series_figures(review: ReviewTables, settings: Settings, group_by: str
                    ) -> tuple[list[SeriesFigure], dict[str, str]]:
    """Case-series figures for a response outcome: one (study, group, population) unit with events / n.

    A series that publishes partial and complete responses separately for one therapy gives one unit whose
    events add up; a series without a figure for the outcome (e.g. only partial responses, for complete
    response) is left out with that reason.
    """
    units: dict[tuple[str, str, str, str, Any], _SeriesUnit] = {}
    excluded: dict[str, str] = {}
    responses = review.review.response
    wanted = responses.series_outcomes(settings.outcome)
    label = outcome_label(settings.outcome, review.review)
    for row in review.aggregates:
        if not as_text(row.get("outcome")).startswith("response_"):
            continue
        row_id, study_id = row["aggregate_id"], row["study_id"]
        reason = None if settings.include_series else "case series not included in this analysis"
        if reason is None and settings.population:
            reason = "population filter applies to individual patients; series are aggregate only"
        reason = reason or study_reason(review, settings, study_id)
        drug = as_text(row.get("drug"))
        if reason is None and not drug:
            reason = "therapy not in the vocabulary"
        if reason is None and row.get("n") is None:
            reason = "no number of patients (n)"
        if reason:
            excluded[row_id] = reason
            continue
        group = group_key(group_by, drug, as_text(row.get("drug_class")))
        unit = units.setdefault((study_id, group, drug, as_text(row.get("population")), row["n"]), _SeriesUnit())
        unit.outcomes.add(row["outcome"])
        unit.accounted += int(row.get("events") or 0)
        if row["outcome"] in wanted:
            if row.get("events") is None:
                excluded[row_id] = "no number of events"
                continue
            unit.events += int(row["events"])
            unit.has_outcome = True
            unit.rows.append(row_id)
        else:
            unit.other_rows.append(row_id)
    figures = []
    for (study_id, group, drug, population, n), unit in sorted(units.items(), key=lambda item: item[0][:3]):
        if not unit.has_outcome:
            for row_id in unit.other_rows:
                excluded[row_id] = f"series gives no figure for {label}"
            continue
        for row_id in unit.other_rows:
            excluded[row_id] = f"does not count towards {label}"
        figures.append(SeriesFigure(study_id, group, drug, population, unit.events, int(n), tuple(unit.rows),
                                    _lower_bound_note(responses, settings.outcome, wanted, unit, int(n))))
    return figures, excluded


def _lower_bound_note(responses: Responses, outcome: str, wanted: tuple[str, ...], unit: _SeriesUnit, n: int) -> str:
    """Why a series' events are only a lower bound of the outcome ('' when they are the full count).

    A series that reports, say, partial responses but no row for complete responses has an unknown number of
    complete responders -- unless its rows (complete, partial, none) already account for all n patients.
    """
    missing = [o for o in wanted if o not in unit.outcomes]
    if not missing or unit.accounted >= n:
        return ""
    given = [responses.counted(o) for o in wanted if o in unit.outcomes]
    return (f"{' and '.join(given)} only; {' and '.join(responses.counted(o) for o in missing)} not reported, "
            f"so {OUTCOME_SHORT[outcome]} ≥ {unit.events}/{n}")


def _with_cumulative(review: ReviewTables, groups: list[ProportionGroup], fitted: list[Any]) -> list[ProportionGroup]:
    """Each group with its cumulative meta-analysis by publication year (``cumulative_by_year``), every step of
    every group refitted in one call of the core."""
    from dataclasses import replace

    wanted = [i for i, group in enumerate(groups) if fitted[i] is not None and len(group.contributors) >= 2]
    ready = {i for i in wanted if len(groups[i].contributors) <= MAX_CUMULATIVE_REPORTS}
    tables = cumulative_tables(review, [groups[i] for i in wanted if i in ready],
                               [fitted[i] for i in wanted if i in ready])
    out = list(groups)
    for i in wanted:
        group = groups[i]
        if i not in ready:
            cumulative = Cumulative(not_computed=f"{len(group.contributors)} reports (more than "
                                                 f"{MAX_CUMULATIVE_REPORTS}); one step per report would be "
                                                 "unreadable and needs as many refits")
        else:
            cumulative = tables.pop(0)
        out[i] = replace(group, cumulative=cumulative,
                         leave_one_out=leave_one_out_table(group, fitted[i]) if i in ready and
                         len(group.contributors) >= MIN_LEAVE_ONE_OUT else None)
    return out


MIN_LEAVE_ONE_OUT = 3  # with 2 reports, leaving one out is that other report's own estimate


def leave_one_out_table(group: ProportionGroup, fitted: Any) -> LeaveOneOut:
    """The group's estimate refitted without each report in turn, by the same method (metafor's ``leave1out``,
    via the core's ``leave_one_out`` on the group's fitted result)."""
    from metacalc.meta import leave_one_out

    try:
        table = leave_one_out(fitted)
    except (ValueError, ArithmeticError) as error:
        return LeaveOneOut(not_computed=str(error))
    contributors = group.contributors
    steps = []
    for i, (row, indices) in enumerate(zip(table.to_dict()["steps"], table.indices)):
        omitted = next(j for j in range(len(contributors)) if j not in indices)
        steps.append(LeaveOneOutStep(
            omitted=contributors[omitted].label, study_id=contributors[omitted].study_id, k=row["k"],
            events=sum(contributors[j].events for j in indices), total=sum(contributors[j].total for j in indices),
            method=table.fits[i].method, estimate=row["estimate"], ci_lower=row["ci_lower"],
            ci_upper=row["ci_upper"], lower_bound=table.fits[i].lower_bound))
    return LeaveOneOut(tuple(steps))


def report_years(review: ReviewTables, group: ProportionGroup) -> list[float | None]:
    return [as_number(review.study.get(c.study_id, {}).get("year")) for c in group.contributors]


def cumulative_tables(review: ReviewTables, groups: Sequence[ProportionGroup], fitted: Sequence[Any]
                      ) -> list[Cumulative]:
    """Cumulative meta-analysis of pooled groups: the pooled estimate as reports are added by publication year.

    Same pooling method as each group's own estimate (metafor's ``cumul``, via the core's ``cumulative_many`` on
    the group's fitted result); reports without a year come last, in report order. Groups of fewer than 2
    reports, or not pooled, have none (the caller leaves them out).
    """
    from metacalc.meta import cumulative_many

    years = [report_years(review, group) for group in groups]
    orders = [[math.inf if y is None else y for y in group_years] for group_years in years]
    try:
        tables = cumulative_many(list(fitted), orders)
    except (ValueError, ArithmeticError) as error:
        return [Cumulative(not_computed=str(error)) for _ in groups]
    return [_cumulative(group, table, group_years) for group, table, group_years in zip(groups, tables, years)]


def _cumulative(group: ProportionGroup, table: Any, years: list[float | None]) -> Cumulative:
    if isinstance(table, (ValueError, ArithmeticError)):
        return Cumulative(not_computed=str(table))
    contributors = group.contributors
    steps = []
    for i, (row, indices) in enumerate(zip(table.to_dict()["steps"], table.indices)):
        added = indices[-1]
        steps.append(CumulativeStep(
            added=row["added"], study_id=contributors[added].study_id, year=years[added], k=row["k"],
            events=sum(contributors[j].events for j in indices), total=sum(contributors[j].total for j in indices),
            method=table.fits[i].method, estimate=row["estimate"], ci_lower=row["ci_lower"],
            ci_upper=row["ci_upper"], lower_bound=table.fits[i].lower_bound))
    return Cumulative(tuple(steps), None, tuple(c.label for c, y in zip(contributors, years) if y is None))
