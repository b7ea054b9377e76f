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
