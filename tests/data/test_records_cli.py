"""`metacalc records import` through metacalc.cli.main: the log written (CSV or workbook), byte-stable,
nothing written on a bad export, and the databases arm of the PRISMA diagram filled."""

import shutil
from pathlib import Path

import pytest
from conftest import copy_review

from metacalc.cli import main
from metacalc.data import load_dataset
from metacalc.errors import UserError

FIXTURES = Path(__file__).parent.parent / "fixtures"
EXPORTS = FIXTURES / "search_exports"
REVIEW = FIXTURES / "golden" / "review"  # a committed copy of the bundled review


@pytest.fixture
def sheets(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return copy_review(REVIEW, tmp_path)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def import_(capsys, export, source="Embase", date="2026-03-02", where="sheets"):
    return run(capsys, "records", "import", str(EXPORTS / export), "--source", source, "--date", date,
               "--sheets", str(where))


def test_import_appends_to_the_log_and_fills_the_databases_arm(sheets, capsys):
    from metacalc.data.prisma_flow import flow_counts

    before = load_dataset(sheets)
    code, out, err = import_(capsys, "embase.ris")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"{EXPORTS / 'embase.ris'}: 4 records read (RIS)",
        "4 records added: 2 to screen, 1 duplicates of records already in the log, 1 duplicates within the file "
        "(duplicates have removed_before_screening = duplicate and duplicate_of)",
        "records log: sheets/records.csv",
    ]
    # The two new records await screening: validation says so, each on its row, and refuses to run on them.
    with pytest.raises(UserError) as refused:
        load_dataset(sheets)
    assert [p.split(": ", 1)[1].split(" awaits")[0] for p in refused.value.problems] == [
        f"record {rid}" for rid in screened_later(sheets)]
    after = load_dataset(screen(sheets))
    assert len(after.records) == len(before.records) + 4
    old = after.records.iloc[:len(before.records)]
    assert old[list(before.records.columns)].equals(before.records)  # earlier rows untouched
    counts = flow_counts(after.records, after.studies).databases_registers
    # Identified 4, of which 2 duplicates removed; the other 2 were screened (and excluded) after the import.
    assert (counts.identified.n, counts.removed.n, counts.screened.n) == (4, 2, 2)
    new = after.records.iloc[len(before.records):]
    assert sorted(new["removed_before_screening"].fillna("").tolist()) == ["", "", "duplicate", "duplicate"]
    assert list(new["search_date"]) == ["2026-03-02"] * 4


def screened_later(sheets):
    """Ids of the records of the log that are neither removed nor screened."""
    import csv

    with open(sheets / "records.csv", encoding="utf-8", newline="") as handle:
        return [row["record_id"] for row in csv.DictReader(handle)
                if not row["removed_before_screening"] and not row["screening"]]


def screen(sheets):
    """The reviewer's screening of the records still to screen: each excluded on its title."""
    import csv

    path = sheets / "records.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        columns, rows = reader.fieldnames, list(reader)
    for row in rows:
        if not row["removed_before_screening"] and not row["screening"]:
            row.update(screening="exclude", screening_reason="not calcinosis in SLE (title)")
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return sheets


def test_rows_already_in_a_csv_log_keep_their_bytes(sheets, capsys):
    import_(capsys, "embase.ris")  # the first import adds the new columns to the header
    before = (sheets / "records.csv").read_bytes()
    code, _, _ = import_(capsys, "scopus.csv", source="Scopus")
    assert code == 0
    after = (sheets / "records.csv").read_bytes()
    assert after.startswith(before) and after.count(b"\n") == before.count(b"\n") + 4


def test_same_export_into_the_same_log_gives_the_same_bytes(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    results = []
    for name in ("a", "b"):
        shutil.copytree(REVIEW / "extraction_sheets", tmp_path / name)
        assert import_(capsys, "pubmed_update.nbib", "MEDLINE", "2026-03-01", where=tmp_path / name)[0] == 0
        results.append((tmp_path / name / "records.csv").read_bytes())
    assert results[0] == results[1]


def test_importing_the_same_export_twice_adds_nothing(sheets, capsys):
    import_(capsys, "embase.ris")
    before = (sheets / "records.csv").read_bytes()
    code, out, err = import_(capsys, "embase.ris")
    assert (code, err) == (0, "")
    assert "0 records added" in out
    assert "4 records already in the log from an earlier import of this search" in out
    assert out.rstrip().endswith("(unchanged)")
    assert (sheets / "records.csv").read_bytes() == before


def test_a_bad_export_writes_nothing(sheets, capsys):
    before = (sheets / "records.csv").read_bytes()
    code, out, err = import_(capsys, "truncated.ris")
    assert code == 1 and out == "" and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith(f"{EXPORTS / 'truncated.ris'}:5: ") for line in lines)
    assert (sheets / "records.csv").read_bytes() == before
    assert sorted(p.name for p in sheets.iterdir()) == sorted(p.name for p in (REVIEW / "extraction_sheets").iterdir())


@pytest.mark.parametrize("argv, message", [
    (["--source", " ", "--date", "2026-03-02"], "--source: blank (got \"\", expected the name of the database searched"),
    (["--source", "MEDLINE", "--date", "2026-13-01"], "--date: not a date (got \"2026-13-01\", expected YYYY-MM-DD"),
])
def test_bad_options(sheets, capsys, argv, message):
    code, out, err = run(capsys, "records", "import", str(EXPORTS / "embase.ris"), *argv, "--sheets", "sheets")
    assert code == 1 and err.startswith(message)


def test_a_damaged_log_is_not_written(sheets, capsys):
    path = sheets / "records.csv"
    path.write_bytes(path.read_bytes() + b'broken,"row\n')
    before = path.read_bytes()
    code, _, err = import_(capsys, "embase.ris")
    assert code == 1 and "records.csv:" in err and "malformed CSV" in err
    assert "nothing imported" in err
    assert path.read_bytes() == before


def test_sheets_without_a_records_log_get_one(sheets, capsys):
    (sheets / "records.csv").unlink()
    code, _, _ = import_(capsys, "embase.ris")
    assert code == 0
    header = (sheets / "records.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == ("record_id,arm,source_type,source,search_date,citation,first_author,title,doi,year,"
                      "previous_review,duplicate_of,removed_before_screening,notes")


def csvs_to_workbook(directory, path):
    """The sheets as one workbook, saved in 2024, cells as text (as a reviewer's workbook may hold them)."""
    import csv
    import datetime

    import openpyxl

    from metacalc.data.template import workbook_bytes

    book = openpyxl.Workbook()
    book.remove(book.active)
    for table in sorted(Path(directory).glob("*.csv")):
        sheet = book.create_sheet(table.stem)
        with open(table, encoding="utf-8", newline="") as handle:
            for cells in csv.reader(handle):
                sheet.append([c if c else None for c in cells])
    book.properties.created = datetime.datetime(2024, 5, 1, 12, 0, 0)
    Path(path).write_bytes(workbook_bytes(book, modified="2024-05-01T12:00:00Z"))


def test_workbook_log(tmp_path, capsys, monkeypatch):
    import openpyxl

    monkeypatch.chdir(tmp_path)
    shutil.copy(REVIEW / "review.yaml", tmp_path)  # the review file and sources beside the workbooks
    shutil.copytree(REVIEW / "sources", tmp_path / "sources")
    outputs = []
    for name in ("a.xlsx", "b.xlsx"):
        csvs_to_workbook(REVIEW / "extraction_sheets", tmp_path / name)
        code, out, err = import_(capsys, "embase.ris", where=tmp_path / name)
        assert (code, err) == (0, ""), err
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]
    with pytest.raises(UserError) as refused:  # the new records await screening
        load_dataset(tmp_path / "a.xlsx")
    assert all("awaits screening" in p for p in refused.value.problems) and len(refused.value.problems) == 2
    book = openpyxl.load_workbook(tmp_path / "a.xlsx", read_only=True)
    rows = list(book["records"].iter_rows(values_only=True))
    last = [dict(zip(rows[0], row)) for row in rows[-4:]]
    book.close()
    assert [r["record_id"].startswith("embase_2026-03-02_") for r in last] == [True] * 4
    assert [r["year"] for r in last] == [1990, 2026, 2025, 2025]
    book = openpyxl.load_workbook(tmp_path / "a.xlsx")
    assert book.properties.modified.year == 2024  # the workbook's own save time, not the time of the import
    again = import_(capsys, "embase.ris", where=tmp_path / "a.xlsx")
    assert again[0] == 0 and (tmp_path / "a.xlsx").read_bytes() == outputs[0]
