"""Reading extraction sheets: a directory of UTF-8 CSV files or one .xlsx workbook, to raw text cells.

Both formats become the same thing, a ``RawTable`` per table: the header and the rows as stripped text
(``None`` for a blank cell) with their spreadsheet row numbers. Everything after this step (types,
rules, derived values) is shared, which is why CSV and Excel load to identical datasets.
"""

import csv
import datetime
import io
import os
from dataclasses import dataclass

from metacalc.data.problems import Problem, show
from metacalc.data.schema import load_schema

README_SHEET = "readme"


@dataclass
class RawTable:
    name: str
    file: str          # as shown in messages: the user's path, with [sheet] for workbooks
    header: list       # column names, stripped and lower-cased ("" for an unnamed column)
    rows: list         # lists of text cells as read (None or blank = unknown), as long as the header
    row_numbers: list  # spreadsheet row number of each row (header = 1)
    complete: bool = True  # False when rows were lost to a structural problem


def read_sheets(path):
    """Read every table found at ``path``. Returns ({table: RawTable}, [Problem], workbook or None).

    ``path`` is a directory of ``<table>.csv`` files, a directory holding exactly one .xlsx workbook,
    or an .xlsx file. Tables that are absent are simply not in the result: the caller decides which
    are required.
    """
    path = str(path)
    if os.path.isdir(path):
        names = sorted(os.listdir(path))
        csvs = [n for n in names if n.lower().endswith(".csv")]
        books = [n for n in names if n.lower().endswith(".xlsx") and not n.startswith("~$")]
        if csvs:
            # A directory of CSVs may also hold a workbook (the committed template): CSVs win.
            return (*_read_csv_directory(path, csvs), None)
        if len(books) == 1:
            book = os.path.join(path, books[0])
            return (*_read_workbook(book), book)
        if len(books) > 1:
            return {}, [Problem(path, None, "", f"several workbooks (got {', '.join(books)}, expected one .xlsx or a set of .csv files)")], None
        return {}, [Problem(path, None, "", "no extraction sheets (got no .csv or .xlsx files, expected studies.csv, patients.csv, ... or one .xlsx workbook)")], None
    if not os.path.exists(path):
        return {}, [Problem(path, None, "", "no such file or directory (expected a directory of CSV files or an .xlsx workbook)")], None
    if path.lower().endswith(".csv"):
        return {}, [Problem(path, None, "", "a single CSV file (expected the directory that holds studies.csv, patients.csv, ...)")], None
    return (*_read_workbook(path), path)


def _closest(name, candidates):
    import difflib

    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


# ---------------------------------------------------------------- CSV

def _read_csv_directory(directory, csv_names):
    schema = load_schema()
    tables, problems = {}, []
    for filename in csv_names:
        table = filename[:-4]
        file = os.path.join(directory, filename)
        if table not in schema:
            problems.append(Problem(file, None, "", f"unknown table (got {show(table)}, expected one of: {', '.join(schema)}{_closest(table, schema)})"))
            continue
        raw, file_problems = _read_csv(file, table)
        problems.extend(file_problems)
        if raw is not None:
            tables[table] = raw
    return tables, problems


def _read_csv(file, table):
    with open(file, "rb") as handle:
        data = handle.read()
    if data.startswith(b"\xef\xbb\xbf"):  # Excel writes a byte-order mark on "CSV UTF-8"
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        bad = data[error.start:error.start + 1].hex().upper()
        return None, [Problem(file, line, "", f"not valid UTF-8 (got byte 0x{bad} at byte offset {error.start}, expected UTF-8 text; save the sheet as \"CSV UTF-8\")")]
    if not text.strip():
        return None, [Problem(file, None, "", f"empty file (got {len(data)} bytes, expected a header row naming the columns)")]
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records = []
    problems = []
    complete = True
    try:
        records.extend(reader)
    except csv.Error as error:
        problems.append(Problem(file, reader.line_num, "", f"malformed CSV (got {error}, expected quotes to be closed and doubled inside quoted cells)"))
        complete = False
    if not records:
        return None, problems + [Problem(file, None, "", "empty file (got no rows, expected a header row naming the columns)")]
    # Spreadsheet row numbers count records, not physical lines: a quoted cell may span lines.
    raw, header_problems = _table_from_cells(table, file, records[0], zip(range(2, len(records) + 1), records[1:]))
    if raw is not None:
        raw.complete = raw.complete and complete
    return raw, problems + header_problems


def _table_from_cells(table, file, header_cells, numbered_rows):
    """Shared by CSV and Excel: header checks for shape, ragged rows, blank rows skipped."""
    problems = []
    header = [(cell or "").strip().lower() for cell in header_cells]
    width = len(header)
    # Trailing unnamed columns are common (spreadsheets export stray commas); they are dropped when blank.
    while width and not header[width - 1]:
        width -= 1
    header = header[:width]
    if not width:
        problem = Problem(file, 1, "", "no column names (got a blank row 1, expected the header row naming the columns)")
        return None, [problem]
    rows, numbers = [], []
    complete = True
    for number, cells in numbered_rows:
        # Cells stay as read here (stripped later, column by column); this loop only sees row shape.
        first = cells[0] if cells else None
        if not (first and not first.isspace()) and not "".join(c for c in cells if c is not None).strip():
            continue
        if len(cells) < width:
            problems.append(Problem(file, number, "", f"too few cells (got {len(cells)}, expected {width} as in the header; is the file truncated?)"))
            complete = False
            continue
        if len(cells) > width and "".join(c for c in cells[width:] if c is not None).strip():
            extra = next(i for i in range(width, len(cells)) if _clean(cells[i]) is not None)
            problems.append(Problem(file, number, "", f"too many cells (got a value in cell {extra + 1}, expected {width} cells as in the header; is a comma unquoted?)"))
            complete = False
            continue
        rows.append(cells[:width] if len(cells) > width else cells)
        numbers.append(number)
    return RawTable(table, file, header, rows, numbers, complete), problems


def _clean(cell):
    if cell is None:
        return None
    cell = cell.strip()
    return cell or None


# ---------------------------------------------------------------- Excel

def _read_workbook(file):
    import zipfile

    import openpyxl

    schema = load_schema()
    try:
        book = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError) as error:
        return {}, [Problem(file, None, "", f"not a valid .xlsx workbook (got {type(error).__name__}: {error}, expected an Excel .xlsx file)")]
    except Exception as error:  # openpyxl raises many kinds of errors on damaged files
        return {}, [Problem(file, None, "", f"not a valid .xlsx workbook (got {type(error).__name__}: {error}, expected an Excel .xlsx file)")]
    tables, problems = {}, []
    try:
        for sheet in book.worksheets:
            name = sheet.title.strip().lower()
            where = f"{file}[{sheet.title}]"
            if name == README_SHEET:
                continue
            if name not in schema:
                problems.append(Problem(where, None, "", f"unknown sheet (got {show(sheet.title)}, expected one of: {', '.join(schema)}{_closest(name, schema)})"))
                continue
            rows = sheet.iter_rows(values_only=True)
            first = next(rows, None)
            if first is None or all(_excel_text(v) is None for v in first):
                problems.append(Problem(where, None, "", "empty sheet (got no header in row 1, expected the column names)"))
                continue
            numbered = ((i + 2, [_excel_text(v) for v in values]) for i, values in enumerate(rows))
            raw, sheet_problems = _table_from_cells(name, where, [_excel_text(v) for v in first], numbered)
            if raw is not None:
                tables[name] = raw
            problems.extend(sheet_problems)
    except Exception as error:  # a workbook that opens but whose sheets are damaged
        problems.append(Problem(file, None, "", f"not a valid .xlsx workbook (got {type(error).__name__}: {error}, expected an Excel .xlsx file)"))
    finally:
        book.close()
    for name, spec in schema.items():
        if spec.required and name not in tables and not any(p.file.endswith(f"[{name}]") for p in problems):
            problems.append(Problem(file, None, "", f"sheet missing (got no sheet {show(name)}, expected sheets {', '.join(n for n, s in schema.items() if s.required)})"))
    return tables, problems


def _excel_text(value):
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
    return _clean(str(value))
