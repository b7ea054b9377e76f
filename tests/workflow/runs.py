"""Running the workflow in a temporary review folder, for the workflow tests.

The review folder's own workflow files (Snakefile, config.yaml, profiles/) are the repository root's, which use
the workflow shipped in the installed metacalc (Snakemake's module directive); the review they run is the
committed copy of the bundled review under tests/fixtures/golden/review/, so that the tests do not depend on the
live review.
"""

import filecmp
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKFLOW_FILES = ("Snakefile", "config.yaml", "profiles")
REVIEW = os.path.join(ROOT, "tests", "fixtures", "golden", "review")
REVIEW_FILES = ("analyses", "extraction_sheets", "review.yaml", "sources")


def snakemake_command():
    executable = os.path.join(os.path.dirname(sys.executable), "snakemake")
    return [executable] if os.path.exists(executable) else [sys.executable, "-m", "snakemake"]


def snakemake(workdir, *args, timeout=600):
    return subprocess.run(snakemake_command() + list(args), cwd=workdir, capture_output=True, text=True,
                          timeout=timeout)


def copy_tree(destination):
    """A fresh review folder: the workflow and the bundled review, no outputs."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        source = os.path.join(ROOT, name)
        if os.path.isdir(source):
            shutil.copytree(source, destination / name, ignore=shutil.ignore_patterns(
                "build", "*.egg-info", "__pycache__"))
        else:
            shutil.copy(source, destination / name)
    for name in REVIEW_FILES:
        source = os.path.join(REVIEW, name)
        if os.path.isdir(source):
            shutil.copytree(source, destination / name)
        else:
            shutil.copy(source, destination / name)
    svg_only(destination / "config.yaml")
    return destination


def svg_only(config):
    """Figures as SVG only in a copied review: the workflow tests check the workflow (its jobs, their outputs,
    crash safety, the cluster), not the PDF and PNG exports, which tests/render/test_figure_sizes.py and the
    golden outputs check; drawing them in each of the workflow tests' runs would add about 6 s of CPU a run."""
    text = config.read_text(encoding="utf-8")
    changed = re.sub(r"(?m)^figure_formats:.*$", "figure_formats: [svg]", text, count=1)
    assert changed != text, f"{config} sets no figure_formats"
    config.write_text(changed, encoding="utf-8")


def files_under(directory, skip=()):
    """Relative paths of the files under ``directory``, leaving out the top-level folders in ``skip``."""
    found = []
    for folder, dirs, names in os.walk(directory):
        if folder == str(directory):
            dirs[:] = [d for d in dirs if d not in skip]
        found.extend(os.path.relpath(os.path.join(folder, n), directory) for n in names)
    return sorted(found)


def differences(expected, actual, skip=()):
    """What differs between two output folders: files only in one, and files whose bytes differ."""
    want, got = files_under(expected, skip), files_under(actual, skip)
    if want != got:
        return {"only expected": sorted(set(want) - set(got)), "only actual": sorted(set(got) - set(want))}
    _, mismatch, errors = filecmp.cmpfiles(expected, actual, want, shallow=False)
    return {"differ": mismatch + errors} if mismatch or errors else {}
