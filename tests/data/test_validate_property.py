"""Property: no cell content makes `metacalc validate` fail with a traceback. Random contents (any text, control
characters and quotes included, numbers of any size, the awkward values reviewers' sheets hold) are written into
random cells of a valid review, of every column type of its schema, as CSV (quoted, or raw so that the file's
structure breaks too) and as Excel cells (text, numbers, dates); validate must exit 0 or 1, and every line it
prints on error must be one located problem, FILE[:ROW[:COLUMN]]: what is wrong (or the review file's
REVIEW.YAML:KEY.PATH: what is wrong)."""

from __future__ import annotations

import contextlib
import csv
import datetime
import io
import re
import shutil
import tempfile
from pathlib import Path

import openpyxl
import pytest
from conftest import SMALL_REVIEW, csvs_to_xlsx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metacalc.cli import main
from metacalc.data.review_file import load_review
from metacalc.data.schema import TYPES, load_schema

SCHEMA = load_schema(load_review(SMALL_REVIEW / "review.yaml"))
SHEETS = SMALL_REVIEW / "sheets"


def _cells() -> list[tuple[str, str, str]]:
    """(table, column, type) of every input column the small review's sheets have."""
    cells = []
    for path in sorted(SHEETS.glob("*.csv")):
        header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
        spec = SCHEMA[path.stem]
        cells.extend((path.stem, name, spec.by_name[name].type) for name in header if name in spec.by_name)
    return cells


CELLS = _cells()
ROWS = {path.stem: len(path.read_text(encoding="utf-8").splitlines()) for path in SHEETS.glob("*.csv")}

AWKWARD = ["", " ", "1e20", "-1e20", "99999999999999999999", "9007199254740993", "inf", "-inf", "nan", "1e400",
           "1e-400", "-0", "0x1F", "1,5", "1_000", "½", "٣", '"', '""', '"open', "a,b", "a;b", "\r", "\n", "\x00",
           "\ufeff", "\u2028", "#N/A", "#DIV/0!", "=1+1", "2011-05-01", "10:30", "yes", "no", "NA", "None", "null",
           "x" * 300]
contents = st.one_of(st.sampled_from(AWKWARD), st.text(max_size=40),
                     st.integers(min_value=-2 ** 70, max_value=2 ** 70).map(str),
                     st.floats().map(repr), st.floats().map(lambda x: f"{x:g}"))
excel_values = st.one_of(contents, st.integers(min_value=-2 ** 70, max_value=2 ** 70),
                         st.floats(allow_nan=False), st.booleans(),
                         st.datetimes(min_value=datetime.datetime(1900, 3, 1), max_value=datetime.datetime(9999, 1, 1)),
                         st.dates(min_value=datetime.date(1900, 3, 1)), st.times())
# A cell, by table and column, on a row of that table (row 1 is the header: its names are fair game too).
places = st.sampled_from(CELLS).flatmap(
    lambda cell: st.tuples(st.just(cell), st.integers(min_value=1, max_value=ROWS[cell[0]])))
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def test_the_sheets_have_every_column_type():
    assert {kind for _, _, kind in CELLS} == set(TYPES)


def review_folder(base: Path) -> Path:
    shutil.copytree(SMALL_REVIEW, base, dirs_exist_ok=True)
    return base


def validate(path: Path) -> tuple[int, list[str]]:
    """`metacalc validate PATH` in this process: an exception escaping main() is what a user sees as a traceback."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["validate", str(path)])
    return code, err.getvalue().splitlines()


def assert_clean(folder: Path, code: int, lines: list[str]) -> None:
    assert code in (0, 1), (code, lines)
    assert (code == 1) == bool(lines), lines
    # FILE, FILE:ROW or FILE:ROW:COLUMN (a sheet's cells), FILE:KEY.PATH (the review file's keys)
    located = re.compile(re.escape(str(folder)) + r"/[^:]+(:\d+(:.*?)?|:[A-Za-z_][\w.]*)?: \S")
    for line in lines:
        assert located.match(line), line


def write_csv_cell(path: Path, row: int, column: str, text: str, raw: bool) -> None:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    position = rows[0].index(column) if column in rows[0] else 0  # an earlier edit renamed it
    if not raw:
        rows[row - 1][position] = text
        with open(path, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)
        return
    # The text as typed into a text editor, unquoted: commas, quotes and line breaks in it change the structure.
    lines = []
    for number, cells in enumerate(rows, start=1):
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="").writerow(cells)
        line = buffer.getvalue()
        if number == row:
            cells = [cell.replace('"', '""') for cell in cells]
            cells[position] = text
            line = ",".join(cells)
        lines.append(line)
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))


@SETTINGS
@given(edits=st.lists(st.tuples(places, contents, st.booleans()), min_size=1, max_size=3))
def test_validate_never_fails_with_a_traceback_on_csv_cells(edits):
    with tempfile.TemporaryDirectory() as directory:
        folder = review_folder(Path(directory))
        for ((table, column, _), row), text, raw in edits:
            write_csv_cell(folder / "sheets" / f"{table}.csv", row, column, text, raw)
        assert_clean(folder, *validate(folder / "sheets"))


@pytest.fixture(scope="module")
def workbook(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("workbook") / "review.xlsx"
    csvs_to_xlsx(SHEETS, path)
    return path


@SETTINGS
@given(edits=st.lists(st.tuples(places, excel_values), min_size=1, max_size=3))
def test_validate_never_fails_with_a_traceback_on_excel_cells(workbook, edits):
    with tempfile.TemporaryDirectory() as directory:
        folder = review_folder(Path(directory))
        shutil.rmtree(folder / "sheets")
        book = openpyxl.load_workbook(workbook)
        for ((table, column, _), row), value in edits:
            sheet = book[table]
            header = [cell.value for cell in sheet[1]]
            if isinstance(value, str):
                # openpyxl refuses the characters XML cannot hold, as Excel does: they never reach a workbook.
                value = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]", "", value)
            position = header.index(column) if column in header else 0  # an earlier edit renamed it
            sheet.cell(row, position + 1).value = value
        book.save(folder / "review.xlsx")
        assert_clean(folder, *validate(folder / "review.xlsx"))
