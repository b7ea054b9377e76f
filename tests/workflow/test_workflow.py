"""The Snakemake workflow end to end on the bundled review, in a temporary copy of the repository tree."""

import csv
import os
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import copy_review
from runs import REVIEW, copy_tree, differences, snakemake

from metacalc.pipeline import run_review

SCRIPT = '<script>alert(1)</script>'
IMAGE = '"><img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    workdir = copy_tree(tmp_path_factory.mktemp("workflow") / "repo")
    run = snakemake(workdir)  # plain `snakemake`: the profile supplies the cores
    assert run.returncode == 0, run.stderr[-3000:]
    (workdir.parent / "terminal.txt").write_text(run.stdout + run.stderr, encoding="utf-8")
    return workdir


def test_workflow_writes_the_report_and_tables(first_run):
    reports = first_run / "reports"
    html = (reports / "index.html").read_text(encoding="utf-8")
    # the title is the review file's (a colon in it is fine: it never passes through --config)
    assert ("<h1>Calcinosis cutis in systemic lupus erythematosus: a systematic review of case reports</h1>"
            in html)
    for anchor in ("summary", "prisma", "studies", "patients", "risk-of-bias", "results", "onset", "sensitivity",
                   "methods", "provenance", "excluded-rows", "checklist", "changes"):
        assert f'id="{anchor}"' in html
    for name in ("results.json", "excluded_rows.csv", "response_per_drug.csv", "response_per_class.csv",
                 "time_to_onset.csv"):
        assert (reports / "tables" / name).stat().st_size > 0
    assert (reports / "figures" / "prisma.svg").exists()
    for name in ("analyse", "report", "snakemake"):
        assert (reports / "logs" / f"{name}.log").stat().st_size > 0


def test_the_terminal_shows_one_line_per_job_and_where_the_report_is(first_run):
    terminal = (first_run.parent / "terminal.txt").read_text(encoding="utf-8")
    lines = [line for line in terminal.splitlines() if not line.startswith("Using workflow specific")]
    assert [line.split()[1] for line in lines[:-1]] == ["analyse:", "report:"], lines
    assert lines[-1] == "Report: reports/index.html (logs in reports/logs/)"
    log = (first_run / "reports" / "logs" / "snakemake.log").read_text(encoding="utf-8")
    assert "validate the sheets" in log and "(Rule: analyse)" in log and "(Rule: report)" in log


def test_second_run_has_nothing_to_do(first_run):
    dry = snakemake(first_run, "-n")
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert "Nothing to be done" in dry.stdout + dry.stderr


def test_editing_the_plan_reruns_and_touching_does_not(first_run):
    path = first_run / "analyses" / "response_per_drug.yaml"
    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace("title: Response per therapy", "title: Response per drug"), encoding="utf-8")
    try:
        dry = snakemake(first_run, "-n")
        stats = [line.split() for line in (dry.stdout + dry.stderr).splitlines()]  # the "Job stats" table
        assert ["analyse", "1"] in stats and ["report", "1"] in stats
    finally:
        path.write_text(original, encoding="utf-8")  # newer mtime, same content: checksums say nothing to do
    dry = snakemake(first_run, "-n")
    assert "Nothing to be done" in dry.stdout + dry.stderr


def test_two_runs_from_clean_are_byte_identical(first_run, tmp_path):
    saved = tmp_path / "first"
    shutil.copytree(first_run / "reports", saved)
    shutil.rmtree(first_run / "reports")
    shutil.rmtree(first_run / ".snakemake")
    run = snakemake(first_run, "-c1")
    assert run.returncode == 0, run.stderr[-3000:]
    assert differences(saved, first_run / "reports", skip=("logs",)) == {}


def test_invalid_config_is_refused_at_start(first_run):
    run = snakemake(first_run, "-n", "--config", "level=1.5")
    assert run.returncode != 0
    output = run.stdout + run.stderr
    assert "1.5 is greater than or equal to the maximum of 1" in output and "On instance['level']" in output


class ElementCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def poison(path, columns):
    """Append the payloads to free-text cells; extracted values (which need a quote) only where filled."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
        fields = list(rows[0].keys())
    for index, row in enumerate(rows):
        for column in columns:
            if column.endswith("!") and not row[column[:-1]].strip():
                continue
            column = column.rstrip("!")
            payload = SCRIPT if index % 2 == 0 else IMAGE
            row[column] = f"{row[column]} {payload}".strip()
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def test_text_from_the_sheets_is_escaped(tmp_path):
    sheets = copy_review(Path(REVIEW), tmp_path)
    # "!" marks extracted values: poisoned only where filled, since each needs its quote
    poison(sheets / "studies.csv", ("notes", "title!", "first_author!", "duplicate_evidence"))
    poison(sheets / "treatments.csv", ("notes", "dose!"))
    poison(sheets / "patients.csv", ("notes", "sites!"))
    poison(sheets / "appraisal.csv", ("justification",))
    poison(sheets / "records.csv", ("citation",))
    run_review(str(sheets), os.path.join(REVIEW, "analyses"), str(tmp_path / "reports"))
    html = (tmp_path / "reports" / "index.html").read_text(encoding="utf-8")

    parser = ElementCollector()
    parser.feed(html)
    tags = [tag for tag, _ in parser.tags]
    assert "script" not in tags and "img" not in tags and "iframe" not in tags
    handlers = [(tag, name) for tag, attrs in parser.tags for name in attrs if name.lower().startswith("on")]
    assert handlers == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script" not in html.lower() and "<img" not in html.lower()


def test_a_broken_plan_fails_with_the_located_message(first_run):
    path = first_run / "analyses" / "response_per_class.yaml"
    original = path.read_text(encoding="utf-8")
    path.write_text(original + "groupby: drug\n", encoding="utf-8")
    try:
        run = snakemake(first_run, "-c1")
    finally:
        path.write_text(original, encoding="utf-8")
    assert run.returncode != 0
    assert ("analyses/response_per_class.yaml:(top level): Additional properties are not allowed ('groupby' was "
            "unexpected)") in run.stderr


def test_the_documented_command_line_example_is_accepted(first_run):
    example = next(line for line in (first_run / "config.yaml").read_text(encoding="utf-8")
                   .splitlines() if "snakemake --config" in line)
    arguments = example.split("snakemake --config", 1)[1].split()
    assert "figure_width=single" in arguments and "figure_dpi=600" in arguments
    dry = snakemake(first_run, "-n", "--config", *arguments)
    assert dry.returncode == 0, dry.stderr[-3000:]
    for refused_setting, key in (("figure_dpi=150", "figure_dpi"), ("figure_width=triple", "figure_width"),
                                 ("figure_formats=[pdf,png]", "figure_formats")):
        refused = snakemake(first_run, "-n", "--config", refused_setting)
        assert refused.returncode != 0 and f"On instance['{key}']" in refused.stdout + refused.stderr, key


def test_strict_stops_the_run_until_a_decision_and_a_release_reruns_the_analysis(tmp_path):
    import subprocess
    import sys

    from conftest import edit_csv

    workdir = copy_tree(tmp_path / "review")

    def undecide(rows):
        for row in rows:
            if row["study_id"] == "seed004":
                row["duplicate_of"] = row["duplicate_evidence"] = ""
    edit_csv(workdir / "extraction_sheets" / "studies.csv", undecide)
    run = snakemake(workdir, "--config", "strict=true")
    assert run.returncode != 0
    assert ("extraction_sheets/studies.csv:6:duplicate_of: possibly the same patient, undecided (got seed002_p1 of "
            "seed002 and seed004_p1 of seed004") in run.stderr
    assert not (workdir / "reports" / "index.html").exists()
    (workdir / "extraction_sheets" / "duplicate_decisions.csv").write_text(
        "patient_id,other_patient_id,decision,reasons\n"
        "seed002_p1,seed004_p1,not the same patient,different hospitals and years of follow-up\n", encoding="utf-8")
    run = snakemake(workdir, "--config", "strict=true")
    assert run.returncode == 0, run.stderr[-3000:]
    html = " ".join((workdir / "reports" / "index.html").read_text(encoding="utf-8").split())
    assert "decided: not the same patient (different hospitals and years of follow-up)" in html
    assert "No named version of this review yet" in html

    release = subprocess.run([sys.executable, "-m", "metacalc", "release", "v1"], cwd=workdir, capture_output=True,
                             text=True)
    assert release.returncode == 0, release.stderr
    run = snakemake(workdir, "--config", "strict=true")
    assert run.returncode == 0 and "analyse:" in run.stdout + run.stderr  # the release is an input of analyse
    html = " ".join((workdir / "reports" / "index.html").read_text(encoding="utf-8").split())
    assert "<h2>Changes since version v1</h2>" in html and "The inputs are those of the version (same hash)." in html
