"""Duplicate patients: pairs to flag for the reviewer, and what a report counted once leaves aside.

A duplicate is the reviewer's decision (``studies.duplicate_of``): nothing here removes a patient. Pairs of
patients of different reports that score as likely one patient are listed until the reviewer decides (and then
as decided); for reports already marked, every patient fact on which the two reports differ is listed, so that
counting the patient once hides nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from metacalc.data.cells import as_text, shown
from metacalc.review.document import Difference, DuplicatePair, DuplicateScreen, PatientPair
from metacalc.review.patient_duplicates import screen_patients, undecided_problems
from metacalc.review.tables import ReviewTables, Row

# Free text and the code's own derivation sentences differ between any two reports; they are not facts to compare.
NOT_COMPARED = ("patient_id", "study_id", "notes")


def duplicate_screen(review: ReviewTables, jobs: int = 1) -> DuplicateScreen:
    """Every pair of patients from different reports scored (``patient_duplicates``): the pairs above the
    threshold, and the decided ones, with their evidence and decision (``jobs`` threads; the same pairs)."""
    return screen_patients(review.patients, review.treatments, review.studies, review.quotes, review.records,
                           review.duplicate_decisions, jobs=jobs)


def studies_file(source: str) -> str:
    """Where the studies table of the sheets at ``source`` is (as validation names it)."""
    return f"{source}[studies]" if source.lower().endswith(".xlsx") else os.path.join(source, "studies.csv")


def undecided_pairs(review: ReviewTables, screen: DuplicateScreen, source: str) -> list[str]:
    """What ``--strict`` refuses: each undecided pair above the threshold, located at the later report's row of
    the studies table (where its ``duplicate_of`` would go)."""
    row_of = {study["study_id"]: number for number, study in enumerate(review.studies, start=2)}
    return [str(p) for p in undecided_problems(screen, studies_file(source), row_of)]


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
