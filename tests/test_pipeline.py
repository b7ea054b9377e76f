"""The whole review in one process (``metacalc.pipeline.run_review``, the two steps the workflow runs): an
inconsistent records log stops it before anything is written.

Each case breaks one thing in a copy of the bundled sheets, runs the whole review, and expects the located message
(found by the validation of the sheets) and an output folder without dataset, tables, figures or report.
"""

import csv
import shutil
from pathlib import Path

import pytest
from conftest import BUNDLED_COPY, copy_review

from metacalc.errors import UserError
from metacalc.pipeline import run_review

pytestmark = pytest.mark.slow  # the whole review, once per case

ROOT = Path(__file__).resolve().parents[1]


def edit_rows(path, change):
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    fields = list(rows[0])
    rows = change(rows)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def record(rows, record_id):
    return next(row for row in rows if row["record_id"] == record_id)


def included_but_excluded_at_screening(sheets):
    def change(rows):
        record(rows, "seed_001").update(screening="exclude", screening_reason="not SLE")
        return rows

    edit_rows(sheets / "records.csv", change)
    # seed_001 is the third line of records.csv (header = row 1)
    return "records.csv:3:eligibility: record seed_001 is included but was excluded at screening"


def duplicate_of_a_missing_record(sheets):
    def change(rows):
        duplicate = next(row for row in rows if row["removed_before_screening"] == "duplicate")
        duplicate["duplicate_of"] = "no_such_record"
        return rows

    edit_rows(sheets / "records.csv", change)
    # caught by the validation of references between tables, before any analysis
    return 'records.csv:8:duplicate_of: unknown record_id (got "no_such_record"'


def included_study_without_extraction_rows(sheets):
    # Costa Sousa's patient and everything that hangs on it disappear; the log still includes the report.
    edit_rows(sheets / "patients.csv", lambda rows: [r for r in rows if r["study_id"] != "costasousa2021"])
    edit_rows(sheets / "treatments.csv", lambda rows: [r for r in rows if not r["patient_id"].startswith("costasousa")])
    edit_rows(sheets / "quotes.csv", lambda rows: [
        r for r in rows if not (r["table"] in ("patients", "treatments") and r["row_id"].startswith("costasousa"))])
    return "records.csv:5:study_id: included study costasousa2021 has no extraction rows"


def study_the_log_never_included(sheets):
    def change(rows):
        row = record(rows, "seed_003")
        row.update(eligibility="exclude", exclusion_reason="wrong population", study_id="")
        return rows

    edit_rows(sheets / "records.csv", change)
    return "study costasousa2021 is in the extraction sheets but no record in records.csv includes it"


@pytest.mark.parametrize("breakage", [
    included_but_excluded_at_screening,
    duplicate_of_a_missing_record,
    included_study_without_extraction_rows,
    study_the_log_never_included,
])
def test_inconsistent_log_stops_the_review_and_writes_no_report(tmp_path, breakage):
    sheets = copy_review(BUNDLED_COPY, tmp_path)
    expected = breakage(sheets)
    out = tmp_path / "reports"
    with pytest.raises(UserError) as error:
        run_review(str(sheets), str(tmp_path / "analyses"), str(out))
    assert any(expected in problem for problem in error.value.problems), error.value.problems
    assert not (out / "dataset.json").exists()
    assert not (out / "index.html").exists()
    assert not (out / "tables").exists()
    assert not (out / "figures").exists()
