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
import errno
import io
import os
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from metacalc.data.problems import Problem, show

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
    try:
        with open(file, "rb") as handle:
            data = handle.read()
    except OSError as error:
        return None, [_unreadable(file, error, "a CSV file")]
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
    if data.count(b"\x00") * 3 >= len(data):
        # UTF-16 without its byte-order mark ("Unicode text") decodes as UTF-8 with a NUL after every letter.
        return None, [Problem(file, None, "", "UTF-16 text (got a NUL byte between the letters, expected UTF-8 "
                                              "text; save the sheet as \"CSV UTF-8\")")]
    first_line = text.split("\n", 1)[0].strip()
    if first_line.count(";") > first_line.count(","):
        # Excel writes "CSV" with semicolons where the decimal separator is a comma (most of Europe).
        return None, [Problem(file, 1, "", f"semicolons between the column names (got {show(first_line)}, "
                                           "expected commas: save the sheet as \"CSV UTF-8 (Comma delimited)\", or "
                                           "set the list separator of your system to a comma)")]
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[list[str]] = []
    problems = []
    complete = True
    try:
        records.extend(reader)  # a blank line is a record of no cells: it keeps its row number
    except csv.Error as error:
        # The record that failed starts on the row after the last complete one (a quote opened there).
        row = len(records) + 1
        if str(error).startswith("field larger than field limit"):
            # Either a cell really is that long, or a quote opened in it runs on through the rows below.
            limit = csv.field_size_limit()
            problems.append(Problem(file, row, "", f"cell longer than {limit:,} characters (got a longer cell in "
                                                   f"this row, expected at most {limit:,} characters: a missing "
                                                   "closing quote? or text to shorten)"))
        else:
            problems.append(Problem(file, row, "", f"malformed CSV (got {error}, expected quotes to be closed and "
                                                   "doubled inside quoted cells)"))
        complete = False
    if not records:
        return None, problems + [Problem(file, None, "", "empty file (got no rows, expected a header row naming "
                                                         "the columns)")]
    table, shape_problems = table_from_records(name, file, enumerate(records, start=1))
    if table is not None and not complete:
        table = Table(table.name, table.file, table.header, table.rows, table.row_numbers, complete=False)
    return table, problems + shape_problems


# The first bytes of an OLE2 compound file: what Excel writes for a password-protected (encrypted) workbook,
# and the format of the old .xls. An .xlsx is a zip file ("PK").
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Excel's error values, as a cell holding one (typed, or the result of a formula) stores them.
EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
                          "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#CONNECT!", "#BUSY!"})
# In a sheet's XML: a formula element, and a merged range (both are invisible to openpyxl's read-only sheets,
# which give merged cells as blank and a formula as its saved value, None when it has none).
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")
_MERGED_RANGE = re.compile(rb"<(?:\w+:)?mergeCell\s[^>]*?ref=\"([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)\"")
_SCAN_CHUNK = 1 << 20
_SCAN_OVERLAP = 256  # longer than any match of the two patterns, so a match across two chunks is found once
REPAIR = "open the workbook in Excel or LibreOffice and save it again, or rebuild the sheet"


def read_workbook(file: str, skip: Collection[str] = ()) -> tuple[dict[str, Table], list[Problem]]:
    """Every sheet of an .xlsx workbook as a table, keyed by sheet title, except those named in ``skip``
    (compared without case). A sheet with a blank first row is reported as empty and left out; a damaged sheet
    is reported by its name and left out, the others are read.

    Cells are read as Excel last saved them; what would read differently from what the sheet shows is refused,
    located: merged ranges (blank below their first cell), formulas without a saved result, error values."""
    import openpyxl

    skipped = {name.strip().lower() for name in skip}
    try:
        with open(file, "rb") as handle:
            encrypted = handle.read(len(OLE2_MAGIC)) == OLE2_MAGIC
    except OSError as error:
        return {}, [_unreadable(file, error, "an .xlsx workbook")]
    if encrypted:
            return {}, [Problem(file, None, "", "encrypted workbook (got a password-protected workbook or an old "
                                                ".xls file, expected an .xlsx workbook without a password: open it "
                                                "in Excel, remove the password under File > Info > Protect "
                                                "Workbook, and save it as .xlsx)")]
    try:
        book = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds of errors on damaged files
        damaged = _damaged_sheet(file)
        if damaged is None:
            return {}, [_not_a_workbook(file, error)]
        title, error = damaged
        return {}, [Problem(file, None, "", f'damaged sheet "{title}" (got {type(error).__name__}: {error}, '
                                            f"expected a sheet Excel can read: {REPAIR}; no sheet of the workbook "
                                            "can be read until then)")]
    tables: dict[str, Table] = {}
    problems: list[Problem] = []
    formulas_book = None  # the same workbook with formulas instead of their results, opened when one is found
    try:
        for sheet in book.worksheets:
            if sheet.title.strip().lower() in skipped:
                continue
            where = f"{file}[{sheet.title}]"
            try:
                merged, has_formulas = _sheet_markup(book, sheet)
                formulas: dict[tuple[int, int], str] = {}
                if has_formulas:
                    formulas_book = formulas_book or openpyxl.load_workbook(file, read_only=True, data_only=False)
                    formulas = _formulas(formulas_book[sheet.title])
                table, sheet_problems = _read_sheet(sheet, where, merged, formulas)
            except Exception as error:  # the sheet's XML is damaged: the other sheets can still be read
                problems.append(Problem(where, None, "", f"damaged sheet (got {type(error).__name__}: {error}, "
                                                         f"expected a sheet Excel can read: {REPAIR})"))
                continue
            problems.extend(sheet_problems)
            if table is not None:
                tables[sheet.title] = table
    finally:
        book.close()
        if formulas_book is not None:
            formulas_book.close()
    return tables, problems


def _read_sheet(sheet: Any, where: str, merged: list[str], formulas: dict[tuple[int, int], str]
                ) -> tuple[Table | None, list[Problem]]:
    """One sheet as a table; merged ranges, formulas without a saved result and error values are reported where
    they are (their cells read as blank)."""
    from openpyxl.utils import get_column_letter, range_boundaries

    found: list[Problem] = []
    header: list[str | None] = []

    def column_name(column: int) -> str:
        name = clean(header[column - 1]) if column <= len(header) else None
        return name or f"column {get_column_letter(column)}"

    def located(row: int, column: int, text: str) -> Problem:
        return Problem(where, row, "" if row == 1 else column_name(column), text)

    def texts(number: int, values: Sequence[object]) -> list[str | None]:
        cells = []
        for column, value in enumerate(values, start=1):
            if isinstance(value, str) and value.strip() in EXCEL_ERRORS:
                formula = formulas.get((number, column))
                origin = f"the result of the formula {formula}" if formula else "typed in the cell"
                found.append(located(number, column, f"error value (got {value.strip()}, {origin}, expected a "
                                                     "value: correct the formula or type the value, or leave the "
                                                     "cell blank when the report does not say)"))
                value = None
            elif value is None and (number, column) in formulas:
                found.append(located(number, column, f"formula without a saved result (got "
                                                     f"{formulas[(number, column)]}, expected a value: open the "
                                                     "workbook in Excel or LibreOffice and save it, so that the "
                                                     "result is stored, or type the value)"))
            cells.append(excel_text(value))
        return cells

    rows = (texts(number, values) for number, values in enumerate(sheet.iter_rows(values_only=True), start=1))
    first = next(rows, None)
    if first is None or all(cell is None for cell in first):
        return None, found + [Problem(where, None, "", "empty sheet (got no header in row 1, expected the column "
                                                       "names)")]
    header = first
    for cells in sorted(merged, key=lambda cells: range_boundaries(cells)[1::-1]):  # by row, then column
        min_column, min_row, _, _ = range_boundaries(cells)
        if min_row == 1:
            found.append(Problem(where, 1, "", f"merged header cells (got {cells} merged, expected one column name "
                                               "per cell: unmerge them and name every column)"))
        else:
            found.append(located(min_row, min_column, f"merged cells (got {cells} merged, expected a value in each "
                                                      "cell: unmerge them and type the value in every cell, since "
                                                      "merged cells read as blank after the first)"))
    table, shape_problems = table_from_records(sheet.title, where, _numbered(first, rows))
    return table, found + shape_problems


def _sheet_markup(book: Any, sheet: Any) -> tuple[list[str], bool]:
    """A sheet's merged ranges ("B3:B5") and whether it holds a formula, scanned from its XML in chunks.

    openpyxl's read-only sheets (what keeps large workbooks fast) expose neither, so the sheet's part of the
    archive is read directly (``_archive`` and ``_worksheet_path`` are openpyxl 3.1's names for them)."""
    merged: list[str] = []
    has_formulas = False
    tail = b""
    with book._archive.open(sheet._worksheet_path) as source:
        while chunk := source.read(_SCAN_CHUNK):
            data = tail + chunk
            has_formulas = has_formulas or _FORMULA_TAG.search(data) is not None
            # A match that ends inside the overlap was found in the previous chunk.
            merged.extend(m.group(1).decode("ascii") for m in _MERGED_RANGE.finditer(data) if m.end() > len(tail))
            tail = data[-_SCAN_OVERLAP:]
    return merged, has_formulas


def _formulas(sheet: Any) -> dict[tuple[int, int], str]:
    """(row, column) -> the formula as typed ("=B2-C2"), of every formula cell of a read-only sheet."""
    formulas = {}
    for row in sheet.iter_rows():
        for cell in row:
            if getattr(cell, "data_type", None) == "f":
                text = cell.value if isinstance(cell.value, str) else getattr(cell.value, "text", "")
                formulas[(cell.row, cell.column)] = text if text.startswith("=") else f"={text}"
    return formulas


def _damaged_sheet(file: str) -> tuple[str, Exception] | None:
    """The first sheet whose XML does not parse, by title, with the error; None when the sheets parse (or the
    workbook's own list of sheets cannot be read: then the workbook as a whole is not valid)."""
    from xml.etree.ElementTree import iterparse

    from openpyxl.reader.excel import ExcelReader

    try:
        reader = ExcelReader(file, read_only=True)
        reader.read_manifest()
        reader.read_workbook()
        sheets = list(reader.parser.find_sheets())
    except Exception:
        return None
    for sheet, part in sheets:
        try:
            with reader.archive.open(part.target) as source:
                for _ in iterparse(source):
                    pass
        except Exception as error:
            return sheet.name, error
    return None


def _unreadable(file: str, error: OSError, expected: str) -> Problem:
    """A table that cannot be opened: a folder of its name, a broken link, a file one may not read."""
    got = {errno.EISDIR: "a folder of that name", errno.ENOENT: "no such file (a broken link?)",
           errno.EACCES: "permission denied"}.get(error.errno or 0, error.strerror or type(error).__name__)
    return Problem(file, None, "", f"cannot read (got {got}, expected {expected})")


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
    problems = []
    if any(cell is not None and "\x00" in cell for cell in header_cells):
        problems.append(Problem(file, header_number, "", "NUL character in the header (got a NUL byte in a column "
                                                         "name, expected text; was binary data pasted in, or the "
                                                         "file damaged?)"))
        header_cells = [None if cell is None else cell.replace("\x00", "") for cell in header_cells]
    header = [clean(cell) or "" for cell in header_cells]
    written = len(header)  # cells in the header row, named or not
    # Trailing unnamed columns are common (spreadsheets export stray commas); they are dropped when blank.
    while header and not header[-1]:
        header.pop()
    if not header:
        return None, problems + [Problem(file, header_number, "", f"no column names (got a blank row {header_number}, "
                                                                  "expected the header row naming the columns)")]
    width = len(header)
    rows, numbers = [], []
    dropped = False  # rows left out (a cell with a NUL is only blanked)
    for number, cells in records:
        # Per cell, only what must be done per cell (strip; blank is None); the rarer checks below run once per
        # row on the whole row (any, join), which keeps reading 100,000 patients' sheets linear and cheap.
        texts = [None if cell is None else cell.strip() or None for cell in cells]
        if "\x00" in "".join(filter(None, texts)):
            for i, text in enumerate(texts):
                if text is not None and "\x00" in text:
                    # A NUL is no character of any text a reviewer types: the file holds binary data, or was damaged.
                    problems.append(Problem(file, number, header[i] if i < width else "", "NUL character in the cell "
                                            f"(got a NUL byte at character {text.index(chr(0)) + 1}, expected text; "
                                            "was binary data pasted in, or the file damaged?)"))
                    texts[i] = None
        if not any(texts):  # every cell blank (a text cell is never empty here: blank is None)
            continue
        if len(cells) < width:
            problems.append(Problem(file, number, "", f"too few cells (got {len(cells)}, expected {width} as in the "
                                                      "header; is the file truncated?)"))
            dropped = True
            continue
        extra = (next(i for i in range(width, len(texts)) if texts[i] is not None)
                 if any(texts[width:]) else None)
        if extra is not None and extra < written:
            # The header row has a cell there, blank: a column without a name (merged header cells leave one).
            problems.append(Problem(file, number, "", f"value in a column without a name (got a value in cell "
                                                      f"{extra + 1}, expected a column name above it in row 1; were "
                                                      "header cells merged?)"))
            dropped = True
            continue
        if extra is not None:
            problems.append(Problem(file, number, "", f"too many cells (got a value in cell {extra + 1}, expected "
                                                      f"{width} cells as in the header; is a comma unquoted?)"))
            dropped = True
            continue
        rows.append(tuple(texts[:width]))
        numbers.append(number)
    table = Table(name, file, tuple(header), tuple(rows), tuple(numbers), complete=not dropped)
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
