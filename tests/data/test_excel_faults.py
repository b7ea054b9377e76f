"""Excel cells are read as the sheet shows them, or refused with a located message saying what was found and
what to do: formulas without a saved result, merged ranges, error values, dates where numbers are expected,
encrypted workbooks and damaged sheets. Each workbook is built here with openpyxl, edited at the XML where
openpyxl cannot write what Excel does (a formula's saved result)."""

import datetime
import re
import shutil
import zipfile

import openpyxl
import pytest
from conftest import SMALL_REVIEW, copy_review

from metacalc.data import load_dataset
from metacalc.data import reader
from metacalc.data.reader import OLE2_MAGIC, read_table, read_workbook
from metacalc.errors import UserError


def book(path, rows, title="studies", merged=()):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for cells in merged:
        sheet.merge_cells(cells)
    workbook.save(path)
    return path


# How openpyxl writes a formula's empty result: "<v />" with the standard library's XML writer, "<v></v>" with
# lxml's (which it uses when lxml is installed, as python-docx installs it).
EMPTY_VALUE = re.compile(rb"<v ?/>|<v></v>")


def edit_part(path, part, change):
    """Rewrite one part of the workbook's zip archive (``change``: bytes -> bytes)."""
    with zipfile.ZipFile(path) as source:
        items = [(item, source.read(item.filename)) for item in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item, data in items:
            target.writestr(item, change(data) if item.filename == part else data)


def lines(problems):
    return [str(problem) for problem in problems]


def test_a_formula_without_a_saved_result_is_refused_where_it_is(tmp_path):
    # openpyxl saves formulas as Excel never does: without their result, as a workbook made by a script would be.
    path = book(tmp_path / "b.xlsx", [["study", "events", "total"], ["a", "=2+1", 4]])
    table, problems = read_table(path)
    assert lines(problems) == [
        f"{path}[studies]:2:events: formula without a saved result (got =2+1, expected a value: open the workbook "
        "in Excel or LibreOffice and save it, so that the result is stored, or type the value)"]
    assert table.rows == (("a", None, "4"),)


def test_a_formula_with_a_saved_result_reads_as_its_result(tmp_path):
    path = book(tmp_path / "b.xlsx", [["study", "events"], ["a", "=2+1"]])
    edit_part(path, "xl/worksheets/sheet1.xml", lambda xml: EMPTY_VALUE.sub(b"<v>3</v>", xml, count=1))
    table, problems = read_table(path)
    assert problems == [] and table.rows == (("a", "3"),)


def test_error_values_typed_or_computed_are_refused(tmp_path):
    path = book(tmp_path / "b.xlsx", [["study", "events", "total"], ["a", "#N/A", "=1/0"]])
    edit_part(path, "xl/worksheets/sheet1.xml",
              lambda xml: re.sub(rb'<c r="C2"><f>1/0</f>(<v ?/>|<v></v>)</c>',
                                 b'<c r="C2" t="e"><f>1/0</f><v>#DIV/0!</v></c>', xml))
    table, problems = read_table(path)
    assert lines(problems) == [
        f"{path}[studies]:2:events: error value (got #N/A, typed in the cell, expected a value: correct the formula "
        "or type the value, or leave the cell blank when the report does not say)",
        f"{path}[studies]:2:total: error value (got #DIV/0!, the result of the formula =1/0, expected a value: "
        "correct the formula or type the value, or leave the cell blank when the report does not say)"]
    assert table.rows == (("a", None, None),)


def test_merged_ranges_are_refused_over_data_and_header_cells(tmp_path):
    rows = [["study", "events", "notes", None], ["a", 1, "first"], ["b", 2, None], ["c", 3, "x", "y"]]
    path = book(tmp_path / "b.xlsx", rows, merged=["C1:D1", "C2:C3"])
    table, problems = read_table(path)
    assert lines(problems) == [
        f"{path}[studies]:1: merged header cells (got C1:D1 merged, expected one column name per cell: unmerge them "
        "and name every column)",
        f"{path}[studies]:2:notes: merged cells (got C2:C3 merged, expected a value in each cell: unmerge them and "
        "type the value in every cell, since merged cells read as blank after the first)",
        # the value under the merged header's second cell: not "an unquoted comma", as it once was
        f"{path}[studies]:4: value in a column without a name (got a value in cell 4, expected a column name above "
        "it in row 1; were header cells merged?)"]
    assert table.header == ("study", "events", "notes") and not table.complete


def test_a_csv_header_with_a_blank_cell_is_not_an_unquoted_comma(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,\n1,2,3\n1,2,,4\n", encoding="utf-8")
    assert lines(read_table(path)[1]) == [
        f"{path}:2: value in a column without a name (got a value in cell 3, expected a column name above it in "
        "row 1; were header cells merged?)",
        f"{path}:3: too many cells (got a value in cell 4, expected 2 cells as in the header; is a comma unquoted?)"]


def test_merged_ranges_are_found_wherever_the_scan_cuts_the_sheet(tmp_path, monkeypatch):
    """The sheet's XML is scanned in chunks (of 1 MiB; here of 300 bytes): each range is found once."""
    monkeypatch.setattr(reader, "_SCAN_CHUNK", 300)
    rows = [["study", "notes"]] + [[f"s{i}", "x"] for i in range(200)]
    starts = range(3, 200, 7)
    path = book(tmp_path / "b.xlsx", rows, merged=[f"B{r}:B{r + 1}" for r in starts])
    _, problems = read_table(path)
    assert [p.row for p in problems] == list(starts)


def test_an_encrypted_workbook_is_said_to_be_one(tmp_path):
    path = tmp_path / "b.xlsx"
    path.write_bytes(OLE2_MAGIC + bytes(504))  # the header of an OLE2 compound file, as Excel encrypts into
    assert lines(read_workbook(str(path))[1]) == [
        f"{path}: encrypted workbook (got a password-protected workbook or an old .xls file, expected an .xlsx "
        "workbook without a password: open it in Excel, remove the password under File > Info > Protect "
        "Workbook, and save it as .xlsx)"]


def small_workbook(tmp_path, to_xlsx):
    copy_review(SMALL_REVIEW, tmp_path)
    to_xlsx(tmp_path / "sheets", tmp_path / "review.xlsx")
    shutil.rmtree(tmp_path / "sheets")
    return tmp_path / "review.xlsx"


def sheet_part(path, title):
    """The archive part of a sheet, by its title."""
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        return workbook[title]._worksheet_path
    finally:
        workbook.close()


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_a_damaged_sheet_is_named_and_the_others_are_not_said_missing(tmp_path, monkeypatch, to_xlsx, damage):
    path = small_workbook(tmp_path, to_xlsx)
    part = sheet_part(path, "patients")
    edit_part(path, part, (lambda xml: xml[:len(xml) // 2]) if damage == "truncated" else (lambda xml: b"garbage"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError) as error:
        load_dataset("review.xlsx")
    problems = error.value.problems
    assert not any("sheet missing" in line for line in problems), problems
    if damage == "truncated":  # the sheet's size is readable: the other sheets are read
        assert problems[0].startswith("review.xlsx[patients]: damaged sheet (got ParseError: ")
    else:  # openpyxl reads every sheet's size on opening: no sheet can be read
        assert problems == [
            'review.xlsx: damaged sheet "patients" (got ParseError: syntax error: line 1, column 0, expected a sheet '
            "Excel can read: open the workbook in Excel or LibreOffice and save it again, or rebuild the sheet; no "
            "sheet of the workbook can be read until then)"]


def test_dates_where_numbers_are_expected_say_so(tmp_path, monkeypatch, to_xlsx):
    path = small_workbook(tmp_path, to_xlsx)
    workbook = openpyxl.load_workbook(path)
    studies = workbook["studies"]
    year = [cell.value for cell in studies[1]].index("year") + 1
    studies.cell(2, year).value = datetime.datetime(1905, 7, 3)  # 2011 typed in a cell formatted as a date
    patients = workbook["patients"]
    age = [cell.value for cell in patients[1]].index("age_at_presentation") + 1
    patients.cell(2, age).value = datetime.time(10, 30)
    start = [cell.value for cell in patients[1]].index("start_years_before_presentation") + 1
    patients.cell(2, start).value = datetime.timedelta(days=1, hours=2)  # a duration format ([h]:mm)
    workbook.save(path)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError) as error:
        load_dataset("review.xlsx")
    found = [line for line in error.value.problems if "a date or time where a number is expected" in line]
    what = "type the number itself; in Excel, format the cell as a number, not a date or time, and check its value"
    assert found == [
        'review.xlsx[patients]:2:age_at_presentation: a date or time where a number is expected (got "10:30:00", '
        f"expected a number: {what})",
        "review.xlsx[patients]:2:start_years_before_presentation: a date or time where a number is expected (got "
        f'"1 day, 2:00:00", expected a number: {what})',
        'review.xlsx[studies]:2:year: a date or time where a number is expected (got "1905-07-03", expected a whole '
        f"number: {what})"]


def test_a_date_in_a_text_column_is_kept_as_written(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["study", "notes"])
    workbook.active.append(["a", datetime.date(2020, 1, 2)])
    workbook.save(tmp_path / "b.xlsx")
    table, problems = read_table(tmp_path / "b.xlsx")
    assert problems == [] and table.rows == (("a", "2020-01-02"),)
