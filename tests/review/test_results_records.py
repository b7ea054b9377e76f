"""The typed results and results.json: every record reads back from its JSON form to the same records, and the
JSON form is the one results.json holds (its layout is what the golden test keeps)."""

import gc
import json

import pytest

from metacalc.review.document import ReviewResults
from metacalc.review.results import ProportionGroup, TimeGroup
from metacalc.review.results_io import PIECE, dumps, read_results, results_json_pieces, write_results_json


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


@pytest.mark.parametrize("piece", [1, 2, 3, PIECE])
def test_results_json_written_in_pieces_is_the_whole_document_dumped(results, tmp_path, piece):
    # The bundled review has all that results.json holds: sensitivity variants, a duplicate publication (and a
    # pair of the screen), a time analysis with its comparisons, quotes, PRISMA records. Pieces of 1, 2 and 3
    # elements put a piece boundary inside every array and object longer than that, at every level split.
    assert all(analysis.sensitivity for analysis in results.analyses)
    assert {analysis.kind for analysis in results.analyses} == {"proportion", "time"}
    assert results.duplicate_differences and results.duplicate_screen.pairs and len(results.quotes) > 3
    path = tmp_path / "results.json"
    write_results_json(results, path, piece)
    assert path.read_bytes() == dumps(results.to_dict()).encode("utf-8")
    if piece == 1:
        # split below the top level: more pieces than two per field
        assert len(list(results_json_pieces(results, piece))) > 2 * len(results.__dict__)
    assert read_results(path) == results


def test_reading_and_writing_leave_the_cycle_collector_as_they_found_it(results, tmp_path):
    path = tmp_path / "results.json"
    for enabled in (True, False):
        gc.enable() if enabled else gc.disable()
        try:
            write_results_json(results, path)
            read_results(path)
            assert gc.isenabled() == enabled
        finally:
            gc.enable()
