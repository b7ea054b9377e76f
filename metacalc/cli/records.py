"""CLI: ``metacalc records import FILE --source NAME --date D [--sheets DIR]``.

Reads a database export (RIS, MEDLINE, CSV) into the records log of the sheets: ``records.csv`` of a
directory of CSV files, or the ``records`` sheet of a workbook. The log is written in one atomic step, and
only when the whole export reads without a problem; an import that adds nothing leaves the file untouched.
Rows already in a CSV log keep their bytes (the new rows are appended) unless a column has to be added to
the header, in which case the file is rewritten in the same CSV dialect.
"""

from __future__ import annotations

import csv
import datetime
import io
import os

from metacalc.errors import UserError

SOURCE_TYPES = ("database", "register")


def register(subparsers):
    records = subparsers.add_parser(
        "records", help="the PRISMA records log: import database search results",
        description="Work on the records log (records.csv, or the records sheet of a workbook).")
    commands = records.add_subparsers(dest="records_command", metavar="COMMAND")
    imported = commands.add_parser(
        "import", help="add the records of a search export (RIS, PubMed/MEDLINE, CSV) to the records log",
        description="Add the records of a database search export to the records log, in the databases and "
                    "registers arm of the PRISMA diagram. New records are matched against the log and against "
                    "each other by DOI, PMID, and title with year and first author; a match is added as a "
                    "duplicate record (removed_before_screening = duplicate, duplicate_of = the kept record), "
                    "every other record arrives to screen. Importing the same export again adds nothing.")
    imported.add_argument("file", metavar="FILE", help="the export: .ris, .nbib / .txt (MEDLINE), or .csv")
    imported.add_argument("--source", required=True, metavar="NAME", help="database searched, e.g. MEDLINE, Embase")
    imported.add_argument("--date", required=True, metavar="YYYY-MM-DD", help="date the search was run")
    imported.add_argument("--sheets", default="extraction_sheets", metavar="DIR",
                          help="directory of CSV files, a directory with one .xlsx, or an .xlsx file "
                               "(default: extraction_sheets)")
    imported.add_argument("--source-type", default="database", choices=SOURCE_TYPES,
                          help="kind of source (default: database)")
    imported.set_defaults(handler=run_import)
    records.set_defaults(handler=lambda args: records.print_help() or 2)


def run_import(args):
    from metacalc.data.record_matching import plan_import
    from metacalc.data.search_results import read_search_export

    problems = []
    source = " ".join((args.source or "").split())
    if not source:
        problems.append("--source: blank (got \"\", expected the name of the database searched, e.g. MEDLINE)")
    try:
        date = datetime.date.fromisoformat(args.date).isoformat()
    except ValueError:
        problems.append(f"--date: not a date (got \"{args.date}\", expected YYYY-MM-DD, the day the search was run)")
    if problems:
        raise UserError(problems)
    log = open_log(args.sheets)
    kind, hits = read_search_export(args.file)
    plan = plan_import(log.rows, log.studies, hits, source=source, date=date, source_type=args.source_type)
    print(f"{args.file}: {len(hits)} records read ({kind.upper()})")
    if plan.rows:
        log.append([row.values for row in plan.rows])
    for line in plan.lines():
        print(line)
    print(f"records log: {log.where}" + ("" if plan.rows else " (unchanged)"))
    return 0


# ------------------------------------------------------------------ the log, as CSV or as a workbook sheet

def _record_columns():
    from metacalc.data.schema import load_schema

    return [c.name for c in load_schema()["records"].input_columns]


class Log:
    """The records log of a set of sheets: where it is, its rows and the studies (dicts by lower-case column)."""

    def __init__(self, where, rows, studies):
        self.where, self.rows, self.studies = where, rows, studies


def open_log(sheets):
    """The records log at ``sheets``, found as ``metacalc validate`` finds the tables there."""
    from metacalc.data.sheets import read_sheets

    tables, problems, workbook = read_sheets(sheets)
    if not tables and problems:
        raise UserError([str(p) for p in problems])
    # Problems elsewhere in the sheets are validate's business; the log and the studies must read cleanly.
    mine = [str(p) for p in problems if p.file.endswith(("records.csv", "[records]", "studies.csv", "[studies]"))]
    records = tables.get("records")
    if records is not None and "record_id" not in records.header:
        mine.append(f"{records.file}:1:record_id: required column missing (got no record_id in row 1, expected a "
                    "record_id column)")
    if mine:
        raise UserError(mine + ["nothing imported: the records log is written only when it reads without a problem"])
    rows, studies = _dict_rows(records), _dict_rows(tables.get("studies"))
    if workbook:
        return WorkbookLog(workbook, rows, studies)
    return CsvLog(os.path.join(str(sheets), "records.csv"), rows, studies)


def _dict_rows(raw):
    from metacalc.data.reader import clean as _clean

    if raw is None:
        return []
    return [{name: _clean(cell) for name, cell in zip(raw.header, cells) if name} for cells in raw.rows]


def _columns_to_add(header, new_rows):
    """Columns of the schema that the new rows fill and the header lacks, in schema order."""
    present = {h.strip().lower() for h in header}
    used = {k for row in new_rows for k, v in row.items() if v is not None}
    return [c for c in _record_columns() if c in used and c not in present]


class CsvLog(Log):
    def append(self, new_rows):
        from metacalc.files import write_atomic

        path = self.where
        if not os.path.exists(path):
            header = [c for c in _record_columns() if any(row.get(c) is not None for row in new_rows)]
            write_atomic(path, _csv_text([header] + [[row.get(c) for c in header] for row in new_rows], "\n"))
            return
        with open(path, "rb") as handle:
            data = handle.read()
        bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
        text = data[len(bom):].decode("utf-8")
        ending = "\r\n" if "\r\n" in text.split("\n", 1)[0] + "\n" else "\n"
        table = list(csv.reader(io.StringIO(text, newline="")))
        header = table[0]
        added = _columns_to_add(header, new_rows)
        keys = [h.strip().lower() for h in header] + added
        lines = [[row.get(k) for k in keys] for row in new_rows]
        if not added:
            if text and not text.endswith(("\n", "\r")):
                text += ending
            out = text + _csv_text(lines, ending)
        else:
            width = len(header)
            old = [cells + [""] * (width - len(cells)) + [""] * len(added) for cells in table[1:] if cells]
            out = _csv_text([header + added] + old + lines, ending)
        write_atomic(path, bom + out.encode("utf-8"))


def _csv_text(rows, ending):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=ending)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue()


class WorkbookLog(Log):
    def append(self, new_rows):
        import openpyxl

        from metacalc.files import FIXED_TIME, workbook_bytes
        from metacalc.files import write_atomic

        book = openpyxl.load_workbook(self.where)
        modified = book.properties.modified
        sheet = next((s for s in book.worksheets if s.title.strip().lower() == "records"), None)
        if sheet is None:
            sheet = book.create_sheet("records")
        header = [str(c.value).strip().lower() if c.value is not None else "" for c in sheet[1]]
        while header and not header[-1]:
            header.pop()
        if not header:
            header = []
        added = _columns_to_add(header, new_rows) if header else [
            c for c in _record_columns() if any(row.get(c) is not None for row in new_rows)]
        for offset, name in enumerate(added, start=len(header) + 1):
            sheet.cell(row=1, column=offset, value=name)
        keys = header + added
        last = max((cell.row for row in sheet.iter_rows(min_row=2) for cell in row if cell.value not in (None, "")),
                   default=1)
        for number, row in enumerate(new_rows, start=last + 1):
            for position, key in enumerate(keys, start=1):
                value = row.get(key)
                if value is not None:
                    sheet.cell(row=number, column=position, value=int(value) if key == "year" else value)
        stamp = modified.strftime("%Y-%m-%dT%H:%M:%SZ") if modified else FIXED_TIME
        write_atomic(self.where, workbook_bytes(book, modified=stamp))
