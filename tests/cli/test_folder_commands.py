"""`metacalc init` (a new, empty review folder) and `metacalc check` (a review's results against its expected
findings), and the package that every review shares: it names no condition."""

import re
from pathlib import Path

import pytest
import yaml
from conftest import BUNDLED_COPY, ROOT

from metacalc.cli import main
from metacalc.workflow import skeleton_folder

# What every review shares: the package, and the workflow and skeleton it ships from snakemake/.
SHARED = (ROOT / "metacalc", ROOT / "snakemake" / "workflow", ROOT / "snakemake" / "skeleton")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_nothing_in_the_package_names_the_bundled_review():
    """The package serves every review: the bundled review's words live in its own files, not in metacalc/."""
    words = re.compile(r"\bsle\b|lupus|calcinosis|mayo", re.IGNORECASE)
    found = []
    for path in sorted(p for folder in SHARED for p in folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            text = path.read_bytes().decode("utf-8", errors="ignore")
            found += [f"{path.relative_to(ROOT)}:{text[:m.start()].count(chr(10)) + 1}: {m.group()}"
                      for m in words.finditer(text)]
    assert found == []
    assert words.search("Calcinosis in SLE (the Mayo series)")  # the check finds the words it looks for


def test_the_repository_root_is_a_review_folder_like_any_other():
    skeleton = Path(skeleton_folder())
    for name in ("Snakefile", "config.yaml", "profiles/default/config.yaml"):
        assert (ROOT / name).read_text(encoding="utf-8") == (skeleton / name).read_text(encoding="utf-8"), name


def test_init_writes_a_review_that_validates(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "init", "uveitis", "--title", "Uveitis in sarcoidosis: a review of case reports")
    assert (code, err) == (0, "") and out.startswith("new review written to uveitis (")
    folder = tmp_path / "uveitis"
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert files == [
        ".gitignore", "Snakefile", "analyses/response_per_class.yaml", "analyses/response_per_drug.yaml",
        "analyses/schema.json", "analyses/time_to_onset.yaml", "config.yaml", "expected_findings.yaml",
        "extraction_sheets/README.md", "extraction_sheets/aggregates.csv", "extraction_sheets/appraisal.csv",
        "extraction_sheets/appraisal_overall.csv", "extraction_sheets/certainty.csv",
        "extraction_sheets/duplicate_decisions.csv",
        "extraction_sheets/patients.csv", "extraction_sheets/quotes.csv", "extraction_sheets/records.csv",
        "extraction_sheets/studies.csv", "extraction_sheets/treatments.csv", "extraction_template.xlsx",
        "profiles/default/config.yaml", "review.yaml", "sources/README.md"]
    review = yaml.safe_load((folder / "review.yaml").read_text(encoding="utf-8"))
    assert review["title"] == "Uveitis in sarcoidosis: a review of case reports"
    assert "module review:" in (folder / "Snakefile").read_text(encoding="utf-8")  # the shipped workflow, not a copy
    assert not (folder / "rules").exists()
    code, out, err = run(capsys, "validate", "uveitis")
    assert (code, err) == (0, "") and "review file: uveitis/review.yaml; Uveitis in sarcoidosis" in out
    code, out, err = run(capsys, "check", "uveitis")
    assert (code, err) == (0, "")


def test_init_refuses_a_folder_that_is_not_empty_and_writes_nothing(tmp_path, capsys):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "notes.txt").write_text("mine", encoding="utf-8")
    code, out, err = run(capsys, "init", str(tmp_path / "r"), "--title", "T")
    assert code == 1 and err == f"{tmp_path / 'r'}: already exists and is not empty (expected a new folder; nothing " \
                                "was written)\n"
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["notes.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["r"]  # no staging folder left behind


def test_check_compares_the_results_with_the_expected_findings(tmp_path, capsys):
    import shutil

    shutil.copytree(BUNDLED_COPY, tmp_path / "review")
    shutil.copy(ROOT / "config.yaml", tmp_path / "review")
    (tmp_path / "review" / "expected_findings.yaml").write_text(
        "rows: {studies: 6, patients: 4}\n"
        "findings:\n"
        "  - {analysis: response_per_drug, group: diltiazem, expect: {events: 1, total: 4, estimate: 0.25}}\n"
        "  - {analysis: time_to_onset, group: all patients, expect: {n: 4, mean: 8.2}}\n"
        "  - {analysis: time_to_onset, group: all patients, reference: seed004_literature_onset,"
        " expect: {difference: -1.8}}\n"
        "  - {analysis: response_per_drug, group: nifedipine, expect: {events: 1}}\n", encoding="utf-8")
    code, out, err = run(capsys, "check", str(tmp_path / "review"))
    path = tmp_path / "review" / "expected_findings.yaml"
    assert code == 1 and out == ""
    assert err.splitlines() == [
        f"{path}:rows.patients: got 5, expected 4 (rows of patients)",
        f"{path}:findings.1.expect.mean: got 8, expected 8.2 (time_to_onset / all patients)",
        f"{path}:findings.3.group: no such group (got nifedipine, expected one of: bisphosphonate (unspecified), "
        "ceftriaxone, diltiazem, intralesional corticosteroid, surgical excision) (response_per_drug / nifedipine)",
        f"3 of 9 expected findings differ: update the review's data, or {path} when the change is right",
    ]


def test_numbers_match_to_the_decimals_they_are_written_with():
    from metacalc.review.expectations import matches

    assert matches(8.0, 8.04) and not matches(8.0, 8.06)
    assert matches(0.25, 0.2549) and not matches(0.25, 0.256)
    assert matches(4, 4.0) and not matches(4, 4.2)
    assert matches(True, True) and not matches(True, 1) and matches("exact", "exact")
    assert not matches(1.0, None)


def test_check_locates_a_broken_expectations_file(tmp_path, capsys):
    (tmp_path / "expected_findings.yaml").write_text("findings:\n  - {analysis: a, expect: {}}\ncolour: red\n",
                                                     encoding="utf-8")
    code, out, err = run(capsys, "check", str(tmp_path))
    path = tmp_path / "expected_findings.yaml"
    assert code == 1 and err.splitlines() == [
        f"{path}:colour: unknown key (got colour, expected one of: findings, prisma, rows)",
        f"{path}:findings.0.group: required key missing (got no group)",
        f"{path}:findings.0.expect: no values (got an empty dict, expected field: value)",
    ]


@pytest.mark.slow
def test_the_bundled_review_meets_its_expected_findings(capsys):
    """What `make test` runs at the root, on the committed copy of the bundled review (with its own copy of the
    expected findings)."""
    code, out, err = run(capsys, "check", str(BUNDLED_COPY))
    assert (code, err) == (0, ""), err
    assert out.endswith("expected values, all as expected\n")
