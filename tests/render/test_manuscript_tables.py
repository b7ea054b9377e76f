"""The report's numbered tables exported for a manuscript (CSV per table, tables.xlsx, tables.docx), read from the
report's HTML so that every cell reads as the report writes it."""

import csv
import io
import json
import re
import shutil

import docx
import openpyxl
import pytest

from metacalc.render.manuscript_tables import (
    DOCUMENT,
    FOLDER,
    WORKBOOK,
    _superscript,
    document,
    read_tables,
    table_csv,
    workbook,
    write_manuscript_tables,
)
from metacalc.review.words import num, pct

PAGE = """<!DOCTYPE html><html><head><title>A review &amp; its tables</title><style>td {{ color: red; }}</style></head>
<body><main>
<table data-table="first">
  <caption><strong>Table 1.</strong> Doses &lt; 10 mg &amp; more: <code>cumul</code></caption>
  <thead><tr><th>Drug</th><th class="num">n</th><th>Estimate</th><th>Certainty</th><th></th></tr></thead>
  <tbody>
    <tr class="outcome"><th colspan="4" scope="rowgroup">Any response</th></tr>
    <tr><td>diltiazem <a href="#prov-x">sources</a></td><td class="num">14</td><td>3.50</td>
      <td>very low<sup>a</sup><sup>b</sup></td><td><a href="#prov-x-1">sources</a></td></tr>
    <tr><td><strong>warfarin</strong><br><span class="small">oral</span></td><td>007</td><td>70.0%</td>
      <td>{notes}</td><td></td></tr>
    <tr><td>surgery</td><td>-2</td><td>9/17<sup>1</sup></td><td>exact <a href="#method-reason-2">M2</a></td><td></td></tr>
  </tbody>
</table>
<ol class="small notes" type="a" data-notes-of="first"><li>Risk of bias: serious.</li><li>Imprecision &amp; more.</li></ol>
<p class="small muted" data-notes-of="first"><sup>1</sup> Lower bound: a series.</p>
<table class="small"><thead><tr><th>Not numbered</th></tr></thead><tbody><tr><td>x</td></tr></tbody></table>
<table data-table="unnumbered"><caption>No number</caption><tbody><tr><td>y</td></tr></tbody></table>
<details><summary>The steps as a table</summary>
<table data-table="second"><caption><strong>Table 2.</strong> Steps.</caption>
  <tbody><tr><td>1</td><td>Pérez 2003</td></tr></tbody></table></details>
<ol class="small method-reasons"><li id="method-reason-1"><strong>M1. exact</strong>: one study.</li>
<li id="method-reason-2"><strong>M2. exact</strong>: single patients &lt; 2.</li></ol>
</main></body></html>"""
NOTES = ('<details><summary>A shortened note…</summary>A shortened note that goes on &amp; on</details>'
         '<details><summary>2 item answers</summary><ul><li>1: yes</li><li>2: no — why</li></ul></details>')


@pytest.fixture
def page():
    return PAGE.format(notes=NOTES)


def cells(table):
    return [[cell.text for cell in row] for row in table.rows]


def test_only_numbered_tables_are_read_in_page_order_each_cell_as_the_reader_sees_it(page):
    tables = read_tables(page)
    assert [(t.number, t.name) for t in tables] == [(1, "first"), (2, "second")]
    first = tables[0]
    assert first.caption_text == "Table 1. Doses < 10 mg & more: cumul"
    assert cells(first) == [
        ["Drug", "n", "Estimate", "Certainty"],  # the column of 'sources' links is left out
        ["Any response", "", "", ""],
        ["diltiazem", "14", "3.50", "very lowᵃᵇ"],
        ["warfarin\noral", "007", "70.0%", "A shortened note that goes on & on\n1: yes\n2: no — why"],
        ["surgery", "-2", "9/17¹", "exact M2"],
    ]
    assert first.spans == [(1, 0, 1, 3)]  # the row group's heading spans the four columns
    assert [cell.heading for cell in first.rows[1]][:1] == [True]
    assert cells(tables[1]) == [["1", "Pérez 2003"]]


def test_notes_marked_for_the_table_and_the_notes_its_cells_link_to_follow_it(page):
    first = read_tables(page)[0]
    assert ["".join(_superscript(r.text) if r.superscript else r.text for r in note) for note in first.notes] == [
        "a. Risk of bias: serious.", "b. Imprecision & more.", "¹ Lower bound: a series.",
        "M2. exact: single patients < 2."]


def test_plain_numbers_are_numbers_in_the_workbook_with_the_report_s_decimals(page):
    first = read_tables(page)[0]
    row = {cell.text: cell for cell in first.rows[2] + first.rows[3] + first.rows[4]}
    assert (row["14"].number, row["3.50"].number, row["3.50"].decimals, row["-2"].number) == (14, 3.5, 2, -2)
    assert row["007"].number is None and row["70.0%"].number is None and row["9/17¹"].number is None
    sheet = openpyxl.load_workbook(io.BytesIO(workbook([first])), rich_text=True).worksheets[0]
    assert sheet["B4"].value == 14 and sheet["B4"].number_format == "0"
    assert sheet["C4"].value == 3.5 and sheet["C4"].number_format == "0.00"
    assert sheet["B5"].value == "007" and sheet["C5"].value == "70.0%"


def test_the_workbook_holds_caption_table_notes_with_superscripts_and_merged_row_groups(page):
    tables = read_tables(page)
    book = openpyxl.load_workbook(io.BytesIO(workbook(tables)), rich_text=True)
    assert book.sheetnames == ["Table 1 first", "Table 2 second"]
    sheet = book["Table 1 first"]
    assert sheet["A1"].value == "Table 1. Doses < 10 mg & more: cumul"
    assert [c.value for c in sheet[2]] == ["Drug", "n", "Estimate", "Certainty"]
    assert [str(r) for r in sheet.merged_cells.ranges] == ["A3:D3"]
    certainty = sheet["D4"].value  # rich text: the marks stay superscripts
    assert str(certainty) == "very lowab"
    assert [(block.text, block.font.vertAlign) for block in certainty] == [("very low", None), ("ab", "superscript")]
    assert sheet["D5"].value == "A shortened note that goes on & on\n1: yes\n2: no — why"
    assert str(sheet["A8"].value) == "a. Risk of bias: serious."
    assert str(sheet["A11"].value) == "M2. exact: single patients < 2."


def test_sheet_names_are_unique_and_fit_excel_for_long_names(page):
    long = page.replace('data-table="first"', 'data-table="response_per_drug_leave_one_out_diltiazem-06412b"')
    long = long.replace('data-table="second"', 'data-table="response_per_drug_leave_one_out_diltiazem-99999b"')
    names = [t.sheet_name for t in read_tables(long)]
    assert len(set(names)) == 2 and all(len(n) <= 31 for n in names)
    assert not any(set(n) & set("[]:*?/\\") for n in names)
    assert openpyxl.load_workbook(io.BytesIO(workbook(read_tables(long)))).sheetnames == names


def test_the_word_file_has_each_caption_then_its_table_with_merged_cells_and_superscripts(page):
    tables = read_tables(page)
    word = docx.Document(io.BytesIO(document(tables, "A review & its tables")))
    assert len(word.tables) == 2
    captions = [p for p in word.paragraphs if p.style.name == "Caption"]
    assert [p.text for p in captions] == ["Table 1. Doses < 10 mg & more: cumul", "Table 2. Steps."]
    assert captions[0].runs[0].text == "Table 1." and captions[0].runs[0].bold
    grid = word.tables[0]
    assert [c.text for c in grid.rows[0].cells] == ["Drug", "n", "Estimate", "Certainty"]
    assert {c.text for c in grid.rows[1].cells} == {"Any response"}  # merged across the row
    marks = [r for r in grid.cell(2, 3).paragraphs[0].runs if r.font.superscript]
    assert "".join(r.text for r in marks) == "ab"
    assert grid.cell(3, 0).text == "warfarin\noral"
    assert "M2. exact: single patients < 2." in [p.text for p in word.paragraphs]


def test_a_table_too_long_for_a_manuscript_page_is_named_in_the_word_file_and_kept_in_the_workbook(page,
                                                                                                   monkeypatch):
    import metacalc.render.manuscript_tables as module

    monkeypatch.setattr(module, "WORD_MAX_ROWS", 3)  # the first table has 4 body rows, the second 1
    tables = read_tables(page)
    word = docx.Document(io.BytesIO(document(tables, "A review")))
    assert len(word.tables) == 1 and [c.text for c in word.tables[0].rows[0].cells] == ["1", "Pérez 2003"]
    assert ("4 rows, too long for a page of a manuscript (more than 3): the table is in tables.xlsx (sheet "
            "\u201cTable 1 first\u201d) and in table_01_first.csv.") in [p.text for p in word.paragraphs]
    assert openpyxl.load_workbook(io.BytesIO(workbook(tables))).sheetnames == ["Table 1 first", "Table 2 second"]


def test_csv_holds_the_heading_and_body_rows_as_text(page):
    first = read_tables(page)[0]
    assert list(csv.reader(io.StringIO(table_csv(first)))) == cells(first)


def test_written_twice_the_files_are_byte_identical_and_stale_tables_are_removed(page, tmp_path):
    names = write_manuscript_tables(page, str(tmp_path / "a"))
    assert names == ["table_01_first.csv", "table_02_second.csv", DOCUMENT, WORKBOOK]
    (tmp_path / "a" / "table_09_gone.csv").write_text("old", encoding="utf-8")
    (tmp_path / "a" / "mine.txt").write_text("not ours", encoding="utf-8")
    write_manuscript_tables(page, str(tmp_path / "a"))
    write_manuscript_tables(page, str(tmp_path / "b"))
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(names + ["mine.txt"])
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    word = docx.Document(str(tmp_path / "a" / DOCUMENT))
    assert word.core_properties.created.year == 2024 and word.paragraphs[0].text == "A review & its tables"


# ---------------------------------------------------------------------------------------------------------------
# The bundled review's report, as the workflow writes it
# ---------------------------------------------------------------------------------------------------------------


def displayed(cell):
    """The text Excel shows in a cell of tables.xlsx: a number with its format's decimals, rich text with its
    superscripts written as CSV writes them."""
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, int | float):
        decimals = len(cell.number_format.split(".")[1]) if "." in cell.number_format else 0
        return f"{value:.{decimals}f}"
    if isinstance(value, str):
        return value
    return "".join(block if isinstance(block, str) else
                   (_superscript(block.text) if block.font.vertAlign == "superscript" else block.text)
                   for block in value)


def word_texts(table):
    """What Word shows in each place of the table: the cell's text (its marks as plain letters), a merged
    place the text of the cell it belongs to."""
    origin = {(r, c): (r0, c0) for r0, c0, r1, c1 in table.spans for r in range(r0, r1 + 1)
              for c in range(c0, c1 + 1)}
    rows = table.rows
    return [["".join(run.text for run in rows[origin.get((r, c), (r, c))[0]][origin.get((r, c), (r, c))[1]].runs)
             for c in range(len(row))] for r, row in enumerate(rows)]


def sheet_rows(sheet, height):
    return [[displayed(c) for c in row] for row in sheet.iter_rows(min_row=2, max_row=height + 1)]


@pytest.mark.slow  # the whole bundled review, rendered
def test_every_numbered_table_of_the_report_has_its_csv_sheet_and_word_table_with_the_same_cells(bundled_report):
    html = (bundled_report / "index.html").read_text(encoding="utf-8")
    numbered = re.findall(r'<table[^>]*data-table="([^"]+)"[^>]*>\s*<caption><strong>Table (\d+)\.</strong>', html)
    assert len(numbered) == len(re.findall(r"<caption><strong>Table \d+\.</strong>", html))  # all marked
    assert len(numbered) >= 16  # the bundled review: cumulative tables too
    tables = read_tables(html)
    assert [(t.name, str(t.number)) for t in tables] == numbered
    folder = bundled_report / FOLDER
    book = openpyxl.load_workbook(folder / WORKBOOK, rich_text=True)
    word = docx.Document(str(folder / DOCUMENT))
    assert book.sheetnames == [t.sheet_name for t in tables] and len(word.tables) == len(tables)
    for table, sheet, grid in zip(tables, book.worksheets, word.tables):
        rows = list(csv.reader(open(folder / f"{table.file_stem}.csv", encoding="utf-8", newline="")))
        assert rows == cells(table), table.name
        assert displayed(sheet["A1"]) == table.caption_text
        assert sheet_rows(sheet, len(rows)) == rows, table.name
        assert [[cell.text for cell in row.cells] for row in grid.rows] == word_texts(table), table.name


@pytest.mark.slow  # the whole bundled review, rendered
def test_exported_numbers_are_rounded_as_the_report_rounds_them(bundled_report):
    results = json.loads((bundled_report / "tables" / "results.json").read_text(encoding="utf-8"))
    folder = bundled_report / FOLDER
    tables = {t.name: t for t in read_tables((bundled_report / "index.html").read_text(encoding="utf-8"))}
    book = openpyxl.load_workbook(folder / WORKBOOK, rich_text=True)
    checked = 0
    for analysis in results["analyses"]:
        table = tables[analysis["id"]]
        rows = list(csv.reader(open(folder / f"{table.file_stem}.csv", encoding="utf-8", newline="")))
        by_group = {row[0]: dict(zip(rows[0], row)) for row in rows[1:]}
        sheet = book[table.sheet_name]
        for number, group in enumerate(analysis["groups"]):
            row = by_group[group["group"]]
            if analysis["kind"] == "proportion" and group["result"] and not group["result"].get("lower_bound"):
                result = group["result"]
                assert row["Estimate"] == pct(result["estimate"])
                assert row["95% CI"] == f"{pct(result['ci_lower'])} to {pct(result['ci_upper'])}"
                assert sheet.cell(row=3 + number, column=2).value == group["k"]  # Reports: a number
                checked += 1
            elif analysis["kind"] == "time" and group["summary"]:
                assert row["Median"] == num(group["summary"]["median"])
                median = sheet.cell(row=3 + number, column=3)
                assert (median.value, median.number_format) == (float(num(group["summary"]["median"])), "0.0")
                checked += 1
    assert checked >= 10


@pytest.mark.slow  # the whole bundled review, rendered
def test_the_exports_are_byte_identical_when_written_again(bundled_report, tmp_path):
    html = (bundled_report / "index.html").read_text(encoding="utf-8")
    names = write_manuscript_tables(html, str(tmp_path))
    assert sorted(p.name for p in (bundled_report / FOLDER).iterdir()) == names
    for name in names:
        assert (tmp_path / name).read_bytes() == (bundled_report / FOLDER / name).read_bytes(), name


@pytest.mark.slow  # the whole bundled review, rendered
def test_a_caption_with_escaped_text_round_trips_into_every_export(bundled_report, tmp_path):
    from metacalc.render.report import render_report

    title = "Response <per> therapy & class"
    results = json.loads((bundled_report / "tables" / "results.json").read_text(encoding="utf-8"))
    analysis = next(a for a in results["analyses"] if a["id"] == "response_per_drug")
    analysis["title"] = title
    (tmp_path / "results.json").write_text(json.dumps(results), encoding="utf-8")
    shutil.copytree(bundled_report / "figures", tmp_path / "figures")
    render_report(str(tmp_path / "results.json"), str(tmp_path / "figures"), str(tmp_path / "out" / "index.html"))
    html = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "Response &lt;per&gt; therapy &amp; class" in html and title not in html
    table = next(t for t in read_tables(html) if t.name == "response_per_drug")
    want = f"Table {table.number}. {title}: any response (complete or partial), pooled per drug (95% CI)."
    assert table.caption_text == want
    folder = tmp_path / "out" / FOLDER
    assert openpyxl.load_workbook(folder / WORKBOOK)[table.sheet_name]["A1"].value == want
    assert want in [p.text for p in docx.Document(str(folder / DOCUMENT)).paragraphs]
    sensitivity = next(t for t in read_tables(html) if t.name == "response_per_drug_sensitivity")
    assert sensitivity.caption_text.startswith(f"Table {sensitivity.number}. {title}: sensitivity")
