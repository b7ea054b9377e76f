"""The workflow's files live in snakemake/ (workflow/, skeleton/) and ship inside the package: an editable install
finds them in the source tree, a wheel carries them beside metacalc and finds them there."""

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from metacalc.workflow import schema_path, skeleton_folder, snakefile, workflow_folder

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = {"metacalc/workflow/files": ROOT / "snakemake" / "workflow",
           "metacalc/workflow/skeleton": ROOT / "snakemake" / "skeleton"}


def setuptools_config():
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["tool"]["setuptools"]


def files_of(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts)


def test_every_package_is_listed_in_pyproject():
    """The list is explicit (a mapped folder is not found by package discovery), so a new sub-package must be
    added to it: otherwise a wheel would silently leave it out."""
    packages = set(setuptools_config()["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "metacalc").rglob("__init__.py")}
    assert found - packages == set()
    assert {"metacalc.workflow.files", "metacalc.workflow.skeleton", "snakemake_logger_plugin_metacalc"} <= packages


def test_the_mapped_folders_are_the_snakemake_folder():
    mapping = setuptools_config()["package-dir"]
    assert mapping["metacalc.workflow.files"] == "snakemake/workflow"
    assert mapping["metacalc.workflow.skeleton"] == "snakemake/skeleton"
    assert not (ROOT / "metacalc" / "workflow" / "Snakefile").exists()  # one copy of the workflow


def test_an_editable_install_finds_the_files_in_the_source_tree():
    assert Path(workflow_folder()) == ROOT / "snakemake" / "workflow"
    assert Path(snakefile()) == ROOT / "snakemake" / "workflow" / "Snakefile"
    assert Path(schema_path()).is_file()
    assert Path(skeleton_folder()) == ROOT / "snakemake" / "skeleton"
    assert {"Snakefile", "config.yaml", "review.yaml"} <= set(os.listdir(skeleton_folder()))


@pytest.mark.slow
def test_a_wheel_carries_the_workflow_and_finds_it_inside_the_package(tmp_path):
    source = tmp_path / "source"  # a copy, so that the build leaves nothing in the working tree
    source.mkdir()
    shutil.copy(ROOT / "pyproject.toml", source)
    shutil.copy(ROOT / "README.md", source)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    shutil.copytree(ROOT / "metacalc", source / "metacalc", ignore=ignore)
    shutil.copytree(ROOT / "snakemake", source / "snakemake", ignore=ignore)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps",
                            "--quiet", "-w", str(tmp_path / "dist")], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("metacalc-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for inside, folder in SHIPPED.items():
        expected = {f"{inside}/{name}" for name in files_of(folder)}
        assert expected - names == set(), inside
    assert "metacalc/workflow/files/rules/analysis.smk" in names
    assert "metacalc/workflow/files/schemas/config.schema.yaml" in names

    site = tmp_path / "site"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(site),
                                str(wheel)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    probe = ("import metacalc, metacalc.workflow as w; "
             "print(metacalc.__file__); print(w.snakefile()); print(w.schema_path()); print(w.skeleton_folder())")
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                           env={**os.environ, "PYTHONPATH": str(site)}, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    package, workflow_snakefile, schema, skeleton = (Path(line) for line in shown.stdout.split())
    assert package == site / "metacalc" / "__init__.py"
    assert workflow_snakefile == site / "metacalc" / "workflow" / "files" / "Snakefile"
    assert workflow_snakefile.is_file() and schema.is_file()
    assert skeleton == site / "metacalc" / "workflow" / "skeleton"
    assert (skeleton / "Snakefile").read_text() == (ROOT / "snakemake" / "skeleton" / "Snakefile").read_text()
