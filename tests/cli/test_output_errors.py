"""An output that cannot be written (permission denied, a folder in the way, a full disk) is one line naming its
path, exit status 1, no traceback, and nothing half-written left behind, from every command that writes files.

Permission denied and a full disk are simulated (the tests may run as root, whom permissions do not stop): the
temporary file of metacalc.files is refused with EACCES, or its rename with ENOSPC, as a full disk refuses it."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import pytest
from conftest import BUNDLED_COPY, SMALL_REVIEW

from metacalc.cli import main

EXPORT = Path(__file__).parent.parent / "fixtures" / "search_exports" / "embase.ris"


def commands(inputs: dict[str, Path], out: Path) -> dict[str, tuple[list[str], Path]]:
    """Each command that writes, with the output it writes (a file, or the folder it writes into)."""
    review = BUNDLED_COPY
    return {
        "validate": (["validate", str(SMALL_REVIEW / "sheets"), "--output", str(out / "dataset.json")],
                     out / "dataset.json"),
        "template": (["template", str(out / "template.xlsx")], out / "template.xlsx"),
        "analyse": (["analyse", str(out / "analysed" / "dataset.json"), "--sheets",
                     str(review / "extraction_sheets"), "--review", str(review / "review.yaml"), "--sources",
                     str(review / "sources"), "--plan", str(review / "analyses"), "--outdir",
                     str(out / "analysed" / "tables")], out / "analysed"),
        "figures": (["figures", str(inputs["results"]), "--outdir", str(out / "figures")], out / "figures"),
        "report": (["report", str(inputs["results"]), "--figures", str(inputs["figures"]), "--output",
                    str(out / "index.html")], out / "provenance.csv"),  # its first file; index.html comes last
        "synthesize": (["synthesize", str(out / "synthetic"), "--patients", "10", "--therapies", "3"],
                       out / "synthetic"),
        "meta": (["meta", "proportions", str(inputs["table"]), "--events", "x", "--total", "n", "--study", "study",
                  "--output", str(out / "pooled.csv")], out / "pooled.csv"),
        "records import": (["records", "import", str(EXPORT), "--source", "Embase", "--date", "2026-03-02",
                            "--sheets", str(inputs["sheets"])], inputs["sheets"] / "records.csv"),
    }


@pytest.fixture
def inputs(tmp_path, bundled_report):
    import shutil

    table = tmp_path / "inputs" / "studies.csv"
    table.parent.mkdir()
    table.write_text("study,x,n\na,3,5\nb,1,4\n", encoding="utf-8")
    shutil.copytree(BUNDLED_COPY, tmp_path / "inputs" / "review")
    return {"results": bundled_report / "tables" / "results.json", "figures": bundled_report / "figures",
            "table": table, "sheets": tmp_path / "inputs" / "review" / "extraction_sheets"}


def leftovers(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*.tmp")) if folder.exists() else []


def run(capsys, argv):
    code = main(argv)  # an exception escaping main is what a user would see as a traceback
    return code, capsys.readouterr().err.splitlines()


FILE_OUTPUTS = ["validate", "template", "report", "meta", "records import"]
FOLDER_OUTPUTS = ["analyse", "figures", "synthesize"]


@pytest.mark.parametrize("command", FILE_OUTPUTS + FOLDER_OUTPUTS)
def test_a_full_disk(command, inputs, tmp_path, capsys, monkeypatch):
    argv, output = commands(inputs, tmp_path / "out")[command]
    before = output.read_bytes() if output.is_file() else None

    def full(source, destination):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full)
    code, lines = run(capsys, argv)
    assert code == 1
    assert lines[-1].startswith(str(output)) and ": cannot write (got no space left on the disk, expected room for " \
        "the output: free some space, or write elsewhere)" in lines[-1], lines
    assert leftovers(tmp_path) == []
    assert (output.read_bytes() if output.is_file() else None) == before  # as it was: nothing half-written


@pytest.mark.parametrize("command", FILE_OUTPUTS + FOLDER_OUTPUTS)
def test_permission_denied(command, inputs, tmp_path, capsys, monkeypatch):
    argv, output = commands(inputs, tmp_path / "out")[command]

    def refused(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    code, lines = run(capsys, argv)
    assert code == 1
    assert lines[-1].startswith(str(output)), lines
    assert lines[-1].endswith(": cannot write (got permission denied, expected a folder you may write to)"), lines
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("command", [c for c in FILE_OUTPUTS if c != "records import"])
def test_a_folder_where_the_file_should_go(command, inputs, tmp_path, capsys):
    argv, output = commands(inputs, tmp_path / "out")[command]
    (output / "something").mkdir(parents=True)
    code, lines = run(capsys, argv)
    assert (code, lines[-1]) == (1, f"{output}: cannot write (got a folder of that name, expected a file there, or "
                                    "nothing: move the folder, or name another output)")
    assert leftovers(tmp_path) == [] and os.listdir(output) == ["something"]


@pytest.mark.parametrize("command", FOLDER_OUTPUTS + ["init"])
def test_a_file_where_a_folder_should_be(command, inputs, tmp_path, capsys):
    out = tmp_path / "out"
    argv, output = commands(inputs, out)[command] if command != "init" else (
        ["init", str(out / "new" / "review"), "--title", "A review"], out / "new" / "review")
    # init and synthesize refuse a file at the folder's own path (not a new folder): the file is above it here
    blocking = output.parent if command in ("init", "synthesize") else output
    blocking.parent.mkdir(parents=True, exist_ok=True)
    blocking.write_text("a file\n", encoding="utf-8")
    code, lines = run(capsys, argv)
    assert code == 1
    assert lines[-1].startswith(str(blocking)), lines
    assert f"(got the file {blocking}, where a folder of the path should be, expected folders along the path)" in (
        lines[-1]), lines
    assert leftovers(tmp_path) == [] and blocking.read_text(encoding="utf-8") == "a file\n"


def test_report_with_a_file_where_its_tables_for_a_manuscript_go(inputs, tmp_path, capsys):
    """The tables are written before index.html: stopped there, the report is not written at all."""
    argv, _ = commands(inputs, tmp_path / "out")["report"]
    blocking = tmp_path / "out" / "manuscript_tables"
    blocking.parent.mkdir(parents=True)
    blocking.write_text("a file\n", encoding="utf-8")
    code, lines = run(capsys, argv)
    assert code == 1
    assert lines[-1].startswith(f"{blocking}{os.sep}table_01_"), lines
    assert f"(got the file {blocking}, where a folder of the path should be, expected folders along the path)" in (
        lines[-1]), lines
    assert not (tmp_path / "out" / "index.html").exists() and leftovers(tmp_path) == []
