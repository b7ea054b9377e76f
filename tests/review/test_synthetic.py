"""The synthetic review generator: valid sheets, reproducible from the seed, the requested size."""

import filecmp
import os

import pytest

from metacalc.cli import main
from metacalc.data import load_dataset
from metacalc.review.synthetic import synthetic_review, write_synthetic_review


@pytest.mark.slow
def test_synthetic_review_is_valid_and_reproducible(tmp_path):
    write_synthetic_review(str(tmp_path / "a"), patients=300, therapies=12, seed=7)
    write_synthetic_review(str(tmp_path / "b"), patients=300, therapies=12, seed=7)
    assert sorted(os.listdir(tmp_path / "a")) == ["extraction_sheets", "review.yaml", "sources"]
    names = sorted(os.listdir(tmp_path / "a" / "extraction_sheets"))
    assert names == ["aggregates.csv", "appraisal.csv", "appraisal_overall.csv", "patients.csv", "quotes.csv",
                     "records.csv", "studies.csv", "treatments.csv"]
    for folder, files in (("extraction_sheets", names), ("sources", sorted(os.listdir(tmp_path / "a" / "sources")))):
        _, mismatch, errors = filecmp.cmpfiles(tmp_path / "a" / folder, tmp_path / "b" / folder, files,
                                               shallow=False)
        assert mismatch == [] and errors == []
    assert (tmp_path / "a" / "review.yaml").read_bytes() == (tmp_path / "b" / "review.yaml").read_bytes()

    ds = load_dataset(str(tmp_path / "a"))  # raises UserError listing every problem (every quote in its source)
    assert len(ds.patients) == 300
    assert ds.treatments["drug"].nunique() <= 12 and ds.treatments["drug"].notna().all()
    assert ds.studies["duplicate_of"].notna().sum() == sum(1 for s in synthetic_review(300, 12, 7)["studies"]
                                                           if s["duplicate_of"])
    assert set(ds.appraisal_overall["judgement"]) <= {"low", "moderate", "high"}
    assert ds.review.field_named("marker") is not None and len(ds.review.published_figures) == 5


@pytest.mark.slow
def test_synthesize_writes_a_review_folder_that_runs(tmp_path, capsys):
    assert main(["synthesize", str(tmp_path / "r"), "--patients", "40", "--therapies", "6", "--seed", "3"]) == 0
    assert capsys.readouterr().out.startswith(f"synthetic review written to {tmp_path / 'r'}: studies ")
    for name in ("Snakefile", "config.yaml", "analyses", "extraction_template.xlsx", "review.yaml", "sources"):
        assert (tmp_path / "r" / name).exists()
    assert main(["check", str(tmp_path / "r")]) == 0  # validates and analyses (no expected findings yet)


def test_other_seed_gives_other_data():
    first = synthetic_review(patients=50, therapies=5, seed=1)["treatments"]
    second = synthetic_review(patients=50, therapies=5, seed=2)["treatments"]
    assert first != second


def test_cli_refuses_nonsense_sizes(tmp_path, capsys):
    assert main(["synthesize", str(tmp_path / "x"), "--patients", "0", "--therapies", "-1"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "--patients: got 0, expected at least 1",
        "--therapies: got -1, expected at least 1",
    ]
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("therapies", [1, 2])
def test_fewer_drugs_than_courses_a_patient_may_have(tmp_path, therapies):
    # a patient has 1 to 3 courses of different drugs: with 1 or 2 drugs, at most that many
    tables = synthetic_review(patients=30, therapies=therapies, seed=1)
    courses: dict[str, list[str]] = {}
    for course in tables["treatments"]:
        courses.setdefault(course["patient_id"], []).append(course["therapy"])
    assert len(courses) == 30 and all(len(set(drugs)) == len(drugs) <= therapies for drugs in courses.values())
    assert main(["synthesize", str(tmp_path / "r"), "--patients", "3", "--therapies", str(therapies)]) == 0
    assert len(load_dataset(str(tmp_path / "r")).patients) == 3


def test_the_same_seed_gives_the_same_courses_as_before():
    # the cap on courses leaves the draw of a review with 3 or more drugs as it was: the first patients' courses
    courses = [(t["patient_id"], t["therapy"], t["response"]) for t in
               synthetic_review(patients=4, therapies=50, seed=1)["treatments"]]
    assert courses == [("s00001_p00001", "synthdrug002", "not reported"), ("s00002_p00002", "synthdrug021", "none"),
                       ("s00002_p00002", "synthdrug043", "none"), ("s00002_p00002", "synthdrug001", "not reported"),
                       ("s00003_p00003", "synthdrug018", "none"), ("s00004_p00004", "synthdrug001", "complete")]
