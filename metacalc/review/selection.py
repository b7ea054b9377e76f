"""Which rows an analysis uses: each filter returns the reason a row is left out, or None when it is kept.

Every row left out keeps its reason, so that the report can list it (nothing is lost silently).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from metacalc.data.cells import as_text
from metacalc.review.plan import Settings
from metacalc.review.tables import ReviewTables

ALL_THERAPIES = "all therapies"


def population_reason(settings: Settings, patient: Mapping[str, Any], study: Mapping[str, Any]) -> str | None:
    """Why a patient is outside the analysis' population: a column of the patients table, or else of the studies
    table (the plan's validation checks that it is one of theirs)."""
    return outside(settings.population.items(), patient, study, "analysis")


def outside(population: Iterable[tuple[str, tuple[str, ...]]], patient: Mapping[str, Any],
            study: Mapping[str, Any], who: str) -> str | None:
    """Why a patient is outside a population (column -> allowed values; a blank cell is ""), or None."""
    for column, allowed in population:
        value = as_text(patient[column] if column in patient else study.get(column))
        if value not in allowed:
            shown = value or "blank"
            return f"outside the population ({column} = {shown}, {who} needs {' or '.join(allowed)})"
    return None


def study_reason(review: ReviewTables, settings: Settings, study_id: str) -> str | None:
    """Why a whole report is left out: a duplicate counted once, or a report at high (or unknown) risk of bias."""
    duplicate = review.duplicate_of(study_id)
    if duplicate and settings.duplicates == "once":
        primary = review.label_of(duplicate)
        return f"duplicate report of {primary} (its patient is counted once, from {primary})"
    if settings.exclude_high_risk and study_id in review.high_risk_set:
        return "report at high risk of bias"
    if settings.exclude_high_risk and study_id not in review.judged_set:
        return "report not appraised: its risk of bias is unknown"
    return None


def patient_reasons(review: ReviewTables, settings: Settings) -> dict[str, str | None]:
    """Why each patient of the review is left out of an analysis (None when kept): outside its population, or
    its report left out. A report's reason is found once for all its patients, the population only when the
    analysis has one (each variant of each analysis asks this of every patient)."""
    population = tuple(settings.population.items())
    of_study: dict[str, str | None] = {}
    out: dict[str, str | None] = {}
    for patient_id, study_id in review.study_of_patient.items():
        reason = None
        if population:
            reason = outside(population, review.patient[patient_id], review.study.get(study_id, {}), "analysis")
        if reason is None:
            if study_id not in of_study:
                of_study[study_id] = study_reason(review, settings, study_id)
            reason = of_study[study_id]
        out[patient_id] = reason
    return out


def group_key(group_by: str, drug: str, drug_class: str) -> str:
    """The group a course or a series figure is pooled in: its drug, its drug class, or all therapies."""
    if group_by == "drug":
        return drug
    if group_by == "drug_class":
        return drug_class
    return ALL_THERAPIES
