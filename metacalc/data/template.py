"""The empty Excel template of a review: a README sheet with the data dictionary, then one sheet per table,
made to help whoever extracts.

Every column's header carries a comment (its meaning, type and allowed values, from the review's effective
schema: the review's own patient fields and response categories included) and every cell of it an input
prompt with the same words; columns are wide enough for the text they hold; enumerated columns, therapies
(the shipped vocabulary and the review's additions) and ids that refer to another sheet (a patient's study, a
course's patient...) offer drop-down lists. The therapy names sit on a sheet ``lists`` that validation skips.

The file is byte-identical from run to run: openpyxl stamps the save time into docProps/core.xml and the zip
entries, so both are fixed before writing.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from metacalc.data.schema import ColumnSpec, TableSpec, load_schema
from metacalc.files import workbook_bytes, write_atomic

if TYPE_CHECKING:
    from metacalc.data.review_file import Review

LAST_ROW = 5000  # drop-down lists and prompts cover this many rows; Excel copies them on when rows are inserted
LISTS_SHEET = "lists"  # the therapy names of the drop-down list; skipped when a filled workbook is read
PROMPT_LIMIT, TITLE_LIMIT = 255, 32  # what Excel accepts for an input prompt and its title
WIDE_TEXT = ("notes", "title", "citation", "quote", "justification", "rationale", "duplicate_evidence", "reasons",
             "description", "location", "population", "sites")


def build_template(review: Review | None = None) -> Any:
    """The template of ``review`` (None: a review without a review file) as an openpyxl Workbook."""
    import datetime

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from metacalc.data.dictionary import HEADINGS, dictionary_rows
    from metacalc.data.vocabulary import build_vocabulary

    schema = load_schema(review)
    book = Workbook()
    readme = book.active
    readme.title = "README"
    readme.append(["metacalc extraction template: one sheet per table, a header row, one record per row. "
                   "Blank cell = unknown. Each header has a comment with its meaning; lists offer the allowed values, "
                   "the therapies of the vocabulary and the ids of other sheets. Derived columns are computed by "
                   "`metacalc validate`, never typed. Check the sheets with: metacalc validate THIS.xlsx"])
    readme.append([])
    readme.append(list(HEADINGS))
    for cell in readme[3]:
        cell.font = Font(bold=True)
    for row in dictionary_rows(review):
        readme.append(list(row))
    for letter, width in zip("ABCDEFG", (18, 44, 18, 10, 40, 14, 90)):
        readme.column_dimensions[letter].width = width
    for cells in readme.iter_rows(min_row=4):
        cells[6].alignment = Alignment(wrap_text=True, vertical="top")

    # The spellings a therapy cell accepts (the vocabulary's normalised names: matching ignores case and spacing).
    therapies = sorted(build_vocabulary(review.vocabulary if review else ()).entries)
    for name, spec in schema.items():
        _table_sheet(book.create_sheet(name), spec, schema, len(therapies))

    lists = book.create_sheet(LISTS_SHEET)
    lists.append(["therapy (names of the vocabulary: the shipped one and the review's additions)"])
    lists["A1"].font = Font(bold=True)
    for therapy in therapies:
        lists.append([therapy])
    lists.column_dimensions["A"].width = 60
    lists.sheet_state = "hidden"

    fixed = datetime.datetime(2024, 1, 1)
    book.properties.created = fixed
    book.properties.modified = fixed
    book.properties.creator = "metacalc"
    return book


def _width(column: ColumnSpec) -> int:
    """Wide enough for what the column holds: long text wide, an enumeration as wide as its longest value."""
    if column.name in WIDE_TEXT:
        width = 50
    elif column.type == "text":
        width = 24
    elif column.type == "enum":
        width = max(len(v) for v in column.values) + 6 if column.values else 14
    else:
        width = 12
    return max(width, len(column.name) + 3)


def _prompt(column: ColumnSpec) -> str:
    """The header comment and input prompt: meaning, type, what is allowed."""
    from metacalc.data.dictionary import allowed

    parts = [column.description]
    rule = allowed(column)
    kind = column.type + (", required" if column.required else "")
    parts.append(f"({kind}{': ' + rule if rule else ''})")
    return " ".join(parts)


def _table_sheet(sheet: Any, spec: TableSpec, schema: dict[str, TableSpec], therapies: int) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    columns = spec.input_columns
    sheet.append([c.name for c in columns])
    sheet.freeze_panes = "A2"
    for i, column in enumerate(columns, start=1):
        letter = get_column_letter(i)
        header = sheet[f"{letter}1"]
        header.font = Font(bold=True)
        text = _prompt(column)
        header.comment = Comment(text, "metacalc", height=max(80, 16 * (len(text) // 40 + 2)), width=300)
        sheet.column_dimensions[letter].width = _width(column)
        prompt = text if len(text) <= PROMPT_LIMIT else text[:PROMPT_LIMIT - 1] + "…"
        common = {"showInputMessage": True, "promptTitle": column.name[:TITLE_LIMIT], "prompt": prompt,
                  "allow_blank": True}
        if column.type == "enum":
            rule = DataValidation(type="list", formula1='"' + ",".join(column.values) + '"', showErrorMessage=True,
                                  errorTitle=column.name[:TITLE_LIMIT], error="Choose one of: " + ", ".join(column.values),
                                  **common)
        elif column.name == "therapy":
            # A warning for another name: it may be a new therapy, for the review file's vocabulary.
            rule = DataValidation(type="list", formula1=f"'{LISTS_SHEET}'!$A$2:$A${therapies + 1}",
                                  showErrorMessage=True, errorStyle="warning", errorTitle="therapy",
                                  error="Not in the vocabulary: add it to review.yaml (vocabulary), or pick a listed "
                                        "name.", **common)
        elif column.references:
            target, target_column = column.references.split(".")
            where = get_column_letter([c.name for c in schema[target].input_columns].index(target_column) + 1)
            # A warning, not a stop: the row it refers to may not be typed yet.
            rule = DataValidation(type="list", formula1=f"'{target}'!${where}$2:${where}${LAST_ROW}",
                                  showErrorMessage=True, errorStyle="warning", errorTitle=column.name[:TITLE_LIMIT],
                                  error=f"Not a {target_column} of the {target} sheet (yet).", **common)
        else:
            rule = DataValidation(**common)
        rule.add(f"{letter}2:{letter}{LAST_ROW}")
        sheet.add_data_validation(rule)


def write_template(path: str | os.PathLike[str], review: Review | None = None) -> None:
    """Write the template of ``review`` to ``path`` atomically, with fixed timestamps so the bytes never change."""
    write_atomic(path, workbook_bytes(build_template(review)))
