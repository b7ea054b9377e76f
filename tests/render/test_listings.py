"""The report's lists of rows (patients, reports) beside it as CSV, inline up to the documented size, linked beyond."""

import csv
import io

from test_provenance import steps_done

from metacalc.pipeline import report


def rows_of(path):
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def section(html, name):
    start = html.index(f'<section id="{name}">')
    return " ".join(html[start:html.index("</section>", start)].split())  # words as a reader sees them


def test_a_small_review_lists_its_rows_and_writes_them_beside_the_report(bundled_results, tmp_path):
    steps_done(bundled_results, tmp_path)
    html = open(report(str(tmp_path / "tables" / "results.json"), str(tmp_path / "figures"),
                       str(tmp_path / "index.html")), encoding="utf-8").read()
    patients, reports = rows_of(tmp_path / "patients.csv"), rows_of(tmp_path / "reports.csv")
    assert [p["patient_id"] for p in patients] == [p["patient_id"] for p in bundled_results.patients]
    assert {r["study_id"] for r in reports} == {s["study_id"] for s in bundled_results.studies}
    for p in patients:  # the derived times and the therapies, as the inline table shows them
        assert f'<tr id="patient-{p["patient_id"]}">' in section(html, "patients")
        assert p["label"] and "years_to_onset" in p
    course = bundled_results.treatments[0]
    owner = next(p for p in patients if p["patient_id"] == course["patient_id"])
    assert f"{course['therapy']}" in owner["therapies"] and f": {course['response']}" in owner["therapies"]
    judged = [c for c in reports[0] if c.startswith("risk of bias (")]
    assert judged and any(r[c] in ("low", "moderate", "high") for r in reports for c in judged)
    assert "too many to list here" not in html
    assert 'data-record="' in section(html, "prisma")


def test_beyond_the_size_the_report_links_to_the_files_instead(bundled_results, tmp_path):
    steps_done(bundled_results, tmp_path)
    html = open(report(str(tmp_path / "tables" / "results.json"), str(tmp_path / "figures"),
                       str(tmp_path / "index.html"), provenance_inline_max=3), encoding="utf-8").read()
    patients = section(html, "patients")
    assert '<tr id="patient-' not in patients and '<a href="patients.csv">patients.csv</a>' in patients
    assert f"{len(bundled_results.patients)} patients, too many to list here (more than 3)" in patients
    studies = section(html, "studies")
    assert '<tr id="study-' not in studies and '<a href="reports.csv">reports.csv</a>' in studies
    assert 'data-record="' not in section(html, "prisma") and "records are behind the boxes" in html
    assert "item answers</summary>" not in section(html, "risk-of-bias")
    assert len(rows_of(tmp_path / "patients.csv")) == len(bundled_results.patients)  # still every row
