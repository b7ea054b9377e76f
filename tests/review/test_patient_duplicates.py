"""Scoring possible duplicate patients, the reviewer's decisions, and the checks on duplicate_of."""

import dataclasses
import itertools
import random
from pathlib import Path

import pytest
from conftest import copy_review, edit_csv

from metacalc.data.duplicate_checks import check_decisions, check_duplicate_of
from metacalc.review.duplicate_weights import AGE_GAP_KNOWN, AGE_GAP_UNKNOWN, interval_cap, interval_weight
from metacalc.review.patient_duplicates import (
    DIFFERENT,
    SAME,
    THRESHOLD,
    UNDECIDED,
    DuplicateScorer,
    screen_patients,
    undecided_problems,
)

GOLDEN = Path(__file__).parent.parent / "fixtures" / "golden" / "review" / "extraction_sheets"


def study(study_id, author, year, country, citation_authors="", **extra):
    return {"study_id": study_id, "first_author": author, "year": year, "country": country, **extra}


def patient(patient_id, study_id, age, sex="female", onset=None, **extra):
    return {"patient_id": patient_id, "study_id": study_id, "age_at_presentation": age, "sex": sex,
            "years_to_onset": onset, **extra}


def course(patient_id, n, drug, dose=None, unit=None, response="none"):
    return {"treatment_id": f"{patient_id}_t{n}", "patient_id": patient_id, "therapy": drug, "drug": drug,
            "dose": dose, "dose_unit": unit, "response": response}


def quote(table, row_id, column, text):
    return {"table": table, "row_id": row_id, "column": column, "quote": text}


def review():
    """Six reports: smith2020 re-publishes the patient of smith2019 a year later, one drug fewer; kim2015 is a
    different woman of the same age and sex on the same drug, in another country, dose and outcome."""
    studies = [study("smith2019", "Smith J", 2019, "Spain"), study("smith2020", "Smith J", 2020, "Spain"),
               study("kim2015", "Kim S", 2015, "South Korea"), study("ahmed2010", "Ahmed N", 2010, "Egypt"),
               study("okafor2018", "Okafor C", 2018, "Nigeria"), study("rossi2012", "Rossi P", 2012, "Italy")]
    patients = [patient("smith2019_p1", "smith2019", 36, onset=5), patient("smith2020_p1", "smith2020", 37, onset=5),
                patient("kim2015_p1", "kim2015", 36, onset=12), patient("ahmed2010_p1", "ahmed2010", 52, onset=20),
                patient("okafor2018_p1", "okafor2018", 28, "male", onset=3),
                patient("rossi2012_p1", "rossi2012", 45, onset=9)]
    treatments = [
        course("smith2019_p1", 1, "diltiazem", "240", "mg/day", "partial"),
        course("smith2019_p1", 2, "alendronate", "70", "mg/week", "none"),
        course("smith2019_p1", 3, "surgical excision", response="complete"),
        course("smith2020_p1", 1, "diltiazem", "240", "mg/day", "partial"),
        course("smith2020_p1", 2, "alendronate", "70", "mg/week", "none"),
        course("kim2015_p1", 1, "diltiazem", "60", "mg/day", "none"),
        course("ahmed2010_p1", 1, "warfarin", "1", "mg/day", "none"),
        course("okafor2018_p1", 1, "sodium thiosulfate", "12.5", "g", "partial"),
        course("rossi2012_p1", 1, "diltiazem", "180", "mg/day", "none"),
        course("rossi2012_p1", 2, "surgical excision", response="complete"),
    ]
    quotes = [
        quote("patients", "smith2019_p1", "age_at_presentation", "A 36-year-old woman with a 20-year history of lupus"),
        quote("treatments", "smith2019_p1_t1", "response", "the nodules over both elbows softened and shrank within six months"),
        quote("patients", "smith2020_p1", "age_at_presentation", "a 37-year-old woman with lupus"),
        quote("treatments", "smith2020_p1_t1", "response", "nodules over both elbows softened and shrank within six months of diltiazem"),
        quote("patients", "kim2015_p1", "age_at_presentation", "A 36-year-old woman was referred"),
        quote("treatments", "kim2015_p1_t1", "response", "no change after a year of diltiazem"),
    ]
    records = [{"record_id": "r1", "study_id": "smith2019", "citation": "Smith J, Garcia L, Ortega M. Calcinosis."},
               {"record_id": "r2", "study_id": "smith2020", "citation": "Smith J, Garcia L. Calcinosis again."}]
    return {"patients": patients, "treatments": treatments, "studies": studies, "quotes": quotes, "records": records}


def scorer(tables):
    return DuplicateScorer(tables["patients"], tables["treatments"], tables["studies"], tables["quotes"],
                           tables["records"])


def evidence(pair, component):
    return [e for e in pair.evidence if e.component == component]


def test_a_second_report_a_year_later_with_one_drug_fewer_is_flagged_with_its_evidence():
    tables = review()
    screen = screen_patients(**tables)
    assert [(p.first, p.second, p.decision) for p in screen.pairs] == [("smith2019_p1", "smith2020_p1", UNDECIDED)]
    pair = screen.pairs[0]
    assert pair.score >= THRESHOLD and pair.above_threshold
    age = evidence(pair, "age")[0]
    assert (age.first, age.second, age.weight > 1) == ("36", "37", True)
    assert age.reason == "1 year(s) between the publications: a difference of 0 to 1 fits one patient; got 1"
    omitted = [e for e in evidence(pair, "drug") if e.second == "not named"]
    assert [e.first for e in omitted] == ["surgical excision"] and omitted[0].weight < 0
    assert evidence(pair, "authors")[0].reason.startswith("in common: garcia, smith")
    assert evidence(pair, "dose of diltiazem")[0].weight > 0
    assert "nodules over both elbows softened and shrank within six months" in evidence(pair, "wording")[0].first
    assert screen.undecided() == (pair,)
    assert pair.to_dict()["evidence"][0]["component"] == "sex"


def test_two_women_of_the_same_age_on_the_same_drug_are_not_flagged():
    pair = scorer(review()).score("smith2019_p1", "kim2015_p1")
    assert pair.score < THRESHOLD
    assert evidence(pair, "age")[0].weight > 0 and evidence(pair, "sex")[0].weight > 0  # the shared facts count...
    assert evidence(pair, "country")[0].weight < -1                                     # ...and the differences more
    assert evidence(pair, "dose of diltiazem")[0].weight < 0
    assert evidence(pair, "response of diltiazem")[0].weight < 0


def test_a_recorded_decision_dismisses_a_flagged_pair_and_shows_as_decided():
    tables = review()
    decisions = [{"patient_id": "smith2020_p1", "other_patient_id": "smith2019_p1", "decision": DIFFERENT,
                  "reasons": "the 2020 report is the sister of the 2019 patient (family history section)"},
                 {"patient_id": "kim2015_p1", "other_patient_id": "smith2019_p1", "decision": DIFFERENT,
                  "reasons": "different country, dose and outcome"}]
    screen = screen_patients(**tables, decisions=decisions)
    assert [(p.first, p.second, p.decision) for p in screen.pairs] == [
        ("smith2019_p1", "smith2020_p1", DIFFERENT), ("kim2015_p1", "smith2019_p1", DIFFERENT)]
    assert screen.pairs[0].reasons.startswith("the 2020 report is the sister")
    assert screen.undecided() == () and undecided_problems(screen) == []


def test_duplicate_of_decides_the_pair_as_the_same_patient():
    tables = review()
    tables["studies"][1].update(duplicate_of="smith2019", duplicate_evidence="same age, drugs and wording")
    pair = screen_patients(**tables).pairs[0]
    assert (pair.decision, pair.reasons) == (SAME, "same age, drugs and wording")


def test_disagreeing_sex_is_near_decisive():
    tables = review()
    tables["patients"][1]["sex"] = "male"
    pair = scorer(tables).score("smith2019_p1", "smith2020_p1")
    assert evidence(pair, "sex")[0].weight < -2.5
    assert pair.score < THRESHOLD


def test_an_undecided_pair_is_a_problem_for_strict_validation():
    problems = undecided_problems(screen_patients(**review()))
    assert [str(p) for p in problems] == [
        "studies.csv: possibly the same patient, undecided (got smith2019_p1 of smith2019 and smith2020_p1 of smith2020 "
        f"scoring {screen_patients(**review()).pairs[0].score:.1f}, threshold 2; expected studies.duplicate_of on one "
        "report, or a duplicate_decisions row: not the same patient, with reasons)"]


def test_rare_shared_values_weigh_more_than_common_ones():
    tables = review()
    pair = scorer(tables).score("smith2019_p1", "smith2020_p1")
    weight = {e.first: e.weight for e in evidence(pair, "drug")}
    assert weight["alendronate"] > weight["diltiazem"]  # 0 other patients had alendronate, 2 of 4 diltiazem


# ------------------------------------------------------------------ the bundled review (committed copy)

def dict_rows(frame):
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


@pytest.fixture(scope="module")
def bundled():
    from metacalc.data import load_dataset

    dataset = load_dataset(GOLDEN)
    return {name: dict_rows(getattr(dataset, name)) for name in ("patients", "treatments", "studies", "quotes", "records")}


def test_bundled_known_duplicate_is_the_only_pair_above_the_threshold(bundled):
    all_pairs = screen_patients(**bundled, threshold=-100)
    assert len(all_pairs.pairs) == all_pairs.pairs_scored == 10
    above = [(p.first, p.second) for p in all_pairs.pairs if p.score >= THRESHOLD]
    assert above == [("seed002_p1", "seed004_p1")]
    screen = screen_patients(**bundled)
    assert [(p.first, p.second, p.decision) for p in screen.pairs] == [("seed002_p1", "seed004_p1", SAME)]
    assert screen.pairs[0].reasons.startswith("Same patient as seed002")
    wording = evidence(screen.pairs[0], "wording")[0].first
    assert "bisphosphate # mg kg day for # months" in wording  # the misspelling both reports share


def test_bundled_duplicate_undecided_without_its_duplicate_of(bundled):
    tables = dict(bundled, studies=[dict(s, duplicate_of=None) for s in bundled["studies"]])
    screen = screen_patients(**tables)
    assert [(p.first, p.second, p.decision) for p in screen.pairs] == [("seed002_p1", "seed004_p1", UNDECIDED)]
    assert len(undecided_problems(screen)) == 1


# ------------------------------------------------------------------ the bound that skips hopeless pairs

def random_review(seed, n=60):
    rng = random.Random(seed)
    countries, drugs = ["Spain", "Japan", "Brazil", None], ["diltiazem", "warfarin", "surgical excision", "alendronate"]
    studies = [study(f"s{i}", f"Author{i % 7} A", rng.choice([None, 2000 + i % 5]), rng.choice(countries))
               for i in range(n // 2)]
    patients, treatments = [], []
    for i in range(n):
        patients.append(patient(f"p{i}", f"s{i % (n // 2)}", rng.choice([None, 30, 31, 32, 45]),
                                rng.choice(["female", "female", "male", None]), rng.choice([None, 3, 4, 10])))
        for k, drug in enumerate(rng.sample(drugs, rng.randint(0, 3))):
            treatments.append(course(f"p{i}", k, drug, rng.choice([None, "30", "60"]), "mg/day",
                                     rng.choice(["none", "partial"])))
    return {"patients": patients, "treatments": treatments, "studies": studies, "quotes": [], "records": []}


@pytest.mark.parametrize("sd", [5.0, 10.0, 17.3])
def test_the_cap_of_an_age_weight_is_above_every_weight_and_near_the_best(sd):
    import numpy as np

    x = np.arange(-3000, 3001) / 100  # differences of 0.01 years, rounding edges included
    gaps = [np.nan, -25, -20, -7.5, -1, 0, 0.4, 1, 3, 12, 19.6, 20, 31]
    weights = np.array([interval_weight(x, gap, not np.isnan(gap), sd, 0.05, AGE_GAP_KNOWN, AGE_GAP_UNKNOWN)
                        for gap in gaps])
    cap = interval_cap(sd, 0.05, AGE_GAP_KNOWN, AGE_GAP_UNKNOWN)
    assert weights.max() <= cap + 1e-12 and cap < weights.max() + 0.05  # attained at x = 0.5 (rint to 0)


def awkward_review(seed, n=70):
    """What the bound treats apart: two courses of one drug at different doses and outcomes (several values),
    an outcome nearly every patient has (disagreeing on it weighs above 0), quotes with passages shared by two
    patients only, authors shared through the records' citations, blanks everywhere."""
    rng = random.Random(seed)
    studies = [study(f"s{i}", rng.choice([None, f"Author{i % 5} A"]), rng.choice([None, 2000 + i % 7]),
                     rng.choice(["Spain", "Japan", None])) for i in range(n // 2)]
    patients, treatments, quotes = [], [], []
    passages = ["the nodules over both elbows softened and shrank", "calcified plaques on the left thigh ulcerated",
                "a firm painless mass behind the right knee"]
    for i in range(n):
        patients.append(patient(f"p{i}", f"s{i % (n // 2)}", rng.choice([None, 40, 41, 43]),
                                rng.choice(["female", "male", None]), rng.choice([None, 2, 3])))
        for k in range(rng.randint(0, 3)):
            response = "none" if rng.random() < 0.93 else rng.choice(["partial", "complete"])
            treatments.append(course(f"p{i}", k, rng.choice(["diltiazem", "warfarin"]), rng.choice([None, "30", "60"]),
                                     "mg/day", response))
        if rng.random() < 0.3:
            quotes.append(quote("patients", f"p{i}", "age_at_presentation", f"{rng.choice(passages)} in patient {i}"))
    records = [{"record_id": f"r{i}", "study_id": f"s{i}", "citation": f"Author{i % 3} A, Other{i % 4} B. Title."}
               for i in range(0, n // 2, 2)]
    return {"patients": patients, "treatments": treatments, "studies": studies, "quotes": quotes, "records": records}


@pytest.mark.parametrize("make, seed", [(random_review, seed) for seed in range(5)] +
                         [(awkward_review, seed) for seed in range(5)])
def test_screening_finds_exactly_the_pairs_that_brute_force_finds(make, seed):
    tables = make(seed)
    full = scorer(tables)
    brute = set()
    for a, b in itertools.combinations(tables["patients"], 2):
        if a["study_id"] != b["study_id"] and full.score(a["patient_id"], b["patient_id"]).score >= 0.5:
            brute.add((min(a["patient_id"], b["patient_id"]), max(a["patient_id"], b["patient_id"])))
    found = {(p.first, p.second) for p in full.screen(threshold=0.5).pairs}
    assert found == brute and brute  # a low threshold, so that there is something to find


@pytest.mark.parametrize("common", [None, 0, 1, 4])
@pytest.mark.parametrize("threshold", [0.5, 2.0])
@pytest.mark.parametrize("make, seed", [(random_review, seed) for seed in range(3)] +
                         [(awkward_review, seed) for seed in range(3)])
def test_however_the_drugs_are_split_the_bound_keeps_every_pair_brute_force_finds(make, seed, threshold, common):
    # The pairs looked at are chosen by per-patient caps, drug by drug for the drugs not taken as common: every
    # split must keep every pair whose score reaches the threshold (untreated patients, blanks, shared authors
    # and passages included).
    tables = make(seed)
    full = scorer(tables)
    index = {p.patient_id: k for k, p in enumerate(full.patients)}
    brute = set()
    for a, b in itertools.combinations(tables["patients"], 2):
        if a["study_id"] != b["study_id"] and full.score(a["patient_id"], b["patient_id"]).score >= threshold:
            brute.add(tuple(sorted((index[a["patient_id"]], index[b["patient_id"]]))))
    kept = full._above_bound(threshold, common)
    assert brute <= set(kept) and kept == sorted(set(kept))
    assert brute or threshold > 1


@pytest.mark.parametrize("make, seed", [(random_review, 1), (awkward_review, 2)])
def test_threads_bound_the_same_pairs_as_one(make, seed, monkeypatch):
    import metacalc.review.patient_duplicates as module

    monkeypatch.setattr(module, "PARALLEL_PATIENTS", 0)  # threads even for a small review
    full = scorer(make(seed))
    alone = full.screen(threshold=0.5)
    assert alone.pairs
    assert full.screen(threshold=0.5, jobs=3) == alone
    assert full._above_bound(0.5, 1, jobs=2) == full._above_bound(0.5, 1)


def test_the_caps_leave_most_pairs_of_a_larger_review_unexamined():
    # A pair of different sexes weighs about -6, and many pairs share no drug: the blocks the bound looks at
    # hold a third of all pairs at this threshold (all of them without the caps).
    from metacalc.review.duplicate_bound import BoundPlan

    tables = random_review(7, n=400)
    full = scorer(tables)
    plan = BoundPlan(full, 3.0)
    looked_at = sum(len(rows) * len(cols) for rows, cols, _ in plan.blocks(plan.common_drugs()))
    n = len(full.patients)
    assert looked_at < 0.5 * n * (n - 1) / 2


# ------------------------------------------------------------------ checks

def test_circular_duplicate_of_is_refused_naming_the_ids():
    studies = [{"study_id": "a", "duplicate_of": "b"}, {"study_id": "b", "duplicate_of": "a"},
               {"study_id": "c", "duplicate_of": None}]
    assert [str(p) for p in check_duplicate_of(studies)] == [
        "studies.csv:2:duplicate_of: circular duplicate_of (got a of b, b of a; expected one kept report that the "
        "others name, or the patient is counted zero times)"]


def test_chains_of_duplicate_of_are_refused_naming_the_kept_report():
    studies = [{"study_id": "a", "duplicate_of": "b"}, {"study_id": "b", "duplicate_of": "c"}, {"study_id": "c"}]
    assert [str(p) for p in check_duplicate_of(studies, "sheets/studies.csv", rows=[5, 6, 7])] == [
        "sheets/studies.csv:5:duplicate_of: chain of duplicates (got a of b of c; expected duplicate_of c, the report "
        "that is kept)"]


def test_a_report_pointing_into_a_cycle():
    studies = [{"study_id": "d", "duplicate_of": "a"}, {"study_id": "a", "duplicate_of": "b"},
               {"study_id": "b", "duplicate_of": "a"}]
    lines = [str(p) for p in check_duplicate_of(studies)]
    assert lines == [
        "studies.csv:2:duplicate_of: chain of duplicates (got d of a of b of a; expected the kept report, which is not "
        "a duplicate)",
        "studies.csv:3:duplicate_of: circular duplicate_of (got a of b, b of a; expected one kept report that the "
        "others name, or the patient is counted zero times)"]


def test_valid_duplicate_of_passes():
    assert check_duplicate_of([{"study_id": "a", "duplicate_of": "b"}, {"study_id": "c", "duplicate_of": "b"},
                               {"study_id": "b"}]) == []


def test_decisions_that_cannot_stand():
    tables = review()
    tables["studies"][1]["duplicate_of"] = "smith2019"
    tables["patients"].append(patient("kim2015_p2", "kim2015", 60))
    decisions = [
        {"patient_id": "kim2015_p1", "other_patient_id": "kim2015_p1"},
        {"patient_id": "kim2015_p1", "other_patient_id": "kim2015_p2"},
        {"patient_id": "kim2015_p1", "other_patient_id": "rossi2012_p1"},
        {"patient_id": "rossi2012_p1", "other_patient_id": "kim2015_p1"},
        {"patient_id": "smith2019_p1", "other_patient_id": "smith2020_p1"},
        {"patient_id": "nobody", "other_patient_id": "smith2020_p1"},  # the schema's references check reports it
    ]
    assert [str(p) for p in check_decisions(decisions, tables["patients"], tables["studies"])] == [
        "duplicate_decisions.csv:2:other_patient_id: a patient paired with itself (got kim2015_p1 twice, expected two "
        "patients of different reports)",
        "duplicate_decisions.csv:3:other_patient_id: both patients are in report kim2015 (got kim2015_p1 and "
        "kim2015_p2, expected patients of different reports)",
        "duplicate_decisions.csv:5:other_patient_id: pair decided twice (got rossi2012_p1 and kim2015_p1 again, "
        "expected one row per pair; first on row 4)",
        "duplicate_decisions.csv:6:decision: contradicts studies.duplicate_of (got not the same patient for "
        "smith2019_p1 and smith2020_p1, whose reports smith2019 and smith2020 are marked as duplicates; expected one "
        "decision: remove this row or the duplicate_of)",
    ]


@pytest.mark.parametrize("decision, message", [
    ("seed002_p1,seed009_p1", "sheets/duplicate_decisions.csv:2:other_patient_id: unknown patient_id (got "
                              "\"seed009_p1\", expected a patient_id listed in patients.csv)\n"),
    ("seed002_p1,seed004_p1", "sheets/duplicate_decisions.csv:2:decision: contradicts studies.duplicate_of (got not "
                              "the same patient for seed002_p1 and seed004_p1, whose reports seed002 and seed004 are "
                              "marked as duplicates; expected one decision: remove this row or the duplicate_of)\n"),
])
def test_validate_refuses_a_decision_that_cannot_stand(tmp_path, capsys, monkeypatch, decision, message):
    from metacalc.cli import main

    copy_review(GOLDEN.parent, tmp_path)
    (tmp_path / "sheets" / "duplicate_decisions.csv").write_text(
        f"patient_id,other_patient_id,decision,reasons\n{decision},not the same patient,different\n",
        encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "sheets"]) == 1
    assert capsys.readouterr().err == message


def test_pair_results_are_frozen():
    pair = screen_patients(**review()).pairs[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        pair.score = 0  # type: ignore[misc]


# ------------------------------------------------------------------ wired into validation, the run and the report

def undecide(sheets):
    """The bundled duplicate (seed004 of seed002) without its duplicate_of: an undecided likely pair."""
    def edit(rows):
        for row in rows:
            if row["study_id"] == "seed004":
                row["duplicate_of"] = row["duplicate_evidence"] = ""
    edit_csv(sheets / "studies.csv", edit)


def test_validate_refuses_a_circular_duplicate_of_naming_the_ids(tmp_path, capsys, monkeypatch):
    from metacalc.cli import main

    sheets = copy_review(GOLDEN.parent, tmp_path)

    def edit(rows):
        for row in rows:
            if row["study_id"] == "seed002":
                row["duplicate_of"], row["duplicate_evidence"] = "seed004", "same patient"
    edit_csv(sheets / "studies.csv", edit)
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "sheets"]) == 1
    assert capsys.readouterr().err == (
        "sheets/studies.csv:4:duplicate_of: circular duplicate_of (got seed002 of seed004, seed004 of seed002; "
        "expected one kept report that the others name, or the patient is counted zero times)\n")


def test_strict_refuses_an_undecided_pair_until_a_decision_is_recorded(tmp_path, capsys, monkeypatch):
    from metacalc.cli import main

    sheets = copy_review(GOLDEN.parent, tmp_path)
    undecide(sheets)
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "sheets"]) == 0  # without --strict: valid (the report carries the warning)
    capsys.readouterr()
    assert main(["validate", "sheets", "--strict"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("sheets/studies.csv:6:duplicate_of: possibly the same patient, undecided (got seed002_p1 "
                           "of seed002 and seed004_p1 of seed004 scoring 3.8, threshold 2;")
    analyse = ["analyse", "out/dataset.json", "--sheets", "sheets", "--plan", "analyses", "--outdir", "out/tables"]
    assert main(analyse + ["--strict"]) == 1
    assert capsys.readouterr().err.splitlines() == [line]
    assert not (tmp_path / "out").exists()  # nothing written
    (sheets / "duplicate_decisions.csv").write_text(
        "patient_id,other_patient_id,decision,reasons\n"
        "seed004_p1,seed002_p1,not the same patient,a sister of the first patient (family history)\n",
        encoding="utf-8")
    assert main(["validate", "sheets", "--strict"]) == 0
    assert main(analyse + ["--strict"]) == 0


def test_the_report_lists_the_pair_side_by_side_and_warns_on_the_headline_numbers(tmp_path):
    from metacalc.pipeline import run_review

    sheets = copy_review(GOLDEN.parent, tmp_path)
    undecide(sheets)
    html = " ".join(open(run_review(str(sheets), str(tmp_path / "analyses"), str(tmp_path / "out")),
                         encoding="utf-8").read().split())
    summary = html[html.index('id="summary"'):html.index('id="changes"')]
    assert "These numbers may count a patient twice." in summary
    from metacalc.review.words import slug

    table = html[html.index(f'id="pair-{slug("seed002_p1")}-{slug("seed004_p1")}"'):]
    table = table[:table.index("</table>")]
    assert "score 3.8, <strong>undecided</strong>: both are counted" in table
    assert "<td>age</td><td>37</td><td>37</td>" in table and "<td>wording</td>" in table


def test_a_decided_pair_shows_as_decided_without_a_warning(tmp_path):
    from metacalc.pipeline import run_review

    sheets = copy_review(GOLDEN.parent, tmp_path)
    html = " ".join(open(run_review(str(sheets), str(tmp_path / "analyses"), str(tmp_path / "out")),
                         encoding="utf-8").read().split())
    assert "These numbers may count a patient twice." not in html
    assert "score 3.8, decided: same patient (Same patient as Anonymous (n.d.-a)" in html


def test_a_large_screen_shows_the_first_pairs_undecided_first_and_writes_every_pair(tmp_path):
    from metacalc.render.report import render_html
    from metacalc.review.document import DuplicateScreen, ScoredPair
    from metacalc.review.results_io import read_results, write_results
    from metacalc.review.words import slug

    results = read_results(GOLDEN.parent.parent / "expected" / "tables" / "results.json")
    pairs = [ScoredPair(f"p{k:02d}a", f"p{k:02d}b", "seed002", "seed004", 5.0 - k / 100, 2.0,
                        decision=DIFFERENT if k < 5 else UNDECIDED, reasons="checked" if k < 5 else "")
             for k in range(65)]
    many = dataclasses.replace(results, duplicate_screen=DuplicateScreen(2.0, tuple(pairs), 1000))
    html = " ".join(render_html(many, {}).split())
    assert "65 pairs are listed (60 undecided): the first 50 below" in html
    assert html.count('<table class="duplicate-pair"') == 50
    def anchor(first, second):
        return f'id="pair-{slug(first)}-{slug(second)}"'

    assert anchor("p05a", "p05b") in html and anchor("p00a", "p00b") not in html  # undecided first
    assert "and 50 more." in html[html.index('id="duplicates-undecided"'):]
    written = write_results(many, str(tmp_path))
    lines = (tmp_path / "duplicate_pairs.csv").read_text(encoding="utf-8").splitlines()
    assert str(tmp_path / "duplicate_pairs.csv") in written and len(lines) == 66
    assert lines[1] == "p00a,seed002,p00b,seed004,5,2,not the same patient,checked"


def test_the_report_states_the_rising_threshold_with_the_numbers_the_screen_used(monkeypatch):
    from metacalc.render import report
    from metacalc.render.report import render_html
    from metacalc.review.document import DuplicateScreen
    from metacalc.review.results_io import read_results

    results = read_results(GOLDEN.parent.parent / "expected" / "tables" / "results.json")
    def stated(threshold):
        screened = dataclasses.replace(results, duplicate_screen=DuplicateScreen(threshold, (), 1000))
        return " ".join(render_html(screened, {}).split())

    assert "rises by" not in stated(THRESHOLD)  # at the base threshold, nothing to explain
    assert "The threshold is 2 in a review of up to 200 reports and rises by log<sub>10</sub>(reports / 200)" \
        in stated(2.98)
    # the sentence follows the rule's constants, never restates them
    monkeypatch.setattr(report, "CALIBRATED_REPORTS", 100)
    assert "up to 100 reports and rises by log<sub>10</sub>(reports / 100)" in stated(2.98)


def test_the_threshold_is_2_up_to_200_reports_then_rises_with_log10_of_the_reports():
    from metacalc.review.patient_duplicates import CALIBRATED_REPORTS, screening_threshold

    assert [screening_threshold(r) for r in (0, 1, 5, CALIBRATED_REPORTS)] == [THRESHOLD] * 4
    assert screening_threshold(2000) == THRESHOLD + 1 and screening_threshold(20000) == THRESHOLD + 2
    assert screening_threshold(300) == 2.18 and screening_threshold(1897) == 2.98
    with pytest.raises(ValueError):
        screening_threshold(-1)


def test_a_large_review_is_screened_at_its_own_threshold_and_a_given_one_still_wins():
    # 250 reports of one patient each: the screen's default threshold is the one for 250 reports, not 2.
    rows = [{"patient_id": f"p{k}", "study_id": f"s{k}", "sex": "female", "age_at_presentation": 30 + k % 40}
            for k in range(250)]
    from metacalc.review.patient_duplicates import screening_threshold

    assert screen_patients(rows).threshold == screening_threshold(250) > THRESHOLD
    assert screen_patients(rows, threshold=0.5).threshold == 0.5
