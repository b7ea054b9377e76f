"""Fixtures shared by the tests, and the ``slow`` marker.

``pytest -m "not slow"`` is the inner loop (under 30 s on one core): it leaves out the golden outputs, the
browser, the Snakemake runs and the scale tests, which ``make test`` runs too.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
# Every test of the Snakemake workflow runs Snakemake end to end: the whole folder is slow.
SLOW_FOLDERS = (ROOT / "tests" / "workflow",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(folder in item.path.parents for folder in SLOW_FOLDERS):
            item.add_marker(pytest.mark.slow)


SMALL_REVIEW = FIXTURES / "small_review"
# A committed copy of the bundled review (review.yaml, extraction_sheets/, sources/, analyses/): package tests
# run on it, never on the live review at the repository root.
BUNDLED_COPY = FIXTURES / "golden" / "review"


@pytest.fixture(scope="session")
def root() -> Path:
    """The repository (the workflow files are there)."""
    return ROOT


@pytest.fixture(scope="session")
def bundled_copy() -> Path:
    """The committed copy of the bundled review, a review folder."""
    return BUNDLED_COPY


@pytest.fixture(scope="session")
def valid_sheets() -> Path:
    """The sheets of a small valid review (two reports, one a duplicate of the other), every table present; its
    review.yaml and sources/ are beside them."""
    return SMALL_REVIEW / "sheets"


@pytest.fixture
def sheets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the small review to break, its sheets as ``sheets/`` in the working directory (messages name that
    path), with ``review.yaml`` and ``sources/`` beside them."""
    shutil.copytree(SMALL_REVIEW, tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "sheets"


def copy_review(source: Path, destination: Path, sheets: str = "sheets") -> Path:
    """A copy of a review folder (review.yaml, sources/, analyses/...) with its sheets renamed ``sheets`` (so
    that messages name sheets/...); returns the sheets' folder."""
    shutil.copytree(source, destination, dirs_exist_ok=True)
    current = destination / ("extraction_sheets" if (destination / "extraction_sheets").is_dir() else "sheets")
    if current.name != sheets:
        current.rename(destination / sheets)
    return destination / sheets


def edit_csv(path: Path, edit) -> None:
    """Rewrite a CSV sheet with ``edit(rows)`` applied to its rows (dicts, in place or appended)."""
    import csv

    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header, rows = reader.fieldnames, list(reader)
    edit(rows)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows(rows)


def csvs_to_xlsx(directory: Path, xlsx: Path, infer_types: bool = True) -> None:
    """The same tables as an Excel workbook, a sheet per CSV. With ``infer_types`` pandas turns numbers
    into numeric cells, as a reviewer's Excel would hold them."""
    import pandas as pd

    with pd.ExcelWriter(xlsx, engine="openpyxl") as writer:
        for path in sorted(Path(directory).glob("*.csv")):
            frame = pd.read_csv(path, dtype=None if infer_types else str, keep_default_na=False,
                                na_values=[""] if infer_types else [])
            frame.to_excel(writer, sheet_name=path.stem, index=False)


@pytest.fixture(scope="session")
def to_xlsx():
    """``to_xlsx(directory, xlsx, infer_types=True)``: a directory of CSV sheets as one workbook."""
    return csvs_to_xlsx


@pytest.fixture(scope="session")
def bundled_results():
    """The bundled review's results, on its committed copy (validated and analysed in memory, nothing written)."""
    from metacalc.data import load_dataset
    from metacalc.review.plan import load_plan
    from metacalc.review.run import analyse_review

    dataset = load_dataset(BUNDLED_COPY)
    return analyse_review(dataset, load_plan(str(BUNDLED_COPY / "analyses"), dataset.review))


@pytest.fixture(scope="session")
def bundled_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled review (its committed copy) run as the workflow runs it; returns the output folder."""
    from metacalc.pipeline import run_review

    outdir = tmp_path_factory.mktemp("bundled")
    run_review(str(BUNDLED_COPY), str(BUNDLED_COPY / "analyses"), str(outdir))
    return outdir
