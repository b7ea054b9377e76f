"""The exported workbook holds every table the report shows, cell for cell as Chromium renders it (issue 12).

The page is read as a reader copying a table would read it: every <details> open, its <summary> (a shortened copy
or a label such as "8 item answers") left aside, and the "sources" links into the provenance left out, as the
export does (metacalc.render.manuscript_tables). The texts compared are the browser's innerText of each cell and
what Excel shows in the sheet (a number with its format's decimals), white space aside: line breaks follow the
report's CSS, which the export does not read.
"""

import os

import openpyxl
import pytest

from metacalc.pipeline import run_review
from metacalc.render.manuscript_tables import FOLDER, NAVIGATION, WORKBOOK

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROMIUM = "/usr/bin/chromium"

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason=f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does) to run the browser test",
)]

# Every table[data-table] of the page: its caption and, row by row, each cell's innerText.
READ_TABLES = """(navigation) => {
    document.querySelectorAll('details').forEach(d => d.open = true);
    document.querySelectorAll('table[data-table] summary').forEach(s => s.remove());
    for (const prefix of navigation) {
        document.querySelectorAll(`table[data-table] a[href^="${prefix}"]`).forEach(a => a.remove());
    }
    return [...document.querySelectorAll('table[data-table]')].map(table => ({
        name: table.dataset.table,
        caption: table.caption ? table.caption.innerText : '',
        rows: [...table.rows].map(row => [...row.cells].map(cell => cell.innerText)),
    }));
}"""


def words(text):
    return " ".join(str(text).split())


def shown(cell):
    """What Excel shows: a number with the decimals of its format, text (rich text too) as it reads."""
    if isinstance(cell.value, int | float):
        decimals = len(cell.number_format.split(".")[1]) if "." in cell.number_format else 0
        return f"{cell.value:.{decimals}f}"
    return "" if cell.value is None else str(cell.value)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("exports") / "reports"
    review = os.path.join(ROOT, "tests", "fixtures", "golden", "review")  # a committed copy of the bundled review
    return run_review(review, os.path.join(review, "analyses"), str(outdir))


def test_the_workbook_holds_every_table_the_browser_shows_with_the_same_cell_texts(report):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto("file://" + os.path.abspath(report), wait_until="load")
            # Off-screen sections are not rendered (content-visibility: auto) and innerText skips them: shown first.
            page.evaluate("document.querySelectorAll('main > section').forEach(s => s.style.contentVisibility = 'visible')")
            shown_tables = page.evaluate(READ_TABLES, list(NAVIGATION))
        finally:
            browser.close()

    book = openpyxl.load_workbook(os.path.join(os.path.dirname(report), FOLDER, WORKBOOK), rich_text=True)
    sheets = {words(shown(sheet["A1"])): sheet for sheet in book.worksheets}
    assert len(shown_tables) == len(book.worksheets) >= 16  # the cumulative tables, collapsed, are there too
    for table in shown_tables:
        caption = words(table["caption"])
        assert caption.startswith("Table "), table["name"]
        sheet = sheets.get(caption)
        assert sheet is not None, f"{table['name']}: no sheet with the caption {caption!r}"
        rows = [[words(text) for text in row if words(text)] for row in table["rows"]]
        in_sheet = [[words(shown(cell)) for cell in row if words(shown(cell))]
                    for row in sheet.iter_rows(min_row=2, max_row=len(rows) + 1)]
        assert in_sheet == rows, table["name"]
        below = [shown(cell) for cell in sheet[len(rows) + 2]] if sheet.max_row > len(rows) + 1 else []
        assert not any(below), f"{table['name']}: the sheet has rows the page's table does not"
