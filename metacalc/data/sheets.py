"""Finding the extraction sheets: a directory of ``<table>.csv`` files or one .xlsx workbook, read as tables.

Both formats become the same thing, a :class:`metacalc.data.reader.Table` per table of the schema, with
lower-cased column names. Everything after this step (types, rules, derived values) is shared, which is why
CSV and Excel load to identical datasets.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import replace

from metacalc.data.problems import Problem, show
from metacalc.data.reader import Table, read_csv, read_workbook
from metacalc.data.schema import load_schema

README_SHEET = "readme"
LISTS_SHEET = "lists"  # the template's drop-down lists (therapy names), not a table
# Tables of earlier versions that now live elsewhere: where their content goes.
MOVED = {"vocabulary": "the review's additions to the therapy vocabulary are a list in review.yaml, under vocabulary"}


def read_sheets(path: str | os.PathLike[str]) -> tuple[dict[str, Table], list[Problem], str | None]:
    """Read every table found at ``path``. Returns ({table: Table}, [Problem], workbook path or None).

    ``path`` is a directory of ``<table>.csv`` files, a directory holding exactly one .xlsx workbook,
    or an .xlsx file. CSV files and a workbook side by side are refused: neither is ignored. Tables that are absent are simply not in the result: the caller decides which
    are required.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        names = sorted(os.listdir(path))
        csvs = [n for n in names if n.lower().endswith(".csv")]
        books = [n for n in names if n.lower().endswith(".xlsx") and not n.startswith("~$")]
        if csvs and books:
            # Either could be the review's data (a filled template beside old CSVs): reading one would silently
            # ignore the other.
            return {}, [Problem(path, None, "", f"both CSV files and a workbook (got {', '.join(csvs)} and "
                                                f"{', '.join(books)}, expected one or the other: move the workbook "
                                                "out of the folder, or the CSV files)")], None
        if csvs:
            return (*_read_csv_directory(path, csvs), None)
        if len(books) == 1:
            book = os.path.join(path, books[0])
            return (*_read_book(book), book)
        if len(books) > 1:
            return {}, [Problem(path, None, "", f"several workbooks (got {', '.join(books)}, expected one .xlsx or "
                                                "a set of .csv files)")], None
        return {}, [Problem(path, None, "", "no extraction sheets (got no .csv or .xlsx files, expected studies.csv, "
                                            "patients.csv, ... or one .xlsx workbook)")], None
    if not os.path.exists(path):
        return {}, [Problem(path, None, "", "no such file or directory (expected a directory of CSV files or an .xlsx "
                                            "workbook)")], None
    if path.lower().endswith(".csv"):
        return {}, [Problem(path, None, "", "a single CSV file (expected the directory that holds studies.csv, "
                                            "patients.csv, ...)")], None
    return (*_read_book(path), path)


def closest(name: str, candidates: list[str] | dict) -> str:
    """"; did you mean X?" for the closest candidate, or "" when none is close: the end of a message."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def _lowered(table: Table, name: str) -> Table:
    return replace(table, name=name, header=tuple(column.lower() for column in table.header))


def _read_csv_directory(directory: str, csv_names: list[str]) -> tuple[dict[str, Table], list[Problem]]:
    schema = load_schema()
    tables, problems = {}, []
    for filename in csv_names:
        name = filename[:-4]
        file = os.path.join(directory, filename)
        if name in MOVED:
            problems.append(Problem(file, None, "", f"not a table any more (got {show(name)}, expected no such file: "
                                                    f"{MOVED[name]})"))
            continue
        if name not in schema:
            problems.append(Problem(file, None, "", f"unknown table (got {show(name)}, expected one of: "
                                                    f"{', '.join(schema)}{closest(name, schema)})"))
            continue
        table, file_problems = read_csv(file, name)
        problems.extend(file_problems)
        if table is not None:
            tables[name] = _lowered(table, name)
    return tables, problems


def _read_book(file: str) -> tuple[dict[str, Table], list[Problem]]:
    schema = load_schema()
    sheets, problems = read_workbook(file, skip=(README_SHEET, LISTS_SHEET))
    if not sheets and any(problem.file == file for problem in problems):
        return {}, problems  # the workbook itself could not be read
    tables = {}
    for title, table in sheets.items():
        name = title.strip().lower()
        if name in MOVED:
            problems.append(Problem(table.file, None, "", f"not a table any more (got sheet {show(title)}, expected "
                                                          f"no such sheet: {MOVED[name]})"))
            continue
        if name not in schema:
            problems.append(Problem(table.file, None, "", f"unknown sheet (got {show(title)}, expected one of: "
                                                          f"{', '.join(schema)}{closest(name, schema)})"))
            continue
        tables[name] = _lowered(table, name)
    empty = {problem.file for problem in problems}
    for name, spec in schema.items():
        if spec.required and name not in tables and not any(f.endswith(f"[{name}]") for f in empty):
            required = ", ".join(n for n, s in schema.items() if s.required)
            problems.append(Problem(file, None, "", f"sheet missing (got no sheet {show(name)}, expected sheets "
                                                    f"{required})"))
    return tables, problems
