"""The empty Excel template for a new review: a README sheet with the data dictionary, then one sheet
per table with its header row and drop-down lists on enumerated columns.

The file is byte-identical from run to run: openpyxl stamps the save time into docProps/core.xml and
the zip entries, so both are fixed before writing.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from typing import Any

from metacalc.files import write_atomic
from metacalc.data.schema import load_schema

FIXED_TIME = "2024-01-01T00:00:00Z"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
LAST_ROW = 5000  # drop-down lists cover this many rows; Excel copies them on when rows are inserted


def build_template() -> Any:
    """The template as an openpyxl Workbook."""
    import datetime

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from metacalc.data.dictionary import HEADINGS, dictionary_rows

    book = Workbook()
    readme = book.active
    readme.title = "README"
    readme.append(["metacalc extraction template: one sheet per table, a header row, one record per row. "
                   "Blank cell = unknown. Enumerated columns offer drop-down lists. Derived columns are computed "
                   "by `metacalc validate`, never typed. Check the sheets with: metacalc validate THIS.xlsx"])
    readme.append([])
    readme.append(list(HEADINGS))
    for cell in readme[3]:
        cell.font = Font(bold=True)
    for row in dictionary_rows():
        readme.append(list(row))
    for letter, width in zip("ABCDEFG", (18, 44, 18, 10, 40, 14, 90)):
        readme.column_dimensions[letter].width = width
    for cells in readme.iter_rows(min_row=4):
        cells[6].alignment = Alignment(wrap_text=True, vertical="top")

    for name, spec in load_schema().items():
        sheet = book.create_sheet(name)
        columns = spec.input_columns
        sheet.append([c.name for c in columns])
        sheet.freeze_panes = "A2"
        for i, column in enumerate(columns, start=1):
            letter = get_column_letter(i)
            sheet[f"{letter}1"].font = Font(bold=True)
            sheet.column_dimensions[letter].width = max(12, len(column.name) + 2)
            if column.type == "enum":
                rule = DataValidation(type="list", formula1='"' + ",".join(column.values) + '"', allow_blank=True,
                                      showErrorMessage=True, errorTitle=column.name,
                                      error="Choose one of: " + ", ".join(column.values))
                rule.add(f"{letter}2:{letter}{LAST_ROW}")
                sheet.add_data_validation(rule)
    fixed = datetime.datetime(2024, 1, 1)
    book.properties.created = fixed
    book.properties.modified = fixed
    book.properties.creator = "metacalc"
    return book


def write_template(path: str | os.PathLike[str]) -> None:
    """Write the template to ``path`` atomically, with fixed timestamps so the bytes never change."""
    write_atomic(path, workbook_bytes(build_template()))


def workbook_bytes(book, modified=FIXED_TIME):
    """The .xlsx bytes of an openpyxl Workbook with the save time replaced by ``modified`` (ISO 8601, UTC)
    and fixed zip entry times, so the same workbook always gives the same bytes."""
    buffer = io.BytesIO()
    book.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>" + modified.encode() + rb"\g<2>", data)
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, data)
    return out.getvalue()
