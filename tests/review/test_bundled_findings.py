"""The second reviewer's four findings, as the package computes them, on the committed copy of the bundled review
(tests/fixtures/golden/review/): comparisons of like with like, lower bounds, duplicate reports, cumulative
analysis. The live review's own expected findings are checked by `metacalc check` (its expected_findings.yaml)."""

import csv
import os

import pytest
from conftest import BUNDLED_COPY

from metacalc.render.sentences import closest_reference
from metacalc.review.results import AnalysisResult

pytestmark = pytest.mark.slow  # the bundled review, validated and analysed

SHEETS = os.path.join(BUNDLED_COPY, "extraction_sheets")


@pytest.fixture(scope="module")
def results(bundled_results):
    return bundled_results.to_dict()


def analysis(results, analysis_id):
    return next(a for a in results["analyses"] if a["id"] == analysis_id)


def group(entry, name):
    return next(g for g in entry["groups"] if g["group"] == name)


def test_each_published_time_is_compared_with_the_patients_it_describes(results, bundled_results):
    from scipy import stats

    onset = analysis(results, "time_to_onset")
    overall = group(onset, "all patients")
    values = sorted(c["value"] for c in overall["contributors"])
    assert values == [4.0, 8.0, 9.0, 11.0]  # seed002 4, Tristano 8, Costa Sousa 9, Pérez Pampín 11
    rows = {(c["reference"]["mean"], c["measure"]): c for c in overall["comparisons"]}
    assert set(rows) == {(9.8, "years_to_onset"), (21.5, "years_to_onset"),
                         (21.5, "years_to_diagnosis")}  # never 4.8 against all patients
    literature = rows[(9.8, "years_to_onset")]
    assert literature["same_measure"] and literature["difference"] == pytest.approx(-1.8)
    # neither published mean has an SD (9.8: n unknown; 21.5: the mean of 2 patients): descriptive, no p-value
    # (a one-sample t test would give p = 0.31 as if 9.8 years were a known constant)
    assert stats.ttest_1samp(values, 9.8).pvalue == pytest.approx(0.3086847171, rel=1e-6)
    assert (literature["method"], literature["pvalue"], literature["tested"]) == ("descriptive", None, False)
    mayo = rows[(21.5, "years_to_onset")]
    assert not mayo["same_measure"] and mayo["difference"] == pytest.approx(-13.5)
    assert mayo["method"] == "descriptive" and "mean of 2 patients" in mayo["note"]
    diagnosis = rows[(21.5, "years_to_diagnosis")]
    assert (diagnosis["patient_ids"], diagnosis["mean"], diagnosis["tested"]) == (["costasousa2021_p1"], 11.0, False)
    assert diagnosis["difference"] == pytest.approx(-10.5)
    panniculitis = group(onset, "lupus panniculitis: yes")
    assert {(c["reference"]["mean"], c["measure"], c["n"], c["tested"]) for c in panniculitis["comparisons"]} == {
        (4.8, "years_to_onset", 1, False), (4.8, "years_to_diagnosis", 1, False)}
    assert group(onset, "lupus panniculitis: not stated")["comparisons"] == []
    headline = closest_reference(AnalysisResult.from_dict(onset), bundled_results.review)
    assert headline.answer.startswith("Closer to 9.8 than to 21.5 years: the 4 reported patients' mean")
    assert any("upper bound of the time to onset" in c for c in headline.caveats)


def test_the_case_series_variant_is_named_by_the_series_own_label(results):
    for analysis_id in ("response_per_drug", "response_per_class"):
        variant = next(v for v in analysis(results, analysis_id)["sensitivity"] if v["id"] == "with_series")
        assert variant["label"] == "With the case series (Balin 2012)"


def test_mayo_diltiazem_series_is_a_lower_bound_of_any_response(results):
    for analysis_id, label in (("response_per_drug", "Balin 2012"),
                               ("response_per_class", "Balin 2012 (diltiazem)")):
        variant = next(v for v in analysis(results, analysis_id)["sensitivity"] if v["id"] == "with_series")
        noted = {row["group"]: row["notes"] for row in variant["rows"] if row["notes"]}
        assert list(noted.values()) == [[f"{label}: partial responses only; complete responses not reported, so any "
                                         "response ≥ 9/17"]]
        # a lower bound is the pooled count with a one-sided limit: >= 10/21, not a two-sided interval
        (bounded,) = [g for g in variant["groups"] if g["lower_bounds"]]
        assert (bounded["events"], bounded["total"], bounded["result"]["lower_bound"]) == (10, 21, True)
        assert bounded["result"]["ci_lower"] == pytest.approx(0.2858004781, rel=1e-6)
        assert bounded["result"]["ci_upper"] is None
        # surgery's three rows (22 + 5 + 1) account for all 28 patients: exact, not a lower bound; the series
        # holds 28 of 29 patients, so the rule takes the pooled count and warns that no method is nominal there
        surgery = next(g for g in variant["groups"] if g["group"].startswith("surg"))
        assert (surgery["events"], surgery["total"], surgery["lower_bounds"]) == (28, 29, [])
        assert surgery["result"]["branch"] == "dominant series" and surgery["result"]["ci_upper"] is not None
        assert any("no method keeps 95% coverage" in w for w in surgery["result"]["warnings"])


def test_duplicate_differences_of_seed002_and_seed004(results):
    (pair,) = results["duplicate_differences"]
    assert (pair["primary_study"], pair["duplicate_study"]) == ("seed002", "seed004")
    differences = {d["field"]: d for d in pair["patients"][0]["differences"]}
    assert (differences["lupus_panniculitis"]["primary"], differences["lupus_panniculitis"]["duplicate"]) == ("", "yes")
    assert differences["years_to_onset"]["kind"] == "the reports disagree"
    assert (differences["years_to_onset"]["primary"], differences["years_to_onset"]["duplicate"]) == ("4", "10")
    assert "surgical excision: partial" in differences["therapy courses (drug: response)"]["kind"]
    assert "age_at_presentation" not in differences and "sex" not in differences


def test_cumulative_diltiazem_by_year(results):
    diltiazem = group(analysis(results, "response_per_drug"), "diltiazem")
    steps = diltiazem["cumulative"]["steps"]
    assert [(s["study_id"], s["year"], s["events"], s["total"]) for s in steps] == [
        ("tristano2006", 2006, 0, 1), ("costasousa2021", 2021, 1, 2), ("perezpampin", None, 1, 3),
        ("seed002", None, 1, 4)]
    assert steps[-1]["estimate"] == pytest.approx(diltiazem["result"]["estimate"]) == pytest.approx(0.25)
    single = [g for g in analysis(results, "response_per_drug")["groups"] if g["k"] < 2]
    assert single and all(g["cumulative"] is None for g in single)


def test_every_input_row_is_used_or_listed(results):
    listed = {(r["table"], r["row_id"]) for r in results["excluded_rows"]}
    for table, id_column in (("studies", "study_id"), ("patients", "patient_id"), ("treatments", "treatment_id"),
                             ("aggregates", "aggregate_id")):
        with open(os.path.join(SHEETS, f"{table}.csv"), encoding="utf-8") as handle:
            ids = [row[id_column] for row in csv.DictReader(handle)]
        counts = results["row_counts"][table]
        assert counts["rows"] == len(ids)
        assert counts["used"] + sum(1 for i in ids if (table, i) in listed) == len(ids)
