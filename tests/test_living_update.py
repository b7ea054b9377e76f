"""A whole living update on a temporary copy of the bundled review (issue 9): release a version, import a
search export holding one record already in the log and one new case report, screen the new one, extract its
report (study, patient, therapy course, quotes, its text in sources/, appraisal), check what is left, run, and
read the report's changes against the named version."""

import re
from pathlib import Path

import pytest
from conftest import copy_review, edit_csv

GOLDEN = Path(__file__).parent / "fixtures" / "golden" / "review"

EXPORT = """TY  - JOUR
AU  - Tristano, Antonio G.
AU  - Villarroel, J. L.
TI  - Calcinosis cutis universalis in a patient with systemic lupus erythematosus
T2  - Clinical Rheumatology
PY  - 2006
VL  - 25
SP  - 70
EP  - 74
ER  - 

TY  - JOUR
AU  - Lindqvist, Maja
AU  - Okafor, Chidi
TI  - Diltiazem for calcinosis cutis in systemic lupus erythematosus: a case report
T2  - Journal of Case Reports in Rheumatology
PY  - 2026
VL  - 12
SP  - 101
EP  - 104
DO  - 10.9999/JCR.2026.0142
ER  - 
"""

SOURCE = """Diltiazem for calcinosis cutis in systemic lupus erythematosus: a case report
Maja Lindqvist, Chidi Okafor. Department of Rheumatology, Karolinska University Hospital, Stockholm, Sweden.
Journal of Case Reports in Rheumatology 2026; 12: 101-104.

Case report. A 41-year-old woman with systemic lupus erythematosus diagnosed 6 years earlier presented with
firm nodules on both elbows that had appeared 2 years before. She was given diltiazem 240 mg/day; the nodules
became smaller and softer after nine months of treatment.
"""

STUDY = {"study_id": "lindqvist2026", "first_author": "Lindqvist M", "year": "2026",
         "title": "Diltiazem for calcinosis cutis in systemic lupus erythematosus: a case report",
         "country": "Sweden", "design": "case report", "language": "english", "source_document": "lindqvist2026.txt"}
PATIENT = {"patient_id": "lindqvist2026_p1", "study_id": "lindqvist2026", "age_at_presentation": "41", "sex": "female",
           "start_years_before_presentation": "6", "onset_years_before_presentation": "2"}
COURSE = {"treatment_id": "lindqvist2026_p1_t1", "patient_id": "lindqvist2026_p1", "therapy": "diltiazem",
          "dose": "240", "dose_unit": "mg/day", "response": "partial"}
QUOTES = [
    ("studies", "lindqvist2026", "first_author", "Maja Lindqvist"),
    ("studies", "lindqvist2026", "year", "Journal of Case Reports in Rheumatology 2026"),
    ("studies", "lindqvist2026", "title", STUDY["title"]),
    ("studies", "lindqvist2026", "country", "Karolinska University Hospital, Stockholm, Sweden"),
    ("studies", "lindqvist2026", "design", "a case report"),
    ("studies", "lindqvist2026", "language", STUDY["title"]),
    ("patients", "lindqvist2026_p1", "age_at_presentation", "A 41-year-old woman"),
    ("patients", "lindqvist2026_p1", "sex", "A 41-year-old woman"),
    ("patients", "lindqvist2026_p1", "start_years_before_presentation", "diagnosed 6 years earlier"),
    ("patients", "lindqvist2026_p1", "onset_years_before_presentation", "had appeared 2 years before"),
    ("treatments", "lindqvist2026_p1_t1", "therapy", "diltiazem 240 mg/day"),
    ("treatments", "lindqvist2026_p1_t1", "dose", "diltiazem 240 mg/day"),
    ("treatments", "lindqvist2026_p1_t1", "dose_unit", "diltiazem 240 mg/day"),
    ("treatments", "lindqvist2026_p1_t1", "response", "the nodules became smaller and softer"),
]


def append(sheets, table, row):
    edit_csv(sheets / f"{table}.csv", lambda rows: rows.append({**{key: "" for key in rows[0]}, **row}))


def extract(sheets):
    """The new report's rows, its quotes and its appraisal (the answers of another case report, as a reviewer
    who judged them alike would record them)."""
    append(sheets, "studies", STUDY)
    append(sheets, "patients", PATIENT)
    append(sheets, "treatments", COURSE)
    for table, row_id, column, quote in QUOTES:
        append(sheets, "quotes", {"table": table, "row_id": row_id, "column": column, "quote": quote,
                                  "location": "case report"})
    for table in ("appraisal", "appraisal_overall"):
        edit_csv(sheets / f"{table}.csv", lambda rows: rows.extend(
            [{**r, "study_id": "lindqvist2026"} for r in rows if r["study_id"] == "costasousa2021"]))


@pytest.mark.slow
def test_a_whole_update_against_the_previous_named_version(tmp_path, capsys, monkeypatch):
    from metacalc.cli import main
    from metacalc.pipeline import run_review

    sheets = copy_review(GOLDEN, tmp_path, sheets="extraction_sheets")
    monkeypatch.chdir(tmp_path)
    assert main(["release", "v1"]) == 0

    (tmp_path / "export.ris").write_text(EXPORT, encoding="utf-8")
    assert main(["records", "import", "export.ris", "--source", "MEDLINE", "--date", "2026-11-30"]) == 0
    capsys.readouterr()
    imported = []
    edit_csv(sheets / "records.csv", lambda rows: imported.extend(r for r in rows if r["source"] == "MEDLINE"))
    (known, new) = sorted(imported, key=lambda r: r["year"])
    assert (known["removed_before_screening"], known["duplicate_of"]) == ("duplicate", "seed_001")
    assert (new["removed_before_screening"], new["screening"]) == ("", "")
    assert main(["status", "--check"]) == 1
    assert f"records.csv:55:screening: record {new['record_id']}" in capsys.readouterr().out

    def screen(rows):
        for row in rows:
            if row["record_id"] == new["record_id"]:
                row.update(screening="include", retrieved="yes", eligibility="include", study_id="lindqvist2026")
    edit_csv(sheets / "records.csv", screen)
    (tmp_path / "sources" / "lindqvist2026.txt").write_text(SOURCE, encoding="utf-8")
    extract(sheets)
    assert main(["status", "--check"]) == 0, capsys.readouterr().out
    capsys.readouterr()

    html = run_review(str(tmp_path), str(tmp_path / "analyses"), str(tmp_path / "reports"),
                      releases=str(tmp_path / "releases"))
    text = " ".join(Path(html).read_text(encoding="utf-8").split())
    changes = text[text.index('<section id="changes">'):text.index('id="duplicate-patients"')]
    assert "<h2>Changes since version v1</h2>" in changes
    assert 'New reports (1): <span title="sheet id lindqvist2026">Lindqvist 2026</span>' in changes
    assert 'New patients (1): <span title="sheet id lindqvist2026_p1">Lindqvist 2026</span>' in changes
    assert "Removed" not in changes
    assert "lindqvist2026" not in re.sub(r"<[^>]+>", " ", changes)  # sheet ids are not read in the text
    # PRISMA before -> after: the databases arm now holds the two imported records, one removed as a duplicate
    prisma = changes[changes.index('class="changes-prisma"'):]
    prisma = prisma[:prisma.index("</table>")]
    for box, before, after in (("Databases and registers: Records identified", 0, 2),
                               ("Databases and registers: Duplicate records removed", 0, 1),
                               ("Databases and registers: Reports included", 0, 1),
                               ("Studies included in review", 5, 6), ("Reports of included studies", 6, 7)):
        assert f'<tr><td>{box}</td><td class="num">{before}</td> <td class="num">{after}</td></tr>' in prisma
    assert "Other methods:" not in prisma  # unchanged
    # the main estimates that moved, worded as in the summary
    assert ('<tr class="changed"><td>Response per therapy</td><td>diltiazem</td> <td>1 of 4 patients responded '
            '(25.0%, 95% CI 0.6% to 80.6%)</td><td>2 of 5 patients responded (40.0%, 95% CI 5.3% to 85.3%)</td></tr>'
            in changes)
    assert "4 of 13 main estimate(s) moved." in changes
    assert "<td>surgical excision</td> <td>1 of 1 patient responded (100.0%, 95% CI 2.5% to 100.0%)</td><td>unchanged" \
        in changes
    assert "<summary>Sensitivity analyses:" in changes
