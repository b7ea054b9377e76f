"""The report's numbered tables for a manuscript: one CSV per table, one workbook (tables.xlsx), one Word file
(tables.docx), written beside the report into ``manuscript_tables/``.

The tables are read back from the report's own HTML (the standard library's ``html.parser``), not rebuilt
from the results, so that every value is exactly as the report rounds and words it, and a table changed in
the template is exported as changed. What is exported: every ``<table data-table="NAME">`` whose caption
starts "Table N." (the report's numbered tables, which a reader would copy into a manuscript). The report's
other tables are working tables of the review, not of a manuscript, and are not numbered: the methods' rule
table (the software's rule, the same in every review), the PRISMA checklist (it points into the report), the
changes since a release, the duplicate screen and the duplicate reports' differences (decisions of the
reviewer; `tables/duplicate_pairs.csv`), and the provenance and rows not used (`provenance.csv`,
`tables/excluded_rows.csv`).

How a cell of the page becomes a cell of the export (the text a reader sees with every ``<details>`` open):
- the text of a ``<details>`` is its full text, without its ``<summary>`` (a shortened copy of the text, or a
  label such as "8 item answers");
- ``<br>`` and block elements (list items, paragraphs) start a new line; other white space is one space;
- superscripts (the notes' marks) stay superscripts in the workbook and the Word file, and are written as
  superscript characters in CSV ("very low\u1d43"), never run into the text ("9/17" and mark "1" must not read
  "9/171");
- links into the provenance (``#prov-...``: "sources") are left out, since outside the report they point nowhere,
  and a column left with no text at all, header included, is dropped;
- a cell spanning columns (or rows) fills the first of them and leaves the others blank in CSV; the workbook and
  the Word file merge them.

A table's notes are exported below it: the elements marked ``data-notes-of="NAME"`` (each list item a note, with
its letter or number), then the notes its cells link to (``#method-reason-1``: "M1. Exact pooled count ...").

The Word file holds every table of up to ``WORD_MAX_ROWS`` body rows; a longer one (the patients of a review of
thousands) is named there with the sheet and the CSV that hold it.

In the workbook a cell that is a plain number in the report ("14", "3.5", "2003") is a number, shown with the
report's decimals (format "0.0"), so that it can be summed or sorted; everything else stays text as the report
writes it: percentages ("70.0%"), intervals ("45.7 to 88.1"), counts such as "14 / 20", "n/a" (rich text where
it holds note marks; emphasis within a cell, such as a bold response, is left to the Word file). CSV and Word
hold the text. The three files are byte-identical for the same report: fixed dates inside, fixed zip entry times.
"""

from __future__ import annotations

import csv
import functools
import io
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from metacalc.files import reproducible_zip, workbook_bytes, write_atomic

FOLDER = "manuscript_tables"  # beside index.html
WORKBOOK = "tables.xlsx"
DOCUMENT = "tables.docx"
# A table longer than this goes into the workbook and its CSV only: a Word table of thousands of rows is no
# manuscript's table (journals put such lists in a supplementary spreadsheet), and python-docx builds one slowly
# (a 10,000-patient review's patients table alone would take longer than the rest of the report step).
WORD_MAX_ROWS = 500
CSV_NAME = re.compile(r"table_\d+_[a-z0-9_-]+\.csv")  # the CSV files this module writes (stale ones are removed)
NAVIGATION = ("#prov-",)  # links within the report that are navigation, not content
# The dates written inside the workbook and the Word file: fixed, so that the same report gives the same bytes.
FIXED_DATE = (2024, 1, 1)

_CAPTION_NUMBER = re.compile(r"^Table (\d+)\.")
_PLAIN_NUMBER = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?$")
_BLOCKS = frozenset({"p", "div", "ul", "ol", "li", "details", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5",
                     "h6", "figure", "figcaption", "blockquote", "pre", "table", "section"})
_STRUCTURE = frozenset({"caption", "thead", "tbody", "tfoot", "tr", "td", "th"})  # a table's own elements
_VOID = frozenset({"br", "img", "hr", "input", "meta", "link", "wbr", "col", "area", "base", "source"})
_SUPERSCRIPTS = dict(zip("0123456789+-=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVW",
                         "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂ"))


# ---------------------------------------------------------------------------------------------------------------
# What a table is, once read from the page
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """A stretch of text with its emphasis: bold, superscript (a note's mark)."""

    text: str
    bold: bool = False
    superscript: bool = False


@dataclass(frozen=True)
class Cell:
    """One cell of the page's table: its runs ("\\n" runs between lines), whether it is a heading cell (``<th>``),
    and how many columns and rows it spans."""

    runs: tuple[Run, ...]
    heading: bool = False
    colspan: int = 1
    rowspan: int = 1

    @functools.cached_property
    def text(self) -> str:
        """The cell as plain text: superscripts as superscript characters (CSV)."""
        return plain(self.runs)

    @functools.cached_property
    def number(self) -> int | float | None:
        """The cell's number when the report writes it as a plain number ("14", "3.5"), else None."""
        text = "".join(run.text for run in self.runs)
        if any(run.superscript for run in self.runs) or not _PLAIN_NUMBER.match(text):
            return None
        return float(text) if "." in text else int(text)

    @functools.cached_property
    def decimals(self) -> int:
        text = "".join(run.text for run in self.runs)
        return len(text.split(".", 1)[1]) if "." in text else 0


BLANK = Cell(())


@dataclass
class ReportTable:
    """A numbered table of the report: its number, its name (``data-table``), caption, heading rows (``<thead>``),
    body rows and notes, as a grid (spanned places hold ``BLANK``; ``spans`` lists the merged ranges as
    (first row, first column, last row, last column), rows counted over heading and body together)."""

    number: int
    name: str
    caption: tuple[Run, ...]
    head: list[list[Cell]]
    body: list[list[Cell]]
    notes: list[tuple[Run, ...]] = field(default_factory=list)
    spans: list[tuple[int, int, int, int]] = field(default_factory=list)

    @property
    def rows(self) -> list[list[Cell]]:
        return self.head + self.body

    @property
    def caption_text(self) -> str:
        return plain(self.caption)

    @property
    def file_stem(self) -> str:
        readable = re.sub(r"[^a-z0-9_-]+", "-", self.name.lower()).strip("-") or "table"
        return f"table_{self.number:02d}_{readable}"

    @property
    def sheet_name(self) -> str:
        """'Table 3 included reports': unique by its number, at most 31 characters, none of Excel's []:*?/\\."""
        readable = re.sub(r"[\[\]:*?/\\_]+", " ", self.name).strip()
        return f"Table {self.number} {readable}"[:31].rstrip()


def plain(runs: Sequence[Run]) -> str:
    return "".join(_superscript(run.text) if run.superscript else run.text for run in runs)


def _superscript(text: str) -> str:
    """A note's mark as superscript characters ("a" -> "ᵃ", "12" -> "¹²"); "^(text)" where one has none."""
    if all(char in _SUPERSCRIPTS for char in text):
        return "".join(_SUPERSCRIPTS[char] for char in text)
    return f"^({text})"


# ---------------------------------------------------------------------------------------------------------------
# Reading the page
# ---------------------------------------------------------------------------------------------------------------

_BREAK = Run("\n")
_SPACES = re.compile(r"\s+")


class _Text:
    """The text of an element as it is read: runs, and breaks where a line must end."""

    def __init__(self) -> None:
        self.pieces: list[Run] = []

    def add(self, text: str, bold: bool, superscript: bool) -> None:
        if not text:
            return
        last = self.pieces[-1] if self.pieces else None
        if last is not None and last is not _BREAK and last.bold == bold and last.superscript == superscript:
            self.pieces[-1] = Run(last.text + text, bold, superscript)  # one run per style: fewer to clean
        else:
            self.pieces.append(Run(text, bold, superscript))

    def newline(self) -> None:
        self.pieces.append(_BREAK)

    def runs(self) -> tuple[Run, ...]:
        """Lines trimmed, empty lines dropped, one space between words, neighbouring runs of one style joined."""
        out: list[Run] = []
        line: list[Run] = []
        for piece in [*self.pieces, _BREAK]:
            if piece is not _BREAK:
                text = _SPACES.sub(" ", piece.text)
                if text.startswith(" ") and (not line or line[-1].text.endswith(" ")):
                    text = text[1:]
                if text:
                    line.append(Run(text, piece.bold, piece.superscript))
                continue
            while line and line[-1].text.endswith(" "):  # the line's end: no trailing space
                last = line.pop()
                if last.text != " ":
                    line.append(Run(last.text[:-1], last.bold, last.superscript))
            if line:
                if out:
                    out.append(_BREAK)
                for run in line:
                    previous = out[-1] if out else None
                    if previous is not None and previous is not _BREAK and (previous.bold, previous.superscript) == (
                            run.bold, run.superscript):
                        out[-1] = Run(previous.text + run.text, run.bold, run.superscript)
                    else:
                        out.append(run)
                line = []
        return tuple(out)


@dataclass
class _TableBeingRead:
    name: str
    caption: _Text | None = None
    head: list[list[Cell]] = field(default_factory=list)
    body: list[list[Cell]] = field(default_factory=list)
    links: dict[str, None] = field(default_factory=dict)  # the ids its cells link to, in order, each once


class _ReportParser(HTMLParser):
    """Collects the tables marked ``data-table``, the notes marked ``data-notes-of`` and the text of every list
    item with an id (the notes a cell may link to)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[_TableBeingRead] = []
        self.marked_notes: dict[str, list[tuple[Run, ...]]] = {}
        self.items_by_id: dict[str, tuple[Run, ...]] = {}
        self.title = ""
        self._stack: list[str] = []
        self._table: _TableBeingRead | None = None
        self._table_depth = 0
        self._in_head = False
        self._row: list[Cell] | None = None
        self._cell: _Text | None = None
        self._cell_attrs: dict[str, str] = {}
        self._cell_heading = False
        self._skip_depth: int | None = None  # inside a <summary> or a navigation link: its text is not exported
        self._bold = 0
        self._superscript = 0
        # Open collectors of text outside tables: (tag depth, what to do with the text when the element closes).
        self._collectors: list[tuple[int, _Text, str, str]] = []
        self._note_lists: list[tuple[int, str, str, list[int]]] = []  # (depth, table name, list type, counter)

    # -- the current text target ------------------------------------------------------------------------------

    def _targets(self) -> list[_Text]:
        targets = [collector for _, collector, _, _ in self._collectors]
        if self._cell is not None:
            targets.append(self._cell)
        elif self._table is not None and self._table.caption is not None and "caption" in self._stack:
            targets.append(self._table.caption)
        return targets

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if tag not in _VOID:
            self._stack.append(tag)
        depth = len(self._stack)
        if self._skip_depth is not None:
            return
        if tag == "summary" or (tag == "a" and attributes.get("href", "").startswith(NAVIGATION)):
            self._skip_depth = depth
            return
        if tag == "a" and self._cell is not None and self._table is not None:
            href = attributes.get("href", "")
            if href.startswith("#"):
                self._table.links.setdefault(href[1:])
        if tag == "table":
            if self._table is not None:
                self._table_depth += 1  # a table inside a table's cell: read as its text
            elif "data-table" in attributes:
                self._table = _TableBeingRead(attributes["data-table"])
                self._table_depth = 1
                return
        if self._table is not None and self._table_depth == 1 and self._cell is None and tag in _STRUCTURE:
            if tag == "caption":
                self._table.caption = _Text()
            elif tag in ("thead", "tbody", "tfoot"):
                self._in_head = tag == "thead"
            elif tag == "tr":
                self._row = []
            elif tag in ("td", "th"):
                self._cell, self._cell_attrs, self._cell_heading = _Text(), attributes, tag == "th"
            return
        if "data-notes-of" in attributes:
            if tag in ("ol", "ul"):
                kind = attributes.get("type", "1") if tag == "ol" else "•"
                self._note_lists.append((depth, attributes["data-notes-of"], kind, [0]))
            else:
                self._collectors.append((depth, _Text(), "note", attributes["data-notes-of"]))
            return
        if tag == "li" and self._cell is None:
            if self._note_lists and self._note_lists[-1][0] == depth - 1:
                _, name, kind, counter = self._note_lists[-1]
                counter[0] += 1
                text = _Text()
                mark = _list_mark(kind, counter[0])
                text.add(mark + " ", False, False)
                self._collectors.append((depth, text, "note", name))
            if "id" in attributes:
                self._collectors.append((depth, _Text(), "item", attributes["id"]))
            return
        if tag == "br":
            for target in self._targets():
                target.newline()
        elif tag in _BLOCKS:
            for target in self._targets():
                target.newline()
        elif tag in ("strong", "b", "th"):
            self._bold += 1
        elif tag == "sup":
            self._superscript += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or tag not in self._stack:
            return
        while self._stack[-1] != tag:  # an element closed implicitly (HTML allows <p> or <li> unclosed)
            self._close(self._stack[-1], len(self._stack))
            self._stack.pop()
        self._close(tag, len(self._stack))
        self._stack.pop()

    def _close(self, tag: str, depth: int) -> None:
        if self._skip_depth is not None:
            if depth == self._skip_depth:
                self._skip_depth = None
            return
        table = self._table
        if table is not None and tag == "table":
            if self._table_depth > 1:
                self._table_depth -= 1
            else:
                self.tables.append(table)
                self._table, self._table_depth = None, 0
            return
        if table is not None and self._table_depth == 1 and tag in _STRUCTURE:
            if tag in ("td", "th") and self._cell is not None and self._row is not None:
                self._row.append(Cell(self._cell.runs(), self._cell_heading,
                                      _count(self._cell_attrs.get("colspan")),
                                      _count(self._cell_attrs.get("rowspan"))))
                self._cell = None
                return
            if tag == "tr" and self._row is not None and self._cell is None:
                (table.head if self._in_head else table.body).append(self._row)
                self._row = None
                return
            if tag == "thead":
                self._in_head = False
            return
        while self._collectors and self._collectors[-1][0] == depth:
            _, text, kind, key = self._collectors.pop()
            if kind == "note":
                self.marked_notes.setdefault(key, []).append(text.runs())
            else:
                self.items_by_id[key] = text.runs()
        if self._note_lists and self._note_lists[-1][0] == depth:
            self._note_lists.pop()
        if tag in _BLOCKS:
            for target in self._targets():
                target.newline()
        elif tag in ("strong", "b", "th"):
            self._bold = max(self._bold - 1, 0)
        elif tag == "sup":
            self._superscript = max(self._superscript - 1, 0)

    def handle_data(self, data: str) -> None:
        if self._cell is None and self._table is None and not self._collectors:  # most of the page
            if self._stack[-1:] == ["title"] and "head" in self._stack:  # not the <title> of an inline SVG
                self.title += data
            return
        if self._skip_depth is not None or self._stack[-1:] in (["style"], ["script"], ["title"]):
            return
        for target in self._targets():
            target.add(data, self._bold > 0, self._superscript > 0)


def _count(value: str | None) -> int:
    return int(value) if value and value.isdigit() and int(value) > 0 else 1


def _list_mark(kind: str, number: int) -> str:
    if kind == "a":
        return f"{chr(ord('a') + (number - 1) % 26)}."
    if kind == "A":
        return f"{chr(ord('A') + (number - 1) % 26)}."
    return "•" if kind == "•" else f"{number}."


def read_tables(html: str) -> list[ReportTable]:
    """The numbered tables of the report's HTML, in page order, each as the reader sees it (see the module)."""
    return _read(html)[1]


# Sections of the report that hold no numbered table and no note a numbered table links to: the provenance
# (inline, it is most of a large review's page: 2 of the 8 MB of a 1,000-patient review) and the PRISMA
# checklist. They are cut before parsing; the report's sections are never nested, and text from the sheets is
# escaped, so "</section>" in the page always closes one.
_NOT_EXPORTED = re.compile(r'<section id="(?:provenance|checklist)">.*?</section>', re.DOTALL)


def _read(html: str) -> tuple[str, list[ReportTable]]:
    """The page's title and its numbered tables."""
    parser = _ReportParser()
    parser.feed(_NOT_EXPORTED.sub("", html))
    parser.close()
    tables = []
    for read in parser.tables:
        caption = read.caption.runs() if read.caption else ()
        found = _CAPTION_NUMBER.match(plain(caption))
        if not found:
            continue
        notes = list(parser.marked_notes.get(read.name, []))
        notes += [parser.items_by_id[link] for link in read.links if link in parser.items_by_id]
        table = ReportTable(int(found.group(1)), read.name, caption, [], [], notes)
        grid, spans = _grid(read.head + read.body)
        table.head, table.body = grid[:len(read.head)], grid[len(read.head):]
        table.spans = spans
        tables.append(_without_empty_columns(table))
    return re.sub(r"\s+", " ", parser.title).strip(), tables


def _grid(rows: list[list[Cell]]) -> tuple[list[list[Cell]], list[tuple[int, int, int, int]]]:
    """The rows as a rectangular grid: a spanning cell in its first place, BLANK in the places it covers."""
    taken: dict[tuple[int, int], Cell] = {}
    spans = []
    for r, row in enumerate(rows):
        c = 0
        for cell in row:
            while (r, c) in taken:
                c += 1
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    taken[(r + dr, c + dc)] = BLANK
            taken[(r, c)] = cell
            if cell.colspan > 1 or cell.rowspan > 1:
                spans.append((r, c, r + cell.rowspan - 1, c + cell.colspan - 1))
            c += cell.colspan
    height = max((r for r, _ in taken), default=-1) + 1
    width = max((c for _, c in taken), default=-1) + 1
    return [[taken.get((r, c), BLANK) for c in range(width)] for r in range(height)], spans


def _without_empty_columns(table: ReportTable) -> ReportTable:
    """The table without the columns that hold no text (the report's column of 'sources' links, once they are
    left out); a merged range keeps the columns it still covers."""
    rows = table.rows
    width = max((len(row) for row in rows), default=0)
    covered = {c for r0, c0, r1, c1 in table.spans for c in range(c0, c1 + 1)}
    keep = [c for c in range(width) if c in covered or any(row[c].runs for row in rows)]
    if len(keep) == width:
        return table
    new_index = {old: new for new, old in enumerate(keep)}
    table.head = [[row[c] for c in keep] for row in table.head]
    table.body = [[row[c] for c in keep] for row in table.body]
    table.spans = [(r0, new_index[min(c for c in range(c0, c1 + 1) if c in new_index)], r1,
                    new_index[max(c for c in range(c0, c1 + 1) if c in new_index)])
                   for r0, c0, r1, c1 in table.spans]
    return table


# ---------------------------------------------------------------------------------------------------------------
# Writing: CSV, XLSX, DOCX
# ---------------------------------------------------------------------------------------------------------------


def table_csv(table: ReportTable) -> str:
    """The heading rows, then the body rows, as the report writes them (caption and notes are in the workbook
    and the Word file: a CSV starts with its header row so that any program reads it as a table)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in table.rows:
        writer.writerow([cell.text for cell in row])
    return buffer.getvalue()


@functools.cache
def _inline_font(bold: bool, superscript: bool) -> Any:
    """The font of a run of rich text (one object per style: building one per run is most of a large sheet's
    time)."""
    from openpyxl.cell.text import InlineFont

    return InlineFont(b=bold or None, vertAlign="superscript" if superscript else None)


def _xlsx_value(cell: Cell) -> Any:
    from openpyxl.cell.rich_text import CellRichText, TextBlock

    if cell.number is not None:
        return cell.number
    if not any(run.superscript for run in cell.runs):  # bold within a cell is left to the Word file
        return "".join(run.text for run in cell.runs)
    return CellRichText([TextBlock(_inline_font(run.bold, run.superscript), run.text) for run in cell.runs])


def workbook(tables: Sequence[ReportTable]) -> bytes:
    """tables.xlsx: one sheet per table, named 'Table N name'; the caption in row 1, the table from row 2
    (heading rows bold, frozen below them), a blank row, then the notes."""
    import datetime

    import openpyxl
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = openpyxl.Workbook()
    book.remove(book.active)
    bold_font, wrapped = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    for table in tables:
        sheet = book.create_sheet(table.sheet_name)
        sheet.cell(row=1, column=1, value=_xlsx_runs(table.caption)).font = bold_font
        widths: dict[int, int] = {}
        for r, row in enumerate(table.rows, start=2):
            heading_row = r - 2 < len(table.head)
            for c, cell in enumerate(row, start=1):
                if not cell.runs:
                    continue
                target = sheet.cell(row=r, column=c, value=_xlsx_value(cell))
                if cell.number is not None:
                    target.number_format = "0" if not cell.decimals else "0." + "0" * cell.decimals
                if heading_row or cell.heading or all(run.bold for run in cell.runs if run.text != "\n"):
                    target.font = bold_font
                lines = cell.text.split("\n")
                longest = max(len(line) for line in lines)
                if len(lines) > 1 or longest > 60:
                    target.alignment = wrapped
                if cell.colspan == 1:
                    widths[c] = max(widths.get(c, 0), min(longest, 60))
        for r0, c0, r1, c1 in table.spans:
            sheet.merge_cells(start_row=r0 + 2, start_column=c0 + 1, end_row=r1 + 2, end_column=c1 + 1)
        for c, width in sorted(widths.items()):
            sheet.column_dimensions[get_column_letter(c)].width = max(width + 2, 8)
        if table.head:
            sheet.freeze_panes = sheet.cell(row=len(table.head) + 2, column=1)
        for offset, note in enumerate(table.notes):
            sheet.cell(row=len(table.rows) + 3 + offset, column=1, value=_xlsx_runs(note))
    fixed = datetime.datetime(*FIXED_DATE)
    book.properties.created = fixed
    book.properties.modified = fixed
    book.properties.creator = "metacalc"
    book.properties.title = "Tables"
    return workbook_bytes(book)


def _xlsx_runs(runs: Sequence[Run]) -> Any:
    return _xlsx_value(Cell(tuple(runs))) if any(run.superscript for run in runs) else "".join(
        run.text for run in runs)


def document(tables: Sequence[ReportTable], title: str) -> bytes:
    """tables.docx: each table after its caption ("Table N." bold, in Word's Caption style), heading rows bold and
    repeated on every page, spanned cells merged, notes below in small type; a table of more than
    ``WORD_MAX_ROWS`` body rows is named with where to find it instead."""
    import datetime

    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    word = docx.Document()
    word.styles["Table Grid"].font.size = Pt(9)  # the cells' type, set once on their style
    word.add_heading(title, level=1)
    for table in tables:
        caption = word.add_paragraph(style="Caption")
        label = f"Table {table.number}."
        caption.add_run(label).bold = True
        _add_runs(caption, _after_label(table.caption, label))
        rows = table.rows
        if len(table.body) > WORD_MAX_ROWS:
            word.add_paragraph(f"{len(table.body):,} rows, too long for a page of a manuscript (more than "
                               f"{WORD_MAX_ROWS:,}): the table is in {WORKBOOK} (sheet \u201c{table.sheet_name}\u201d) "
                               f"and in {table.file_stem}.csv.")
            word.add_paragraph()
            continue
        grid = word.add_table(rows=len(rows), cols=max((len(row) for row in rows), default=1))
        grid.style = word.styles["Table Grid"]
        places = []  # each row's cells, taken once: python-docx's table.cell(r, c) walks the whole table
        for r, (row, added) in enumerate(zip(rows, grid.rows)):
            if r < len(table.head):
                header = OxmlElement("w:tblHeader")
                header.set(qn("w:val"), "true")
                added._tr.get_or_add_trPr().append(header)
            places.append(added.cells)
            for place, cell in zip(places[-1], row):
                if cell.runs:
                    _add_runs(place.paragraphs[0], cell.runs, bold=r < len(table.head) or cell.heading)
        for r0, c0, r1, c1 in table.spans:
            places[r0][c0].merge(places[r1][c1])
        for note in table.notes:
            _add_runs(word.add_paragraph(), note, size=Pt(8))
        word.add_paragraph()
    properties = word.core_properties
    fixed = datetime.datetime(*FIXED_DATE)
    properties.created = properties.modified = properties.last_printed = fixed
    properties.author = properties.last_modified_by = "metacalc"
    properties.title = title
    properties.revision = 1
    buffer = io.BytesIO()
    word.save(buffer)
    return reproducible_zip(buffer.getvalue())


def _after_label(runs: Sequence[Run], label: str) -> list[Run]:
    """The caption's runs without its leading "Table N." (written bold on its own)."""
    rest, skip = [], len(label)
    for run in runs:
        if skip >= len(run.text):
            skip -= len(run.text)
            continue
        rest.append(Run(run.text[skip:], run.bold, run.superscript))
        skip = 0
    return rest


def _add_runs(paragraph: Any, runs: Sequence[Run], bold: bool = False, size: Any = None) -> None:
    for run in runs:
        if run.text == "\n":
            paragraph.add_run().add_break()
            continue
        written = paragraph.add_run(run.text)
        if bold or run.bold:  # only when set: each property written adds XML to the run
            written.bold = True
        if run.superscript:
            written.font.superscript = True
        if size is not None:
            written.font.size = size


def write_manuscript_tables(html: str, folder: str) -> list[str]:
    """Write the numbered tables of the report ``html`` into ``folder``: a CSV per table, tables.xlsx and
    tables.docx (headed by the report's title), each atomically; CSV files of an earlier report's tables that
    this one no longer has are removed. Returns the file names written."""
    title, tables = _read(html)
    written = []
    for table in tables:
        written.append(f"{table.file_stem}.csv")
        write_atomic(os.path.join(folder, written[-1]), table_csv(table))
    write_atomic(os.path.join(folder, WORKBOOK), workbook(tables))
    write_atomic(os.path.join(folder, DOCUMENT), document(tables, title))
    for stale in _stale(folder, written):
        os.unlink(os.path.join(folder, stale))
    return sorted(written + [WORKBOOK, DOCUMENT])


def _stale(folder: str, current: Sequence[str]) -> Iterator[str]:
    for name in sorted(os.listdir(folder)):
        if CSV_NAME.fullmatch(name) and name not in current:
            yield name
