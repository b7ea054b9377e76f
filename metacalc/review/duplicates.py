"""Duplicate patients: pairs to flag for the reviewer, and what a report counted once leaves aside.

A duplicate is the reviewer's decision (``studies.duplicate_of``): nothing here removes a patient. Patients of
different reports that look alike are flagged until the reviewer decides; for reports already marked, every
patient fact on which the two reports differ is listed, so that counting the patient once hides nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from metacalc.data.cells import as_number, as_text, shown
from metacalc.review.document import Difference, DuplicatePair, PatientPair, PossibleDuplicate
from metacalc.review.tables import ReviewTables, Row

# Free text and the code's own derivation sentences differ between any two reports; they are not facts to compare.
NOT_COMPARED = ("patient_id", "study_id", "notes")


def possible_duplicates(review: ReviewTables) -> list[PossibleDuplicate]:
    """Patients in different reports with the same age, sex and drugs, not yet marked duplicate_of."""
    drugs: dict[str, set[str]] = {}
    for course in review.treatments:
        if as_text(course.get("drug")):
            drugs.setdefault(course["patient_id"], set()).add(course["drug"])
    keys: dict[tuple[float | int, str, tuple[str, ...]], list[Row]] = {}
    for patient in review.patients:
        age = as_number(patient.get("age_at_presentation"))
        sex = as_text(patient.get("sex"))
        if age is None or not sex:
            continue
        keys.setdefault((age, sex, tuple(sorted(drugs.get(patient["patient_id"], ())))), []).append(patient)
    flags = []
    for (age, sex, drug_list), patients in sorted(keys.items(), key=lambda item: str(item[0])):
        studies = sorted({p["study_id"] for p in patients})
        if len(studies) < 2:
            continue
        if len({review.duplicate_of(s) or s for s in studies}) == 1:
            continue  # already decided by the reviewer
        flags.append(PossibleDuplicate(
            tuple(sorted(p["patient_id"] for p in patients)), tuple(studies), age, sex, drug_list,
            f"same age ({age:g}), sex ({sex}) and drugs ({', '.join(drug_list) or 'none'}) in {len(studies)} reports "
            "not marked duplicate_of"))
    return flags


def _course_texts(courses: Iterable[Row]) -> list[str]:
    return sorted(f"{as_text(c.get('drug')) or as_text(c.get('therapy'))}: {as_text(c.get('response')) or 'blank'}"
                  for c in courses)


def _courses_difference(first: list[str], second: list[str]) -> str:
    """How two lists of 'drug: response' differ, in words."""
    only_first = [c for c in first if c not in second]
    only_second = [c for c in second if c not in first]
    parts = []
    if only_first:
        parts.append(f"only in the primary report: {'; '.join(only_first)}")
    if only_second:
        parts.append(f"only in the duplicate report: {'; '.join(only_second)}")
    return "; ".join(parts) or "the reports disagree"


def duplicate_differences(review: ReviewTables) -> list[DuplicatePair]:
    """For each report marked duplicate_of another: the patient facts on which the two reports differ.

    Patients are paired in patient_id order when both reports describe the same number of patients; otherwise
    the pair is listed as not paired.
    """
    by_study: dict[str, list[Row]] = {}
    courses: dict[str, list[Row]] = {}
    for course in review.treatments:
        courses.setdefault(course["patient_id"], []).append(course)
    for patient in review.patients:
        by_study.setdefault(patient["study_id"], []).append(patient)
    columns: list[str] = []
    for patient in review.patients:
        for column in patient:
            if column not in columns and column not in NOT_COMPARED and not column.endswith("_derivation"):
                columns.append(column)
    out = []
    for study in sorted(review.studies, key=lambda s: s["study_id"]):
        primary = review.duplicate_of(study["study_id"])
        if not primary:
            continue
        duplicates = sorted(by_study.get(study["study_id"], []), key=lambda p: p["patient_id"])
        originals = sorted(by_study.get(primary, []), key=lambda p: p["patient_id"])
        not_paired, pairs = None, []
        if len(duplicates) != len(originals):
            not_paired = (f"{len(originals)} patient(s) in {review.label_of(primary)} and {len(duplicates)} in "
                          f"{review.label_of(study['study_id'])}: "
                          "patients cannot be paired automatically")
        else:
            pairs = [_patient_pair(original, duplicate, columns, courses)
                     for original, duplicate in zip(originals, duplicates)]
        out.append(DuplicatePair(primary, study["study_id"], review.label_of(primary),
                                 review.label_of(study["study_id"]), tuple(pairs), not_paired))
    return out


def _patient_pair(original: Row, duplicate: Row, columns: list[str], courses: dict[str, list[Row]]) -> PatientPair:
    differences = []
    for column in columns:
        first, second = shown(original.get(column)), shown(duplicate.get(column))
        if first == second:
            continue
        kind = ("only in the duplicate report" if not first else
                "only in the primary report" if not second else "the reports disagree")
        differences.append(Difference(column, first, second, kind))
    first_courses = _course_texts(courses.get(original["patient_id"], []))
    second_courses = _course_texts(courses.get(duplicate["patient_id"], []))
    if first_courses != second_courses:
        differences.append(Difference("therapy courses (drug: response)", "; ".join(first_courses),
                                      "; ".join(second_courses), _courses_difference(first_courses, second_courses)))
    return PatientPair(original["patient_id"], duplicate["patient_id"], tuple(differences))
