"""The one reader of tables (CSV or a sheet of an .xlsx workbook): header, text cells, the row numbers a
spreadsheet shows, and located problems, for the extraction sheets and for the meta command's tables alike."""

import openpyxl
import pytest

from metacalc.data import load_dataset
from metacalc.data.reader import read_table
from metacalc.errors import UserError


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def test_csv_keeps_the_header_as_written_and_counts_rows_as_a_spreadsheet(tmp_path):
    path = write(tmp_path / "studies.csv", '\ufeffStudy , Events,Total,,\n"a, b",1,2\n\n"multi\nline",3,4,,\n')
    table, problems = read_table(path)
    assert problems == []
    assert (table.name, table.header) == ("studies", ("Study", "Events", "Total"))
    # the blank line is row 3; the quoted cell spanning two lines is one row (row 4)
    assert table.row_numbers == (2, 4)
    assert table.rows == (("a, b", "1", "2"), ("multi\nline", "3", "4"))
    assert table.column("Events") == ["1", "3"] and table.complete


def test_csv_problems_are_located(tmp_path):
    table, problems = read_table(write(tmp_path / "t.csv", "a,b,c\n1,2\n1,2,3,4\n5,,\n"))
    assert [str(p) for p in problems] == [
        f"{tmp_path}/t.csv:2: too few cells (got 2, expected 3 as in the header; is the file truncated?)",
        f"{tmp_path}/t.csv:3: too many cells (got a value in cell 4, expected 3 cells as in the header; is a comma "
        "unquoted?)",
    ]
    assert table.rows == (("5", None, None),) and table.row_numbers == (4,) and not table.complete


def test_unreadable_inputs(tmp_path):
    assert [str(p) for p in read_table(tmp_path / "none.csv")[1]] == [
        f"{tmp_path}/none.csv: no such file (expected a CSV file or an .xlsx workbook)"]
    assert "not valid UTF-8 (got byte 0xE9" in str(read_table(write(tmp_path / "l.csv", "a\né\n", "latin-1"))[1][0])
    assert "malformed CSV" in str(read_table(write(tmp_path / "q.csv", 'a\n"open\n'))[1][0])
    assert "empty file" in str(read_table(write(tmp_path / "e.csv", " \n"))[1][0])


def test_xlsx_first_sheet_or_a_named_one_as_csv_text(tmp_path):
    book = openpyxl.Workbook()
    first = book.active
    first.title = "Studies"
    first.append(["study", "events", "total", "when"])
    first.append(["a", 1, 2.0, None])
    first.append([None, None, None, None])
    first.append(["b", 0.5, True, None])
    second = book.create_sheet("other")
    second.append(["x"])
    second.append([1])
    book.save(tmp_path / "book.xlsx")
    table, problems = read_table(tmp_path / "book.xlsx")
    assert problems == [] and table.file == f"{tmp_path}/book.xlsx[Studies]"
    assert table.rows == (("a", "1", "2", None), ("b", "0.5", "yes", None)) and table.row_numbers == (2, 4)
    other, _ = read_table(tmp_path / "book.xlsx", sheet="OTHER")
    assert other.header == ("x",) and other.rows == (("1",),)
    missing, problems = read_table(tmp_path / "book.xlsx", sheet="third")
    assert missing is None and "sheet missing" in str(problems[0])


def test_a_problem_after_a_blank_line_names_the_spreadsheet_row(sheets):
    """The records log was once checked with row numbers rebuilt from positions: a blank line shifted them."""
    path = sheets / "records.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(2, "")  # row 3 is blank: r2 is on row 4, r3 on row 5
    lines[4] = lines[4].replace(",yes,include,beta2013", ",yes,,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(UserError) as error:
        load_dataset("sheets")
    assert "sheets/records.csv:5:eligibility: record r3 was retrieved but has no eligibility decision" in (
        error.value.problems)
