"""The report's layout in real headless Chromium: it reads on a phone, prints completely, numbers its figures and
shows no internal id outside the provenance.

One report of the fixture review (a committed copy of the bundled review) is rendered for the module and opened
in Debian's Chromium through Playwright; the tests skip when either is missing.
"""

import os
import re
import unicodedata

import pytest

from metacalc.data.reader import read_table
from metacalc.pipeline import run_review

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REVIEW = os.path.join(ROOT, "tests", "fixtures", "golden", "review")
CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 400, "height": 800}
A4_WIDTH_MM = 210

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason=f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does) to run the browser tests",
)]

# Elements outside any box that scrolls or clips horizontally whose box sticks out of the window, each as
# 'tag#id.class: text'. Only the outermost is named (its children stick out with it).
STICKING_OUT = """() => {
    const width = document.documentElement.clientWidth;
    const clipped = el => {
        for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
            if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(a).overflowX)) return true;
        }
        return false;
    };
    const out = el => { const r = el.getBoundingClientRect();
                        return (r.width > 0 || r.height > 0) && (r.right > width + 0.5 || r.left < -0.5); };
    return [...document.body.querySelectorAll('*')]
        .filter(el => out(el) && !clipped(el) && !(el.parentElement !== document.body && out(el.parentElement)))
        .map(el => `${el.tagName.toLowerCase()}#${el.id}.${el.getAttribute('class') || ''}: `
                   + (el.textContent || '').trim().slice(0, 60));
}"""

OPEN_EVERY_DETAILS = "document.querySelectorAll('details').forEach(d => d.open = true)"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("layout") / "reports"
    return run_review(REVIEW, os.path.join(REVIEW, "analyses"), str(outdir),
                      title="Calcinosis cutis in systemic lupus erythematosus")


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def open_report(report, browser):
    """A new page showing the report (closed after the test); JavaScript is off, as a careful reader may have it,
    unless the test needs it to open or mark elements."""
    pages = []

    def open_page(viewport, javascript=False, media=None):
        context = browser.new_context(viewport=viewport, java_script_enabled=javascript)
        page = context.new_page()
        if media:
            page.emulate_media(media=media)
        page.goto("file://" + os.path.abspath(report), wait_until="load")
        pages.append(context)
        return page

    yield open_page
    for context in pages:
        context.close()


def normalised(text):
    """Text as a PDF's and a page's may both hold it: compatibility forms (ligatures), no whitespace (line
    breaks fall anywhere), no hyphens (a word broken at a hyphen, or a hyphen the PDF's text drops)."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s\-\u00ad\u2010\u2011]", "", text)


def pdf_pages(pdf_bytes, tmp_path):
    from pypdf import PdfReader

    path = tmp_path / "report.pdf"
    path.write_bytes(pdf_bytes)
    # NFKC: Chromium's PDF draws ligatures ('ﬁ' for 'fi'), which the text extracted keeps
    return [unicodedata.normalize("NFKC", page.extract_text()) for page in PdfReader(str(path)).pages]


def test_nothing_sticks_out_of_a_phone_screen(open_report):
    page = open_report(PHONE, javascript=True)  # (the page has no script: JavaScript only opens the details)
    for state in ("as loaded", "every details open"):
        if state != "as loaded":
            page.evaluate(OPEN_EVERY_DETAILS)
        assert page.evaluate("document.scrollingElement.scrollWidth") <= page.evaluate("innerWidth"), state
        assert page.evaluate(STICKING_OUT) == [], state
    boxes = page.evaluate("""() => [...document.querySelectorAll('table')].map(t => {
        const box = t.closest('.table-wrap');
        return box ? [getComputedStyle(box).overflowX, box.scrollWidth > box.clientWidth] : ['no scroll box', false];
    })""")
    assert {overflow for overflow, _ in boxes} == {"auto"}  # every table sits in its own scroll box
    assert any(wider for _, wider in boxes)  # and the phone needs them: some tables are wider than the screen
    figures = page.evaluate("""() => [...document.querySelectorAll('figure svg')].map(s => [
        s.getBoundingClientRect().width, s.closest('figure').getBoundingClientRect().width,
        s.width.baseVal.value])""")  # the width it is drawn at, in CSS pixels
    assert figures and all(svg <= figure + 0.5 for svg, figure, _ in figures)
    assert any(svg < drawn for svg, _, drawn in figures)  # wide figures are scaled down to the screen, not cut


def test_the_printed_report_holds_every_collapsed_text(open_report, tmp_path):
    page = open_report({"width": 1280, "height": 900})
    bodies = page.evaluate("""() => [...document.querySelectorAll('details')].map(d => {
        const body = d.cloneNode(true);
        body.querySelector(':scope > summary').remove();
        return body.textContent;
    })""")
    printed = normalised("".join(pdf_pages(page.pdf(format="A4"), tmp_path)))
    assert len(bodies) > 10  # the records behind each PRISMA box, item answers, notes, evidence, tables of steps
    missing = [body.strip()[:80] for body in bodies if normalised(body) not in printed]
    assert missing == []
    # a note's summary is a truncated preview; print shows the full text once, not the preview too
    previews = page.evaluate("[...document.querySelectorAll('summary.preview')].map(s => s.textContent)")
    assert any(p.endswith("…") for p in previews)
    assert all(normalised(p) not in printed for p in previews if p.endswith("…"))


def test_paper_cuts_nothing_at_its_edge(open_report):
    """At the width of an A4 page less its margins (the stylesheet's @page rule), in print media, nothing sticks
    out: paper does not scroll, so a table wider than the page would be cut."""
    page = open_report({"width": 800, "height": 1100}, javascript=True, media="print")
    margins = page.evaluate("""() => { for (const sheet of document.styleSheets) for (const rule of sheet.cssRules)
        if (rule instanceof CSSPageRule) return [rule.style.marginLeft, rule.style.marginRight]; return null; }""")
    assert margins and all(m.endswith("mm") for m in margins), margins
    width_mm = A4_WIDTH_MM - sum(float(m[:-2]) for m in margins)
    page.set_viewport_size({"width": int(width_mm / 25.4 * 96), "height": 1100})
    page.evaluate(OPEN_EVERY_DETAILS)  # print shows them (the test above)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= page.evaluate("innerWidth")
    assert page.evaluate(STICKING_OUT.replace("'auto', 'scroll', 'hidden', 'clip'", "'hidden', 'clip'")) == []


def test_print_keeps_each_figure_and_table_row_on_one_page(open_report, tmp_path):
    """Marks at the top of each figure and each table row and at the end of each of its parts, printed: every
    mark of one figure or row must be on the page of its first."""
    page = open_report({"width": 1280, "height": 900}, javascript=True)
    counts = page.evaluate("""() => {
        const mark = (el, text, first) => {
            const span = document.createElement('span');
            span.textContent = ` ${text} `;
            span.style.cssText = 'font-size: 3px; color: #ffffff';
            first ? el.prepend(span) : el.append(span);
        };
        const figures = [...document.querySelectorAll('figure')], rows = [...document.querySelectorAll('tbody tr')];
        figures.forEach((f, i) => { mark(f, `qqfig${i}top`, true); mark(f, `qqfig${i}end`, false); });
        rows.forEach((r, i) => {
            const cells = [...r.children];
            mark(cells[0], `qqrow${i}top`, true);
            cells.forEach(c => mark(c, `qqrow${i}end`, false));
        });
        document.querySelectorAll('details').forEach(d => d.open = true);  // rows of the tables of steps too
        return [figures.length, rows.length];
    }""")
    pages = pdf_pages(page.pdf(format="A4"), tmp_path)
    where = {}
    for number, text in enumerate(pages):
        for mark in re.findall(r"qq(?:fig|row)\d+(?:top|end)", text):
            where.setdefault(mark, set()).add(number)
    figures, rows = counts
    assert figures > 5 and rows > 50
    split = []
    for kind, n in (("fig", figures), ("row", rows)):
        for i in range(n):
            top, end = where.get(f"qq{kind}{i}top"), where.get(f"qq{kind}{i}end")
            assert top and end, f"qq{kind}{i} not found in the PDF"
            if len(top | end) > 1:
                split.append((kind, i, sorted(top | end)))
    assert split == []


def test_every_figure_has_a_number_and_a_legend_in_order(open_report):
    page = open_report({"width": 1280, "height": 900})
    captions = page.evaluate("""() => [...document.querySelectorAll('figure')].map(f => {
        const c = f.querySelector(':scope > figcaption'); return c ? c.textContent : null; })""")
    assert len(captions) > 5 and None not in captions
    numbers = [re.match(r"Figure (\d+)\. ", c) for c in captions]
    assert None not in numbers, captions
    assert [int(m.group(1)) for m in numbers] == list(range(1, len(captions) + 1))
    # a legend: the title, then at least one sentence saying what the marks mean (or how the numbers came)
    for caption in captions:
        sentences = [s for s in re.split(r"(?<=\.) (?=[A-Z])", caption[len("Figure 1. "):]) if s]
        assert len(sentences) >= 2, caption


def _sheet_ids():
    """Every id of the fixture review's sheets: reports, patients, therapy courses, series figures."""
    ids = set()
    for table, column in (("studies", "study_id"), ("patients", "patient_id"), ("treatments", "treatment_id"),
                          ("aggregates", "aggregate_id")):
        sheet, problems = read_table(os.path.join(REVIEW, "extraction_sheets", f"{table}.csv"))
        assert sheet is not None and not problems
        ids |= {i for i in sheet.column(column) if i}
    return ids


def test_no_internal_id_in_the_visible_text_outside_provenance(open_report):
    page = open_report({"width": 1280, "height": 900}, javascript=True)
    page.evaluate(OPEN_EVERY_DETAILS)  # collapsed text too
    # Sections off screen are not rendered (content-visibility: auto) and innerText skips them; shown, they give
    # the text a reader scrolling to them sees.
    page.evaluate("document.querySelectorAll('main > section').forEach(s => s.style.contentVisibility = 'visible')")
    outside = page.evaluate("""() => {
        const body = document.body.cloneNode(true);
        body.querySelector('#provenance').remove();
        document.body.after(body);  // innerText needs a rendered element
        const text = body.innerText + ' ' + [...body.querySelectorAll('svg text')].map(t => t.textContent).join(' ');
        body.remove();
        return text;
    }""")
    inside = page.inner_text("#provenance")
    ids = _sheet_ids()
    assert {"seed002", "perezpampin_p1"} <= ids
    found = sorted(i for i in ids if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", outside))
    assert found == []
    assert sum(bool(re.search(rf"\b{re.escape(i)}\b", inside)) for i in ids) > len(ids) // 2  # provenance keeps them
