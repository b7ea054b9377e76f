"""The report names reports and patients by their author–year labels: the ids typed in the sheets appear only in
the provenance section (where they locate a row in a sheet)."""

import json
import re
from html.parser import HTMLParser

import pytest

from metacalc.review.labels import RowNames


class VisibleText(HTMLParser):
    """The text a reader sees outside the provenance section (figures' SVG text included, styles left out)."""

    def __init__(self):
        super().__init__()
        self.stack, self.parts = [], []

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "meta", "link", "img", "input", "hr", "col", "wbr"):
            return
        self.stack.append((tag, dict(attrs).get("id")))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if any(tag in ("style", "script", "title") or ident == "provenance" for tag, ident in self.stack):
            return
        self.parts.append(data)


def visible_text(html):
    parser = VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


def dataset_ids(results):
    ids = {s["study_id"] for s in results["studies"]} | {p["patient_id"] for p in results["patients"]}
    ids |= {t["treatment_id"] for t in results["treatments"]}
    ids |= {row["row_id"] for row in results["excluded_rows"]}
    return ids


def ids_in(text, ids):
    return sorted(i for i in ids if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text))


def test_row_names_replace_ids_in_free_text(bundled_results):
    names = RowNames(bundled_results)
    labels = {s["study_id"]: s["label"] for s in bundled_results.studies}
    primary = next(s["duplicate_of"] for s in bundled_results.studies if s.get("duplicate_of"))
    assert names.text(f"same patient as {primary}.") == f"same patient as {labels[primary]}."
    assert names.of(primary) == labels[primary]
    patient = bundled_results.patients[0]
    assert names.of(patient["patient_id"]) == patient["label"] and patient["label"].endswith(", patient 1")
    assert names.text(f"{patient['patient_id']}x") == f"{patient['patient_id']}x"  # only whole ids
    assert names.text(None) == ""


@pytest.mark.slow  # the whole bundled review, rendered
def test_no_dataset_id_in_visible_text_outside_provenance(bundled_report):
    html = (bundled_report / "index.html").read_text(encoding="utf-8")
    results = json.loads((bundled_report / "tables" / "results.json").read_text(encoding="utf-8"))
    ids = dataset_ids(results)
    assert ids_in(visible_text(html), ids) == []
    # ... while provenance still names the rows by their ids, to find them in the sheets
    provenance = html[html.index('<section id="provenance">'):]
    assert ids_in(provenance, {p["patient_id"] for p in results["patients"]})
    # labels as a journal prints them; the report without a year is '(n.d.)', never its first author's initials
    labels = [s["label"] for s in results["studies"]]
    assert all(" patient " in p["label"] for p in results["patients"])
    assert len(set(labels)) == len(labels)
    assert not any(re.search(r" [A-Z]{1,3}$", label) for label in labels), labels


@pytest.mark.slow  # the whole bundled review, rendered
def test_table_1_counts_the_duplicate_patient_once_and_the_references_list_every_report(bundled_report):
    html = (bundled_report / "index.html").read_text(encoding="utf-8")
    results = json.loads((bundled_report / "tables" / "results.json").read_text(encoding="utf-8"))
    table = results["characteristics"]
    duplicates = [s for s in results["studies"] if s.get("duplicate_of")]
    with_patients = {p["study_id"] for p in results["patients"]}
    assert table["patients"] == len(results["patients"]) - sum(
        1 for p in results["patients"] if p["study_id"] in {s["study_id"] for s in duplicates})
    assert table["reports"] == len(with_patients - {s["study_id"] for s in duplicates})
    text = " ".join(visible_text(html).split())
    assert f"Patients (n = {table['patients']})" in text
    for once in table["counted_once"]:
        assert f"same patient as {once['same_as_label']}; not counted again" in text
    references = html[html.index('<section id="references">'):html.index('<section id="provenance">')]
    for study in results["studies"]:
        assert f"<strong>{study['label']}</strong>" in references


def test_the_warning_on_an_undecided_pair_names_patients_by_their_labels():
    """While a likely pair of patients is undecided, the summary's warning names the two patients: by their
    labels, as everywhere outside provenance (the pair of the bundled review, made undecided)."""
    import dataclasses
    from pathlib import Path

    from metacalc.render.report import render_html
    from metacalc.review.document import DuplicateScreen, ScoredPair
    from metacalc.review.results_io import read_results

    expected = Path(__file__).parent.parent / "fixtures" / "golden" / "expected" / "tables" / "results.json"
    results = read_results(expected)
    first, second = (p for p in results.patients if p["study_id"] in ("seed002", "seed004"))
    pair = ScoredPair(first["patient_id"], second["patient_id"], first["study_id"], second["study_id"], 3.8, 2.0)
    assert pair.undecided
    undecided = dataclasses.replace(results, duplicate_screen=DuplicateScreen(2.0, (pair,), 10))
    html = render_html(undecided, {})
    warning = html[html.index('id="duplicates-undecided"'):]
    warning = " ".join(visible_text(warning[:warning.index("</p>")]).split())
    assert f"{first['label']} and {second['label']}" in warning
    assert ids_in(visible_text(html), dataset_ids(json.loads(expected.read_text(encoding="utf-8")))) == []
