"""The analyses on a small hand-built review whose every number is known."""

import json
from types import SimpleNamespace

import pandas as pd
import pytest

from metacalc.data.cells import json_cell
from metacalc.data.review_file import parse_review
from metacalc.errors import UserError
from metacalc.review.changes import changes_since
from metacalc.review.plan import parse_analysis
from metacalc.review.results_io import write_results
from metacalc.review.run import analyse_tables
from metacalc.review.settings import RunSettings
from metacalc.review.tables import ReviewTables

STUDIES = pd.DataFrame({
    "study_id": ["a2001", "b2002", "c2003", "c2004", "mayo2012"],
    "first_author": ["Alpha", "Beta", "Gamma", "Gamma", "Mayo"],
    "year": [2001, 2002, 2003, 2004, 2012],
    "design": ["case report"] * 4 + ["case series"],
    "duplicate_of": [None, None, None, "c2003", None],
})
PATIENTS = pd.DataFrame({
    "patient_id": ["a_p1", "b_p1", "c3_p1", "c4_p1"],
    "study_id": ["a2001", "b2002", "c2003", "c2004"],
    "age_at_presentation": [30.0, 45.0, 37.0, 37.0],
    "sex": ["female", "female", "female", "female"],
    "lupus_panniculitis": ["yes", None, None, "yes"],
    "years_to_onset": [4.0, 12.0, 9.0, 10.0],
    "years_to_onset_derivation": ["stated"] * 4,
    "years_to_diagnosis": [None, 14.0, None, None],
})
TREATMENTS = pd.DataFrame({
    "treatment_id": ["a_t1", "a_t2", "b_t1", "b_t2", "c3_t1", "c4_t1"],
    "patient_id": ["a_p1", "a_p1", "b_p1", "b_p1", "c3_p1", "c4_p1"],
    "therapy": ["diltiazem", "Diltiazem", "diltiazem", "nifedipine", "diltiazem", "diltiazem"],
    "response": ["none", "partial", "complete", "not reported", "none", "none"],
    "drug": ["diltiazem", "diltiazem", "diltiazem", "nifedipine", "diltiazem", "diltiazem"],
    "drug_class": ["calcium channel blocker"] * 6,
    "any_response": pd.array([0, 1, 1, None, 0, 0], dtype="Int64"),
    "complete_response": pd.array([0, 0, 1, None, 0, 0], dtype="Int64"),
})
AGGREGATES = pd.DataFrame({
    "aggregate_id": ["mayo_dilt_partial", "mayo_onset_sle", "mayo_onset_lp", "lit_onset"],
    "study_id": ["mayo2012", "mayo2012", "mayo2012", "c2004"],
    "population": ["connective tissue disease", "SLE", "lupus panniculitis", "all reported cases"],
    "outcome": ["response_partial", "years_to_diagnosis", "years_to_diagnosis",
                "years_to_onset"],
    "therapy": ["diltiazem", None, None, None],
    "n": [17, 2, 4, None],
    "events": [9, None, None, None],
    "mean": [None, 21.5, 4.8, 9.8],
    "sd": [None, None, None, None],
    "median": [None, None, None, None],
    "drug": ["diltiazem", None, None, None],
    "drug_class": ["calcium channel blocker", None, None, None],
})
OVERALL = pd.DataFrame({"study_id": ["a2001", "b2002", "c2003", "c2004", "mayo2012"],
                        "tool": ["jbi_case_report"] * 4 + ["murad_2018"],
                        "judgement": ["low", "high", "moderate", "moderate", "moderate"],
                        "rationale": ["complete", "abstract only", "fair", "fair", "series"]})
REVIEW = parse_review({
    "title": "A hand-built review", "condition": {"name": "calcinosis cutis", "short": "calcinosis"},
    "disease": {"name": "systemic lupus erythematosus", "short": "SLE"},
    "clock": {"start": "SLE diagnosis", "onset": "first lesion", "diagnosis": "diagnosis of calcinosis"},
    "patient_fields": [{"name": "lupus_panniculitis", "type": "enum", "values": ["yes", "no"],
                        "description": "Lupus panniculitis."}],
    "published_figures": [{"aggregate": "mayo_onset_sle", "population": "all patients"},
                          {"aggregate": "mayo_onset_lp", "population": {"lupus_panniculitis": "yes"}},
                          {"aggregate": "lit_onset", "population": "all patients"}],
})
QUOTES = pd.DataFrame({
    "table": ["treatments", "treatments", "aggregates"],
    "row_id": ["a_t2", "b_t1", "mayo_dilt_partial"],
    "column": ["response", "response", "events"],
    "quote": ["lesions improved", "lesions resolved", "9 of 17 had a partial response"],
    "location": ["Case", "Discussion", "Abstract"],
})


def dataset():
    return SimpleNamespace(studies=STUDIES, patients=PATIENTS, treatments=TREATMENTS, aggregates=AGGREGATES,
                           appraisal_overall=OVERALL, quotes=QUOTES)


def analysed(data, analyses, run=RunSettings(), jobs=1):
    """The typed results of the plan on the frames of ``data`` (as a dataset's JSON form would hold them)."""
    tables = {name: [{column: json_cell(value) for column, value in zip(frame.columns, row)}
                     for row in frame.astype(object).itertuples(index=False, name=None)]
              for name, frame in vars(data).items()}
    return analyse_tables(ReviewTables(tables, REVIEW), analyses, run, jobs)


def run_plan(data, analyses, run=RunSettings(), jobs=1):
    """The results in their JSON form (as results.json holds them)."""
    return analysed(data, analyses, run, jobs).to_dict()


PER_DRUG = parse_analysis("per_drug.yaml", {
    "id": "per_drug", "title": "Per drug", "outcome": "any_response", "group_by": "drug",
    "sensitivity": [
        {"id": "complete", "label": "Complete", "outcome": "complete_response"},
        {"id": "twice", "label": "Twice", "duplicates": "twice"},
        {"id": "series", "label": "Series", "include_series": True},
        {"id": "low_risk", "label": "Low risk", "exclude_high_risk": True},
    ],
})
ONSET = parse_analysis("onset.yaml", {
    "id": "onset", "title": "Onset", "outcome": "years_to_onset", "subgroup_by": "lupus_panniculitis",
    "compare_with": ["years_to_onset", "years_to_diagnosis"],
}, REVIEW)


@pytest.fixture(scope="module")
def results():
    return run_plan(dataset(), [PER_DRUG, ONSET], RunSettings())


def group(analysis, name):
    return next(g for g in analysis["groups"] if g["group"] == name)


def variant_row(analysis, variant, name):
    rows = next(v for v in analysis["sensitivity"] if v["id"] == variant)["rows"]
    return next(r for r in rows if r["group"] == name)


def test_each_patient_counts_once_per_drug_and_duplicates_once(results):
    per_drug = results["analyses"][0]
    diltiazem = group(per_drug, "diltiazem")
    # a_p1: none then partial -> one responder; b_p1 complete; c3_p1 none; c4 is the duplicate report of c3
    assert (diltiazem["events"], diltiazem["total"], diltiazem["k"]) == (2, 3, 3)
    assert diltiazem["result"]["method"] == "exact"
    assert diltiazem["result"]["estimate"] == pytest.approx(2 / 3)
    first = diltiazem["contributors"][0]
    assert first["label"] == "Alpha 2001" and first["patients"][0]["responded"] == 1
    assert first["patients"][0]["courses"] == ["a_t1", "a_t2"]
    # nifedipine's only course has no reported response: no group at all
    assert [g["group"] for g in per_drug["groups"]] == ["diltiazem"]


def test_sensitivity_variants_change_what_they_name(results):
    per_drug = results["analyses"][0]
    assert variant_row(per_drug, "complete", "diltiazem")["variant"]["events"] == 1
    twice = variant_row(per_drug, "twice", "diltiazem")["variant"]
    assert (twice["events"], twice["total"]) == (2, 4)
    series = variant_row(per_drug, "series", "diltiazem")["variant"]
    # the series gives partial responses only: any response is a lower bound, the pooled count with a one-sided
    # lower limit (no model, no two-sided interval)
    assert (series["events"], series["total"], series["k"], series["method"]) == (11, 20, 4, "exact")
    assert series["lower_bound"] and series["ci_upper"] is None
    low = variant_row(per_drug, "low_risk", "diltiazem")["variant"]
    assert (low["events"], low["total"]) == (1, 2)
    assert variant_row(per_drug, "low_risk", "diltiazem")["main"]["total"] == 3


def test_every_row_is_used_or_listed_with_its_reason(results):
    reasons = {(r["table"], r["row_id"]): r["reason"] for r in results["excluded_rows"]}
    assert reasons[("treatments", "b_t2")] == "per_drug: response not reported"
    assert reasons[("treatments", "c4_t1")].startswith("per_drug: duplicate report of Gamma 2003")
    # c2004's patient is counted once (from c2003), but the report is used for the literature figure it quotes
    assert ("studies", "c2004") not in reasons and ("patients", "c4_p1") in reasons
    assert "c2004" in results["analyses"][1]["used"]["studies"]
    assert reasons[("aggregates", "mayo_dilt_partial")] == "per_drug: case series not included in this analysis"
    used = results["row_counts"]
    for table, ids in (("treatments", TREATMENTS.treatment_id), ("patients", PATIENTS.patient_id),
                       ("studies", STUDIES.study_id), ("aggregates", AGGREGATES.aggregate_id)):
        listed = {row_id for t, row_id in reasons if t == table}
        assert used[table]["rows"] == len(ids) == used[table]["used"] + len(listed)


def test_provenance_carries_the_quotes_of_used_rows(results):
    assert results["quotes"]["treatments/a_t2"] == [{"columns": ["response"], "quote": "lesions improved",
                                                     "location": "Case"}]
    # the series is in no main analysis, but the with-series variant adds it: its provenance needs the quote
    assert results["quotes"]["aggregates/mayo_dilt_partial"][0]["quote"] == "9 of 17 had a partial response"


def comparisons_of(analysis, group_name):
    return {(c["reference"]["aggregate_id"], c["measure"]): c for c in group(analysis, group_name)["comparisons"]}


def test_time_to_onset_summaries_and_comparison(results):
    from scipy import stats

    onset = results["analyses"][1]
    overall = group(onset, "all patients")
    assert [c["patient_id"] for c in overall["contributors"]] == ["a_p1", "b_p1", "c3_p1"]
    assert overall["summary"]["mean"] == pytest.approx(25 / 3)
    assert group(onset, "lupus panniculitis: yes")["patients"] == 1
    assert group(onset, "lupus panniculitis: not stated")["patients"] == 2
    assert overall["not_pooled"] == "series are compared with, not pooled, in this analysis"

    # all patients: the literature average (same measure) and the SLE series (time to diagnosis) -- not the
    # lupus panniculitis figure, which describes a subgroup
    rows = comparisons_of(onset, "all patients")
    assert set(rows) == {("lit_onset", "years_to_onset"), ("mayo_onset_sle", "years_to_onset"),
                         ("mayo_onset_sle", "years_to_diagnosis")}
    same = rows[("lit_onset", "years_to_onset")]
    assert same["same_measure"] and same["caveat"] == ""
    assert same["difference"] == pytest.approx(25 / 3 - 9.8)
    # a published mean without its SD is compared descriptively, never by a test treating it as a constant
    assert (same["method"], same["tested"], same["pvalue"]) == ("descriptive", False, None)
    assert "known constant" in same["note"]
    unlike = rows[("mayo_onset_sle", "years_to_onset")]
    assert not unlike["same_measure"] and unlike["reference_measure"] == "years_to_diagnosis"
    assert "upper bound of the time to onset" in unlike["caveat"]
    assert unlike["interpretation"].startswith("Different measures: the published figure is a time to the diagnosis "
                                               "of calcinosis, the patients' values are times to the first lesion")
    # the one patient whose report gives a time to calcinosis diagnosis, on the figure's own measure: no test
    diagnosis = rows[("mayo_onset_sle", "years_to_diagnosis")]
    assert (diagnosis["patient_ids"], diagnosis["n"], diagnosis["mean"]) == (["b_p1"], 1, 14.0)
    assert diagnosis["difference"] == pytest.approx(-7.5) and diagnosis["same_measure"]
    assert (diagnosis["tested"], diagnosis["pvalue"], diagnosis["method"]) == (False, None, "descriptive")
    assert "a single value, so the difference is descriptive" in diagnosis["interpretation"]
    # the lupus panniculitis figure only against that subgroup (one patient: no test, no diagnosis value)
    (lp,) = group(onset, "lupus panniculitis: yes")["comparisons"]
    assert lp["reference"]["aggregate_id"] == "mayo_onset_lp" and lp["patient_ids"] == ["a_p1"]
    assert lp["difference"] == pytest.approx(4 - 4.8) and lp["pvalue"] is None and not lp["same_measure"]
    assert group(onset, "lupus panniculitis: not stated")["comparisons"] == []
    # b_p1's diagnosis value is used by a comparison, so the ledger counts the patient as used
    assert "b_p1" in onset["used"]["patients"]


def test_comparisons_csv_states_measures_and_why_no_test(tmp_path, results):
    import csv

    write_results(analysed(dataset(), [PER_DRUG, ONSET]), str(tmp_path))
    with open(tmp_path / "onset_comparisons.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    by_key = {(r["group"], r["reference"], r["measure"]): r for r in rows}
    diagnosis = by_key[("all patients", "Mayo 2012 (mayo_onset_sle)", "years_to_diagnosis")]
    assert (diagnosis["n"], diagnosis["mean"], diagnosis["pvalue"], diagnosis["method"]) == ("1", "14", "",
                                                                                          "descriptive")
    assert diagnosis["note"] == "one patient: no test is possible"
    unlike = by_key[("all patients", "Mayo 2012 (mayo_onset_sle)", "years_to_onset")]
    assert unlike["note"].startswith("different measures") and unlike["reference_measure"] == (
        "years_to_diagnosis")
    assert len(rows) == 4


def test_series_with_partial_responses_only_is_a_lower_bound(results):
    per_drug = results["analyses"][0]
    row = variant_row(per_drug, "series", "diltiazem")
    assert row["notes"] == ["Mayo 2012: partial responses only; complete responses not reported, so any response "
                            "≥ 9/17"]
    assert variant_row(per_drug, "twice", "diltiazem")["notes"] == []
    series_variant = next(v for v in per_drug["sensitivity"] if v["id"] == "series")
    (contributor,) = group(series_variant, "diltiazem")["contributors"]
    assert contributor["kind"] == "series" and contributor["lower_bound"].endswith("≥ 9/17")


def test_series_whose_rows_account_for_every_patient_is_not_a_lower_bound():
    # 22 complete + 5 none = 27 of 28: partial responses unknown -> lower bound; add the 1 partial -> exact
    rows = pd.DataFrame({
        "aggregate_id": ["s_c", "s_n"], "study_id": ["mayo2012"] * 2, "population": ["CTD"] * 2,
        "outcome": ["response_complete", "response_none"], "therapy": ["diltiazem"] * 2, "n": [28, 28],
        "events": [22, 5], "mean": [None] * 2, "sd": [None] * 2, "median": [None] * 2,
        "drug": ["diltiazem"] * 2, "drug_class": ["calcium channel blocker"] * 2,
    })
    data = dataset()
    data.aggregates = rows
    series = parse_analysis("s.yaml", {"id": "s", "title": "S", "outcome": "any_response", "include_series": True})
    (diltiazem,) = run_plan(data, [series], RunSettings())["analyses"][0]["groups"]
    assert diltiazem["lower_bounds"] == ["Mayo 2012: complete responses only; partial responses not reported, so "
                                         "any response ≥ 22/28"]
    data.aggregates = pd.concat([rows, rows.iloc[[1]].assign(aggregate_id="s_p", outcome="response_partial",
                                                             events=1)], ignore_index=True)
    (diltiazem,) = run_plan(data, [series], RunSettings())["analyses"][0]["groups"]
    assert diltiazem["lower_bounds"] == [] and diltiazem["events"] == 2 + 23


def test_duplicate_reports_list_the_facts_they_differ_on(results):
    (pair,) = results["duplicate_differences"]
    assert (pair["primary_study"], pair["duplicate_study"], pair["not_paired"]) == ("c2003", "c2004", None)
    (patients,) = pair["patients"]
    assert (patients["primary_patient"], patients["duplicate_patient"]) == ("c3_p1", "c4_p1")
    assert patients["differences"] == [
        {"field": "lupus_panniculitis", "primary": "", "duplicate": "yes", "kind": "only in the duplicate report"},
        {"field": "years_to_onset", "primary": "9", "duplicate": "10", "kind": "the reports disagree"},
    ]
    more = dataset()
    more.patients = pd.concat([PATIENTS, PATIENTS.iloc[[3]].assign(patient_id="c4_p2")], ignore_index=True)
    (pair,) = run_plan(more, [ONSET], RunSettings())["duplicate_differences"]
    assert pair["patients"] == [] and pair["not_paired"].startswith("1 patient(s) in Gamma 2003 and 2 in Gamma 2004")


def test_cumulative_meta_analysis_adds_reports_by_year_with_undated_last():
    from scipy import stats

    undated = dataset()
    undated.studies = STUDIES.assign(year=[None, 2002, 2003, 2004, 2012])
    (diltiazem,) = run_plan(undated, [PER_DRUG], RunSettings())["analyses"][0]["groups"]
    cumulative = diltiazem["cumulative"]
    assert cumulative["without_year"] == ["Alpha (n.d.)"]
    steps = cumulative["steps"]
    assert [(s["study_id"], s["year"], s["events"], s["total"]) for s in steps] == [
        ("b2002", 2002, 1, 1), ("c2003", 2003, 1, 2), ("a2001", None, 2, 3)]
    assert [s["estimate"] for s in steps] == pytest.approx([1.0, 0.5, 2 / 3])
    assert {s["method"] for s in steps} == {"exact"}
    # each step is the exact Clopper-Pearson interval of the reports so far; the last is the main estimate
    assert steps[1]["ci_lower"] == pytest.approx(stats.beta.ppf(0.025, 1, 2))
    assert (steps[-1]["ci_lower"], steps[-1]["ci_upper"]) == pytest.approx(
        (diltiazem["result"]["ci_lower"], diltiazem["result"]["ci_upper"]))


def test_possible_duplicates_are_listed_with_their_decision():
    screen = run_plan(dataset(), [PER_DRUG], RunSettings())["duplicate_screen"]
    pairs = [(p["patients"], p["decision"]) for p in screen["pairs"]]
    assert pairs == [(["c3_p1", "c4_p1"], "same patient")]  # c2004 is already marked duplicate_of c2003
    unmarked = dataset()
    unmarked.studies = STUDIES.assign(duplicate_of=[None] * 5)
    results = analysed(unmarked, [PER_DRUG], RunSettings())
    (pair,) = results.duplicate_screen.undecided()
    assert (pair.first, pair.second, pair.first_study, pair.second_study) == ("c3_p1", "c4_p1", "c2003", "c2004")
    assert {e.component for e in pair.evidence} >= {"age", "sex", "drug", "authors"}


def test_parallel_fits_give_the_same_results(results):
    parallel = run_plan(dataset(), [PER_DRUG, ONSET], RunSettings(), jobs=2)
    assert json.dumps(parallel, sort_keys=True) == json.dumps(results, sort_keys=True)


def test_a_report_without_an_appraisal_is_left_out_of_low_risk_analyses():
    unappraised = dataset()
    unappraised.appraisal_overall = OVERALL[OVERALL["study_id"] != "a2001"]
    per_drug = run_plan(unappraised, [PER_DRUG])["analyses"][0]
    low = variant_row(per_drug, "low_risk", "diltiazem")["variant"]
    assert (low["events"], low["total"]) == (0, 1)  # a2001's risk of bias is unknown: left out with b2002


def test_the_analyse_step_validates_first_and_writes_nothing_on_a_data_problem(tmp_path, bundled_copy):
    import csv
    import shutil

    from metacalc.review.run import analyse_step

    shutil.copytree(bundled_copy, tmp_path, dirs_exist_ok=True)
    sheets = tmp_path / "extraction_sheets"
    root = tmp_path
    with open(sheets / "records.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    included = next(r for r in rows if r["eligibility"] == "include" and r["study_id"])
    included.update(eligibility="exclude", exclusion_reason="wrong population", study_id="")
    with open(sheets / "records.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(UserError) as error:
        analyse_step(str(tmp_path / "dataset.json"), str(root / "analyses"), str(tmp_path / "tables"),
                     sheets=str(sheets))
    assert any("no record in records.csv includes it" in p for p in error.value.problems)
    assert not (tmp_path / "dataset.json").exists() and not (tmp_path / "tables").exists()


def test_a_model_the_core_cannot_estimate_leaves_its_group_unpooled():
    glmm = parse_analysis("glmm.yaml", {"id": "glmm", "title": "GLMM", "outcome": "complete_response",
                                        "group_by": "drug", "method": "glmm"})
    none_complete = dataset()
    none_complete.treatments = TREATMENTS.assign(complete_response=pd.array([0, 0, 0, None, 0, 0], dtype="Int64"))
    (diltiazem,) = run_plan(none_complete, [glmm])["analyses"][0]["groups"]
    assert diltiazem["result"] is None and "not estimable" in diltiazem["not_pooled"]


def test_a_course_of_a_therapy_outside_the_vocabulary_is_listed_and_groups_follow_group_by():
    extra = dataset()
    extra.treatments = pd.concat([TREATMENTS, pd.DataFrame({
        "treatment_id": ["a_t3"], "patient_id": ["a_p1"], "therapy": ["a herbal tea"], "response": ["complete"],
        "drug": [None], "drug_class": [None], "any_response": pd.array([1], dtype="Int64"),
        "complete_response": pd.array([1], dtype="Int64")})],
        ignore_index=True)
    per_class = parse_analysis("per_class.yaml", {"id": "per_class", "title": "Per class", "outcome": "any_response",
                                                  "group_by": "drug_class"})
    overall = parse_analysis("overall.yaml", {"id": "overall", "title": "Overall", "outcome": "any_response",
                                              "group_by": "none"})
    out = run_plan(extra, [PER_DRUG, per_class, overall])
    reasons = {(r["table"], r["row_id"]): r["reason"] for r in out["excluded_rows"]}
    assert reasons[("treatments", "a_t3")] == ("overall: therapy not in the vocabulary; per_class: therapy not in "
                                                "the vocabulary; per_drug: therapy not in the vocabulary")
    per_drug, by_class, every = (out["analyses"][i]["groups"] for i in range(3))
    assert [g["group"] for g in per_drug] == ["diltiazem"]
    # by class, nifedipine's course still has no response; a_p1 (none, then partial) is one responder
    (ccb,) = by_class
    assert (ccb["group"], ccb["events"], ccb["total"]) == ("calcium channel blocker", 2, 3)
    assert ccb["contributors"][0]["patients"][0] == {"patient_id": "a_p1", "responded": 1, "courses": ["a_t1", "a_t2"]}
    assert [(g["group"], g["events"], g["total"]) for g in every] == [("all therapies", 2, 3)]
