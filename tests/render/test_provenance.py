"""Provenance beside the report (provenance.csv), inline in it up to a documented size, linked beyond it."""

import csv
import io
import re

from metacalc.pipeline import report
from metacalc.render.provenance import COLUMNS, INLINE_MAX, provenance_rows
from metacalc.render.report import TIMING_COLUMNS
from metacalc.review.results_io import write_results


def steps_done(results, folder):
    """results.json and an empty figure manifest, as the analyse step leaves them (no figure needs drawing)."""
    write_results(results, str(folder / "tables"))
    (folder / "figures").mkdir()
    (folder / "figures" / "figures.json").write_text('{"figures": [], "omitted": []}', encoding="utf-8")


def section(html):
    return html[html.index('<section id="provenance">'):html.index("</section>", html.index('<section id="provenance">'))]


def test_every_contributor_has_rows_and_each_group_a_span(bundled_results):
    rows, spans = provenance_rows(bundled_results, TIMING_COLUMNS)
    assert rows and set(rows[0]) == set(COLUMNS)
    courses = {c for a in bundled_results.analyses if a.kind == "proportion" for g in a.groups
               for r in g.contributors for p in r.patients for c in p.courses}
    assert courses <= {r["row_id"] for r in rows if r["kind"] == "therapy course"}
    assert all(r["quotes"] for r in rows if r["kind"] == "therapy course")  # the bundled review quotes every course
    assert spans[0].first == 2  # spreadsheet rows: the header is row 1
    for span in spans:  # a span holds its group's rows, and nothing else
        for row in rows[span.first - 2:span.last - 1]:
            assert (row["analysis"], row["variant"], row["group"]) == (span.analysis, span.variant, span.group)
    assert sum(span.rows for span in spans) == len(rows)


def test_small_review_inlines_provenance_and_writes_the_csv_beside_the_report(bundled_results, tmp_path):
    steps_done(bundled_results, tmp_path)
    output = report(str(tmp_path / "tables" / "results.json"), str(tmp_path / "figures"), str(tmp_path / "index.html"))
    html = open(output, encoding="utf-8").read()
    rows = list(csv.DictReader(io.StringIO((tmp_path / "provenance.csv").read_text(encoding="utf-8"))))
    assert len(rows) < INLINE_MAX
    inline = section(html)
    assert "<blockquote>" in inline and f"{len(rows)} rows" in inline
    assert '<a href="provenance.csv">' in inline


def test_beyond_the_size_each_pooled_number_links_to_its_rows(bundled_results, tmp_path):
    steps_done(bundled_results, tmp_path)
    output = report(str(tmp_path / "tables" / "results.json"), str(tmp_path / "figures"), str(tmp_path / "index.html"),
                    provenance_inline_max=3)
    linked = section(open(output, encoding="utf-8").read())
    assert "<blockquote>" not in linked and "more than 3" in linked
    text = (tmp_path / "provenance.csv").read_text(encoding="utf-8").splitlines()
    links = re.findall(r'<tr id="(prov-[^"]+)">.*?href="provenance\.csv#row=(\d+)-(\d+)"', linked, re.S)
    _, spans = provenance_rows(bundled_results, TIMING_COLUMNS)
    assert [anchor for anchor, _, _ in links] == [span.anchor for span in spans]
    for (anchor, first, last), span in zip(links, spans):
        assert (int(first), int(last)) == (span.first, span.last)
        assert all(span.group in line for line in text[int(first) - 1:int(last)])  # row numbers as a spreadsheet's
