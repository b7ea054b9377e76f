"""`metacalc analyse` on a small hand-built review whose every number is known."""

import json
from types import SimpleNamespace

import pandas as pd
import pytest

from metacalc.review.analyse import RunSettings, changes_since, run_plan, write_results
from metacalc.review.plan import parse_analysis

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
    "years_sle_to_onset": [4.0, 12.0, 9.0, 10.0],
    "years_sle_to_onset_derivation": ["stated"] * 4,
    "years_sle_to_calcinosis_diagnosis": [None, 14.0, None, None],
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
    "aggregate_id": ["mayo_dilt_partial", "mayo_onset_sle"],
    "study_id": ["mayo2012", "mayo2012"],
    "population": ["connective tissue disease", "SLE"],
    "outcome": ["response_partial", "years_sle_to_calcinosis_diagnosis"],
    "therapy": ["diltiazem", None],
    "n": [17, 2],
    "events": [9, None],
    "mean": [None, 21.5],
    "sd": [None, None],
    "median": [None, None],
    "drug": ["diltiazem", None],
    "drug_class": ["calcium channel blocker", None],
})
OVERALL = pd.DataFrame({"study_id": ["b2002"], "tool": ["jbi_case_report"], "judgement": ["high"],
                        "rationale": ["abstract only"]})
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
    "id": "onset", "title": "Onset", "outcome": "years_sle_to_onset", "subgroup_by": "lupus_panniculitis",
    "compare_with": ["years_sle_to_calcinosis_diagnosis"],
})


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
    assert (series["events"], series["total"], series["k"], series["method"]) == (11, 20, 4, "glmm")
    low = variant_row(per_drug, "low_risk", "diltiazem")["variant"]
    assert (low["events"], low["total"]) == (1, 2)
    assert variant_row(per_drug, "low_risk", "diltiazem")["main"]["total"] == 3


def test_every_row_is_used_or_listed_with_its_reason(results):
    reasons = {(r["table"], r["row_id"]): r["reason"] for r in results["excluded_rows"]}
    assert reasons[("treatments", "b_t2")] == "per_drug: response not reported"
    assert reasons[("treatments", "c4_t1")].startswith("per_drug: duplicate report of c2003")
    assert reasons[("studies", "c2004")] == "duplicate report of c2003"
    assert reasons[("aggregates", "mayo_dilt_partial")] == "per_drug: case series not included in this analysis"
    used = results["row_counts"]
    for table, ids in (("treatments", TREATMENTS.treatment_id), ("patients", PATIENTS.patient_id),
                       ("studies", STUDIES.study_id), ("aggregates", AGGREGATES.aggregate_id)):
        listed = {row_id for t, row_id in reasons if t == table}
        assert used[table]["rows"] == len(ids) == used[table]["used"] + len(listed)


def test_provenance_carries_the_quotes_of_used_rows(results):
    assert results["quotes"]["treatments/a_t2"] == [{"columns": ["response"], "quote": "lesions improved",
                                                     "location": "Case"}]
    assert "aggregates/mayo_dilt_partial" not in results["quotes"]  # the series is not in a main analysis


def test_time_to_onset_summaries_and_comparison(results):
    onset = results["analyses"][1]
    overall = group(onset, "all patients")
    assert [c["patient_id"] for c in overall["contributors"]] == ["a_p1", "b_p1", "c3_p1"]
    assert overall["summary"]["mean"] == pytest.approx(25 / 3)
    (comparison,) = overall["comparisons"]
    assert comparison["reference"]["mean"] == 21.5
    assert comparison["difference"] == pytest.approx(25 / 3 - 21.5)
    assert group(onset, "lupus panniculitis: yes")["patients"] == 1
    assert group(onset, "lupus panniculitis: not stated")["patients"] == 2
    assert overall["not_pooled"] == "series are compared with, not pooled, in this analysis"


def test_possible_duplicates_are_flagged_until_marked():
    results = run_plan(dataset(), [PER_DRUG], RunSettings())
    assert results["possible_duplicates"] == []  # c2004 is already marked duplicate_of c2003
    unmarked = dataset()
    unmarked.studies = STUDIES.assign(duplicate_of=[None] * 5)
    (flag,) = run_plan(unmarked, [PER_DRUG], RunSettings())["possible_duplicates"]
    assert flag["patients"] == ["c3_p1", "c4_p1"] and flag["studies"] == ["c2003", "c2004"]


def test_changes_since_the_last_run_and_history(tmp_path, results):
    outdir, history = tmp_path / "tables", tmp_path / ".history" / "results.json"
    write_results(json.loads(json.dumps(results)), str(outdir), history=str(history))
    first = json.loads((outdir / "results.json").read_text())
    assert first["changes_since_last_run"] == {"previous_run": False, "changes": []}
    assert not (outdir / "previous_results.json").exists()

    changed = dataset()
    changed.treatments = TREATMENTS.assign(any_response=pd.array([0, 0, 1, None, 0, 0], dtype="Int64"))
    write_results(run_plan(changed, [PER_DRUG, ONSET], RunSettings()), str(outdir), history=str(history))
    second = json.loads((outdir / "results.json").read_text())
    changes = {c["number"]: (c["before"], c["after"]) for c in second["changes_since_last_run"]["changes"]}
    assert changes["per_drug / main / diltiazem / events"] == (2, 1)
    assert (outdir / "previous_results.json").exists()
    assert changes_since(first, first)["changes"] == []
    csv_lines = (outdir / "per_drug.csv").read_text().splitlines()
    assert csv_lines[1].startswith("per_drug,main,diltiazem,3,3,1,3,exact")


def test_parallel_fits_give_the_same_results(results):
    parallel = run_plan(dataset(), [PER_DRUG, ONSET], RunSettings(), jobs=2)
    assert json.dumps(parallel, sort_keys=True) == json.dumps(results, sort_keys=True)


def test_inconsistent_records_log_stops_analyse_before_writing(tmp_path):
    import csv
    import os

    from metacalc.data import load_dataset
    from metacalc.errors import UserError
    from metacalc.review.analyse import analyse

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sheets = tmp_path / "sheets"
    sheets.mkdir()
    for name in os.listdir(os.path.join(root, "extraction_sheets")):
        (sheets / name).write_bytes(open(os.path.join(root, "extraction_sheets", name), "rb").read())
    with open(sheets / "records.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    included = next(r for r in rows if r["eligibility"] == "include" and r["study_id"])
    included.update(eligibility="exclude", exclusion_reason="wrong population", study_id="")
    with open(sheets / "records.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    load_dataset(str(sheets)).to_json(str(tmp_path / "dataset.json"))
    with pytest.raises(UserError) as error:
        analyse(str(tmp_path / "dataset.json"), os.path.join(root, "analyses"), str(tmp_path / "tables"))
    assert any("no record in records.csv includes it" in p for p in error.value.problems)
    assert all(p.startswith("records log does not reconcile with the extraction sheets: ") for p in error.value.problems)
    assert not (tmp_path / "tables").exists()
