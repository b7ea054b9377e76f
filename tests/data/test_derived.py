"""Derived values: the times of the review's clock by every route (named in the review's words),
disagreements, drugs and response flags (from the review's categories), vocabulary."""

import numpy as np
import pandas as pd
import pytest

from metacalc.data.derive import DIAGNOSIS_ROUTES, ONSET_ROUTES, derive_interval, response_flags
from metacalc.data.review_file import Responses, ResponseCategory, load_review
from metacalc.data.schema import load_schema
from metacalc.data.vocabulary import build_vocabulary
from conftest import SMALL_REVIEW

TIMING = [c.name for c in load_schema()["patients"].input_columns if c.type in ("number", "integer")]
WORDS = load_review(SMALL_REVIEW / "review.yaml").words  # SLE diagnosis -> first calcinosis lesion


def patients(*rows):
    frame = pd.DataFrame([{c: np.nan for c in TIMING} | row for row in rows], index=range(2, 2 + len(rows)))
    return frame.astype("float64")


def test_each_onset_route():
    frame = patients(
        {"onset_years_after_start": 4},
        {"start_years_before_presentation": 21, "onset_years_before_presentation": 10},
        {"onset_year": 2005, "start_year": 1990},
        {"presentation_year": 2010, "onset_years_before_presentation": 2, "start_year": 1999},
        {"onset_year": 2008, "presentation_year": 2010, "start_years_before_presentation": 13},
        {"age_at_presentation": 40},
    )
    result = derive_interval(frame, ONSET_ROUTES, WORDS)
    assert result.years.tolist()[:5] == [4.0, 11.0, 15.0, 9.0, 11.0]
    assert np.isnan(result.years[7])
    assert result.route.tolist() == [0, 1, 2, 3, 4, -1]
    assert result.text.tolist()[:5] == [
        "onset 4 y after SLE diagnosis (stated)",
        "SLE diagnosis 21 y before presentation - onset 10 y before presentation = 11 y",
        "onset in 2005 - SLE diagnosis in 1990 = 15 y",
        "onset 2 y before presentation in 2010 - SLE diagnosis in 1999 = 9 y",
        "onset in 2008 - SLE diagnosis 13 y before presentation in 2010 = 11 y",
    ]
    assert pd.isna(result.text[7])
    assert result.disagreements == {}


def test_stated_interval_takes_precedence_and_disagreement_is_recorded():
    frame = patients(
        {"onset_years_after_start": 4, "start_years_before_presentation": 13, "onset_years_before_presentation": 2},
        {"onset_years_after_start": 4, "start_years_before_presentation": 13, "onset_years_before_presentation": 8.5},
    )
    result = derive_interval(frame, ONSET_ROUTES, WORDS)
    assert result.years.tolist() == [4.0, 4.0]
    assert result.disagreements == {2: [(0, 4.0), (1, 11.0)]}  # 4.5 y apart on row 3 is within 1 y: no


def test_the_words_are_the_review_s():
    frame = patients({"onset_years_after_start": 2, "start_years_before_presentation": 5,
                      "onset_years_before_presentation": 3})
    words = {**WORDS, "start": "sarcoidosis diagnosis", "onset_short": "uveitis"}
    assert derive_interval(frame, ONSET_ROUTES, words).text.tolist() == ["uveitis 2 y after sarcoidosis diagnosis (stated)"]


def test_diagnosis_routes():
    frame = patients(
        {"diagnosis_years_after_start": 11},
        {"diagnosis_year": 2019, "start_year": 2008},
        {"diagnosis_year": 2019, "presentation_year": 2018, "start_years_before_presentation": 11},
    )
    result = derive_interval(frame, DIAGNOSIS_ROUTES, WORDS)
    assert result.years.tolist() == [11.0, 11.0, 12.0]
    assert result.text[4] == "calcinosis diagnosis in 2019 - SLE diagnosis 11 y before presentation in 2018 = 12 y"


def test_disagreement_becomes_a_dataset_warning(tmp_path, monkeypatch):
    import shutil
    from pathlib import Path

    from metacalc.data import load_dataset

    shutil.copytree(SMALL_REVIEW, tmp_path, dirs_exist_ok=True)
    path = tmp_path / "sheets" / "patients.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "calcium_normal\n", "calcium_normal,onset_year,start_year\n").replace(
        "circumscripta,yes\n", "circumscripta,yes,2001,1995\n").replace(
        "universalis,\n", "universalis,,,\n"), encoding="utf-8")
    quotes = tmp_path / "sheets" / "quotes.csv"
    quotes.write_text(quotes.read_text(encoding="utf-8")
                      + "patients,alpha2011_p1,onset_year,2001,y\npatients,alpha2011_p1,start_year,1995,y\n", encoding="utf-8")
    source = tmp_path / "sources" / "alpha.txt"
    source.write_text(source.read_text(encoding="utf-8") + "onset in 2001 after the diagnosis in 1995\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    ds = load_dataset("sheets")
    assert ds.patients["years_to_onset"].tolist() == [11.0, 4.0]
    assert ds.warnings == (
        "sheets/patients.csv:2:years_to_onset: timing facts disagree by more than 1 year (SLE diagnosis 21 y before"
        " presentation - onset 10 y before presentation = 11 y; onset in 2001 - SLE diagnosis in 1995 = 6 y); used the first",)


def test_response_flags():
    response = pd.Series(["complete", "partial", "none", "not reported", np.nan], dtype="str")
    any_response, complete = response_flags(response, Responses())
    assert any_response.tolist() == [1, 1, 0, pd.NA, pd.NA]
    assert complete.tolist() == [1, 0, 0, pd.NA, pd.NA]
    assert str(any_response.dtype) == "Int64"


def test_response_flags_follow_the_review_s_categories():
    categories = Responses((ResponseCategory("resolved", "gone", "resolutions"),
                            ResponseCategory("better", "smaller", "improvements"),
                            ResponseCategory("same", "unchanged", "no changes"),
                            ResponseCategory("worse", "grew", "worsenings"),
                            ResponseCategory("unknown", "not said", "unknowns")),
                           any_response=("resolved", "better"), complete_response=("resolved",),
                           not_assessed=("unknown",))
    response = pd.Series(["resolved", "better", "same", "worse", "unknown"], dtype="str")
    any_response, complete = response_flags(response, categories)
    assert any_response.tolist() == [1, 1, 0, 0, pd.NA]
    assert complete.tolist() == [1, 0, 0, 0, pd.NA]


@pytest.mark.parametrize("written, drug, drug_class", [
    ("Diltiazem", "diltiazem", "calcium channel blocker"),
    ("nifedipine", "nifedipine", "calcium channel blocker"),
    ("Biphosphonates", "bisphosphonate (unspecified)", "bisphosphonate"),
    ("etidronate", "etidronate", "bisphosphonate"),
    ("warfarine", "warfarin", "vitamin K antagonist"),
    ("minocycline", "minocycline", "antibiotic"),
    ("intralesional  injection of   steroids", "intralesional corticosteroid", "corticosteroid (intralesional)"),
    ("Surgical removal", "surgical excision", "surgery"),
    ("aluminium hydroxide", "aluminum hydroxide", "phosphate binder"),
    ("Probenecid", "probenecid", "uricosuric"),
    ("IVIG", "intravenous immunoglobulin", "immunoglobulin"),
])
def test_vocabulary_lookup(written, drug, drug_class):
    assert build_vocabulary().lookup(written) == (drug, drug_class)


def test_vocabulary_suggests_closest_names():
    vocabulary = build_vocabulary()
    assert vocabulary.lookup("diltiazme") is None
    assert vocabulary.suggest("diltiazme") == ["diltiazem"]
    assert vocabulary.suggest("nifedipin")[0] == "nifedipine"
    assert vocabulary.suggest("quantum healing") == []


def test_review_vocabulary_extends_and_overrides():
    vocabulary = build_vocabulary([("STS cream", "sodium thiosulfate", "calcium chelator"),
                                   ("minocycline", "minocycline", "tetracycline")])
    assert vocabulary.lookup("sts  CREAM") == ("sodium thiosulfate", "calcium chelator")
    assert vocabulary.lookup("minocycline") == ("minocycline", "tetracycline")


def test_unknown_therapy_in_a_sheet_names_the_closest(tmp_path, monkeypatch):
    import shutil
    from pathlib import Path

    from metacalc.data import load_dataset
    from metacalc.errors import UserError

    shutil.copytree(SMALL_REVIEW, tmp_path, dirs_exist_ok=True)
    path = tmp_path / "sheets" / "treatments.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("bisphosphate", "bisfosfonate"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError) as error:
        load_dataset("sheets")
    assert error.value.problems == [
        'sheets/treatments.csv:3:therapy: unknown therapy (got "bisfosfonate", expected a name in the therapy vocabulary;'
        " closest: bisphosphonate, bisphosphonates, biphosphonate; a new therapy goes in review.yaml, under vocabulary)"]


def test_the_review_s_vocabulary_is_used():
    from metacalc.data import load_dataset

    ds = load_dataset(SMALL_REVIEW / "sheets")
    assert [name for name, _, _ in ds.review.vocabulary] == ["topical sodium metabisulfite", "bisphosphate", "Wafarin"]
    assert ds.treatments[["drug", "drug_class", "any_response", "complete_response"]].astype(object).where(
        ds.treatments[["drug", "drug_class", "any_response", "complete_response"]].notna(), None).values.tolist() == [
        ["diltiazem", "calcium channel blocker", 1, 0],
        ["bisphosphonate (unspecified)", "bisphosphonate", 0, 0],
        ["warfarin", "vitamin K antagonist", None, None]]
    assert ds.aggregates["drug"].tolist()[0] == "diltiazem"


def test_bundled_vocabulary_file_is_consistent():
    from metacalc.data.vocabulary import bundled_rows, normalise_name

    rows = bundled_rows()
    assert all(name.strip() and drug.strip() and drug_class.strip() for name, drug, drug_class in rows)
    names = [normalise_name(name) for name, _, _ in rows]
    assert len(names) == len(set(names)), "a name is listed twice"
    classes = {}
    for _, drug, drug_class in rows:
        assert classes.setdefault(drug, drug_class) == drug_class, f"{drug} is in two classes"
