"""No input gives a traceback: numbers no column can hold, NUL bytes, semicolon-delimited and UTF-16 CSV, cells
over the CSV field limit, and cells that would break a message over several lines are each a located problem."""

import csv

import pytest

from metacalc.cli import main
from metacalc.data.reader import read_table


def set_cell(path, row, column, value):
    """Write ``value`` in a cell of a CSV sheet (row 2 = the first data row), quoted as csv.writer does."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    rows[row - 1][rows[0].index(column)] = value
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def validate(capsys, path="sheets"):
    code = main(["validate", str(path)])
    return code, capsys.readouterr().err.splitlines()


@pytest.mark.parametrize("value", ["1e20", "99999999999999999999", "-1e20", "9007199254740993", "inf", "-inf",
                                   "1e400"])
def test_numbers_no_integer_column_can_hold_are_out_of_range(sheets, capsys, value):
    set_cell(sheets / "studies.csv", 2, "year", value)
    assert validate(capsys) == (1, [f'sheets/studies.csv:2:year: out of range (got "{value}", expected 1800 to '
                                    '2100)'])


def test_numbers_beyond_a_number_column_without_range(sheets, capsys):
    set_cell(sheets / "aggregates.csv", 2, "mean", "1e400")
    set_cell(sheets / "aggregates.csv", 2, "sd", "nan")
    assert validate(capsys) == (1, [
        'sheets/aggregates.csv:2:mean: out of range (got "1e400", expected a finite number)',
        'sheets/aggregates.csv:2:sd: not a number (got "nan", expected a number)'])


def test_nul_bytes_in_cells_are_refused(sheets, capsys):
    set_cell(sheets / "studies.csv", 3, "title", "Calcinosis\x00 cutis")
    assert validate(capsys) == (1, [
        "sheets/studies.csv:3:title: NUL character in the cell (got a NUL byte at character 11, expected text; was "
        "binary data pasted in, or the file damaged?)"])


def test_utf16_without_a_byte_order_mark_is_named(tmp_path):
    path = tmp_path / "studies.csv"
    path.write_bytes("study_id,year\na,2011\n".encode("utf-16-le"))
    assert [str(p) for p in read_table(path)[1]] == [
        f'{path}: UTF-16 text (got a NUL byte between the letters, expected UTF-8 text; save the sheet as "CSV '
        'UTF-8")']


def test_a_semicolon_delimited_csv_gets_a_hint(sheets, capsys):
    path = sheets / "studies.csv"
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=";", lineterminator="\r\n").writerows(rows)
    code, lines = validate(capsys)
    header = ";".join(rows[0])
    assert (code, lines[0]) == (1, f'sheets/studies.csv:1: semicolons between the column names (got "{header}", '
                                   'expected commas: save the sheet as "CSV UTF-8 (Comma delimited)", or set the list '
                                   'separator of your system to a comma)')
    assert not any("unknown column" in line for line in lines)


def test_a_cell_over_the_field_limit_is_said_to_be_long(sheets, capsys):
    limit = csv.field_size_limit()
    set_cell(sheets / "studies.csv", 3, "title", "x" * (limit + 1))
    code, lines = validate(capsys)
    assert (code, lines[0]) == (1, f"sheets/studies.csv:3: cell longer than {limit:,} characters (got a longer cell "
                                   f"in this row, expected at most {limit:,} characters: a missing closing quote? or "
                                   "text to shorten)")


def test_a_quote_left_open_is_still_malformed_csv(sheets, capsys):
    path = sheets / "studies.csv"
    path.write_text(path.read_text(encoding="utf-8") + 'gamma2020,"Gamma\n', encoding="utf-8")
    code, lines = validate(capsys)
    assert code == 1 and "sheets/studies.csv:4: malformed CSV (got unexpected end of data" in lines[0]


def test_a_line_break_in_a_value_keeps_the_message_on_one_line(sheets, capsys):
    set_cell(sheets / "patients.csv", 2, "age_at_presentation", "3\n6")
    assert validate(capsys) == (1, [
        'sheets/patients.csv:2:age_at_presentation: not a number (got "3\\n6", expected a number)'])


def test_a_long_value_is_shown_cut(sheets, capsys):
    set_cell(sheets / "patients.csv", 2, "sex", "f" * 5000)
    assert validate(capsys) == (1, [
        f'sheets/patients.csv:2:sex: not an allowed value (got "{"f" * 200}..." (5,000 characters), expected one '
        'of: female, male)'])
