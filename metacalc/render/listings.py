"""The report's lists of rows (its patients; its reports with their risk-of-bias judgements) as CSV beside it.

The report always writes ``patients.csv`` and ``reports.csv`` beside itself, as it writes ``provenance.csv``
(searchable, sortable, any spreadsheet opens them). Up to ``INLINE_MAX`` rows (the provenance's limit, one setting:
``provenance_inline_max``) the report lists those rows inline too; beyond, a browser would have to lay out tens of
megabytes of tables (a review of 100,000 patients: about 50 MB of patient rows alone, minutes in Chromium), so the
report gives their number and links to the file instead. The same limit applies to the lists the report has no
file for because they are the review's own sheets: the records behind each PRISMA box (the records log) and each
report's item answers (the appraisal sheet).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from metacalc.files import write_atomic
from metacalc.render.provenance import INLINE_MAX
from metacalc.review.document import ReviewResults
from metacalc.review.results_io import csv_text

PATIENTS_FILE = "patients.csv"
REPORTS_FILE = "reports.csv"


def _columns(rows: Sequence[Mapping[str, Any]], first: Sequence[str]) -> list[str]:
    """``first``, then every other key of the rows in the order the rows have them (the dataset's columns)."""
    columns = list(first)
    for row in rows:
        columns += [key for key in row if key not in columns]
    return columns


def courses_by_patient(results: ReviewResults) -> dict[str, list[Mapping[str, Any]]]:
    """Each patient's therapy courses in the order given (course order, then id), by patient id; what the
    report's patients table and patients.csv both list."""
    courses: dict[str, list[Mapping[str, Any]]] = {}
    for course in results.treatments:
        courses.setdefault(course["patient_id"], []).append(course)
    for given in courses.values():
        given.sort(key=lambda c: (c.get("course_order") or 0, c["treatment_id"]))
    return courses


def patient_rows(results: ReviewResults) -> tuple[list[str], list[dict[str, Any]]]:
    """One row per patient: its label, report, every column of the dataset (derived times included) and its
    therapies with their responses, in course order."""
    courses = courses_by_patient(results)
    report = {s["study_id"]: s["label"] for s in results.studies}
    rows = []
    for patient in results.patients:
        given = courses.get(patient["patient_id"], [])
        therapies = "; ".join(
            f"{c.get('therapy') or ''}{' ' + str(c['dose']) if c.get('dose') else ''}"
            f"{' ' + str(c['dose_unit']) if c.get('dose') and c.get('dose_unit') else ''}: {c.get('response') or ''}"
            for c in given)
        rows.append({**patient, "report": report.get(patient["study_id"], patient["study_id"]),
                     "therapies": therapies})
    return _columns(rows, ("label", "patient_id", "report", "study_id")), rows


def report_rows(results: ReviewResults) -> tuple[list[str], list[dict[str, Any]]]:
    """One row per report: its label, every column of the studies sheet, and the overall risk-of-bias judgement
    of each tool that appraised it (a column per tool)."""
    judged: dict[str, dict[str, str]] = {}
    tools = []
    for appraisal in sorted(results.appraisal, key=lambda a: a.tool):
        column = f"risk of bias ({appraisal.name})"
        tools.append(column)
        for judgement in appraisal.judgements:
            judged.setdefault(judgement.study_id, {})[column] = judgement.judgement
    studies = sorted(results.studies, key=lambda s: (s.get("year") or 0, s["study_id"]))
    rows = [{**study, **judged.get(study["study_id"], {})} for study in studies]
    columns = _columns([{k: v for k, v in row.items() if k not in tools} for row in rows], ("label", "study_id"))
    return columns + tools, rows


def listing(file: str, rows: int, inline_max: int) -> dict[str, Any]:
    return {"file": file, "rows": rows, "inline": rows <= inline_max, "inline_max": inline_max}


def summaries(results: ReviewResults, inline_max: int = INLINE_MAX) -> dict[str, dict[str, Any]]:
    """What the report's sections need to know of each list: its file, its rows, whether they are shown inline."""
    records = sum(len(rows) for rows in results.prisma.records_behind_boxes.values())
    answers = sum(len(j.answers) for a in results.appraisal for j in a.judgements)
    return {"patients": listing(PATIENTS_FILE, len(results.patients), inline_max),
            "reports": listing(REPORTS_FILE, len(results.studies), inline_max),
            "records": listing("", records, inline_max), "answers": listing("", answers, inline_max)}


def write_listings(results: ReviewResults, folder: str, inline_max: int = INLINE_MAX) -> dict[str, dict[str, Any]]:
    """Write ``patients.csv`` and ``reports.csv`` into ``folder`` (beside the report); returns ``summaries``."""
    for name, (columns, rows) in ((PATIENTS_FILE, patient_rows(results)), (REPORTS_FILE, report_rows(results))):
        write_atomic(os.path.join(folder, name), csv_text(rows, columns))
    return summaries(results, inline_max)
