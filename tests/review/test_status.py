"""metacalc status: what is left to do in a review in progress, with FILE:ROW:COLUMN."""

from pathlib import Path

from conftest import copy_review, edit_csv

GOLDEN = Path(__file__).parent.parent / "fixtures" / "golden" / "review"


def test_a_finished_review_has_nothing_left(capsys):
    from metacalc.cli import main

    assert main(["status", str(GOLDEN), "--check"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "records to screen: none", "included reports without patients: none", "patients without treatments: none",
        "values without quotes: none", "reports not appraised: none", "undecided duplicate pairs: none"]


def test_everything_left_is_listed_with_file_and_row(tmp_path, capsys, monkeypatch):
    from metacalc.cli import main

    sheets = copy_review(GOLDEN, tmp_path, sheets="extraction_sheets")

    def records(rows):
        rows[1]["screening"] = rows[1]["retrieved"] = rows[1]["eligibility"] = rows[1]["study_id"] = ""

    def studies(rows):
        rows.append({**{key: "" for key in rows[0]}, "study_id": "new2026", "first_author": "New A", "year": "2026",
                     "design": "case report"})
        for row in rows:
            if row["study_id"] == "seed004":
                row["duplicate_of"] = row["duplicate_evidence"] = ""

    edit_csv(sheets / "records.csv", records)
    edit_csv(sheets / "studies.csv", studies)
    edit_csv(sheets / "treatments.csv", lambda rows: rows.__setitem__(
        slice(None), [r for r in rows if r["patient_id"] != "perezpampin_p1"]))
    edit_csv(sheets / "appraisal_overall.csv", lambda rows: rows.__setitem__(
        slice(None), [r for r in rows if r["study_id"] != "tristano2006"]))
    edit_csv(sheets / "quotes.csv", lambda rows: rows.pop(0))  # perezpampin's first_author
    monkeypatch.chdir(tmp_path)
    assert main(["status"]) == 0  # a to-do list
    out = capsys.readouterr().out
    assert main(["status", "--check"]) == 1
    lines = out.splitlines()
    assert lines[:2] == ["records to screen: 1", "  extraction_sheets/records.csv:3:screening: record seed_001 (Tristano AG, "
                         "Villarroel JL, Rodríguez MA, Millan A.…): to screen"]
    assert "  extraction_sheets/studies.csv:8:study_id: new2026: no patient in patients and no figure in aggregates" in lines
    assert "  extraction_sheets/patients.csv:2:patient_id: perezpampin_p1: no therapy course in treatments" in lines
    assert "  extraction_sheets/studies.csv:2:first_author: no quote for perezpampin's value (got Pérez Pampín E)" in lines
    assert ("  extraction_sheets/studies.csv:3:study_id: tristano2006: no overall risk-of-bias judgement in appraisal_overall"
            in lines)
    assert "  extraction_sheets/studies.csv:8:study_id: new2026: no overall risk-of-bias judgement in appraisal_overall" in lines
    (pair,) = [line for line in lines if "possibly the same patient" in line]
    assert pair.startswith("  extraction_sheets/studies.csv:6:duplicate_of: possibly the same patient, undecided (got seed002_p1")
    assert lines[-1].startswith("problems found by validation: ")
