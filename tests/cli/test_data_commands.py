"""`metacalc validate` and `metacalc template` through metacalc.cli.main: exit codes, located messages,
no traceback, whatever the corruption."""

import random
import re
from pathlib import Path

import pytest

from metacalc.cli import main

BUNDLED = Path(__file__).resolve().parents[1] / "fixtures" / "golden" / "review"
LOCATED = re.compile(r"^sheets[^:]*(\.csv|\.xlsx(\[\w+\])?)(:\d+(:[\w]*)?)?: .+\(got .+, expected .+\)")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_located_failure(code, err):
    assert code == 1
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines
    for line in lines:
        assert LOCATED.match(line), line


def test_validate_success_prints_a_summary(sheets, capsys):
    code, out, err = run(capsys, "validate", "sheets", "--output", "out/dataset.json")
    assert (code, err) == (0, "")
    assert "rows: studies 2, patients 2, treatments 3, aggregates 2, records 3, appraisal 24, appraisal_overall 3, quotes 38" in out
    assert "review file: review.yaml; A small review: test fixture" in out
    assert "quotes: 38, each found in its source document" in out
    assert "therapy courses: 3; therapies: bisphosphonate (unspecified) 1, diltiazem 1, warfarin 1" in out
    assert "drug classes: 3 (bisphosphonate, calcium channel blocker, vitamin K antagonist)" in out
    assert Path("out/dataset.json").exists()


def test_a_review_folder_validates_by_its_folder(capsys, monkeypatch):
    monkeypatch.chdir(BUNDLED)  # the committed copy of the bundled review
    for argv in (["validate"], ["validate", "."], ["validate", "extraction_sheets"]):
        code, out, err = run(capsys, *argv)
        assert (code, err) == (0, "")
        assert out.startswith("extraction_sheets: valid\nreview file: review.yaml; Calcinosis cutis in systemic lupus")


def test_truncated_file(sheets, capsys):
    path = sheets / "patients.csv"
    path.write_bytes(path.read_bytes()[:-25])
    code, out, err = run(capsys, "validate", "sheets")
    assert_located_failure(code, err)
    assert err.startswith("sheets/patients.csv:3: too few cells (got 4, expected 10 as in the header; is the file truncated?)")


def test_latin1_bytes(sheets, capsys):
    path = sheets / "quotes.csv"
    path.write_bytes(path.read_bytes().replace(b"36 year old woman", b"36 a\xf1os"))
    code, out, err = run(capsys, "validate", "sheets")
    assert_located_failure(code, err)
    assert "sheets/quotes.csv:12: not valid UTF-8 (got byte 0xF1 at byte offset" in err


def test_text_in_number_column(sheets, capsys):
    path = sheets / "aggregates.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",17,9,", ",seventeen,9,"), encoding="utf-8")
    code, out, err = run(capsys, "validate", "sheets")
    assert_located_failure(code, err)
    assert err == 'sheets/aggregates.csv:2:n: not a number (got "seventeen", expected a whole number)\n'


def test_missing_sheet(sheets, capsys, to_xlsx):
    import openpyxl

    to_xlsx(sheets, "sheets.xlsx")
    book = openpyxl.load_workbook("sheets.xlsx")
    del book["patients"]
    book.save("sheets.xlsx")
    code, out, err = run(capsys, "validate", "sheets.xlsx")
    assert_located_failure(code, err)
    assert err.splitlines()[0] == 'sheets.xlsx: sheet missing (got no sheet "patients", expected sheets studies, patients, treatments, quotes)'


def test_not_an_xlsx(sheets, capsys):
    Path("sheets.xlsx").write_bytes(b"PK\x03\x04 this is not really a zip")
    code, out, err = run(capsys, "validate", "sheets.xlsx")
    assert_located_failure(code, err)
    assert err.startswith("sheets.xlsx: not a valid .xlsx workbook (got BadZipFile")


@pytest.mark.slow  # twelve validations of the whole fixture
@pytest.mark.parametrize("seed", range(12))
def test_random_corruption_never_shows_a_traceback(sheets, capsys, seed):
    """Cut, overwrite or re-encode a random file at a random place: exit 0 or 1, never a traceback."""
    rng = random.Random(seed)
    path = rng.choice(sorted(sheets.glob("*.csv")))
    data = bytearray(path.read_bytes())
    kind = seed % 3
    if kind == 0:
        data = data[: rng.randrange(1, len(data))]
    elif kind == 1:
        for _ in range(3):
            data[rng.randrange(len(data))] = rng.choice(b'\xe9\xff",\n x9')
    else:
        data = data.decode("utf-8").replace("a", "\u00e1").encode("latin-1")
    path.write_bytes(bytes(data))
    code, out, err = run(capsys, "validate", "sheets")
    assert "Traceback" not in err
    if code == 1:
        assert all(line.startswith("sheets/") for line in err.strip().splitlines()), err
    else:
        assert code == 0 and err == ""


def test_template_command(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a folder without a review file: the template of the generic schema
    code, out, err = run(capsys, "template", str(tmp_path / "new.xlsx"))
    assert (code, out) == (0, f"template written to {tmp_path / 'new.xlsx'}\n")
    code, out, err = run(capsys, "validate", str(tmp_path / "new.xlsx"))
    assert code == 0 and "rows: studies 0, patients 0" in out


def test_template_needs_an_xlsx_name(tmp_path, capsys):
    code, out, err = run(capsys, "template", str(tmp_path / "new.csv"))
    assert (code, err) == (1, f"{tmp_path / 'new.csv'}: not an .xlsx name (expected OUT.xlsx)\n")
