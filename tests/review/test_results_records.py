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


@pytest.mark.parametrize("text, why", [
    ('{"format": "metacalc-dataset"}', "not a metacalc results file"),
    ("[1, 2]", "not a metacalc results file"),
    ("not JSON at all", "not a metacalc results file"),
    ("", "not a metacalc results file"),
    ('{"analyses": [], "format": 2}', "another version of metacalc .got format 2, expected 3"),
    ('{"analyses": [{"id": 1}], "format": 3}', "a damaged metacalc results file .KeyError"),
])
def test_read_results_refuses_another_file_with_the_reason(tmp_path, text, why):
    from metacalc.errors import UserError

    path = tmp_path / "x.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError, match=why):
        read_results(path)


def test_a_truncated_or_non_utf8_results_json_is_refused_not_a_traceback(results, tmp_path):
    from metacalc.errors import UserError

    whole = dumps(results.to_dict()).encode("utf-8")
    for cut in (1, len(whole) // 3, len(whole) - 3):
        path = tmp_path / f"cut{cut}.json"
        path.write_bytes(whole[:cut])
        with pytest.raises(UserError, match="not a metacalc results file"):
            read_results(path)
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"analyses": "caf\xe9"}')
    with pytest.raises(UserError, match="not UTF-8"):
        read_results(path)


@pytest.mark.parametrize("indent", [None, 2, "\t"])
def test_results_json_reads_however_it_is_spaced_and_escaped(results, tmp_path, indent):
    # read_results parses a field at a time: any valid JSON object with the same values reads the same, e.g. a
    # copy someone pretty-printed, with characters written as themselves rather than as \u escapes.
    document = results.to_dict()
    path = tmp_path / "results.json"
    path.write_text("\n " + json.dumps(document, indent=indent, ensure_ascii=False) + " \n", encoding="utf-8")
    assert read_results(path) == ReviewResults.from_dict(json.loads(dumps(document))) == results
    path.write_text(json.dumps({"unknown_field": [1, {"a": 2}], **document}), encoding="utf-8")
    assert read_results(path) == results  # a key no reader knows is skipped


def test_results_json_is_ascii_and_read_back_ids_are_shared_strings(results, tmp_path):
    path = tmp_path / "results.json"
    write_results_json(results, path)
    assert not json.dumps(results.to_dict(), ensure_ascii=False).isascii()  # the review has accented names, "≥"
    assert path.read_bytes().isascii()  # decoded at one byte per character (any non-ASCII text is escaped)
    again = read_results(path)
    contributors = [c for a in again.analyses for g in a.groups if isinstance(g, ProportionGroup)
                    for c in g.contributors if c.patients]
    first = contributors[0].patients[0].patient_id
    used = next(a.used["patients"] for a in again.analyses if first in a.used["patients"])
    # the same id read in two places of the file is one object, not two equal ones
    assert next(p for p in used if p == first) is first


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
