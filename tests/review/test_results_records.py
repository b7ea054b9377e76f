"""The typed results and results.json: every record reads back from its JSON form to the same records, and the
JSON form is the one results.json holds (its layout is what the golden test keeps)."""

import json

import pytest

from metacalc.review.document import ReviewResults
from metacalc.review.results import ProportionGroup, TimeGroup
from metacalc.review.results_io import dumps, read_results


@pytest.fixture(scope="module")
def results(bundled_results):
    return bundled_results


def test_the_json_form_reads_back_to_the_same_records(results):
    document = json.loads(dumps(results.to_dict()))
    again = ReviewResults.from_dict(document)
    assert again == results
    assert again.to_dict() == document


def test_each_group_says_its_kind_and_its_estimates_theirs(results):
    for analysis in results.analyses:
        for group in analysis.groups:
            if analysis.kind == "proportion":
                assert isinstance(group, ProportionGroup) and group.detail
                assert group.result is None or group.result.kind == "proportion"
            else:
                assert isinstance(group, TimeGroup)
                assert group.pooled is None or group.pooled.kind == "mean"
        for variant in analysis.sensitivity:
            assert all(not group.detail for group in variant.groups)
            # a variant keeps numbers only: no per-study rows of the model, no patients
            for group in variant.groups:
                estimate = group.result if isinstance(group, ProportionGroup) else group.pooled
                assert estimate is None or "studies" not in estimate.fields


def test_results_hold_what_figures_and_report_show(results):
    assert {p["patient_id"] for p in results.patients} == {"perezpampin_p1", "tristano2006_p1", "costasousa2021_p1",
                                                           "seed002_p1", "seed004_p1"}
    assert len(results.treatments) == 11
    assert [a.tool for a in results.appraisal] == ["jbi_case_report", "murad_2018"]
    counts = results.prisma.counts()
    assert counts.reports.n == len(results.studies)
    assert {box.box_id: box.n for box in results.prisma.boxes} == {k: v["n"] for k, v in counts.to_dict().items()}


def test_read_results_refuses_another_file(tmp_path):
    from metacalc.errors import UserError

    path = tmp_path / "x.json"
    path.write_text('{"format": "metacalc-dataset"}', encoding="utf-8")
    with pytest.raises(UserError, match="not a metacalc results file"):
        read_results(path)


def test_the_committed_golden_results_read_back(root):
    path = root / "tests" / "fixtures" / "golden" / "expected" / "tables" / "results.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    assert read_results(path).to_dict() == document
