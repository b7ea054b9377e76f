"""Named versions (metacalc release) and the change log against the latest one."""

import copy
import json
from pathlib import Path

import pytest
from conftest import copy_review

from metacalc.review.changes import changes_since
from metacalc.review.document import ReviewResults
from metacalc.review.release import latest_release, release_document, summary

GOLDEN = Path(__file__).parent.parent / "fixtures" / "golden"
RESULTS = GOLDEN / "expected" / "tables" / "results.json"


@pytest.fixture(scope="module")
def document():
    return json.loads(RESULTS.read_text(encoding="utf-8"))


def results_of(document):
    return ReviewResults.from_dict(document)


def release_of(document, name="v1"):
    """A release made from a results document (a deep copy, free to edit)."""
    return copy.deepcopy(release_document(results_of(document), name, {"review.yaml": "0" * 64}, 1))


def test_a_release_of_the_same_results_shows_nothing_changed(document):
    log = changes_since(release_of(document), results_of(document))
    assert log.version == "v1"
    assert (log.reports_added, log.reports_removed, log.patients_added, log.patients_removed) == ((), (), (), ())
    assert all(c.before == c.after for c in log.prisma) and log.prisma
    assert log.estimates and not any(e.changed for e in log.estimates)
    assert log.variants == () and log.conclusions == ()


def test_new_reports_patients_counts_and_moved_estimates(document):
    release = release_of(document)
    release["reports"] = [r for r in release["reports"] if r["study_id"] != "costasousa2021"]
    release["patients"] = [p for p in release["patients"] if p["study_id"] != "costasousa2021"]
    release["patients"].append({"patient_id": "gone_p1", "study_id": "gone", "label": "Gone 1999"})
    box = next(b for b in release["prisma"] if b["n"])
    box["n"] -= 1
    diltiazem = next(g for g in release["analyses"][0]["groups"] if g["group"] == "diltiazem")
    diltiazem["events"] += 1
    diltiazem["result"]["estimate"] = 0.9
    variant_row = release["analyses"][0]["sensitivity"][0]["rows"][0]
    variant_row["variant"]["events"] += 1
    log = changes_since(release, results_of(document))
    assert [(r.id, r.label) for r in log.reports_added] == [("costasousa2021", "Costa Sousa 2021")]
    assert [p.id for p in log.patients_added] == ["costasousa2021_p1"]
    assert [(p.id, p.label) for p in log.patients_removed] == [("gone_p1", "Gone 1999")]
    (moved,) = [c for c in log.prisma if c.before != c.after]
    assert (moved.box, moved.after - moved.before) == (box["box"], 1)
    (estimate,) = [e for e in log.estimates if e.changed]
    assert (estimate.analysis, estimate.group) == ("response_per_drug", "diltiazem")
    assert [v.group for v in log.variants] == [variant_row["group"]]
    assert log.to_dict() == type(log).from_dict(log.to_dict()).to_dict()


def with_test(document, pvalue, lower, upper):
    """The results with the first comparison of the time analysis tested (a Welch p-value and interval)."""
    edited = copy.deepcopy(document)
    time = next(a for a in edited["analyses"] if a["kind"] == "time")
    comparison = time["groups"][0]["comparisons"][0]
    comparison.update(pvalue=pvalue, ci_lower=lower, ci_upper=upper, method="welch", tested=True)
    return edited, comparison


def test_a_comparison_crossing_the_5_percent_level_and_an_interval_leaving_the_figure(document):
    before, comparison = with_test(document, 0.31, -1.0, 5.0)
    after, _ = with_test(document, 0.01, 1.0, 6.0)
    log = changes_since(release_of(before), results_of(after))
    reference = f"{comparison['reference']['label']} ({comparison['reference']['aggregate_id']})"
    assert [(c.group, c.what, c.before, c.after) for c in log.conclusions] == [
        ("all patients", f"compared with {reference} ({comparison['measure']}): the difference became significant at "
                         "the 5% level", "p = 0.310", "p = 0.010"),
        ("all patients", f"the interval of the difference no longer includes the published figure of {reference} "
                         f"({comparison['measure']}, {comparison['reference']['mean']:g} years)",
         "includes it", "excludes it")]


def test_the_latest_release_is_the_last_made(tmp_path, capsys):
    from metacalc.cli import main

    copy_review(GOLDEN / "review", tmp_path, sheets="extraction_sheets")
    assert main(["release", "v1", "--review", str(tmp_path)]) == 0
    first = (tmp_path / "releases" / "v1" / "release.json").read_bytes()
    assert main(["release", "v2", "--review", str(tmp_path), "--label", "searches to March 2027"]) == 0
    assert main(["release", "v1", "--review", str(tmp_path)]) == 0  # made again: the same bytes, the latest now
    assert (tmp_path / "releases" / "v1" / "release.json").read_bytes().replace(b'"sequence": 3', b'"sequence": 1') \
        == first
    latest = latest_release(str(tmp_path / "releases"))
    assert (latest["name"], latest["sequence"]) == ("v1", 3)
    v2 = json.loads((tmp_path / "releases" / "v2" / "release.json").read_text(encoding="utf-8"))
    assert v2["label"] == "searches to March 2027" and v2["inputs"]["sha256"] == latest["inputs"]["sha256"]
    assert sorted(v2["inputs"]["files"])[:3] == ["analyses/response_per_class.yaml", "analyses/response_per_drug.yaml",
                                                  "analyses/time_to_onset.yaml"]
    assert "extraction_sheets/studies.csv" in v2["inputs"]["files"] and "review.yaml" in v2["inputs"]["files"]
    assert [r["label"] for r in v2["reports"]][:2] == [r["label"] for r in summary(results_of(
        json.loads(RESULTS.read_text(encoding="utf-8"))))["reports"]][:2]
    assert capsys.readouterr().out.startswith("release v1 written to ")
    assert main(["release", "../x", "--review", str(tmp_path)]) == 1


def test_the_report_compares_with_the_latest_release(tmp_path):
    from metacalc.cli import main
    from metacalc.pipeline import run_review

    copy_review(GOLDEN / "review", tmp_path, sheets="extraction_sheets")
    assert main(["release", "v1", "--review", str(tmp_path)]) == 0
    html = run_review(str(tmp_path), str(tmp_path / "analyses"), str(tmp_path / "out"),
                      releases=str(tmp_path / "releases"))
    text = " ".join(open(html, encoding="utf-8").read().split())
    assert "<h2>Changes since version v1</h2>" in text
    assert "The inputs are those of the version (same hash)." in text
    assert "No report or patient was added or removed." in text
    assert "0 of 13 main estimate(s) moved." in text
