"""Table 1 of a published review: the characteristics of the included patients, and the reference list.

Patients are those of the included reports, each counted once: a report the reviewer judged to describe the
patient of another (``duplicate_of``) adds no patient, and the table says which patients it left aside. Each
characteristic gives counts with the percentage of the patients for whom the report states it, or the median
and range, and always the number of patients for whom it is not reported (case reports leave much unsaid, and a
percentage of the reported hides that).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from metacalc.data.cells import as_number, as_text
from metacalc.review.document import CitedReport, CountedOnce, PatientCharacteristic, PatientCharacteristics, \
    PatientPair
from metacalc.review.tables import ReviewTables

Row = dict[str, Any]


@dataclass(frozen=True)
class _Column:
    """A patients column shown in Table 1: how it is named, and whether it is counted or summarised."""

    name: str
    heading: str
    kind: str  # "count" (categories) or "median" (a number)
    values: tuple[str, ...] = ()  # the categories in the order the schema lists them (others follow, sorted)


def _columns(review: ReviewTables) -> list[_Column]:
    clock = review.review.clock
    columns = [
        _Column("age_at_presentation", "Age at presentation, years", "median"),
        _Column("sex", "Sex", "count", ("female", "male")),
        _Column("years_to_onset", f"Years from {clock.start} to {clock.onset}", "median"),
        _Column("years_to_diagnosis", f"Years from {clock.start} to {clock.diagnosis}", "median"),
    ]
    for field in review.review.patient_fields:
        heading = field.heading[:1].upper() + field.heading[1:] + (f", {field.unit}" if field.unit else "")
        if field.type == "enum":
            columns.append(_Column(field.name, heading, "count", field.values))
        elif field.type in ("number", "integer"):
            columns.append(_Column(field.name, heading, "median"))
        # free-text fields (body sites as written) have no categories to count
    return columns


def counted_patients(review: ReviewTables, pairs: Iterable[PatientPair]) -> tuple[list[Row], list[CountedOnce]]:
    """The included patients counted once, and the patients of duplicate reports left aside (with whom they are)."""
    same_as = {pair.duplicate_patient: pair.primary_patient for pair in pairs}
    counted, aside = [], []
    for patient in review.patients:
        study_id = patient["study_id"]
        primary_study = review.duplicate_of(study_id)
        if study_id not in review.study:
            continue
        if primary_study:
            primary = same_as.get(patient["patient_id"], "")
            aside.append(CountedOnce(patient["patient_id"], review.patient_label_of(patient["patient_id"]), primary,
                                     review.patient_label_of(primary) if primary else review.label_of(primary_study)))
            continue
        counted.append(patient)
    return counted, aside


def _characteristic(column: _Column, patients: Sequence[Row]) -> PatientCharacteristic:
    if column.kind == "median":
        values = sorted(v for v in (as_number(p.get(column.name)) for p in patients) if v is not None)
        return PatientCharacteristic(column.name, column.heading, "median", len(values), len(patients) - len(values),
                                     (), _median(values), values[0] if values else None,
                                     values[-1] if values else None)
    counts: dict[str, int] = {}
    for patient in patients:
        value = as_text(patient.get(column.name))
        if value:
            counts[value] = counts.get(value, 0) + 1
    order = [v for v in column.values] + sorted(v for v in counts if v not in column.values)
    reported = sum(counts.values())
    return PatientCharacteristic(column.name, column.heading, "count", reported, len(patients) - reported,
                                 tuple((value, counts.get(value, 0)) for value in order))


def _median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    middle = len(values) // 2
    return float(values[middle]) if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def _therapies(review: ReviewTables, patients: Sequence[Row]) -> PatientCharacteristic:
    """Patients who received each drug (a patient once per drug), most frequent first."""
    ids = {p["patient_id"] for p in patients}
    drugs: dict[str, set[str]] = {}
    for course in review.treatments:
        drug = as_text(course.get("drug")) or as_text(course.get("therapy"))
        if course["patient_id"] in ids and drug:
            drugs.setdefault(drug, set()).add(course["patient_id"])
    treated = set().union(*drugs.values()) if drugs else set()
    categories = sorted(((drug, len(who)) for drug, who in drugs.items()), key=lambda item: (-item[1], item[0]))
    return PatientCharacteristic("therapy", "Therapies received (patients; several per patient)", "count",
                                 len(treated), len(patients) - len(treated), tuple(categories))


def patient_characteristics(review: ReviewTables, pairs: Iterable[PatientPair]) -> PatientCharacteristics:
    """Table 1 of the review: every characteristic of the included patients, each patient counted once."""
    patients, aside = counted_patients(review, pairs)
    rows = [_characteristic(column, patients) for column in _columns(review)]
    rows.append(_therapies(review, patients))
    reports = len({p["study_id"] for p in patients})
    return PatientCharacteristics(len(patients), reports, tuple(rows), tuple(aside))


def _citation(study: Mapping[str, Any]) -> str:
    """A Vancouver-style citation from the studies sheet (first author only: the sheet holds no other)."""
    author = as_text(study.get("first_author"))
    parts = [f"{author}, et al" if author else "", as_text(study.get("title")).rstrip(".")]
    source = as_text(study.get("journal"))
    year = as_number(study.get("year"))
    if year is not None:
        source = f"{source} {year:g}".strip()
    volume, pages = as_text(study.get("volume")), as_text(study.get("pages"))
    if volume:
        source += f";{volume}"
    if pages:
        source += f":{pages}"
    parts.append(source)
    if not any(parts):
        return "No bibliographic details recorded in the studies sheet."
    text = ". ".join(p for p in parts if p) + "."
    doi = as_text(study.get("doi"))
    return f"{text} doi:{doi}" if doi else text


def reference_list(review: ReviewTables) -> tuple[tuple[CitedReport, ...], tuple[CitedReport, ...]]:
    """The included reports (by label) and the full texts excluded at eligibility with their reasons (by
    citation), as the reference list of a published review gives them."""
    included = tuple(sorted((CitedReport(s["study_id"], review.label_of(s["study_id"]), _citation(s), "")
                             for s in review.studies), key=lambda c: (c.label.lower(), c.row_id)))
    excluded = tuple(sorted((CitedReport(r["record_id"], "", as_text(r.get("citation")),
                                         as_text(r.get("exclusion_reason")))
                             for r in review.records
                             if as_text(r.get("eligibility")).lower() == "exclude"),
                            key=lambda c: (c.citation.lower(), c.row_id)))
    return included, excluded
