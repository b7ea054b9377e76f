"""The one reader of tables: a UTF-8 CSV file or a sheet of an .xlsx workbook, to text cells with row numbers.

Every table metacalc reads (the extraction sheets, the table of studies given to ``metacalc meta``) goes
through here, so that both formats and both commands agree on what a cell holds and which spreadsheet row it
sits on. A ``Table`` keeps the header as written (stripped), each row's cells as stripped text (``None`` for a
blank cell) and its spreadsheet row number (header = 1). Rows are counted as a spreadsheet shows them: a blank
line is a row (skipped, but counted), a quoted cell spanning two lines is one row. Problems are returned,
never raised, located ``FILE:ROW: ...``; the caller decides what a table must contain.
"""

from __future__ import annotations

import csv
import datetime
import io
import os
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass

from metacalc.data.problems import Problem

EXCEL_SUFFIXES = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class Table:
    """One table as read: text cells of each kept row, with the row numbers a spreadsheet shows."""

    name: str  # the file's stem, or the sheet's title
    file: str  # as shown in messages: the user's path, with [sheet] for a sheet of a workbook
    header: tuple[str, ...]  # column names, stripped ("" for an unnamed column), trailing blank ones dropped
    rows: tuple[tuple[str | None, ...], ...]  # as long as the header; None for a blank cell
    row_numbers: tuple[int, ...]  # spreadsheet row number of each row (header = 1)
    complete: bool = True  # False when rows were lost to a structural problem (reported)

    def column(self, name: str) -> list[str | None]:
        """The cells of one column (KeyError when the header does not name it)."""
        position = self.header.index(name)
        return [row[position] for row in self.rows]


def read_table(path: str | os.PathLike[str], sheet: str | None = None) -> tuple[Table | None, list[Problem]]:
    """Read one table: a CSV file, or the sheet ``sheet`` (default: the first) of an .xlsx workbook.

    Returns the table (None when nothing usable was read) and the problems found, each located.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        return None, [Problem(path, None, "", "no such file (expected a CSV file or an .xlsx workbook)")]
    if not path.lower().endswith(EXCEL_SUFFIXES):
        return read_csv(path)
    tables, problems = read_workbook(path)
    if not tables:
        return None, problems or [Problem(path, None, "", "no sheet with a header row (expected a table in the "
                                                            "first sheet)")]
    if sheet is None:
        return next(iter(tables.values())), problems
    for title, table in tables.items():
        if title.strip().lower() == sheet.strip().lower():
            return table, problems
    return None, problems + [Problem(path, None, "", f"sheet missing (got no sheet \"{sheet}\", expected one of: "
                                                     f"{', '.join(tables)})")]


def read_csv(file: str, name: str | None = None) -> tuple[Table | None, list[Problem]]:
    """A UTF-8 CSV file (a byte-order mark, as Excel writes, is allowed) as a table named ``name`` (its stem)."""
    name = name or os.path.splitext(os.path.basename(file))[0]
    with open(file, "rb") as handle:
        data = handle.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        bad = data[error.start:error.start + 1].hex().upper()
        return None, [Problem(file, line, "", f"not valid UTF-8 (got byte 0x{bad} at byte offset {error.start}, "
                                              "expected UTF-8 text; save the sheet as \"CSV UTF-8\")")]
    if not text.strip():
        return None, [Problem(file, None, "", f"empty file (got {len(data)} bytes, expected a header row naming the "
                                              "columns)")]
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[list[str]] = []
    problems = []
    complete = True
    try:
        records.extend(reader)  # a blank line is a record of no cells: it keeps its row number
    except csv.Error as error:
        # The record that failed starts on the row after the last complete one (a quote opened there).
        problems.append(Problem(file, len(records) + 1, "", f"malformed CSV (got {error}, expected quotes to be "
                                                            "closed and doubled inside quoted cells)"))
        complete = False
    if not records:
        return None, problems + [Problem(file, None, "", "empty file (got no rows, expected a header row naming "
                                                         "the columns)")]
    table, shape_problems = table_from_records(name, file, enumerate(records, start=1))
    if table is not None and not complete:
        table = Table(table.name, table.file, table.header, table.rows, table.row_numbers, complete=False)
    return table, problems + shape_problems


def read_workbook(file: str, skip: Collection[str] = ()) -> tuple[dict[str, Table], list[Problem]]:
    """Every sheet of an .xlsx workbook as a table, keyed by sheet title, except those named in ``skip``
    (compared without case). A sheet with a blank first row is reported as empty and left out."""
    import zipfile

    import openpyxl

    skipped = {name.strip().lower() for name in skip}
    try:
        book = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError) as error:
        return {}, [_not_a_workbook(file, error)]
    except Exception as error:  # openpyxl raises many kinds of errors on damaged files
        return {}, [_not_a_workbook(file, error)]
    tables: dict[str, Table] = {}
    problems: list[Problem] = []
    try:
        for sheet in book.worksheets:
            if sheet.title.strip().lower() in skipped:
                continue
            where = f"{file}[{sheet.title}]"
            rows = ([excel_text(value) for value in values] for values in sheet.iter_rows(values_only=True))
            first = next(rows, None)
            if first is None or all(cell is None for cell in first):
                problems.append(Problem(where, None, "", "empty sheet (got no header in row 1, expected the column "
                                                         "names)"))
                continue
            table, sheet_problems = table_from_records(sheet.title, where, _numbered(first, rows))
            problems.extend(sheet_problems)
            if table is not None:
                tables[sheet.title] = table
    except Exception as error:  # a workbook that opens but whose sheets are damaged
        problems.append(_not_a_workbook(file, error))
    finally:
        book.close()
    return tables, problems


def _not_a_workbook(file: str, error: Exception) -> Problem:
    return Problem(file, None, "", f"not a valid .xlsx workbook (got {type(error).__name__}: {error}, expected an "
                                   "Excel .xlsx file)")


def _numbered(first: list[str | None], rest: Iterator[list[str | None]]) -> Iterator[tuple[int, list[str | None]]]:
    yield 1, first
    yield from enumerate(rest, start=2)


def table_from_records(name: str, file: str, numbered: Iterable[tuple[int, Sequence[str | None]]]
                       ) -> tuple[Table | None, list[Problem]]:
    """Shared by CSV and Excel: the first record is the header; blank rows are skipped; a row with too few cells
    (a truncated file) or a value beyond the header (an unquoted comma) is reported and left out."""
    records = iter(numbered)
    header_number, header_cells = next(records)
    header = [clean(cell) or "" for cell in header_cells]
    # Trailing unnamed columns are common (spreadsheets export stray commas); they are dropped when blank.
    while header and not header[-1]:
        header.pop()
    if not header:
        return None, [Problem(file, header_number, "", f"no column names (got a blank row {header_number}, expected "
                                                       "the header row naming the columns)")]
    width = len(header)
    rows, numbers, problems = [], [], []
    for number, cells in records:
        texts = [clean(cell) for cell in cells]
        if all(text is None for text in texts):
            continue
        if len(cells) < width:
            problems.append(Problem(file, number, "", f"too few cells (got {len(cells)}, expected {width} as in the "
                                                      "header; is the file truncated?)"))
            continue
        extra = next((i for i in range(width, len(texts)) if texts[i] is not None), None)
        if extra is not None:
            problems.append(Problem(file, number, "", f"too many cells (got a value in cell {extra + 1}, expected "
                                                      f"{width} cells as in the header; is a comma unquoted?)"))
            continue
        rows.append(tuple(texts[:width]))
        numbers.append(number)
    table = Table(name, file, tuple(header), tuple(rows), tuple(numbers), complete=not problems)
    return table, problems


def clean(cell: str | None) -> str | None:
    """A cell's text stripped; None when blank."""
    if cell is None:
        return None
    cell = cell.strip()
    return cell or None


def excel_text(value: object) -> str | None:
    """An Excel cell as the text a CSV export would hold, so both formats give the same dataset."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time(0) else value.isoformat()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return clean(str(value))
